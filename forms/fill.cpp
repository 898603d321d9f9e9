#include "forms/fill.h"

#include <algorithm>
#include <cmath>

#include "forms/answer_text.h"
#include "forms/calendar.h"
#include "forms/expression_check.h"
#include "forms/text.h"

namespace outpost::forms {

namespace {

// Relevance conditions may refer to each other; past this depth they do in a cycle.
constexpr int kMaxRelevanceDepth = 64;

const std::string kNoAnswer;

RepeatPath prefix(const RepeatPath& path, size_t length) {
  return RepeatPath(path.begin(), path.begin() + static_cast<std::ptrdiff_t>(std::min(length, path.size())));
}

RepeatPath with_entry(RepeatPath path, size_t index) {
  path.push_back(index);
  return path;
}

bool is_input(const Question& question) {
  return holds_value(question.type) && question.type != QuestionType::Calculate && !is_metadata(question.type) &&
         !question.calculation;
}

// Why `text` is not an answer of this type, or nullopt when it is.
std::optional<std::string> type_error(const Form& form, const Question& question, std::string_view text) {
  double number = 0;
  const auto unless = [](bool ok, const char* message) -> std::optional<std::string> {
    if (ok) return std::nullopt;
    return std::string(message);
  };
  switch (question.type) {
    case QuestionType::Integer: return unless(is_integer_text(text), "Write a whole number.");
    case QuestionType::Decimal: return unless(parse_number(text, number), "Write a number.");
    case QuestionType::Date: return unless(is_date_text(text), "Write a date as YYYY-MM-DD.");
    case QuestionType::Time: return unless(is_time_text(text), "Write a time as HH:MM.");
    case QuestionType::DateTime: return unless(is_date_time_text(text), "Write a date and time as YYYY-MM-DDTHH:MM.");
    case QuestionType::Geopoint:
      return unless(is_geopoint_text(text), "Write a location as latitude longitude [altitude accuracy].");
    case QuestionType::Acknowledge: return unless(text == "OK", "Acknowledge with OK.");
    case QuestionType::SelectOne:
    case QuestionType::SelectMultiple: {
      const ChoiceList* list = form.choices(question.list_name);
      const std::vector<std::string_view> picked = split_on_space(text);
      if (question.type == QuestionType::SelectOne && picked.size() != 1) return "Choose one answer.";
      for (std::string_view value : picked) {
        if (list == nullptr || list->find(value) == nullptr) {
          return "\"" + std::string(value) + "\" is not one of the choices.";
        }
      }
      return std::nullopt;
    }
    default: return std::nullopt;
  }
}

}  // namespace

// --- Submission

const std::string& Submission::answer(std::string_view name, const RepeatPath& path) const {
  const auto found = answers_.find(Key{std::string(name), path});
  return found == answers_.end() ? kNoAnswer : found->second;
}

void Submission::set_answer(const std::string& name, const RepeatPath& path, std::string text) {
  if (text.empty()) {
    answers_.erase(Key{name, path});
  } else {
    answers_[Key{name, path}] = std::move(text);
  }
}

size_t Submission::entries(std::string_view name, const RepeatPath& path) const {
  const auto found = entries_.find(Key{std::string(name), path});
  return found == entries_.end() ? 0 : found->second;
}

void Submission::set_entries(const std::string& name, const RepeatPath& path, size_t count) {
  if (count == 0) {
    entries_.erase(Key{name, path});
  } else {
    entries_[Key{name, path}] = count;
  }
}

std::string FieldError::describe(const Form& form) const {
  std::string where = name;
  if (const Question* question = form.find(name); question != nullptr && !path.empty()) {
    const std::vector<const Question*> repeats = form.enclosing_repeats(*question);
    where += " (";
    for (size_t level = 0; level < path.size() && level < repeats.size(); ++level) {
      if (level > 0) where += ", ";
      where += repeats[level]->name + " " + std::to_string(path[level] + 1);
    }
    where += ")";
  }
  return where + ": " + message;
}

// --- Evaluation context

// The form seen from one question in one repeat instance, and in a choice filter, one choice.
class FillSession::Scope final : public EvaluationContext {
 public:
  Scope(const FillSession& session, const Question& question, const RepeatPath& path, const Choice* choice = nullptr)
      : session_(session), question_(question), path_(path), choice_(choice) {}

