#include "forms/xlsform_reader.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "forms/answer_text.h"
#include "forms/expression_check.h"
#include "forms/xlsx.h"

namespace outpost::forms {

namespace {

// --- Names and spelling

// Decodes the code point at `at` (the text is already known to be valid UTF-8) and moves past it.
char32_t next_code_point(std::string_view text, size_t& at) {
  const auto lead = static_cast<unsigned char>(text[at++]);
  if (lead < 0x80) return lead;
  const size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
  char32_t code = lead & (0x7F >> length);
  for (size_t i = 1; i < length && at < text.size(); ++i)
    code = (code << 6) | (static_cast<unsigned char>(text[at++]) & 0x3F);
  return code;
}

// XML NameStartChar without ':' (names become XML element names in XForm tools).
bool is_name_start(char32_t c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || (c >= 0xC0 && c <= 0xD6) ||
         (c >= 0xD8 && c <= 0xF6) || (c >= 0xF8 && c <= 0x2FF) || (c >= 0x370 && c <= 0x37D) ||
         (c >= 0x37F && c <= 0x1FFF) || (c >= 0x200C && c <= 0x200D) || (c >= 0x2070 && c <= 0x218F) ||
         (c >= 0x2C00 && c <= 0x2FEF) || (c >= 0x3001 && c <= 0xD7FF) || (c >= 0xF900 && c <= 0xFDCF) ||
         (c >= 0xFDF0 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0xEFFFF);
}

bool is_name_char(char32_t c) {
  return is_name_start(c) || c == '-' || c == '.' || (c >= '0' && c <= '9') || c == 0xB7 ||
         (c >= 0x300 && c <= 0x36F) || (c >= 0x203F && c <= 0x2040);
}

bool is_xml_name(std::string_view name) {
  if (name.empty()) return false;
  size_t at = 0;
  if (!is_name_start(next_code_point(name, at))) return false;
  while (at < name.size()) {
    if (!is_name_char(next_code_point(name, at))) return false;
  }
  return true;
}

constexpr size_t kMaxFormIdLength = 64;

bool is_form_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

bool is_form_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxFormIdLength || id[0] == '-' || id[0] == '.') return false;
  return std::all_of(id.begin(), id.end(), is_form_id_char);
}

// The file name without its extension, made into a form id: pyxform's fallback for form_id.
std::string form_id_from_file_name(const std::string& source) {
  std::filesystem::path path(source);
  if (!path.has_filename()) path = path.parent_path();
  std::string id = std::filesystem::is_directory(path) ? path.filename().string() : path.stem().string();
  std::replace_if(
      id.begin(), id.end(), [](char c) { return !is_form_id_char(c); }, '_');
  id = id.substr(0, kMaxFormIdLength);
  return is_form_id(id) ? id : "form";
}

// Levenshtein distance over ASCII-lowercased bytes.
size_t edit_distance(std::string_view a, std::string_view b) {
  const std::string x = to_lower_ascii(a);
  const std::string y = to_lower_ascii(b);
  std::vector<size_t> previous(y.size() + 1);
  std::vector<size_t> current(y.size() + 1);
  for (size_t j = 0; j <= y.size(); ++j) previous[j] = j;
  for (size_t i = 1; i <= x.size(); ++i) {
    current[0] = i;
    for (size_t j = 1; j <= y.size(); ++j) {
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1)});
    }
    std::swap(previous, current);
  }
  return previous[y.size()];
}

// The candidates a typo of `typed` could have meant, closest first.
std::vector<std::string> close_matches(std::string_view typed, const std::vector<std::string>& candidates) {
  constexpr size_t kMaxComparedLength = 64;
  std::vector<std::pair<size_t, std::string>> scored;
  if (typed.size() > kMaxComparedLength) return {};
  const size_t allowed = std::max<size_t>(2, typed.size() / 3);
  for (const std::string& candidate : candidates) {
    if (candidate.size() > kMaxComparedLength) continue;
    const size_t distance = edit_distance(typed, candidate);
    if (distance <= allowed) scored.emplace_back(distance, candidate);
  }
  std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> matches;
  for (size_t i = 0; i < scored.size() && i < 3; ++i) matches.push_back(scored[i].second);
  return matches;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string text;
  for (const std::string& item : items) text += (text.empty() ? "" : std::string(separator)) + item;
  return text;
}

// " (did you mean integer or decimal?)", or nothing when no candidate is close.
std::string did_you_mean(std::string_view typed, const std::vector<std::string>& candidates) {
  const std::vector<std::string> matches = close_matches(typed, candidates);
  return matches.empty() ? std::string() : " (did you mean " + join(matches, " or ") + "?)";
}

std::string in_quotes(std::string_view text) { return "\"" + std::string(text) + "\""; }

// --- Question types

