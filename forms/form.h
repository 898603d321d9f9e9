// The form model: what an XLSForm says, checked when it was read (forms/xlsform_reader.h), for the
// fill engine, the exporters and the publish-time expression check. Expressions stay text here,
// each with the cell it came from, so an expression error can name its sheet, row and column.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "forms/sheet.h"

namespace outpost::forms {

// --- Question types

enum class QuestionType {
  Text,
  Integer,
  Decimal,
  SelectOne,
  SelectMultiple,
  Date,
  Time,
  DateTime,
  Geopoint,
  Note,
  Calculate,
  Acknowledge,
  Image,
  File,
  Group,
  Repeat,
  // Metadata the device records by itself.
  Start,
  End,
  Today,
  DeviceId,
};

// The XLSForm spelling: "select_one", "dateTime", "begin_group", "deviceid".
std::string_view type_name(QuestionType type);
bool is_container(QuestionType type);  // a group or a repeat
bool is_select(QuestionType type);
bool is_metadata(QuestionType type);
// Whether a submission holds a value for it: not groups, repeats (they hold entries) or notes.
bool holds_value(QuestionType type);

// --- Parts of a question

// Text in each of the form's languages, by Language::key.
using Translations = std::map<std::string, std::string>;

// An expression as written in a cell, and the cell.
struct ExpressionCell {
  std::string text;
  CellLocation location;
};

// A yes/no column that may hold an expression instead (required, read_only).
struct Condition {
  bool yes = false;                          // "yes", "true", "TRUE()", "1"
  std::optional<ExpressionCell> expression;  // set when the cell held anything other than yes or no
};

struct Question {
  QuestionType type = QuestionType::Text;
  std::string name;
  int row = 0;            // its survey row; for a group or repeat, the begin row
  std::string list_name;  // select_one and select_multiple: the choice list

  Translations label;
  Translations hint;
  Translations required_message;
  Translations constraint_message;

  Condition required;
  Condition read_only;
  std::optional<ExpressionCell> relevant;
  std::optional<ExpressionCell> constraint;
  std::optional<ExpressionCell> calculation;
  std::optional<ExpressionCell> choice_filter;  // selects: which choices show, over the choices' columns
  std::optional<ExpressionCell> repeat_count;   // repeats: a fixed number of entries

  std::string default_value;  // a literal, already checked against the type
  std::string appearance;
  std::string hxl;  // an HXL hashtag with attributes, checked: "#affected +f +children"

  // The tree, by index in Form::questions(): set when the Form is built.
  std::optional<size_t> parent;  // the enclosing group or repeat
  std::vector<size_t> children;  // a group's or repeat's questions, in order
};

// The question's expression cells that are set: required, read_only, relevant, constraint,
// calculation, choice_filter, repeat_count.
std::vector<const ExpressionCell*> expression_cells(const Question& question);

struct Choice {
  std::string name;
  Translations label;  // may be empty: show the name
  // The list's other columns (header as written → value), which choice filters test:
  // "region" in a choice_filter `region=${region}`.
  std::map<std::string, std::string> columns;
  int row = 0;  // its row in the choices sheet
};

struct ChoiceList {
  std::string name;
  std::vector<Choice> choices;  // in sheet order

  const Choice* find(std::string_view choice_name) const;
};

struct Language {
  std::string key;   // as written after "label::" ("Français (fr)"), or the default language
  std::string name;  // "Français"
  std::string code;  // "fr"; empty when the column does not say
};

// The language key for columns without "::language" when settings name no default_language
// (the name pyxform gives it).
constexpr char kDefaultLanguageKey[] = "default";

// Submissions of a form with a higher priority leave the outbox first (sync::RecordChange::priority).
constexpr int kNormalPriority = 0;
constexpr int kUrgentPriority = 10;

struct FormSettings {
  std::string form_id;
  std::string version;
  std::string form_title;
  std::string default_language;  // a Language::key
  std::optional<ExpressionCell> instance_name;
  int priority = kNormalPriority;  // `urgent`, or a number from 0 to kUrgentPriority
};

// --- The form

class Form {
 public:
  Form() = default;
  // Takes the questions in document order, each with its `parent` set (children are filled in
  // here), and indexes them by name. Throws std::invalid_argument when the tree or the names are
  // inconsistent, which the reader rules out.
  Form(FormSettings settings, std::vector<Language> languages, std::vector<Question> questions,
       std::map<std::string, ChoiceList, std::less<>> choice_lists);

  const FormSettings& settings() const { return settings_; }
  // Every language any label, hint or message is written in, in order of first appearance.
  const std::vector<Language>& languages() const { return languages_; }

  // Every question, group and repeat, in document order; a container's children follow it.
  const std::vector<Question>& questions() const { return questions_; }
  // The questions outside any group or repeat, by index.
  const std::vector<size_t>& top_level() const { return top_level_; }
  const Question* find(std::string_view name) const;
  // The repeats the question is inside, outermost first.
  std::vector<const Question*> enclosing_repeats(const Question& question) const;

  const std::map<std::string, ChoiceList, std::less<>>& choice_lists() const { return choice_lists_; }
  const ChoiceList* choices(std::string_view list_name) const;

  // The text in `language`, else in the default language, else in the first language that has
  // it; empty when there is none.
  const std::string& text(const Translations& translations, std::string_view language) const;

  // Every expression the form holds, question by question in survey order, then the instance
  // name: what the publish-time parse runs over, each reporting errors at its own cell.
  std::vector<const ExpressionCell*> expressions() const;

 private:
  FormSettings settings_;
  std::vector<Language> languages_;
  std::vector<Question> questions_;
  std::vector<size_t> top_level_;
  std::map<std::string, size_t, std::less<>> by_name_;
  std::map<std::string, ChoiceList, std::less<>> choice_lists_;
};

}  // namespace outpost::forms
