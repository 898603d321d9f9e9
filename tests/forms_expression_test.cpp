#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <functional>
#include <map>
#include <random>
#include <regex>
#include <stdexcept>

#include "forms/calendar.h"
#include "forms/expression.h"
#include "forms/regex.h"

using namespace outpost::forms;

namespace {

// --- A form to evaluate in

// Questions outside repeats, a repeat `member`, and inside it a repeat `visit`; each question's
// answers are keyed by instance path ({} outside repeats, {member} or {member, visit}). One chain
// of repeats is enough for every way a reference crosses a repeat boundary, and resolve() does
// what the form engine's context must: the sibling in the same instance, the enclosing instance
// from a nested repeat, all instances from outside.
class TestForm final : public EvaluationContext {
 public:
  TestForm() {
    answer("empty", {}, "");
    answer("age", {}, "34");
    answer("name", {}, "Amina");
    answer("dob", {}, "1990-03-15");
    answer("visit_date", {}, "2024-05-01");
    answer("started", {}, "2024-05-01T08:30:00.000+03:00");
    answer("start_time", {}, "08:30:00");
    answer("end_time", {}, "17:15:00");
    answer("crops", {}, "maize beans  cassava");
    answer("crop", {}, "beans");
    answer("phone", {}, "+254712345678");
    answer("member_name", {0}, "Amina");
    answer("member_name", {1}, "Baraka");
    answer("member_name", {2}, "Chausiku");
    answer("member_age", {0}, "34");
    answer("member_age", {1}, "12");
    answer("member_age", {2}, "");
    answer("visit_cost", {0, 0}, "10");
    answer("visit_cost", {0, 1}, "20");
    answer("visit_cost", {1, 0}, "5");
  }

  void move_to(RepeatPath path) { path_ = std::move(path); }
  void set_clock(LocalTime now) { now_ = now; }

  const RepeatPath& repeat_path() const override { return path_; }

  ReferenceValue resolve(std::string_view name) const override {
    const auto found = questions_.find(std::string(name));
    if (found == questions_.end()) throw std::invalid_argument("no question named " + std::string(name));
    const Question& question = found->second;
    const size_t shared = std::min(question.depth, path_.size());
    std::vector<std::string> answers;
    for (const auto& [instance, value] : question.answers)
      if (std::equal(path_.begin(), path_.begin() + static_cast<std::ptrdiff_t>(shared), instance.begin()))
        answers.push_back(value);
    if (question.depth > path_.size()) return answers;  // inside a repeat we are not in
    return answers.empty() ? std::string() : answers.front();
  }

  std::string current_value() const override { return "42"; }

  LocalTime now() const override { return now_; }

  std::optional<std::string> choice_label(std::string_view question, std::string_view value) const override {
    if (question != "crop" && question != "crops") return std::nullopt;
    if (value == "maize") return "Maize";
    if (value == "beans") return "Beans (dry)";
    return std::nullopt;
  }

  // The choice a choice filter is tested on: maize, grown in the north.
  std::string choice_column(std::string_view column) const override {
    if (column == "name") return "maize";
    if (column == "region") return "north";
    return "";
  }

 private:
  struct Question {
    size_t depth = 0;
    std::map<RepeatPath, std::string> answers;
  };

  void answer(const std::string& name, const RepeatPath& instance, std::string value) {
    Question& question = questions_[name];
    question.depth = instance.size();
    question.answers[instance] = std::move(value);
  }