struct TypeSpelling {
  std::string_view keyword;          // lower-cased, "begin group" already joined to "begin_group"
  std::string_view shown;            // as the XLSForm documentation writes it
  std::optional<QuestionType> type;  // none for end_group and end_repeat
  QuestionType closes = QuestionType::Group;
};

const std::vector<TypeSpelling>& type_spellings() {
  static const std::vector<TypeSpelling> spellings{
      {"text", "text", QuestionType::Text},
      {"integer", "integer", QuestionType::Integer},
      {"int", "integer", QuestionType::Integer},
      {"decimal", "decimal", QuestionType::Decimal},
      {"select_one", "select_one LIST", QuestionType::SelectOne},
      {"select_multiple", "select_multiple LIST", QuestionType::SelectMultiple},
      {"date", "date", QuestionType::Date},
      {"time", "time", QuestionType::Time},
      {"datetime", "dateTime", QuestionType::DateTime},
      {"geopoint", "geopoint", QuestionType::Geopoint},
      {"note", "note", QuestionType::Note},
      {"calculate", "calculate", QuestionType::Calculate},
      {"acknowledge", "acknowledge", QuestionType::Acknowledge},
      {"image", "image", QuestionType::Image},
      {"file", "file", QuestionType::File},
      {"begin_group", "begin_group", QuestionType::Group},
      {"end_group", "end_group", std::nullopt, QuestionType::Group},
      {"begin_repeat", "begin_repeat", QuestionType::Repeat},
      {"end_repeat", "end_repeat", std::nullopt, QuestionType::Repeat},
      {"start", "start", QuestionType::Start},
      {"end", "end", QuestionType::End},
      {"today", "today", QuestionType::Today},
      {"deviceid", "deviceid", QuestionType::DeviceId},
  };
  return spellings;
}

// XLSForm types other tools know and Outpost does not.
const std::set<std::string, std::less<>>& unsupported_types() {
  static const std::set<std::string, std::less<>> types{"range",
                                                        "barcode",
                                                        "geotrace",
                                                        "geoshape",
                                                        "audio",
                                                        "video",
                                                        "rank",
                                                        "hidden",
                                                        "username",
                                                        "email",
                                                        "phonenumber",
                                                        "simserial",
                                                        "audit",
                                                        "subscriberid",
                                                        "start-geopoint",
                                                        "background-audio",
                                                        "background-geopoint",
                                                        "xml-external",
                                                        "csv-external",
                                                        "osm",
                                                        "begin_loop",
                                                        "end_loop"};
  return types;
}

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  size_t at = 0;
  while (at < text.size()) {
    constexpr std::string_view kSpace = " \t\r\n\v\f";
    const size_t start = text.find_first_not_of(kSpace, at);
    if (start == std::string_view::npos) break;
    const size_t end = std::min(text.find_first_of(kSpace, start), text.size());
    words.emplace_back(text.substr(start, end - start));
    at = end;
  }
  return words;
}

// --- HXL

bool is_hxl_hashtag(std::string_view text) {
  size_t at = 0;
  const auto read_word = [&](char marker) {
    if (at >= text.size() || text[at] != marker) return false;
    ++at;
    const auto is_letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
    if (at >= text.size() || !is_letter(text[at])) return false;
    while (at < text.size() && (is_letter(text[at]) || (text[at] >= '0' && text[at] <= '9') || text[at] == '_')) ++at;
    return true;
  };
  if (!read_word('#')) return false;
  for (;;) {
    while (at < text.size() && (text[at] == ' ' || text[at] == '\t')) ++at;
    if (at == text.size()) return true;
    if (!read_word('+')) return false;
  }
}

// --- Sheet columns

struct FieldSpec {
  std::string_view name;
  bool translatable = false;  // may be written per language: label::Français (fr)
  std::string_view alias = {};
};

// One sheet with its header resolved: known fields by name (plain and per-language columns),
// and the columns no field claims.
class Table {
 public:
  Table(const Sheet& sheet, const std::string& file, const std::vector<FieldSpec>& fields) : sheet_(sheet) {
    const SheetRow* head = sheet.header();
    if (head == nullptr) return;
    for (const auto& [column, header] : head->cells) {
      const size_t separator = header.find("::");
      const std::string base = to_lower_ascii(trim(std::string_view(header).substr(0, separator)));
      const std::string language = separator == std::string::npos
                                       ? std::string()
                                       : std::string(trim(std::string_view(header).substr(separator + 2)));
      const auto spec = std::find_if(fields.begin(), fields.end(),
                                     [&](const FieldSpec& field) { return base == field.name || base == field.alias; });
      if (spec == fields.end()) {
        others_.push_back(column);
        continue;
      }
      const std::string name(spec->name);
      if (!language.empty() && !spec->translatable) {
        throw FormError(file, sheet.location(head->number, column), "the " + name + " column takes no language");
      }
      if (auto other = find_column(name, language)) {
        throw FormError(file, sheet.location(head->number, column),
                        "the column is there twice (also column " + column_letters(*other) + ")");
      }
      columns_.push_back(Column{column, name, language, spec->translatable});
    }
  }

