// Parses any bytes as an XLSForm expression and evaluates what parses at three places in a small
// form (outside repeats, in a repeat instance, in a nested one). Nothing may crash, hang, leak or
// reach undefined behaviour; every error must be an ExpressionError whose position lies within
// the text; evaluating twice must give the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "forms/expression.h"
#include "forms/text.h"

using namespace outpost::forms;

namespace {

// Outside repeats: age, dob, started, crops, empty. Repeat `member` (3 instances): member_name;
// inside it, repeat `visit`: visit_cost (2, 1 and 0 instances). Any other name is unanswered.
class FixedForm final : public EvaluationContext {
 public:
  void move_to(RepeatPath path) { path_ = std::move(path); }

  const RepeatPath& repeat_path() const override { return path_; }

  ReferenceValue resolve(std::string_view name) const override {
    if (name == "age") return std::string("34");
    if (name == "dob") return std::string("1990-03-15");
    if (name == "started") return std::string("2024-05-01T08:30:00.000+03:00");
    if (name == "crops") return std::string("maize beans");
    if (name == "member_name") {
      static const std::vector<std::string> names = {"Amina", "Baraka", "Chausiku"};
      if (path_.empty()) return names;
      return names[path_[0]];
    }
    if (name == "visit_cost") {
      static const std::vector<std::vector<std::string>> costs = {{"10", "20"}, {"5"}, {}};
      if (path_.empty()) return std::vector<std::string>{"10", "20", "5"};
      if (path_.size() == 1) return costs[path_[0]];
      return costs[path_[0]][path_[1]];
    }
    return std::string();
  }

  std::string current_value() const override { return "42"; }

  LocalTime now() const override { return {1714558830250, 180}; }

  std::optional<std::string> choice_label(std::string_view, std::string_view value) const override {
    if (value == "maize") return "Maize";
    return std::nullopt;
  }

  std::string choice_column(std::string_view column) const override { return column == "name" ? "maize" : ""; }

 private:
  RepeatPath path_;
};

void check_position(const ExpressionError& error, std::string_view text) {
  if (error.position() > utf8::length(text)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  static FixedForm form;
  try {
    const Expression expression = parse_expression(text);
    for (RepeatPath path : {RepeatPath{}, RepeatPath{1}, RepeatPath{0, 1}}) {
      form.move_to(std::move(path));
      try {
        const std::string first = evaluate(expression, form).as_string();
        if (evaluate(expression, form).as_string() != first) std::abort();
      } catch (const EvaluationError& error) {
        check_position(error, text);
      }
    }
  } catch (const ExpressionError& error) {
    check_position(error, text);
  }
  return 0;
}
