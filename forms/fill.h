// Filling a form: the answers of one submission (Submission) and the rules of the form applied to
// them (FillSession) as the device's UI and the `outpost fill` command use them. Answers are text
// as ODK writes them, kept by question name and repeat instance path (expression.h RepeatPath).
//
// Decisions:
// - Answers of questions that are not relevant stay while filling (so hiding and showing a
//   question again keeps what was typed) but count as unanswered in expressions, are not
//   validated, and are cleared by finalize().
// - A repeat with a repeat_count has exactly that many entries (at most kMaxRepeatEntries);
//   adding or removing its entries by hand is refused.
// - Calculations are recomputed after every change, in the order of expression_check.h.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "forms/expression.h"
#include "forms/form.h"

namespace outpost::forms {

constexpr size_t kMaxRepeatEntries = 1000;

// --- Submission state

class Submission {
 public:
  // The answer of question `name` in repeat instance `path`; "" when unanswered.
  const std::string& answer(std::string_view name, const RepeatPath& path) const;
  void set_answer(const std::string& name, const RepeatPath& path, std::string text);

  // How many entries repeat `name` has inside the instance `path` of its enclosing repeats.
  size_t entries(std::string_view name, const RepeatPath& path) const;
  void set_entries(const std::string& name, const RepeatPath& path, size_t count);

  using Key = std::pair<std::string, RepeatPath>;
  const std::map<Key, std::string, std::less<>>& answers() const { return answers_; }
  std::map<Key, std::string, std::less<>>& answers() { return answers_; }
  const std::map<Key, size_t, std::less<>>& entry_counts() const { return entries_; }
  std::map<Key, size_t, std::less<>>& entry_counts() { return entries_; }

 private:
  std::map<Key, std::string, std::less<>> answers_;
  std::map<Key, size_t, std::less<>> entries_;
};

// --- Errors

// A change the form does not allow (an unknown question, a read-only one, a repeat entry that
// does not exist): the caller's mistake, not the person's answer.
class FillError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What is wrong with one answer, for the person filling the form.
struct FieldError {
  std::string name;
  RepeatPath path;
  std::string message;

  // "age (household 1, member 2): Age must be between 0 and 120." (entries counted from 1)
  std::string describe(const Form& form) const;
};

// --- The session

struct Device {
  std::string device_id;
  std::function<LocalTime()> clock;
};

// One page of the form: a top-level group or question.
struct Page {
  size_t question;  // index in Form::questions()
  bool relevant;
};

class FillSession {
 public:
  // Starts a new submission: records start, today and deviceid, applies defaults, computes.
  FillSession(const Form& form, std::string language, Device device);
  // Resumes a draft.
  FillSession(const Form& form, std::string language, Device device, Submission submission);

  const Form& form() const { return form_; }
  const Submission& submission() const { return submission_; }

  // The person's answer (trimmed; "" clears it). Throws FillError for a question that is not an
  // input (groups, notes, calculations, metadata), is read-only, or a path that is no entry.
  void set_answer(std::string_view name, const RepeatPath& path, std::string_view text);
  // Appends an entry to repeat `name` inside `path` (its enclosing repeats); returns its index.
  size_t add_repeat(std::string_view name, const RepeatPath& path);
  // Removes entry `index`; later entries move up one.
  void remove_repeat(std::string_view name, const RepeatPath& path, size_t index);

  bool is_relevant(std::string_view name, const RepeatPath& path) const;
  bool is_required(std::string_view name, const RepeatPath& path) const;
  bool is_read_only(std::string_view name, const RepeatPath& path) const;
  // A label, hint or message as shown while filling (check() expands its messages itself): each
  // ${name} replaced by that question's current answer as question `name` in `path` sees it (an
  // answer of the same repeat entry, or outside the repeat), as ODK does ("Hello ${first_name}").
  // A reference that has no single answer there (a hidden question, a repeat's answers seen from
  // outside) shows as nothing.
  std::string expand_references(std::string_view name, const RepeatPath& path, std::string_view text) const;
  // The choices a select shows, after its choice_filter.
  std::vector<const Choice*> visible_choices(std::string_view name, const RepeatPath& path) const;

  // The error of one answer, if any: type, required, constraint, choice list.
  std::optional<FieldError> check(std::string_view name, const RepeatPath& path) const;
  // Every error of the relevant answers, in form order.
  std::vector<FieldError> validate() const;
  // Validates (returning the errors and changing nothing if there are any), then records end
  // and clears the answers of questions that are not relevant.
  std::vector<FieldError> finalize();

  std::vector<Page> pages() const;

 private:
  class Scope;
  const Question& question(std::string_view name) const;
  // Every instance path of the question's enclosing repeats.
  std::vector<RepeatPath> instance_paths(const Question& question) const;
  void check_path(const Question& question, const RepeatPath& path) const;
  bool condition(const Question& question, const Condition& condition, const RepeatPath& path) const;
  Value evaluate_at(const Question& question, const Expression& expression, const RepeatPath& path) const;
  void apply_defaults(const Question* container, const RepeatPath& path);
  void recompute();
  void remove_entry_answers(const Question& repeat, const RepeatPath& entry_path);

  const Form& form_;
  std::string language_;
  Device device_;
  Submission submission_;
  std::map<const ExpressionCell*, Expression> expressions_;  // every expression of the form, parsed once
  std::vector<size_t> calculation_order_;
  mutable int relevance_depth_ = 0;  // guards against relevance conditions that refer in a cycle
};

}  // namespace outpost::forms