  const Sheet& sheet() const { return sheet_; }
  int header_row() const { return sheet_.header() ? sheet_.header()->number : 1; }
  std::vector<const SheetRow*> data_rows() const {
    std::vector<const SheetRow*> rows;
    for (size_t i = 1; i < sheet_.rows.size(); ++i) rows.push_back(&sheet_.rows[i]);
    return rows;
  }
  const std::vector<size_t>& other_columns() const { return others_; }
  std::string header(size_t column) const { return sheet_.location(header_row(), column).header; }

  bool has(std::string_view field) const {
    return std::any_of(columns_.begin(), columns_.end(), [&](const Column& c) { return c.field == field; });
  }

  // The field's plain (language-less) cell.
  std::string_view cell(const SheetRow& row, std::string_view field) const {
    const auto column = find_column(field, {});
    return column ? text_at(row, *column) : std::string_view();
  }

  // The field's plain cell, else its first per-language column, else the whole row.
  CellLocation location(int row, std::string_view field) const {
    for (const Column& c : columns_) {
      if (c.field == field && c.language.empty()) return sheet_.location(row, c.index);
    }
    for (const Column& c : columns_) {
      if (c.field == field) return sheet_.location(row, c.index);
    }
    return sheet_.location(row);
  }

  // Calls visit(location, text) for every non-empty cell of the field, plain and per language.
  template <typename Visit>
  void for_each_cell(const SheetRow& row, std::string_view field, Visit visit) const {
    for (const Column& c : columns_) {
      const std::string_view text = text_at(row, c.index);
      if (c.field == field && !text.empty()) visit(sheet_.location(row.number, c.index), text);
    }
  }

  bool has_text(const SheetRow& row, std::string_view field) const {
    bool found = false;
    for_each_cell(row, field, [&](const CellLocation&, std::string_view) { found = true; });
    return found;
  }

  // The plain column's text under `plain_language`; per-language columns win where they have text.
  Translations translations(const SheetRow& row, std::string_view field, const std::string& plain_language) const {
    Translations texts;
    for (const Column& c : columns_) {
      const std::string_view text = text_at(row, c.index);
      if (c.field == field && c.language.empty() && !text.empty()) texts[plain_language] = std::string(text);
    }
    for (const Column& c : columns_) {
      const std::string_view text = text_at(row, c.index);
      if (c.field == field && !c.language.empty() && !text.empty()) texts[c.language] = std::string(text);
    }
    return texts;
  }

  // The languages of translatable columns holding any text, in column order.
  void collect_languages(const std::string& plain_language, std::vector<std::string>& languages) const {
    if (sheet_.rows.size() < 2) return;
    for (const Column& c : columns_) {
      if (!c.translatable) continue;
      const std::string& language = c.language.empty() ? plain_language : c.language;
      const bool used = std::any_of(sheet_.rows.begin() + 1, sheet_.rows.end(),
                                    [&](const SheetRow& row) { return !text_at(row, c.index).empty(); });
      if (used && std::find(languages.begin(), languages.end(), language) == languages.end()) {
        languages.push_back(language);
      }
    }
  }

 private:
  struct Column {
    size_t index;
    std::string field;
    std::string language;  // empty for the plain column
    bool translatable;
  };

  static std::string_view text_at(const SheetRow& row, size_t column) {
    const auto found = row.cells.find(column);
    return found == row.cells.end() ? std::string_view() : std::string_view(found->second);
  }

  std::optional<size_t> find_column(std::string_view field, std::string_view language) const {
    for (const Column& c : columns_) {
      if (c.field == field && c.language == language) return c.index;
    }
    return std::nullopt;
  }

  const Sheet& sheet_;
  std::vector<Column> columns_;
  std::vector<size_t> others_;
};

const std::vector<FieldSpec>& survey_fields() {
  static const std::vector<FieldSpec> fields{
      {"type"},
      {"name"},
      {"label", true},
      {"hint", true},
      {"required"},
      {"required_message", true, "required message"},
      {"relevant", false, "relevance"},
      {"constraint"},
      {"constraint_message", true, "constraint message"},
      {"calculation"},
      {"default"},
      {"read_only", false, "readonly"},
      {"appearance"},
      {"choice_filter", false, "choice filter"},
      {"repeat_count", false, "repeat count"},
      {"hxl"},
  };
  return fields;
}

const std::vector<FieldSpec>& choices_fields() {
  static const std::vector<FieldSpec> fields{{"list_name", false, "list name"}, {"name"}, {"label", true}};
  return fields;
}

const std::vector<FieldSpec>& settings_fields() {
  static const std::vector<FieldSpec> fields{
      {"form_id", false, "id_string"},
      {"version"},
      {"form_title"},
      {"default_language"},
      {"instance_name"},
      {"priority"},
      {"public_key"},
      {"submission_url"},
  };
  return fields;
}