  const RepeatPath& repeat_path() const override { return path_; }

  ReferenceValue resolve(std::string_view name) const override {
    const Form& form = session_.form_;
    const Question& referenced = session_.question(name);
    std::vector<const Question*> theirs = form.enclosing_repeats(referenced);
    // A repeat itself stands for its entries (count(${household})), each an empty answer.
    if (referenced.type == QuestionType::Repeat) theirs.push_back(&referenced);
    const std::vector<const Question*> ours = form.enclosing_repeats(question_);
    size_t shared = 0;
    while (shared < theirs.size() && shared < ours.size() && theirs[shared] == ours[shared]) ++shared;
    const auto answer_at = [&](const RepeatPath& path) {
      return session_.is_relevant(name, path) ? session_.submission_.answer(name, path) : kNoAnswer;
    };
    if (shared == theirs.size()) return answer_at(prefix(path_, shared));
    std::vector<std::string> answers;
    const RepeatPath common = prefix(path_, shared);
    for (const RepeatPath& path : session_.instance_paths(referenced)) {
      if (prefix(path, shared) != common) continue;
      if (referenced.type != QuestionType::Repeat) {
        answers.push_back(answer_at(path));
      } else if (session_.is_relevant(name, path)) {
        answers.resize(answers.size() + session_.submission_.entries(name, path));
      }
    }
    return answers;
  }

  std::string current_value() const override { return session_.submission_.answer(question_.name, path_); }

  LocalTime now() const override { return session_.device_.clock(); }

  std::optional<std::string> choice_label(std::string_view question, std::string_view value) const override {
    const ChoiceList* list = session_.form_.choices(session_.question(question).list_name);
    const Choice* choice = list == nullptr ? nullptr : list->find(value);
    if (choice == nullptr) return std::nullopt;
    return session_.form_.text(choice->label, session_.language_);
  }

  std::string choice_column(std::string_view column) const override {
    if (choice_ == nullptr) throw EvaluationError("a choice's column is only known in a choice_filter", 0);
    if (column == "name") return choice_->name;
    if (column == "label") return session_.form_.text(choice_->label, session_.language_);
    const auto found = choice_->columns.find(std::string(column));
    return found == choice_->columns.end() ? std::string() : found->second;
  }

