#include "forms/expression_check.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>

#include "forms/expression.h"

namespace outpost::forms {

namespace {

// A choice filter's bare names are the choices' columns; its ${...} are answers like anywhere.
Expression parse_cell(const ExpressionCell& cell, bool is_choice_filter, const std::string& file) {
  try {
    return is_choice_filter ? parse_choice_filter(cell.text) : parse_expression(cell.text);
  } catch (const ExpressionError& error) {
    throw FormError(file, cell.location, error.what());
  }
}

// A reference used as one value must not be to a question inside a repeat the evaluation
// point is outside of: that would be one of many answers.
void check_single_values(const Form& form, const Expression& expression, const ExpressionCell& cell,
                         const std::vector<const Question*>& inside, const std::string& file) {
  for (const std::string& name : expression.single_value_references()) {
    const Question* referenced = form.find(name);
    if (referenced == nullptr) continue;  // the reader has already refused unknown names
    for (const Question* repeat : form.enclosing_repeats(*referenced)) {
      if (std::find(inside.begin(), inside.end(), repeat) != inside.end()) continue;
      throw FormError(file, cell.location,
                      "${" + name + "} is inside the repeat \"" + repeat->name +
                          "\", so here it stands for the answers of every entry; use it inside the repeat, or "
                          "as a whole argument of sum(), count(), min(), max() or concat()");
    }
  }
}

}  // namespace

void check_expressions(const Form& form, const std::string& file) {
  for (const Question& question : form.questions()) {
    const std::vector<const Question*> inside = form.enclosing_repeats(question);
    for (const ExpressionCell* cell : expression_cells(question)) {
      const Expression expression = parse_cell(*cell, question.choice_filter && cell == &*question.choice_filter, file);
      check_single_values(form, expression, *cell, inside, file);
    }
  }
  if (const auto& instance_name = form.settings().instance_name) {
    check_single_values(form, parse_cell(*instance_name, false, file), *instance_name, {}, file);
  }
  calculation_order(form, file);
}

std::vector<size_t> calculation_order(const Form& form, const std::string& file) {
  const std::vector<Question>& questions = form.questions();
  std::map<size_t, std::vector<size_t>> reads;  // calculation -> the calculations it reads
  for (size_t index = 0; index < questions.size(); ++index) {
    const auto& cell = questions[index].calculation;
    if (!cell) continue;
    std::vector<size_t>& inputs = reads[index];
    const Expression calculation = parse_cell(*cell, false, file);
    for (const std::string& name : calculation.references()) {
      const Question* input = form.find(name);
      if (input != nullptr && input->calculation) inputs.push_back(static_cast<size_t>(input - questions.data()));
    }
  }

  enum class Mark { unvisited, visiting, done };
  std::vector<Mark> marks(questions.size(), Mark::unvisited);
  std::vector<size_t> order;
  std::vector<size_t> trail;  // the calculations being visited, for the cycle's message
  const std::function<void(size_t)> visit = [&](size_t index) {
    if (marks[index] == Mark::done) return;
    if (marks[index] == Mark::visiting) {
      std::string cycle;
      for (auto at = std::find(trail.begin(), trail.end(), index); at != trail.end(); ++at) {
        cycle += "${" + questions[*at].name + "} -> ";
      }
      cycle += "${" + questions[index].name + "}";
      throw FormError(file, questions[index].calculation->location,
                      "the calculation depends on itself: " + cycle);
    }
    marks[index] = Mark::visiting;
    trail.push_back(index);
    for (size_t input : reads[index]) visit(input);
    trail.pop_back();
    marks[index] = Mark::done;
    order.push_back(index);
  };
  for (const auto& [index, unused] : reads) visit(index);
  return order;
}

}  // namespace outpost::forms