// Why a survey column that is not read must not be ignored either, or nothing.
std::optional<std::string> refused_column(const std::string& header) {
  const std::string lower = to_lower_ascii(header);
  if (lower == "parameters") return "question parameters are not supported; leave the parameters column empty";
  if (lower == "trigger") return "triggers are not supported; use a calculation instead";
  if (lower.rfind("bind::", 0) == 0 || lower.rfind("body::", 0) == 0) {
    return "raw XForm columns (bind::, body::) are not supported; use the XLSForm columns";
  }
  return std::nullopt;
}

// --- Which columns apply to which types

bool is_input(QuestionType type) { return holds_value(type) && type != QuestionType::Calculate && !is_metadata(type); }

struct ColumnRule {
  std::string_view field;
  bool (*applies)(QuestionType);
  std::string_view applies_to;
};

const std::vector<ColumnRule>& column_rules() {
  static const std::vector<ColumnRule> rules{
      {"required", is_input, "questions that take an answer"},
      {"read_only", is_input, "questions that take an answer"},
      {"constraint", is_input, "questions that take an answer"},
      {"relevant", [](QuestionType t) { return !is_metadata(t); }, "questions, groups and repeats"},
      {"calculation", [](QuestionType t) { return !is_container(t) && !is_metadata(t); }, "questions"},
      {"default", [](QuestionType t) { return is_input(t) && t != QuestionType::Image && t != QuestionType::File; },
       "questions that take a typed answer"},
      {"choice_filter", is_select, "select_one and select_multiple"},
      {"repeat_count", [](QuestionType t) { return t == QuestionType::Repeat; }, "begin_repeat"},
      {"hxl", holds_value, "questions that hold a value"},
  };
  return rules;
}

// Displayed questions need words to show; calculations, metadata and containers do not.
bool needs_label(QuestionType type) { return is_input(type) || type == QuestionType::Note; }

// "yes" and "no" as XLSForm authors write them; anything else is an expression.
std::optional<bool> yes_or_no(std::string_view text) {
  const std::string lower = to_lower_ascii(text);
  if (lower == "yes" || lower == "true" || lower == "true()" || lower == "1") return true;
  if (lower == "no" || lower == "false" || lower == "false()" || lower == "0") return false;
  return std::nullopt;
}

Language describe_language(const std::string& key) {
  Language language{key, key, {}};
  const size_t open = key.rfind('(');
  if (open != std::string::npos && key.size() > open + 2 && key.back() == ')') {
    language.name = std::string(trim(std::string_view(key).substr(0, open)));
    language.code = key.substr(open + 1, key.size() - open - 2);
  } else if (key.size() >= 2 && key.size() <= 3 &&
             std::all_of(key.begin(), key.end(), [](char c) { return c >= 'a' && c <= 'z'; })) {
    language.code = key;  // label::fr
  }
  return language;
}

// --- Building the form

class FormBuilder {
 public:
  explicit FormBuilder(const Workbook& workbook)
      : file_(workbook.source),
        survey_sheet_(require_survey(workbook)),
        survey_(*survey_sheet_, file_, survey_fields()),
        choices_(sheet_or_empty(workbook, "choices"), file_, choices_fields()),
        settings_table_(sheet_or_empty(workbook, "settings"), file_, settings_fields()),
        has_choices_sheet_(workbook.find("choices") != nullptr) {}

  Form build() {
    read_settings();
    read_choices();
    read_survey();
    check_references();
    std::vector<Language> languages = collect_languages();
    Form form(std::move(settings_), std::move(languages), std::move(questions_), std::move(choice_lists_));
    check_expressions(form, file_);
    return form;
  }

 private:
  struct OpenContainer {
    size_t index;
    int row;
  };
  struct Reference {
    std::string name;
    CellLocation location;
  };

  [[noreturn]] void fail(CellLocation location, const std::string& detail) const {
    throw FormError(file_, std::move(location), detail);
  }

  const Sheet* require_survey(const Workbook& workbook) const {
    const Sheet* survey = workbook.find("survey");
    if (survey == nullptr) {
      const std::string sheets = workbook.sheet_names.empty() ? "none" : join(workbook.sheet_names, ", ");
      fail(CellLocation{"survey", 0, {}, {}}, "has no survey sheet (its sheets: " + sheets + ")");
    }
    if (survey->rows.empty()) fail(CellLocation{survey->name, 0, {}, {}}, "has an empty survey sheet");
    return survey;
  }

  static const Sheet& sheet_or_empty(const Workbook& workbook, const std::string& name) {
    static const Sheet kNoChoices{"choices", {}};
    static const Sheet kNoSettings{"settings", {}};
    if (const Sheet* sheet = workbook.find(name)) return *sheet;
    return name == "choices" ? kNoChoices : kNoSettings;
  }