  std::map<std::string, Question> questions_;
  RepeatPath path_;
  LocalTime now_{1714558830250, 180};  // 2024-05-01T10:20:30.250Z, in UTC+03:00
};

// --- The table

struct Expected {
  enum class Outcome { value, parse_error, evaluation_error };
  Outcome outcome;
  Value value;
  size_t position = 0;
  std::string reason = {};  // a part of the error's reason
};

Expected str(std::string text) { return {Expected::Outcome::value, Value::string(std::move(text))}; }
Expected num(double number) { return {Expected::Outcome::value, Value::number(number)}; }
const Expected yes{Expected::Outcome::value, Value::boolean(true)};
const Expected no{Expected::Outcome::value, Value::boolean(false)};
Expected parse_error(size_t position, std::string reason) {
  return {Expected::Outcome::parse_error, Value(), position, std::move(reason)};
}
Expected evaluation_error(size_t position, std::string reason) {
  return {Expected::Outcome::evaluation_error, Value(), position, std::move(reason)};
}

constexpr double nan = std::numeric_limits<double>::quiet_NaN();
constexpr double infinity = std::numeric_limits<double>::infinity();

struct Row {
  std::string expression;
  Expected expected;
  RepeatPath at = {};  // where it is evaluated
};

std::string nested(const std::string& open, int depth, const std::string& inner, const std::string& close) {
  std::string text;
  for (int i = 0; i < depth; ++i) text += open;
  text += inner;
  for (int i = 0; i < depth; ++i) text += close;
  return text;
}

const std::vector<Row>& rows() {
  static const std::vector<Row> table = {
      // Literals and arithmetic
      {"1", num(1)},
      {"1.5", num(1.5)},
      {".5", num(0.5)},
      {"5.", num(5)},
      {"'abc'", str("abc")},
      {R"("it's")", str("it's")},
      {"''", str("")},
      {"1 + 2 * 3", num(7)},
      {"(1 + 2) * 3", num(9)},
      {"10 - 4 - 3", num(3)},
      {"2 * 3 div 4", num(1.5)},
      {"7 div 2", num(3.5)},
      {"7 mod 3", num(1)},
      {"-7 mod 3", num(-1)},
      {"7.5 mod 2", num(1.5)},
      {"1 div 0", num(infinity)},
      {"-1 div 0", num(-infinity)},
      {"0 div 0", num(nan)},
      {"-3", num(-3)},
      {"- -3", num(3)},
      {"-(2 + 3)", num(-5)},
      {"2 - -2", num(4)},
      {"3-1", num(2)},
      {"0.1 + 0.2", num(0.30000000000000004)},
      {"1000000 * 1000000", num(1e12)},
      {"'5' + 1", num(6)},
      {"' 5 ' * 2", num(10)},
      {"'abc' + 1", num(nan)},
      {"'1e3' + 0", num(nan)},
      {"'+5' + 0", num(nan)},
      {"true() + true()", num(2)},
      {"1 +\n\t2", num(3)},
      {"1\u00a0+ 2", num(3)},
      // Numbers as text: integers bare, no exponent
      {"concat(1 div 8)", str("0.125")},
      {"concat(2.50)", str("2.5")},
      {"concat(-0)", str("0")},
      {"concat(0 div 0)", str("NaN")},
      {"concat(-1 div 0)", str("-Infinity")},
      {"concat(1 div 10000000)", str("0.0000001")},
      {"concat(100000000000 * 100000000000)", str("10000000000000000000000")},
      {"concat(1 - 0.9)", str("0.09999999999999998")},
      // Comparisons and logic
      {"1 < 2", yes},
      {"2 <= 2", yes},
      {"3 > 4", no},
      {"3 >= 4", no},
      {"1 = 1.0", yes},
      {"'1' = 1", yes},
      {"'abc' = 'abc'", yes},
      {"'abc' != 'abd'", yes},
      {"'a' < 'b'", no},  // both NaN as numbers
      {"'10' < '9'", no},
      {"'10' > '9'", yes},
      {"1 = 1 = 1", yes},
      {"3 > 2 > 1", no},  // (3 > 2) is true, and true > 1 is 1 > 1
      {"true() = 'false'", yes},
      {"false() = ''", yes},
      {"0 = false()", yes},
      {"1 = 1 and 2 = 2", yes},
      {"1 = 1 and 2 = 3", no},
      {"1 = 2 or 2 = 2", yes},
      {"1 = 2 or 2 = 3", no},
      {"1 or 0 and 0", yes},
      {"(1 or 0) and 0", no},
      {"not(1 = 2)", yes},
      {"not('')", yes},
      {"not('false')", no},
      {"not(0)", yes},
      {"not(0 div 0)", yes},
      {"true()", yes},
      {"false()", no},
      {"1 + 1 = 2 and 'x' != 'y'", yes},
      // and, or and if() evaluate only what decides: the repeated reference is never read
      {"1 = 1 or ${member_name} = 'x'", yes},
      {"1 = 2 and ${member_name} = 'x'", no},
      {"if(true(), 'a', ${member_name})", str("a")},
      // Unanswered questions
      {"${empty}", str("")},
      {"${empty} = ''", yes},
      {"${empty} != ''", no},
      {"${empty} = 0", no},
      {"${empty} != 0", yes},
      {"${empty} > 5", no},
      {"${empty} < 5", no},
      {"${empty} <= 5", no},
      {"${empty} + 1", num(nan)},
      {"1 = 1 and ${empty}", no},
      {"if(${empty} = '', 'missing', 'given')", str("missing")},
      {"${age} > 5", yes},
      {"${age} = 34", yes},
      {"${age} = '34'", yes},
      {"${age} + 1", num(35)},
      {"${name} = 'Amina'", yes},
      {"${age} > 5 and ${empty} = ''", yes},
      {"${age} >= 18 or ${empty} > 5", yes},
      {"if(${age} >= 18, 'adult', 'child')", str("adult")},
      // Selects
      {"selected(${crops}, 'beans')", yes},
      {"selected(${crops}, 'cassava')", yes},
      {"selected(${crops}, 'bean')", no},
      {"selected(${crops}, ' maize ')", yes},
      {"selected(${crops}, '')", no},
      {"selected(${empty}, 'maize')", no},
      {"selected(${crop}, 'beans')", yes},
      {"selected('a b', 'a b')", no},
      {"not(selected(${crops}, 'rice'))", yes},
      {"count-selected(${crops})", num(3)},
      {"count-selected(${empty})", num(0)},
      {"count-selected('  a   ')", num(1)},
      {"jr:choice-name(${crop}, '${crop}')", str("Beans (dry)")},
      {"jr:choice-name('maize', '${crops}')", str("Maize")},
      {"jr:choice-name('rice', '${crop}')", str("")},
      {"jr:choice-name(${empty}, '${crop}')", str("")},
      // Strings
      {"concat('a', 'b', 'c')", str("abc")},
      {"concat(${name}, ' (', ${age}, ')')", str("Amina (34)")},
      {"concat(1, true(), 2.5)", str("1true2.5")},
      {"concat('x')", str("x")},
      {"string-length('héllo')", num(5)},
      {"string-length('')", num(0)},
      {"string-length(.)", num(2)},
      {"string-length()", num(2)},
      {"contains('household', 'hold')", yes},
      {"contains('abc', '')", yes},
      {"contains(${empty}, 'a')", no},
      {"starts-with(${phone}, '+254')", yes},
      {"starts-with('abc', 'b')", no},
      {"substr('abcdef', 2)", str("cdef")},
      {"substr('abcdef', 1, 3)", str("bc")},
      {"substr('abcdef', 4, 100)", str("ef")},
      {"substr('abcdef', -2, 2)", str("ab")},
      {"substr('abcdef', 3, 1)", str("")},
      {"substr('àéîõü', 1, 3)", str("éî")},
      {"substr('abc', 0 div 0)", str("abc")},
      {"coalesce(${empty}, 'none')", str("none")},
      {"coalesce(${name}, 'none')", str("Amina")},
      {"coalesce(${empty}, ${empty})", str("")},
      {"coalesce(0, 5)", num(0)},
      {".", str("42")},
      {". > 40", yes},
      {". + 1", num(43)},
      {"concat(., '!')", str("42!")},
      // Number functions
      {"int(3.7)", num(3)},
      {"int(-3.7)", num(-3)},
      {"int('12abc')", num(nan)},
      {"int(${empty})", num(nan)},
      {"number('12')", num(12)},
      {"number(' 12.50 ')", num(12.5)},
      {"number('')", num(nan)},
      {"number(true())", num(1)},
      {"number()", num(42)},
      {"round(2.5)", num(3)},
      {"round(-2.5)", num(-3)},
      {"round(2.4)", num(2)},
      {"round(1.005, 2)", num(1.01)},
      {"round(3.14159, 3)", num(3.142)},
      {"round(1234.5678, -2)", num(1200)},
      {"round(9.995, 2)", num(10)},
      {"round(-0.45, 1)", num(-0.5)},
      {"round(1.2, 5)", num(1.2)},
      {"round(${empty}, 1)", num(nan)},
      {"round(2, ${empty})", num(nan)},
      {"round(1 div 0, 2)", num(infinity)},
      // Dates: text answers, days since 1970-01-01 in arithmetic
      {"today()", str("2024-05-01")},
      {"now()", str("2024-05-01T13:20:30.250+03:00")},
      {"today() - ${dob}", num(12466)},
      {"int((today() - ${dob}) div 365.25)", num(34)},
      {"${dob} < today()", yes},
      {"${dob} < '2000-01-01'", yes},
      {"${visit_date} = today()", yes},
      {"${visit_date} >= '2024-05-01'", yes},
      {"${visit_date} - 1 = number('2024-04-30')", yes},
      {"number('2024-05-01')", num(19844)},
      {"number('2024-02-29')", num(19782)},
      {"number('2024-02-30')", num(nan)},
      {"number('2023-13-01')", num(nan)},
      {"number('1970-01-01')", num(0)},
      {"number('1969-12-31')", num(-1)},
      {"number('2024-05-01T12:00:00Z')", num(19844.5)},
      {"number('12:00')", num(0.5)},
      {"number('24:00')", num(nan)},
      {"${started} > ${visit_date}", yes},
      {"today() > ${started}", no},  // midnight is before half past eight
      {"int(${started})", num(19844)},
      {"${end_time} > ${start_time}", yes},
      {"(${end_time} - ${start_time}) * 24", num(8.75)},
      // Repeats: all instances from outside, the same instance from inside
      {"count(${member_name})", num(3)},
      {"concat(${member_name})", str("AminaBarakaChausiku")},
      {"concat('Members: ', ${member_name})", str("Members: AminaBarakaChausiku")},
      {"sum(${member_age})", num(nan)},  // one is unanswered
      {"max(${member_age})", num(nan)},
      {"sum(${visit_cost})", num(35)},
      {"max(${visit_cost})", num(20)},
      {"min(${visit_cost})", num(5)},
      {"min(${visit_cost}, 2)", num(2)},
      {"max(1, 7, 3)", num(7)},
      {"count(${name})", num(1)},
      {"sum(${age})", num(34)},
      {"position(..)", num(1)},
      {"${member_name}", str("Baraka"), {1}},
      {"${member_age} < 18", yes, {1}},
      {"position(..)", num(3), {2}},
      {"concat(${name}, '/', ${member_name})", str("Amina/Amina"), {0}},
      {"sum(${visit_cost})", num(30), {0}},
      {"count(${visit_cost})", num(0), {2}},
      {"sum(${visit_cost})", num(0), {2}},
      {"max(${visit_cost})", num(nan), {2}},
      {"${visit_cost} > 1", yes, {1}},    // one instance is one value
      {"${visit_cost} = ''", yes, {2}},   // no instance is unanswered
      {"${member_name}", str("Baraka"), {1, 0}},
      {"${visit_cost} * 2", num(40), {0, 1}},
      {"position(..)", num(2), {0, 1}},
      {"${member_name} = 'x'", evaluation_error(0, "${member_name} has 3 answers here")},
      {"1 + ${member_age}", evaluation_error(4, "combine them with sum()")},
      {"${visit_cost}", evaluation_error(0, "has 2 answers"), {0}},
      // Regular expressions: a search, linear time
      {"regex('0712345678', '^0[0-9]{9}$')", yes},
      {"regex('071234567', '^0[0-9]{9}$')", no},
      {R"(regex(${phone}, '^\+254[0-9]{9}$'))", yes},
      {"regex('abc', 'b')", yes},
      {"regex('abc', '^b')", no},
      {"regex('', '^$')", yes},
      {"regex(${empty}, '^[0-9]+$')", no},
      {"regex('Nairobi', '^[A-Z][a-z]+$')", yes},
      {"regex('nairobi', '^[A-Z]')", no},
      {"regex('héllo', '^h.llo$')", yes},
      {"regex('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!', '^(a+)+$')", no},
      {R"(regex('ab12', '^\w+$'))", yes},
      {R"(regex('ab 12', '^\w+$'))", no},
      {R"(regex('ab 12', '\s'))", yes},
      {R"(regex('2024-05-01', '^\d{4}-\d{2}-\d{2}$'))", yes},
      {"regex('cat', '^(cat|dog)$')", yes},
      {"regex('cow', '^(cat|dog)$')", no},
      {"regex('colour', '^colou?r$')", yes},
      {"regex('aaa', '^a{2,3}$')", yes},
      {"regex('aaaa', '^a{2,3}$')", no},
      {"regex('aaaaaa', '^a{2,}$')", yes},
      {R"(regex('x-y', '^[a-z\-]+$'))", yes},
      {"regex('A1', '^[^0-9]+$')", no},
      {R"(regex('one two', '\btwo\b'))", yes},
      {R"(regex('onetwo', '\btwo\b'))", no},
      {R"(regex('ثلاثة', '^[\u0600-\u06FF]+$'))", yes},
      {"regex('ababc', '^(?:ab)+c$')", yes},
      {R"(regex('a.c', '^a\.c$'))", yes},
      {R"(regex('abc', '^a\.c$'))", no},
      {"regex('abc', concat('^', 'a'))", yes},
      {"regex(${name}, concat('[', 'a'))", evaluation_error(15, "pattern computed here is not valid")},
      // Malformed expressions
      {"", parse_error(0, "empty expression")},
      {"   ", parse_error(0, "empty expression")},
      {"(1 + 2", parse_error(6, "expected ')' but found the end of the expression")},
      {"1 +", parse_error(3, "expected a value but found the end of the expression")},
      {"1 2", parse_error(2, "expected an operator or the end of the expression but found the number 2")},
      {"1 + 2)", parse_error(5, "unmatched ')'")},
      {"1.2.3", parse_error(3, "found the number .3")},
      {"5abc", parse_error(1, "found 'abc'")},
      {"foo(1)", parse_error(0, "unknown function 'foo'")},
      {"1 + bar()", parse_error(4, "unknown function 'bar'")},
      {"x:y(1)", parse_error(0, "unknown function 'x:y'")},
      {"age > 5", parse_error(0, "unknown name 'age'; refer to questions as ${age}")},
      {"not 1", parse_error(0, "unknown name 'not'")},
      {"substr('a')", parse_error(0, "wrong number of arguments to substr: got 1, expects 2 or 3")},
      {"if(1, 2)", parse_error(0, "wrong number of arguments to if: got 2, expects 3")},
      {"today(1)", parse_error(0, "wrong number of arguments to today: got 1, expects 0")},
      {"concat()", parse_error(0, "wrong number of arguments to concat: got 0, expects at least 1")},
      {"1 + round(1, 2, 3)", parse_error(4, "wrong number of arguments to round: got 3, expects 1 or 2")},
      {"jr:choice-name(${crop})", parse_error(0, "wrong number of arguments to jr:choice-name")},
      {"'abc", parse_error(0, "unterminated string")},
      {R"(concat("a', 'b'))", parse_error(7, "unterminated string: no closing \"")},
      {"${age", parse_error(5, "expected '}' to close the reference opened at position 0")},
      {"${}", parse_error(2, "expected a question name after '${'")},
      {"$age", parse_error(1, "expected '{' after '$'")},
      {"${a b}", parse_error(3, "expected '}'")},
      {"1 + * 2", parse_error(4, "expected a value but found '*'")},
      {"(", parse_error(1, "expected a value but found the end of the expression")},
      {"()", parse_error(1, "expected a value but found ')'")},
      {"concat('a' 'b')", parse_error(11, "expected ',' or ')' but found the string 'b'")},
      {"concat('a',)", parse_error(11, "expected a value but found ')'")},
      {"${a} == 1", parse_error(6, "expected a value but found '='")},
      {"and", parse_error(0, "expected a value but found 'and'")},
      {"1 and", parse_error(5, "expected a value but found the end of the expression")},
      {"div", parse_error(0, "expected a value but found 'div'")},
      {"1 && 2", parse_error(2, "unexpected character '&'; write 'and'")},
      {"10 / 2", parse_error(3, "write 'div'")},
      {"1 !2", parse_error(2, "write != or not()")},
      {"‘yes’", parse_error(0, "typographic quote")},
      {"${age} > ‘5’", parse_error(9, "typographic quote")},  // positions count characters
      {"'é' = x", parse_error(6, "unknown name 'x'")},
      {"sum(1)", parse_error(4, "sum() takes a question reference such as ${name}")},
      {"count('a')", parse_error(6, "count() takes a question reference")},
      {"position()", parse_error(9, "position() takes '..'")},
      {"position(.)", parse_error(9, "position() takes '..'")},
      {"..", parse_error(0, "'..' is only allowed as position(..)")},
      {"jr:choice-name(${crop}, 'crop')", parse_error(24, "quoted reference such as '${name}'")},
      {"jr:choice-name(${crop}, ${crop})", parse_error(24, "quoted reference such as '${name}'")},
      {"regex(., '[a-')", parse_error(10, "invalid regular expression: unterminated character class")},
      {"regex(., '(ab')", parse_error(13, "invalid regular expression: missing ')'")},
      {"regex(., 'a**')", parse_error(12, "nothing to repeat before '*'")},
      {"regex(., '(?=a)')", parse_error(10, "look-around")},
      {R"(regex(., '(a)\1'))", parse_error(13, "back-references")},
      {"regex(., 'é{2,1}')", parse_error(11, "maximum below its minimum")},
      {"regex(., 'a{1001}')", parse_error(15, "repeat count above 1000")},
      {"regex(., '(a{1000}){20}')", parse_error(10, "pattern is too large")},
      // Limits: nesting depth and length
      {nested("(", max_nesting_depth, "1", ")"), num(1)},
      {nested("(", max_nesting_depth + 1, "1", ")"), parse_error(64, "nests deeper than 64 levels")},
      {nested("not(", max_nesting_depth + 1, "1", ")"), parse_error(256, "nests deeper than 64 levels")},
      {nested("-", max_nesting_depth + 1, "1", ""), parse_error(64, "nests deeper than 64 levels")},
      {"1" + nested(" + (1", 100, "", ")"), parse_error(4 + 5 * 64, "nests deeper")},
      {"1" + nested(" + 1", 2000, "", ""), num(2001)},  // long, but flat
      {std::string(max_expression_length + 1, '1'), parse_error(max_expression_length, "16385 bytes long")},
  };
  return table;
}

std::string describe(const Value& value) {
  static const char* const kinds[] = {"string", "number", "boolean"};
  return std::string(kinds[static_cast<int>(value.kind())]) + " " + value.as_string();
}

}  // namespace

TEST_CASE("expressions: the table of values and errors") {
  TestForm form;
  for (const Row& row : rows()) {
    CAPTURE(row.expression);
    form.move_to(row.at);
    const Expected& expected = row.expected;
    switch (expected.outcome) {
      case Expected::Outcome::value:
        CHECK(describe(evaluate(parse_expression(row.expression), form)) == describe(expected.value));
        break;
      case Expected::Outcome::parse_error:
        try {
          parse_expression(row.expression);
          FAIL_CHECK("parsed without an error");
        } catch (const ExpressionError& error) {
          CAPTURE(error.what());
          CHECK(error.position() == expected.position);
          CHECK(error.reason().find(expected.reason) != std::string::npos);
        }
        break;
      case Expected::Outcome::evaluation_error: {
        const Expression expression = parse_expression(row.expression);
        try {
          evaluate(expression, form);
          FAIL_CHECK("evaluated without an error");
        } catch (const EvaluationError& error) {
          CAPTURE(error.what());
          CHECK(error.position() == expected.position);
          CHECK(error.reason().find(expected.reason) != std::string::npos);
        }
        break;
      }
    }
  }
  CHECK(rows().size() >= 150);
}

TEST_CASE("expressions: references are listed once, in order, with single-value uses apart") {
  const Expression expression = parse_expression(
      "if(${age} > 18, sum(${member_age}) + ${age}, count(${member_name})) + "
      "string-length(jr:choice-name(${crop}, '${crops}')) + max(${visit_cost}, ${member_age})");
  CHECK(expression.references() ==
        std::vector<std::string>{"age", "member_age", "member_name", "crop", "crops", "visit_cost"});
  CHECK(expression.single_value_references() == std::vector<std::string>{"age", "crop"});
  CHECK(parse_expression("1 + 2").references().empty());
}

TEST_CASE("expressions: a parsed expression is shared by its copies and keeps its text") {
  const Expression original = parse_expression("${age} + 1");
  const Expression copy = original;  // NOLINT(performance-unnecessary-copy-initialization)
  CHECK(&copy.references() == &original.references());
  CHECK(copy.text() == "${age} + 1");
  TestForm form;
  CHECK(evaluate(copy, form).as_number() == 35);
}

TEST_CASE("expressions: a parse error's message ends with its position") {
  try {
    parse_expression("concat('a', ");
    FAIL("parsed");
  } catch (const ExpressionError& error) {
    CHECK(std::string(error.what()) == "expected a value but found the end of the expression at position 12");
  }
}

TEST_CASE("expressions: a choice filter reads the choice's columns by bare name; elsewhere a bare name is an error") {
  TestForm form;
  CHECK(evaluate(parse_choice_filter("region = 'north' and name != ${crop}"), form).as_boolean());
  CHECK_FALSE(evaluate(parse_choice_filter("district = 'north'"), form).as_boolean());
  CHECK(parse_choice_filter("region = ${crop}").references() == std::vector<std::string>{"crop"});
  CHECK_THROWS_WITH_AS(parse_expression("region = 'north'"),
                       "unknown name 'region'; refer to questions as ${region} at position 0", ExpressionError);
}

TEST_CASE("expressions: today() and now() follow the device's time zone across midnight") {
  TestForm form;
  const Expression today = parse_expression("today()");
  const Expression now = parse_expression("now()");
  form.set_clock({1714516200000, 180});  // 2024-04-30T22:30:00Z is already May in Nairobi
  CHECK(evaluate(today, form).as_string() == "2024-05-01");
  CHECK(evaluate(now, form).as_string() == "2024-05-01T01:30:00.000+03:00");
  form.set_clock({1714516200000, -300});  // and still April in Bogotá
  CHECK(evaluate(today, form).as_string() == "2024-04-30");
  CHECK(evaluate(now, form).as_string() == "2024-04-30T17:30:00.000-05:00");
  form.set_clock({-1, 0});  // just before the epoch
  CHECK(evaluate(now, form).as_string() == "1969-12-31T23:59:59.999+00:00");
}

TEST_CASE("expressions: a reference the form lacks reaches the caller as the context's error") {
  TestForm form;
  CHECK_THROWS_WITH_AS(evaluate(parse_expression("${nowhere} = 1"), form), "no question named nowhere",
                       std::invalid_argument);
}

TEST_CASE("regex: long answers and pathological patterns stay linear and shallow") {
  const std::string long_answer(200'000, 'a');
  CHECK(Regex("(a|b)*$").search(long_answer));
  CHECK(Regex("^[a-z]+$").search(long_answer));
  CHECK_FALSE(Regex("^(a+)+$").search(long_answer + "!"));
  CHECK_FALSE(Regex("^(a|aa)*b").search(long_answer));
  CHECK(Regex("(x*)*").search(""));  // an empty loop terminates
}

// Random patterns from a small grammar against std::regex (ECMAScript) on short subjects, where
// its backtracking is harmless: the two must agree on every pair.
TEST_CASE("regex: agrees with std::regex on random small patterns") {
  std::mt19937 random(20240501);
  const auto pick = [&](int count) { return std::uniform_int_distribution<int>(0, count - 1)(random); };
  const auto quantifier = [&]() -> std::string {
    static const char* const quantifiers[] = {"*", "+", "?", "{2}", "{0,2}", "{1,}", "*?", ""};
    return quantifiers[pick(8)];
  };
  std::function<std::string(int)> pattern = [&](int depth) -> std::string {
    static const char* const atoms[] = {"a", "b", ".", "[ab]", "[^a]", "[a-c]", "\\w", "\\W", "^", "$", "\\b", "\\B"};
    switch (pick(depth > 3 ? 2 : 5)) {
      case 0: return atoms[pick(8)] + quantifier();
      case 1: return atoms[pick(12)];
      case 2: return pattern(depth + 1) + pattern(depth + 1);
      case 3: return "(" + pattern(depth + 1) + "|" + pattern(depth + 1) + ")";
      default: return "(?:" + pattern(depth + 1) + ")" + quantifier();
    }
  };
  std::vector<std::string> subjects = {""};
  for (int i = 0; i < 30; ++i) {
    std::string subject;
    for (int length = pick(7); length > 0; --length) subject += " abc-"[pick(5)];
    subjects.push_back(subject);
  }
  size_t matches = 0, comparisons = 0;
  for (int i = 0; i < 2000; ++i) {
    const std::string source = pattern(0);
    CAPTURE(source);
    const Regex ours(source);
    const std::regex reference(source, std::regex::ECMAScript);
    for (const std::string& subject : subjects) {
      CAPTURE(subject);
      const bool matched = ours.search(subject);
      REQUIRE(matched == std::regex_search(subject, reference));
      matches += matched, ++comparisons;
    }
  }
  CHECK(matches > comparisons / 10);  // the patterns are neither trivial nor hopeless
  CHECK(matches < comparisons * 9 / 10);
}

TEST_CASE("regex: errors name the character position in the pattern") {
  try {
    Regex("ab[c");
    FAIL("compiled");
  } catch (const RegexError& error) {
    CHECK(error.position() == 2);
    CHECK(std::string(error.what()) == "unterminated character class at position 2");
  }
  CHECK_THROWS_WITH_AS(Regex("é)"), "unmatched ')' at position 1", RegexError);
  CHECK_THROWS_WITH_AS(Regex("\\p{L}"), "unsupported escape '\\p' at position 0", RegexError);
  CHECK_THROWS_WITH_AS(Regex("[a&&b]"), doctest::Contains("'&&'"), RegexError);
  CHECK_THROWS_WITH_AS(Regex("[]"), doctest::Contains("empty character class"), RegexError);
  CHECK_THROWS_WITH_AS(Regex("^*"), doctest::Contains("nothing to repeat"), RegexError);
  CHECK_THROWS_WITH_AS(Regex(std::string(70, '(') + std::string(70, ')')), doctest::Contains("deeper than 64"),
                       RegexError);
}

TEST_CASE("values: XPath conversions at the edges") {
  CHECK_FALSE(Value().as_boolean());
  CHECK(Value().as_string().empty());
  CHECK(Value::string("false").as_boolean());
  CHECK(Value::boolean(true).as_string() == "true");
  CHECK(Value::boolean(false).as_number() == 0);
  CHECK_FALSE(Value::number(std::nan("")).as_boolean());
  CHECK(string_to_number("-.5") == -0.5);
  CHECK(std::isnan(string_to_number("-")));
  CHECK(std::isnan(string_to_number(".")));
  CHECK(std::isnan(string_to_number("1,5")));
  CHECK(string_to_number(std::string(400, '9')) == std::numeric_limits<double>::infinity());
  CHECK(string_to_number("-" + std::string(400, '9')) == -std::numeric_limits<double>::infinity());
  CHECK(string_to_number("0." + std::string(400, '0') + "1") == 0);
  CHECK(number_to_string(5e-324).size() == 326);
  CHECK(number_to_string(1.7976931348623157e308).size() == 309);
}

TEST_CASE("calendar: day counts and dates convert both ways") {
  for (int64_t day = -800'000; day <= 800'000; day += 997) {
    const std::string date = format_date(day);
    CAPTURE(date);
    if (day >= days_from_civil(0, 1, 1) && day <= days_from_civil(9999, 12, 31)) CHECK(days_from_text(date) == day);
  }
  CHECK(format_date(0) == "1970-01-01");
  CHECK(format_date(19782) == "2024-02-29");
  CHECK(days_from_text("2000-02-29") == 11016);
  CHECK_FALSE(days_from_text("1900-02-29"));
  CHECK_FALSE(days_from_text("2024-05-01T25:00"));
  CHECK_FALSE(days_from_text("2024-05-01 12:00"));
  CHECK_FALSE(days_from_text("12:00+0"));
  CHECK(days_from_text("12:00:00.5+0530") == doctest::Approx((12 * 3600 + 0.5) / 86400.0));
  CHECK(local_day(-1, 0) == -1);
}
