// XLSForm expressions, the XPath 1.0 subset ODK and Kobo forms use in `relevant`, `constraint`,
// `calculation`, `required` and `choice_filter`: parsed once when a form is read, evaluated many
// times while it is filled.
//
// Grammar (lowest precedence first; operators of one level associate to the left):
//   expression := or
//   or         := and ('or' and)*
//   and        := equality ('and' equality)*
//   equality   := relation (('=' | '!=') relation)*
//   relation   := sum (('<' | '<=' | '>' | '>=') sum)*
//   sum        := product (('+' | '-') product)*
//   product    := unary (('*' | 'div' | 'mod') unary)*
//   unary      := '-' unary | primary
//   primary    := number | string | '${' name '}' | '.' | '(' expression ')'
//               | function '(' [expression (',' expression)*] ')'
// Numbers are digits with an optional decimal point, strings '...' or "..." (no escapes, as in
// XPath). Functions, with their argument counts, checked when parsing:
//   if(3) selected(2) count-selected(1) string-length(0-1) regex(2) concat(1+) coalesce(2)
//   contains(2) starts-with(2) substr(2-3) today(0) now(0) int(1) number(0-1) round(1-2)
//   sum(1) count(1) min(1+) max(1+) position(..) jr:choice-name(2) not(1) true(0) false(0)
//
// Semantics are XPath 1.0 as ODK's JavaRosa evaluates it, quirks included:
// - An unanswered question is "": `${x} = ''` is true, and `${age} > 5` is false (number('') is
//   NaN, and every comparison with NaN but != is false).
// - Dates are text ('YYYY-MM-DD', dateTime, time); as numbers they are days since 1970-01-01, so
//   `today() - ${dob}` is an age in days and `${dob} < '2020-01-01'` compares days.
// - and, or, if() and coalesce() evaluate only the operands that decide the result.
// - A `${name}` whose question is inside a repeat the evaluation point is not inside stands for
//   all of its instances' answers where a function takes them all (sum, count, min, max,
//   concat); anywhere else such a reference with two or more answers is an EvaluationError, as
//   in JavaRosa. Expression::single_value_references() lets a form reader reject that at publish
//   time instead.
// - sum() and count() take a `${reference}`; sum() of a list with an empty answer is NaN.
// - selected(list, value) looks for the trimmed value among the space-separated choices of list;
//   count-selected() counts them.
// - string-length() and substr() count characters, not bytes. substr(s, start, end) is 0-based
//   with `end` excluded, both clamped to the string.
// - int() truncates towards zero; round(x, digits) rounds the decimal form of x half away from
//   zero (round(1.005, 2) = 1.01, round(-2.5) = -3).
// - position(..) is the 1-based index of the repeat instance evaluated in (1 outside repeats).
// - jr:choice-name(value, '${question}') is the label of that choice of the select question,
//   or "" when it has none.
// - regex(text, pattern) searches, with the engine in regex.h. A literal pattern is compiled when
//   parsing, so a bad one is a parse error.
//
// Bounds: expressions are at most max_expression_length bytes and nest at most
// max_nesting_depth levels (parentheses, function calls, unary minus), so neither parsing nor
// evaluation can exhaust the stack; evaluation visits each node at most once and regex()
// matching is linear in the text (regex.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "forms/expression_value.h"
#include "forms/positioned_error.h"

namespace outpost::forms {

constexpr size_t max_expression_length = 16 * 1024;  // bytes
constexpr int max_nesting_depth = 64;

// A malformed expression (from parse_expression) or one that cannot be evaluated
// (EvaluationError); position() counts characters into the expression's text.
class ExpressionError : public PositionedError {
 public:
  using PositionedError::PositionedError;
};

// A well-formed expression that cannot produce a value with these answers: a repeated question
// used as one value, or a regex() pattern computed while filling that is not valid.
class EvaluationError final : public ExpressionError {
 public:
  using ExpressionError::ExpressionError;
};

// The repeat instance an expression is evaluated in: the 0-based instance index in each
// enclosing repeat, outermost first; empty outside repeats.
using RepeatPath = std::vector<size_t>;

// What `${name}` stands for at the evaluation point: one answer ("" when unanswered), or, for a
// question inside a repeat the evaluation point is not inside, the answers of all its instances
// in order (none when the repeat has no instances).
using ReferenceValue = std::variant<std::string, std::vector<std::string>>;

struct LocalTime {
  int64_t epoch_ms = 0;
  int utc_offset_minutes = 0;  // of the device's time zone at that instant
};

// The form being filled, seen from the question whose expression is evaluated. The form engine
// implements it; the expression engine only reads through it.
class EvaluationContext {
 public:
  virtual ~EvaluationContext() = default;

  // Where the expression is evaluated (for references and position(..)).
  virtual const RepeatPath& repeat_path() const = 0;

  // `${name}` seen from repeat_path(): a question outside repeats, or in the same instance or an
  // enclosing instance of a repeat that repeat_path() is inside, is one answer; a question in a
  // repeat that repeat_path() is not inside is the list of its answers in every instance
  // (within the enclosing instances the two share). May throw for a name the form lacks: a form
  // reader rules that out at publish time with Expression::references().
  virtual ReferenceValue resolve(std::string_view name) const = 0;

  // `.`: the answer of the question the expression belongs to.
  virtual std::string current_value() const = 0;

  // For today() and now().
  virtual LocalTime now() const = 0;

  // The label of choice `value` of select question `question` in the language being shown;
  // nullopt when there is no such choice.
  virtual std::optional<std::string> choice_label(std::string_view question, std::string_view value) const = 0;

  // In a choice_filter: the column of the choice being tested ("" when the choice has none).
  // Only expressions from parse_choice_filter() ask for it.
  virtual std::string choice_column(std::string_view column) const = 0;
};

namespace detail {
struct Program;
}

// A parsed expression. Immutable; copies share the parse, so it is cheap to copy and safe to
// evaluate from several threads at once.
class Expression {
 public:
  const std::string& text() const;

  // The distinct `${name}`s in order of first appearance, including the question named in
  // jr:choice-name's second argument, so a form reader can check that each exists.
  const std::vector<std::string>& references() const;

  // The references whose answer is used as one value, that is everywhere but as a whole argument
  // of sum, count, min, max or concat. A reference from outside a repeat to a question inside it
  // is a form error here, which a form reader can report at publish time.
  const std::vector<std::string>& single_value_references() const;

 private:
  explicit Expression(std::shared_ptr<const detail::Program> program) : program_(std::move(program)) {}
  friend Expression parse_expression(std::string_view text);
  friend Expression parse_choice_filter(std::string_view text);
  friend Value evaluate(const Expression& expression, const EvaluationContext& context);

  std::shared_ptr<const detail::Program> program_;
};

// Throws ExpressionError naming what was expected and found, with its position.
Expression parse_expression(std::string_view text);

// A choice_filter, where a bare name such as `region` in `region=${region}` is the value of that
// column for the choice being tested (EvaluationContext::choice_column).
Expression parse_choice_filter(std::string_view text);

// Throws EvaluationError (see above); exceptions from the context pass through.
Value evaluate(const Expression& expression, const EvaluationContext& context);

}  // namespace outpost::forms