  // Records every ${name} in a cell, to check once all names are known (references may point
  // forward). An unclosed "${" is left to the expression parser, which reports its position.
  void collect_references(const CellLocation& location, std::string_view text) {
    size_t at = 0;
    while ((at = text.find("${", at)) != std::string_view::npos) {
      const size_t close = text.find('}', at + 2);
      if (close == std::string_view::npos) return;
      const std::string name(text.substr(at + 2, close - at - 2));
      if (!is_xml_name(name)) fail(location, "${" + name + "} is not a reference to a question name");
      references_.push_back(Reference{name, location});
      at = close + 1;
    }
  }

  std::optional<ExpressionCell> expression(const Table& table, const SheetRow& row, std::string_view field) {
    const std::string_view text = table.cell(row, field);
    if (text.empty()) return std::nullopt;
    ExpressionCell cell{std::string(text), table.location(row.number, field)};
    collect_references(cell.location, text);
    return cell;
  }

  // --- Settings

  void read_settings() {
    const std::vector<const SheetRow*> rows = settings_table_.data_rows();
    static const SheetRow kNoValues;
    const SheetRow& row = rows.empty() ? kNoValues : *rows.front();
    settings_row_ = row.number;
    const auto where = [&](std::string_view field) { return settings_table_.location(row.number, field); };

    for (std::string_view refused : {"public_key", "submission_url"}) {
      if (!settings_table_.cell(row, refused).empty()) {
        fail(where(refused), refused == "public_key"
                                 ? "encrypted forms are not supported; leave public_key empty"
                                 : "submissions go to the Outpost registry; leave submission_url empty");
      }
    }

    settings_.form_id = std::string(settings_table_.cell(row, "form_id"));
    if (settings_.form_id.empty()) {
      settings_.form_id = form_id_from_file_name(file_);
    } else if (!is_form_id(settings_.form_id)) {
      fail(where("form_id"),
           "form_id " + in_quotes(settings_.form_id) + " must be 1-64 letters, digits, '_', '-' or '.'");
    }
    settings_.version = std::string(settings_table_.cell(row, "version"));
    settings_.form_title = std::string(settings_table_.cell(row, "form_title"));
    if (settings_.form_title.empty()) settings_.form_title = settings_.form_id;
    settings_.default_language = std::string(settings_table_.cell(row, "default_language"));
    plain_language_ = settings_.default_language.empty() ? kDefaultLanguageKey : settings_.default_language;
    settings_.instance_name = expression(settings_table_, row, "instance_name");

    const std::string priority = to_lower_ascii(settings_table_.cell(row, "priority"));
    int number = 0;
    if (priority.empty() || priority == "normal") {
      settings_.priority = kNormalPriority;
    } else if (priority == "urgent") {
      settings_.priority = kUrgentPriority;
    } else if (auto [end, error] = std::from_chars(priority.data(), priority.data() + priority.size(), number);
               error == std::errc() && end == priority.data() + priority.size() && number >= 0 &&
               number <= kUrgentPriority) {
      settings_.priority = number;
    } else {
      fail(where("priority"), "priority must be urgent, normal or a number from 0 to " +
                                  std::to_string(kUrgentPriority) + ", not " + in_quotes(priority));
    }
  }

  // --- Choices

  void read_choices() {
    const std::vector<const SheetRow*> rows = choices_.data_rows();
    if (rows.empty()) return;
    for (std::string_view field : {"list_name", "name"}) {
      if (!choices_.has(field)) {
        fail(choices_.sheet().location(choices_.header_row()),
             "the choices sheet has no " + std::string(field) + " column");
      }
    }
    for (const SheetRow* row : rows) {
      const std::string list_name(choices_.cell(*row, "list_name"));
      const std::string name(choices_.cell(*row, "name"));
      if (list_name.empty() && name.empty()) {
        if (choices_.has_text(*row, "label"))
          fail(choices_.location(row->number, "list_name"), "the choice has no list_name");
        continue;  // a row of notes to authors
      }
      if (list_name.empty())
        fail(choices_.location(row->number, "list_name"), "the choice " + in_quotes(name) + " has no list_name");
      if (name.empty())
        fail(choices_.location(row->number, "name"), "a choice of list " + in_quotes(list_name) + " needs a name");
      // Cascading lists run to thousands of villages: duplicates are found through an index.
      if (const auto [seen, added] = choice_rows_.emplace(std::make_pair(list_name, name), row->number); !added) {
        fail(choices_.location(row->number, "name"), "the choice " + in_quotes(name) + " is already in list " +
                                                         in_quotes(list_name) + " (row " +
                                                         std::to_string(seen->second) + ")");
      }
      ChoiceList& list = choice_lists_[list_name];
      list.name = list_name;
      Choice choice{name, choices_.translations(*row, "label", plain_language_), {}, row->number};
      for (size_t column : choices_.other_columns()) {
        if (auto cell = row->cells.find(column); cell != row->cells.end())
          choice.columns[choices_.header(column)] = cell->second;
      }
      list.choices.push_back(std::move(choice));
    }
  }

