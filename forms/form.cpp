#include "forms/form.h"

#include <stdexcept>

namespace outpost::forms {

// --- Question types

std::string_view type_name(QuestionType type) {
  switch (type) {
    case QuestionType::Text: return "text";
    case QuestionType::Integer: return "integer";
    case QuestionType::Decimal: return "decimal";
    case QuestionType::SelectOne: return "select_one";
    case QuestionType::SelectMultiple: return "select_multiple";
    case QuestionType::Date: return "date";
    case QuestionType::Time: return "time";
    case QuestionType::DateTime: return "dateTime";
    case QuestionType::Geopoint: return "geopoint";
    case QuestionType::Note: return "note";
    case QuestionType::Calculate: return "calculate";
    case QuestionType::Acknowledge: return "acknowledge";
    case QuestionType::Image: return "image";
    case QuestionType::File: return "file";
    case QuestionType::Group: return "begin_group";
    case QuestionType::Repeat: return "begin_repeat";
    case QuestionType::Start: return "start";
    case QuestionType::End: return "end";
    case QuestionType::Today: return "today";
    case QuestionType::DeviceId: return "deviceid";
  }
  return "unknown";
}

bool is_container(QuestionType type) { return type == QuestionType::Group || type == QuestionType::Repeat; }

bool is_select(QuestionType type) { return type == QuestionType::SelectOne || type == QuestionType::SelectMultiple; }

bool is_metadata(QuestionType type) {
  return type == QuestionType::Start || type == QuestionType::End || type == QuestionType::Today ||
         type == QuestionType::DeviceId;
}

bool holds_value(QuestionType type) { return !is_container(type) && type != QuestionType::Note; }

// --- Choices

const Choice* ChoiceList::find(std::string_view choice_name) const {
  for (const Choice& choice : choices) {
    if (choice.name == choice_name) return &choice;
  }
  return nullptr;
}

// --- The form

Form::Form(FormSettings settings, std::vector<Language> languages, std::vector<Question> questions,
           std::map<std::string, ChoiceList, std::less<>> choice_lists)
    : settings_(std::move(settings)),
      languages_(std::move(languages)),
      questions_(std::move(questions)),
      choice_lists_(std::move(choice_lists)) {
  for (size_t index = 0; index < questions_.size(); ++index) {
    Question& question = questions_[index];
    question.children.clear();
    if (!by_name_.emplace(question.name, index).second) {
      throw std::invalid_argument("form: two questions are named " + question.name);
    }
    if (!question.parent) {
      top_level_.push_back(index);
      continue;
    }
    const size_t parent = *question.parent;
    if (parent >= index || !is_container(questions_[parent].type)) {
      throw std::invalid_argument("form: " + question.name + " has a parent that is not a group or repeat before it");
    }
    questions_[parent].children.push_back(index);
  }
}

const Question* Form::find(std::string_view name) const {
  const auto found = by_name_.find(name);
  return found == by_name_.end() ? nullptr : &questions_[found->second];
}

std::vector<const Question*> Form::enclosing_repeats(const Question& question) const {
  std::vector<const Question*> repeats;
  for (auto parent = question.parent; parent; parent = questions_[*parent].parent) {
    if (questions_[*parent].type == QuestionType::Repeat) repeats.insert(repeats.begin(), &questions_[*parent]);
  }
  return repeats;
}

const ChoiceList* Form::choices(std::string_view list_name) const {
  const auto found = choice_lists_.find(list_name);
  return found == choice_lists_.end() ? nullptr : &found->second;
}

const std::string& Form::text(const Translations& translations, std::string_view language) const {
  static const std::string kNone;
  for (std::string_view key : {language, std::string_view(settings_.default_language)}) {
    const auto found = translations.find(std::string(key));
    if (found != translations.end() && !found->second.empty()) return found->second;
  }
  for (const Language& other : languages_) {
    const auto found = translations.find(other.key);
    if (found != translations.end() && !found->second.empty()) return found->second;
  }
  return kNone;
}

std::vector<const ExpressionCell*> expression_cells(const Question& question) {
  std::vector<const ExpressionCell*> cells;
  for (const auto* cell :
       {&question.required.expression, &question.read_only.expression, &question.relevant, &question.constraint,
        &question.calculation, &question.choice_filter, &question.repeat_count}) {
    if (*cell) cells.push_back(&**cell);
  }
  return cells;
}

std::vector<const ExpressionCell*> Form::expressions() const {
  std::vector<const ExpressionCell*> cells;
  for (const Question& question : questions_) {
    const std::vector<const ExpressionCell*> own = expression_cells(question);
    cells.insert(cells.end(), own.begin(), own.end());
  }
  if (settings_.instance_name) cells.push_back(&*settings_.instance_name);
  return cells;
}

}  // namespace outpost::forms