 private:
  const FillSession& session_;
  const Question& question_;
  const RepeatPath& path_;
  const Choice* choice_;
};

// --- Session

FillSession::FillSession(const Form& form, std::string language, Device device)
    : FillSession(form, std::move(language), std::move(device), Submission()) {
  const LocalTime now = device_.clock();
  for (const Question& question : form_.questions()) {
    switch (question.type) {
      case QuestionType::Start:
        submission_.set_answer(question.name, {}, format_date_time(now.epoch_ms, now.utc_offset_minutes));
        break;
      case QuestionType::Today:
        submission_.set_answer(question.name, {}, format_date(local_day(now.epoch_ms, now.utc_offset_minutes)));
        break;
      case QuestionType::DeviceId: submission_.set_answer(question.name, {}, device_.device_id); break;
      default: break;
    }
  }
  apply_defaults(nullptr, {});
  recompute();
}

FillSession::FillSession(const Form& form, std::string language, Device device, Submission submission)
    : form_(form), language_(std::move(language)), device_(std::move(device)), submission_(std::move(submission)) {
  const std::string& file = form.settings().form_id;
  for (const Question& question : form_.questions()) {
    for (const ExpressionCell* cell : expression_cells(question)) {
      const bool is_choice_filter = question.choice_filter && cell == &*question.choice_filter;
      expressions_.emplace(cell, is_choice_filter ? parse_choice_filter(cell->text) : parse_expression(cell->text));
    }
  }
  calculation_order_ = calculation_order(form_, file);
}

const Question& FillSession::question(std::string_view name) const {
  const Question* found = form_.find(name);
  if (found == nullptr) throw FillError("the form has no question named " + std::string(name));
  return *found;
}

std::vector<RepeatPath> FillSession::instance_paths(const Question& question) const {
  std::vector<RepeatPath> paths{RepeatPath{}};
  for (const Question* repeat : form_.enclosing_repeats(question)) {
    std::vector<RepeatPath> deeper;
    for (const RepeatPath& path : paths) {
      const size_t count = submission_.entries(repeat->name, path);
      for (size_t index = 0; index < count; ++index) deeper.push_back(with_entry(path, index));
    }
    paths = std::move(deeper);
  }
  return paths;
}

void FillSession::check_path(const Question& question, const RepeatPath& path) const {
  const std::vector<const Question*> repeats = form_.enclosing_repeats(question);
  bool exists = path.size() == repeats.size();
  for (size_t level = 0; exists && level < path.size(); ++level) {
    exists = path[level] < submission_.entries(repeats[level]->name, prefix(path, level));
  }
  if (!exists) {
    FieldError where{question.name, path, "no such repeat entry"};
    throw FillError(where.describe(form_));
  }
}

Value FillSession::evaluate_at(const Question& question, const Expression& expression, const RepeatPath& path) const {
  return evaluate(expression, Scope(*this, question, path));
}

std::string FillSession::expand_references(std::string_view name, const RepeatPath& path, std::string_view text) const {
  if (text.find("${") == std::string_view::npos) return std::string(text);
  const Question& at = question(name);
  std::string expanded;
  size_t position = 0;
  for (size_t open = text.find("${"); open != std::string_view::npos; open = text.find("${", position)) {
    const size_t close = text.find('}', open + 2);
    if (close == std::string_view::npos) break;
    expanded.append(text.substr(position, open - position));
    try {
      expanded += evaluate_at(at, parse_expression(std::string(text.substr(open, close + 1 - open))), path).as_string();
    } catch (const std::exception&) {  // no such question, or no single answer from here
    }
    position = close + 1;
  }
  expanded.append(text.substr(position));
  return expanded;
}

bool FillSession::condition(const Question& question, const Condition& condition, const RepeatPath& path) const {
  if (!condition.expression) return condition.yes;
  return evaluate_at(question, expressions_.at(&*condition.expression), path).as_boolean();
}

// --- Rules

bool FillSession::is_relevant(std::string_view name, const RepeatPath& path) const {
  struct Deeper {
    explicit Deeper(int& counter) : counter_(counter) {
      if (++counter_ > kMaxRelevanceDepth) {
        --counter_;
        throw FillError("relevance conditions depend on each other in a cycle");
      }
    }
    ~Deeper() { --counter_; }
    int& counter_;
  } deeper(relevance_depth_);

  const Question& asked = question(name);
  if (asked.relevant && !evaluate_at(asked, expressions_.at(&*asked.relevant), path).as_boolean()) return false;
  if (!asked.parent) return true;
  const Question& parent = form_.questions()[*asked.parent];
  // A repeat's own relevant is evaluated outside its entries.
  return is_relevant(parent.name, parent.type == QuestionType::Repeat ? prefix(path, path.size() - 1) : path);
}

bool FillSession::is_required(std::string_view name, const RepeatPath& path) const {
  const Question& asked = question(name);
  return condition(asked, asked.required, path);
}

bool FillSession::is_read_only(std::string_view name, const RepeatPath& path) const {
  const Question& asked = question(name);
  return asked.calculation.has_value() || condition(asked, asked.read_only, path);
}

std::vector<const Choice*> FillSession::visible_choices(std::string_view name, const RepeatPath& path) const {
  const Question& select = question(name);
  std::vector<const Choice*> visible;
  const ChoiceList* list = form_.choices(select.list_name);
  if (list == nullptr) return visible;
  for (const Choice& choice : list->choices) {
    if (!select.choice_filter ||
        evaluate(expressions_.at(&*select.choice_filter), Scope(*this, select, path, &choice)).as_boolean()) {
      visible.push_back(&choice);
    }
  }
  return visible;
}

std::optional<FieldError> FillSession::check(std::string_view name, const RepeatPath& path) const {
  const Question& asked = question(name);
  check_path(asked, path);
  if (!holds_value(asked.type) || asked.type == QuestionType::Calculate || !is_relevant(name, path)) return std::nullopt;
  const auto error = [&](std::string message) { return FieldError{asked.name, path, std::move(message)}; };
  const std::string& text = submission_.answer(name, path);
  if (text.empty()) {
    if (!is_required(name, path)) return std::nullopt;
    const std::string& message = form_.text(asked.required_message, language_);
    return error(message.empty() ? "This question needs an answer." : expand_references(name, path, message));
  }
  if (auto wrong = type_error(form_, asked, text)) return error(*wrong);
  if (!asked.constraint) return std::nullopt;
  try {
    if (evaluate_at(asked, expressions_.at(&*asked.constraint), path).as_boolean()) return std::nullopt;
  } catch (const EvaluationError& failure) {  // a regex() pattern taken from another answer, say
    return error("This answer cannot be checked: " + std::string(failure.what()) + ".");
  }
  const std::string& message = form_.text(asked.constraint_message, language_);
  return error(message.empty() ? "This answer is not accepted (" + asked.constraint->text + ")."
                               : expand_references(name, path, message));
}

std::vector<FieldError> FillSession::validate() const {
  std::vector<FieldError> errors;
  for (const Question& asked : form_.questions()) {
    if (is_container(asked.type)) continue;
    for (const RepeatPath& path : instance_paths(asked)) {
      if (auto error = check(asked.name, path)) errors.push_back(std::move(*error));
    }
  }
  return errors;
}

std::vector<FieldError> FillSession::finalize() {
  std::vector<FieldError> errors = validate();
  if (!errors.empty()) return errors;
  const LocalTime now = device_.clock();
  for (const Question& asked : form_.questions()) {
    if (asked.type == QuestionType::End) {
      submission_.set_answer(asked.name, {}, format_date_time(now.epoch_ms, now.utc_offset_minutes));
    }
  }
  std::vector<Submission::Key> hidden;
  for (const auto& [key, text] : submission_.answers()) {
    if (!is_relevant(key.first, key.second)) hidden.push_back(key);
  }
  for (const Submission::Key& key : hidden) submission_.answers().erase(key);
  return errors;
}

std::vector<Page> FillSession::pages() const {
  std::vector<Page> pages;
  for (size_t index : form_.top_level()) {
    const Question& asked = form_.questions()[index];
    if (is_metadata(asked.type) || asked.type == QuestionType::Calculate) continue;
    pages.push_back(Page{index, is_relevant(asked.name, {})});
  }
  return pages;
}

// --- Changes

void FillSession::set_answer(std::string_view name, const RepeatPath& path, std::string_view text) {
  const Question& asked = question(name);
  if (!is_input(asked)) {
    throw FillError(asked.name + " is a " + std::string(type_name(asked.type)) + ", which takes no answer");
  }
  check_path(asked, path);
  if (is_read_only(name, path)) throw FillError(asked.name + " is read-only");
  submission_.set_answer(asked.name, path, std::string(trim_space(text)));
  recompute();
}

size_t FillSession::add_repeat(std::string_view name, const RepeatPath& path) {
  const Question& repeat = question(name);
  if (repeat.type != QuestionType::Repeat) throw FillError(repeat.name + " is not a repeat");
  if (repeat.repeat_count) throw FillError("the number of " + repeat.name + " entries is set by the form");
  check_path(repeat, path);
  const size_t index = submission_.entries(repeat.name, path);
  if (index >= kMaxRepeatEntries) {
    throw FillError(repeat.name + " has the most entries allowed (" + std::to_string(kMaxRepeatEntries) + ")");
  }
  submission_.set_entries(repeat.name, path, index + 1);
  apply_defaults(&repeat, with_entry(path, index));
  recompute();
  return index;
}

void FillSession::remove_repeat(std::string_view name, const RepeatPath& path, size_t index) {
  const Question& repeat = question(name);
  if (repeat.type != QuestionType::Repeat) throw FillError(repeat.name + " is not a repeat");
  if (repeat.repeat_count) throw FillError("the number of " + repeat.name + " entries is set by the form");
  check_path(repeat, path);
  const size_t count = submission_.entries(repeat.name, path);
  if (index >= count) throw FillError(repeat.name + " has no entry " + std::to_string(index + 1));
  remove_entry_answers(repeat, with_entry(path, index));
  submission_.set_entries(repeat.name, path, count - 1);
  recompute();
}

// Drops what entry_path holds (answers and nested entries) and moves later entries up one.
void FillSession::remove_entry_answers(const Question& repeat, const RepeatPath& entry_path) {
  const size_t level = entry_path.size() - 1;
  const size_t removed = entry_path.back();
  const auto renumber = [&](auto& map) {
    std::remove_reference_t<decltype(map)> kept;
    for (auto& [key, value] : map) {
      const Question& owner = question(key.first);
      const std::vector<const Question*> repeats = form_.enclosing_repeats(owner);
      const bool inside = repeats.size() > level && repeats[level] == &repeat && key.second.size() > level &&
                          prefix(key.second, level) == prefix(entry_path, level);
      if (!inside) {
        kept.emplace(key, value);
        continue;
      }
      if (key.second[level] == removed) continue;
      Submission::Key moved = key;
      if (moved.second[level] > removed) --moved.second[level];
      kept.emplace(std::move(moved), value);
    }
    map = std::move(kept);
  };
  renumber(submission_.answers());
  renumber(submission_.entry_counts());
}

// Gives the questions directly in `container` (the whole form's top level when null, through
// groups) their defaults, where unanswered.
void FillSession::apply_defaults(const Question* container, const RepeatPath& path) {
  for (const Question& asked : form_.questions()) {
    if (asked.default_value.empty() || !submission_.answer(asked.name, path).empty()) continue;
    const std::vector<const Question*> repeats = form_.enclosing_repeats(asked);
    const Question* innermost = repeats.empty() ? nullptr : repeats.back();
    if (innermost == container) submission_.set_answer(asked.name, path, asked.default_value);
  }
}

void FillSession::recompute() {
  // Calculations may set repeat counts and repeat counts change what calculations see: settle
  // both, a few rounds at most (a form's counts rarely depend on each other).
  for (int round = 0; round < 4; ++round) {
    for (size_t index : calculation_order_) {
      const Question& calculated = form_.questions()[index];
      const Expression& expression = expressions_.at(&*calculated.calculation);
      for (const RepeatPath& path : instance_paths(calculated)) {
        std::string value;
        try {
          if (is_relevant(calculated.name, path)) value = evaluate_at(calculated, expression, path).as_string();
        } catch (const EvaluationError&) {
          value.clear();  // a calculation that cannot be made with these answers is unanswered
        }
        submission_.set_answer(calculated.name, path, std::move(value));
      }
    }
    bool changed = false;
    for (const Question& repeat : form_.questions()) {
      if (!repeat.repeat_count) continue;
      for (const RepeatPath& path : instance_paths(repeat)) {
        const double wanted = evaluate_at(repeat, expressions_.at(&*repeat.repeat_count), path).as_number();
        const size_t count =
            std::isnan(wanted) || wanted < 0 ? 0 : static_cast<size_t>(std::min<double>(wanted, kMaxRepeatEntries));
        const size_t had = submission_.entries(repeat.name, path);
        if (count == had) continue;
        changed = true;
        for (size_t index = had; index > count; --index) remove_entry_answers(repeat, with_entry(path, index - 1));
        submission_.set_entries(repeat.name, path, count);
        for (size_t index = had; index < count; ++index) apply_defaults(&repeat, with_entry(path, index));
      }
    }
    if (!changed) return;
  }
}

}  // namespace outpost::forms