  // --- Survey

  void read_survey() {
    for (std::string_view field : {"type", "name"}) {
      if (!survey_.has(field)) {
        fail(survey_sheet_->location(survey_.header_row()),
             "the survey sheet has no " + std::string(field) + " column");
      }
    }
    const std::vector<const SheetRow*> rows = survey_.data_rows();
    for (size_t column : survey_.other_columns()) {
      const std::optional<std::string> reason = refused_column(survey_.header(column));
      if (!reason) continue;
      for (const SheetRow* row : rows) {
        if (row->cells.count(column) != 0) fail(survey_sheet_->location(row->number, column), *reason);
      }
    }
    for (const SheetRow* row : rows) read_survey_row(*row);
    if (!open_.empty()) {
      const Question& unclosed = questions_[open_.back().index];
      const bool repeat = unclosed.type == QuestionType::Repeat;
      fail(survey_.location(open_.back().row, "type"), std::string(repeat ? "begin_repeat " : "begin_group ") +
                                                           in_quotes(unclosed.name) + " has no " +
                                                           (repeat ? "end_repeat" : "end_group"));
    }
    if (questions_.empty()) fail(CellLocation{survey_sheet_->name, 0, {}, {}}, "has no questions in its survey sheet");
  }

  void read_survey_row(const SheetRow& row) {
    const auto where = [&](std::string_view field) { return survey_.location(row.number, field); };
    const std::string_view type_text = survey_.cell(row, "type");
    const std::string_view name = survey_.cell(row, "name");
    if (type_text.empty()) {
      if (!name.empty()) fail(where("type"), "the row names " + in_quotes(name) + " but has no type");
      if (survey_.has_text(row, "label")) fail(where("type"), "the row has a label but no type");
      return;  // a row of notes to authors
    }
    const auto [spelling, list_name] = parse_type(type_text, where("type"));
    if (!spelling->type) {
      close_container(row, *spelling);
      return;
    }

    Question question;
    question.type = *spelling->type;
    question.row = row.number;
    question.list_name = list_name;
    if (name.empty()) fail(where("name"), "a " + std::string(type_name(question.type)) + " needs a name");
    if (!is_xml_name(name)) {
      fail(where("name"), in_quotes(name) +
                              " is not a valid name: start with a letter or '_', then use letters, digits, "
                              "'_', '-' or '.'");
    }
    if (auto existing = name_rows_.find(name); existing != name_rows_.end()) {
      fail(where("name"),
           "the name " + in_quotes(name) + " is already used on row " + std::to_string(existing->second));
    }
    question.name = std::string(name);

    for (const ColumnRule& rule : column_rules()) {
      if (!rule.applies(question.type) && says_something(row, rule.field)) {
        fail(where(rule.field), std::string(rule.field) + " applies only to " + std::string(rule.applies_to) +
                                    ", not to " + std::string(type_name(question.type)));
      }
    }

    read_texts(row, question);
    if (is_select(question.type)) check_choice_list(question, where("type"));
    question.required = condition(row, "required");
    question.read_only = condition(row, "read_only");
    question.relevant = expression(survey_, row, "relevant");
    question.constraint = expression(survey_, row, "constraint");
    question.calculation = expression(survey_, row, "calculation");
    question.choice_filter = expression(survey_, row, "choice_filter");
    question.repeat_count = expression(survey_, row, "repeat_count");
    if (question.type == QuestionType::Calculate && !question.calculation) {
      fail(where("calculation"), "a calculate needs a calculation");
    }
    question.default_value = std::string(survey_.cell(row, "default"));
    check_default(question, where("default"));
    question.appearance = std::string(survey_.cell(row, "appearance"));
    question.hxl = std::string(survey_.cell(row, "hxl"));
    if (!question.hxl.empty() && !is_hxl_hashtag(question.hxl)) {
      fail(where("hxl"), in_quotes(question.hxl) + " is not an HXL hashtag (write it like #affected +f +children)");
    }

    if (!open_.empty()) question.parent = open_.back().index;
    name_rows_.emplace(question.name, row.number);
    if (is_container(question.type)) open_.push_back(OpenContainer{questions_.size(), row.number});
    questions_.push_back(std::move(question));
  }

  // The type's spelling and, for selects, the list name.
  std::pair<const TypeSpelling*, std::string> parse_type(std::string_view text, const CellLocation& where) const {
    const std::vector<std::string> words = split_words(text);
    std::string keyword = to_lower_ascii(words.front());
    size_t next = 1;
    if ((keyword == "begin" || keyword == "end") && words.size() > 1) keyword += "_" + to_lower_ascii(words[next++]);

    const auto& spellings = type_spellings();
    const auto spelling =
        std::find_if(spellings.begin(), spellings.end(), [&](const TypeSpelling& s) { return s.keyword == keyword; });
    if (spelling == spellings.end()) {
      std::vector<std::string> shown;
      for (const TypeSpelling& s : spellings) {
        if (std::find(shown.begin(), shown.end(), std::string(s.shown)) == shown.end()) shown.emplace_back(s.shown);
      }
      if (keyword == "select_one_from_file" || keyword == "select_multiple_from_file") {
        fail(where, keyword + " is not supported: put the choices in the choices sheet and use " +
                        keyword.substr(0, keyword.size() - std::string_view("_from_file").size()));
      }
      if (unsupported_types().count(keyword) != 0) {
        fail(where, in_quotes(words.front()) +
                        " is an XLSForm type Outpost does not support (supported: " + join(shown, ", ") + ")");
      }
      std::vector<std::string> keywords;
      for (const TypeSpelling& s : spellings) keywords.emplace_back(s.keyword);
      const std::string hint = did_you_mean(keyword, keywords);
      fail(where,
           "unknown type " + in_quotes(text) + (hint.empty() ? " (supported: " + join(shown, ", ") + ")" : hint));
    }

    std::string list_name;
    if (spelling->type && is_select(*spelling->type)) {
      if (next >= words.size())
        fail(where, std::string(spelling->keyword) + " needs a list name: " + std::string(spelling->shown));
      list_name = words[next++];
      if (next < words.size() && to_lower_ascii(words[next]) == "or_other") {
        fail(where,
             "or_other is not supported: add an \"other\" choice to the list and a text question shown when it is "
             "selected");
      }
    }
    if (next < words.size()) {
      fail(where, "unexpected " + in_quotes(words[next]) + " after " + std::string(spelling->shown));
    }
    return {&*spelling, list_name};
  }

  void close_container(const SheetRow& row, const TypeSpelling& spelling) {
    const CellLocation where = survey_.location(row.number, "type");
    const std::string begin = spelling.closes == QuestionType::Repeat ? "begin_repeat" : "begin_group";
    if (open_.empty()) fail(where, std::string(spelling.keyword) + " has no " + begin + " before it");
    const Question& open = questions_[open_.back().index];
    if (open.type != spelling.closes) {
      fail(where, std::string(spelling.keyword) + " cannot close " + std::string(type_name(open.type)) + " " +
                      in_quotes(open.name) + " (row " + std::to_string(open_.back().row) + "), which must end first");
    }
    for (const ColumnRule& rule : column_rules()) {
      if (says_something(row, rule.field)) {
        fail(survey_.location(row.number, rule.field), std::string(rule.field) + " does not apply to an " +
                                                           std::string(spelling.keyword) + " row; put it on row " +
                                                           std::to_string(open_.back().row));
      }
    }
    open_.pop_back();
  }

  void read_texts(const SheetRow& row, Question& question) {
    for (std::string_view field : {"label", "hint", "required_message", "constraint_message"}) {
      survey_.for_each_cell(
          row, field, [&](const CellLocation& location, std::string_view text) { collect_references(location, text); });
    }
    question.label = survey_.translations(row, "label", plain_language_);
    question.hint = survey_.translations(row, "hint", plain_language_);
    question.required_message = survey_.translations(row, "required_message", plain_language_);
    question.constraint_message = survey_.translations(row, "constraint_message", plain_language_);
    if (needs_label(question.type) && question.label.empty() && question.hint.empty()) {
      fail(survey_.location(row.number, "label"),
           "the " + std::string(type_name(question.type)) + " " + in_quotes(question.name) + " needs a label");
    }
  }

  // Whether a rule column holds anything that would take effect: Kobo writes "false" in the
  // required column of every row, metadata and end_group rows included.
  bool says_something(const SheetRow& row, std::string_view field) const {
    if (!survey_.has_text(row, field)) return false;
    return !((field == "required" || field == "read_only") && yes_or_no(survey_.cell(row, field)) == false);
  }

  Condition condition(const SheetRow& row, std::string_view field) {
    Condition result;
    const std::string_view text = survey_.cell(row, field);
    if (auto yes = yes_or_no(text)) {
      result.yes = *yes;
    } else {
      result.expression = expression(survey_, row, field);
    }
    return result;
  }

  void check_choice_list(const Question& question, const CellLocation& where) const {
    const auto list = choice_lists_.find(question.list_name);
    if (list == choice_lists_.end()) {
      if (!has_choices_sheet_)
        fail(where, "the list " + in_quotes(question.list_name) + " needs a choices sheet, and there is none");
      std::vector<std::string> names;
      for (const auto& [name, unused] : choice_lists_) names.push_back(name);
      fail(where, "the list " + in_quotes(question.list_name) + " is not in the choices sheet" +
                      did_you_mean(question.list_name, names));
    }
    if (question.type != QuestionType::SelectMultiple) return;
    for (const Choice& choice : list->second.choices) {
      if (choice.name.find_first_of(" \t\r\n") != std::string::npos) {
        const std::string detail = "the choice " + in_quotes(choice.name) +
                                   " has a space in its name, and select_multiple " + in_quotes(question.name) +
                                   " separates answers with spaces";
        fail(choices_.location(choice.row, "name"), detail);
      }
    }
  }

  void check_default(const Question& question, const CellLocation& where) const {
    const std::string& value = question.default_value;
    if (value.empty()) return;
    if (value.find("${") != std::string::npos)
      fail(where, "a default is a fixed value; use a calculation for a computed one");
    const auto must_be = [&](bool ok, std::string_view what) {
      if (!ok) fail(where, "the default " + in_quotes(value) + " is not " + std::string(what));
    };
    double number = 0;
    switch (question.type) {
      case QuestionType::Integer: return must_be(is_integer_text(value), "a whole number");
      case QuestionType::Decimal: return must_be(parse_number(value, number), "a number");
      case QuestionType::Date: return must_be(is_date_text(value), "a date (YYYY-MM-DD; format the cell as text)");
      case QuestionType::Time: return must_be(is_time_text(value), "a time (HH:MM)");
      case QuestionType::DateTime: return must_be(is_date_time_text(value), "a date and time (YYYY-MM-DDTHH:MM)");
      case QuestionType::Geopoint: return must_be(is_geopoint_text(value), "a geopoint (latitude longitude)");
      case QuestionType::Acknowledge: return must_be(value == "OK", "OK");
      case QuestionType::SelectOne:
      case QuestionType::SelectMultiple: {
        for (const std::string& answer : split_words(value)) {
          must_be(choice_rows_.count({question.list_name, answer}) != 0 &&
                      (question.type == QuestionType::SelectMultiple || answer == value),
                  "a choice of list " + in_quotes(question.list_name));
        }
        return;
      }
      default: return;
    }
  }

  // --- After all rows

  void check_references() const {
    std::vector<std::string> names;
    for (const auto& [name, row] : name_rows_) names.push_back(name);
    for (const Reference& reference : references_) {
      if (name_rows_.count(reference.name) == 0) {
        fail(reference.location,
             "${" + reference.name + "} does not name a question" + did_you_mean(reference.name, names));
      }
    }
  }

  // The languages texts are written in, the default language first.
  std::vector<Language> collect_languages() const {
    std::vector<std::string> keys;
    survey_.collect_languages(plain_language_, keys);
    choices_.collect_languages(plain_language_, keys);
    const std::string& wanted = settings_.default_language;
    if (const auto found = std::find(keys.begin(), keys.end(), wanted); !wanted.empty() && found != keys.end()) {
      std::rotate(keys.begin(), found, found + 1);
    } else if (!wanted.empty() && !keys.empty()) {
      fail(settings_table_.location(settings_row_, "default_language"),
           "no text is written in the default_language " + in_quotes(wanted) +
               " (the form's languages: " + join(keys, ", ") + ")");
    }
    std::vector<Language> languages;
    for (const std::string& key : keys) languages.push_back(describe_language(key));
    return languages;
  }

  const std::string file_;
  const Sheet* survey_sheet_;
  Table survey_;
  Table choices_;
  Table settings_table_;
  bool has_choices_sheet_;

  FormSettings settings_;
  int settings_row_ = 0;
  std::string plain_language_;
  std::vector<Question> questions_;
  std::vector<OpenContainer> open_;
  std::map<std::string, int, std::less<>> name_rows_;
  std::map<std::string, ChoiceList, std::less<>> choice_lists_;
  std::map<std::pair<std::string, std::string>, int> choice_rows_;  // (list, choice) -> row
  std::vector<Reference> references_;
};

}  // namespace

// --- Entry points

Form build_form(const Workbook& workbook) { return FormBuilder(workbook).build(); }

namespace {

Workbook xlsx_workbook(std::string_view bytes, const std::string& file) {
  if (bytes.empty()) throw FormError(file, {}, "is empty");
  constexpr std::string_view kCompoundFileMagic = "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
  if (bytes.substr(0, kCompoundFileMagic.size()) == kCompoundFileMagic) {
    throw FormError(file, {}, "is an Excel 97-2003 (.xls) or password-protected file; save it as an unprotected .xlsx");
  }
  return read_xlsx(bytes, file, xlsform_sheet_names());
}

}  // namespace

Form read_xlsform_xlsx(std::string_view bytes, const std::string& file) {
  return build_form(xlsx_workbook(bytes, file));
}

Workbook read_xlsform_workbook(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) return read_csv_directory(path);
  return xlsx_workbook(read_form_file(path), path);
}

Form read_xlsform(const std::string& path) { return build_form(read_xlsform_workbook(path)); }

}  // namespace outpost::forms
