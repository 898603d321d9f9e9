#include "forms/expression.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "forms/calendar.h"
#include "forms/regex.h"
#include "forms/text.h"

namespace outpost::forms {

// --- The parsed tree

namespace detail {

enum class Function : uint8_t {
  if_, selected, count_selected, string_length, regex, concat, coalesce, contains, starts_with, substr, today, now,
  int_, number, round, sum, count, min, max, position, choice_name, not_, true_, false_,
};

enum class Operator : uint8_t {
  or_, and_, equal, not_equal, less, less_equal, greater, greater_equal, plus, minus, times, div, mod,
};

enum class NodeKind : uint8_t { literal, reference, column, current, negate, chain, call };

struct Node {
  NodeKind kind;
  size_t offset;  // byte offset in the text where the node starts, for error positions
  Value literal;
  std::string name;           // reference: the question; column: the choices' column; jr:choice-name: the select question
  bool single_value = true;   // reference: false when a sum/count/min/max/concat argument
  Function function{};        // call
  std::vector<Node> operands; // negate: one; chain: two or more; call: the arguments
  std::vector<Operator> operators;  // chain: operators[i] joins operands[i] and operands[i + 1]
  std::optional<Regex> pattern;     // regex() with a literal pattern, compiled when parsing

  Node(NodeKind node_kind, size_t node_offset) : kind(node_kind), offset(node_offset) {}
};

struct Program {
  std::string text;
  Node root{NodeKind::literal, 0};
  std::vector<std::string> references;
  std::vector<std::string> single_value_references;
};

}  // namespace detail

using detail::Function;
using detail::Node;
using detail::NodeKind;
using detail::Operator;

namespace {

constexpr size_t any_number = std::numeric_limits<size_t>::max();

struct FunctionSpec {
  std::string_view name;
  Function function;
  size_t min_arguments;
  size_t max_arguments;
};

constexpr FunctionSpec function_specs[] = {
    {"if", Function::if_, 3, 3},
    {"selected", Function::selected, 2, 2},
    {"count-selected", Function::count_selected, 1, 1},
    {"string-length", Function::string_length, 0, 1},
    {"regex", Function::regex, 2, 2},
    {"concat", Function::concat, 1, any_number},
    {"coalesce", Function::coalesce, 2, 2},
    {"contains", Function::contains, 2, 2},
    {"starts-with", Function::starts_with, 2, 2},
    {"substr", Function::substr, 2, 3},
    {"today", Function::today, 0, 0},
    {"now", Function::now, 0, 0},
    {"int", Function::int_, 1, 1},
    {"number", Function::number, 0, 1},
    {"round", Function::round, 1, 2},
    {"sum", Function::sum, 1, 1},
    {"count", Function::count, 1, 1},
    {"min", Function::min, 1, any_number},
    {"max", Function::max, 1, any_number},
    {"position", Function::position, 1, 1},
    {"jr:choice-name", Function::choice_name, 2, 2},
    {"not", Function::not_, 1, 1},
    {"true", Function::true_, 0, 0},
    {"false", Function::false_, 0, 0},
};

const FunctionSpec* find_function(std::string_view name) {
  for (const FunctionSpec& spec : function_specs)
    if (spec.name == name) return &spec;
  return nullptr;
}

// Functions that take every answer of a repeated question rather than one value.
bool expands_references(Function function) {
  return function == Function::sum || function == Function::count || function == Function::min ||
         function == Function::max || function == Function::concat;
}

std::string describe_arity(const FunctionSpec& spec) {
  if (spec.max_arguments == any_number) return "at least " + std::to_string(spec.min_arguments);
  if (spec.min_arguments == spec.max_arguments) return std::to_string(spec.min_arguments);
  return std::to_string(spec.min_arguments) + (spec.max_arguments == spec.min_arguments + 1 ? " or " : " to ") +
         std::to_string(spec.max_arguments);
}

[[noreturn]] void fail(std::string_view text, size_t offset, const std::string& reason) {
  throw ExpressionError(reason, utf8::length(text.substr(0, offset)));
}

// --- Tokens

enum class TokenKind {
  end, number, string, reference, dot, dot_dot, name, left_paren, right_paren, comma,
  equal, not_equal, less, less_equal, greater, greater_equal, plus, minus, star,
};

struct Token {
  TokenKind kind = TokenKind::end;
  size_t offset = 0;         // bytes into the text
  std::string_view source;   // the token as written
  std::string_view content;  // a string's characters, a reference's question name
};

bool is_ascii_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_non_ascii(char c) { return static_cast<unsigned char>(c) >= 0x80; }

// XML names, as XLSForm question names must be.
bool is_question_name_start(char c) { return is_ascii_letter(c) || c == '_' || is_non_ascii(c); }
bool is_question_name_char(char c) { return is_question_name_start(c) || is_ascii_digit(c) || c == '-' || c == '.'; }

bool is_question_name(std::string_view name) {
  return !name.empty() && is_question_name_start(name[0]) &&
         std::all_of(name.begin(), name.end(), is_question_name_char);
}

// Function and operator names: ASCII, with one optional prefix ("jr:").
bool is_function_name_char(char c) { return is_ascii_letter(c) || is_ascii_digit(c) || c == '_' || c == '-' || c == '.'; }

// A hint for characters people bring from spreadsheets and other languages.
std::string unexpected_character_reason(char32_t character) {
  std::string shown;
  utf8::append(shown, character);
  std::string reason = "unexpected character '" + shown + "'";
  switch (character) {
    case '&': return reason + "; write 'and'";
    case '|': return reason + "; write 'or'";
    case '/': return reason + "; write 'div' to divide (paths are not supported: refer to questions as ${name})";
    case '%': return reason + "; write 'mod'";
    case '!': return reason + "; write != or not()";
    case '[': return reason + "; predicates are not supported";
    case 0x2018: case 0x2019: case 0x201C: case 0x201D:
      return "typographic quote " + shown + "; write strings between plain ' or \" quotes";
    default: return reason;
  }
}

class Tokenizer {
 public:
  explicit Tokenizer(std::string_view text) : text_(text) {}

  Token next() {
    skip_space();
    const size_t start = offset_;
    if (start == text_.size()) return {TokenKind::end, start, {}, {}};
    const char c = text_[start];
    if (c == '\'' || c == '"') return string_literal(start);
    if (c == '$') return reference(start);
    if (is_ascii_digit(c) || (c == '.' && peek(1) && is_ascii_digit(*peek(1)))) return number(start);
    if (c == '.' && peek(1) == '.') return make(TokenKind::dot_dot, start, 2);
    if (c == '.') return make(TokenKind::dot, start, 1);
    if (is_ascii_letter(c) || c == '_') return name(start);
    switch (c) {
      case '(': return make(TokenKind::left_paren, start, 1);
      case ')': return make(TokenKind::right_paren, start, 1);
      case ',': return make(TokenKind::comma, start, 1);
      case '=': return make(TokenKind::equal, start, 1);
      case '+': return make(TokenKind::plus, start, 1);
      case '-': return make(TokenKind::minus, start, 1);
      case '*': return make(TokenKind::star, start, 1);
      case '<': return peek(1) == '=' ? make(TokenKind::less_equal, start, 2) : make(TokenKind::less, start, 1);
      case '>': return peek(1) == '=' ? make(TokenKind::greater_equal, start, 2) : make(TokenKind::greater, start, 1);
      case '!':
        if (peek(1) == '=') return make(TokenKind::not_equal, start, 2);
        break;
      default:
        break;
    }
    size_t after = start;
    fail(text_, start, unexpected_character_reason(utf8::next(text_, after)));
  }

 private:
  std::optional<char> peek(size_t ahead) const {
    return offset_ + ahead < text_.size() ? std::optional<char>(text_[offset_ + ahead]) : std::nullopt;
  }

  void skip_space() {
    while (offset_ < text_.size()) {
      const char c = text_[offset_];
      if (is_xml_space(c)) {
        ++offset_;
      } else if (c == '\xC2' && peek(1) == '\xA0') {  // a no-break space, as spreadsheets insert
        offset_ += 2;
      } else {
        return;
      }
    }
  }

  Token make(TokenKind kind, size_t start, size_t length, std::string_view content = {}) {
    offset_ = start + length;
    return {kind, start, text_.substr(start, length), content};
  }

  Token string_literal(size_t start) {
    const size_t close = text_.find(text_[start], start + 1);
    if (close == std::string_view::npos)
      fail(text_, start, std::string("unterminated string: no closing ") + text_[start] + " for the quote");
    return make(TokenKind::string, start, close + 1 - start, text_.substr(start + 1, close - start - 1));
  }

  Token reference(size_t start) {
    if (peek(1) != '{') fail(text_, start + 1, "expected '{' after '$': refer to questions as ${name}");
    size_t end = start + 2;
    if (end >= text_.size() || !is_question_name_start(text_[end]))
      fail(text_, end, "expected a question name after '${'");
    while (end < text_.size() && is_question_name_char(text_[end])) ++end;
    if (end >= text_.size() || text_[end] != '}')
      fail(text_, end, "expected '}' to close the reference opened at position " +
                           std::to_string(utf8::length(text_.substr(0, start))));
    return make(TokenKind::reference, start, end + 1 - start, text_.substr(start + 2, end - start - 2));
  }

  Token number(size_t start) {
    size_t end = start;
    while (end < text_.size() && is_ascii_digit(text_[end])) ++end;
    if (end < text_.size() && text_[end] == '.')
      for (++end; end < text_.size() && is_ascii_digit(text_[end]);) ++end;
    return make(TokenKind::number, start, end - start);
  }

  Token name(size_t start) {
    size_t end = start;
    while (end < text_.size() && is_function_name_char(text_[end])) ++end;
    if (end + 1 < text_.size() && text_[end] == ':' && is_ascii_letter(text_[end + 1]))
      for (++end; end < text_.size() && is_function_name_char(text_[end]);) ++end;
    return make(TokenKind::name, start, end - start);
  }

  std::string_view text_;
  size_t offset_ = 0;
};

std::string describe(const Token& token) {
  constexpr size_t longest_shown = 30;  // characters
  std::string shown(token.source.substr(0, utf8::offset_of(token.source, longest_shown)));
  if (shown.size() < token.source.size()) shown += "...";
  switch (token.kind) {
    case TokenKind::end: return "the end of the expression";
    case TokenKind::string: return "the string " + shown;
    case TokenKind::number: return "the number " + shown;
    default: return "'" + shown + "'";
  }
}

bool is_keyword(const Token& token) {
  return token.kind == TokenKind::name &&
         (token.source == "and" || token.source == "or" || token.source == "div" || token.source == "mod");
}

// --- Parsing

constexpr int binary_levels = 6;  // or, and, equality, relation, sum, product

// The operator `token` is at precedence `level` (the grammar in expression.h), if any.
std::optional<Operator> binary_operator(const Token& token, int level) {
  switch (level) {
    case 0:
      if (token.kind == TokenKind::name && token.source == "or") return Operator::or_;
      break;
    case 1:
      if (token.kind == TokenKind::name && token.source == "and") return Operator::and_;
      break;
    case 2:
      if (token.kind == TokenKind::equal) return Operator::equal;
      if (token.kind == TokenKind::not_equal) return Operator::not_equal;
      break;
    case 3:
      if (token.kind == TokenKind::less) return Operator::less;
      if (token.kind == TokenKind::less_equal) return Operator::less_equal;
      if (token.kind == TokenKind::greater) return Operator::greater;
      if (token.kind == TokenKind::greater_equal) return Operator::greater_equal;
      break;
    case 4:
      if (token.kind == TokenKind::plus) return Operator::plus;
      if (token.kind == TokenKind::minus) return Operator::minus;
      break;
    default:
      if (token.kind == TokenKind::star) return Operator::times;
      if (token.kind == TokenKind::name && token.source == "div") return Operator::div;
      if (token.kind == TokenKind::name && token.source == "mod") return Operator::mod;
      break;
  }
  return std::nullopt;
}

// Whether a bare name (not followed by '(') is an error or a choice's column (in choice filters).
enum class NameRule { functions_only, choice_columns };

class Parser {
 public:
  Parser(std::string_view text, NameRule names) : text_(text), tokens_(text), names_(names) { advance(); }

  Node parse() {
    if (current_.kind == TokenKind::end) fail(text_, 0, "empty expression");
    Node root = binary(0);
    if (current_.kind == TokenKind::right_paren) fail(text_, current_.offset, "unmatched ')'");
    if (current_.kind != TokenKind::end)
      fail(text_, current_.offset, "expected an operator or the end of the expression but found " + describe(current_));
    return root;
  }

 private:
  // Counts one level of nesting for as long as it lives; parsing recurses only through these.
  class Nesting {
   public:
    Nesting(Parser& parser, size_t offset) : parser_(parser) {
      if (++parser_.depth_ > max_nesting_depth)
        fail(parser_.text_, offset, "expression nests deeper than " + std::to_string(max_nesting_depth) + " levels");
    }
    ~Nesting() { --parser_.depth_; }
    Nesting(const Nesting&) = delete;
    Nesting& operator=(const Nesting&) = delete;

   private:
    Parser& parser_;
  };

  void advance() { current_ = tokens_.next(); }

  void expect(TokenKind kind, std::string_view what) {
    if (current_.kind != kind)
      fail(text_, current_.offset, "expected " + std::string(what) + " but found " + describe(current_));
    advance();
  }

  Node binary(int level) {
    if (level == binary_levels) return unary();
    Node first = binary(level + 1);
    std::optional<Operator> next_operator = binary_operator(current_, level);
    if (!next_operator) return first;
    Node chain(NodeKind::chain, first.offset);
    chain.operands.push_back(std::move(first));
    while (next_operator) {
      chain.operators.push_back(*next_operator);
      advance();
      chain.operands.push_back(binary(level + 1));
      next_operator = binary_operator(current_, level);
    }
    return chain;
  }

  Node unary() {
    if (current_.kind != TokenKind::minus) return primary();
    Node negate(NodeKind::negate, current_.offset);
    const Nesting nesting(*this, current_.offset);
    advance();
    negate.operands.push_back(unary());
    return negate;
  }

  Node primary() {
    const Token token = current_;
    switch (token.kind) {
      case TokenKind::number: {
        Node literal(NodeKind::literal, token.offset);
        literal.literal = Value::number(string_to_number(token.source));
        advance();
        return literal;
      }
      case TokenKind::string: {
        Node literal(NodeKind::literal, token.offset);
        literal.literal = Value::string(std::string(token.content));
        advance();
        return literal;
      }
      case TokenKind::reference: {
        Node reference(NodeKind::reference, token.offset);
        reference.name = token.content;
        advance();
        return reference;
      }
      case TokenKind::dot:
        advance();
        return Node(NodeKind::current, token.offset);
      case TokenKind::dot_dot:
        fail(text_, token.offset, "'..' is only allowed as position(..)");
      case TokenKind::left_paren: {
        const Nesting nesting(*this, token.offset);
        advance();
        Node inner = binary(0);
        expect(TokenKind::right_paren, "')'");
        return inner;
      }
      case TokenKind::name:
        if (is_keyword(token)) break;
        advance();
        if (current_.kind != TokenKind::left_paren && names_ == NameRule::choice_columns) {
          Node column(NodeKind::column, token.offset);
          column.name = token.source;
          return column;
        }
        if (current_.kind != TokenKind::left_paren)
          fail(text_, token.offset, "unknown name '" + std::string(token.source) + "'; refer to questions as ${" +
                                        std::string(token.source) + "}");
        return call(token);
      default:
        break;
    }
    fail(text_, token.offset, "expected a value but found " + describe(token));
  }

  // After the function's name, at its '('.
  Node call(const Token& name) {
    const FunctionSpec* spec = find_function(name.source);
    if (!spec) fail(text_, name.offset, "unknown function '" + std::string(name.source) + "'");
    const Nesting nesting(*this, name.offset);
    advance();
    Node node(NodeKind::call, name.offset);
    node.function = spec->function;
    if (spec->function == Function::position) {
      if (current_.kind != TokenKind::dot_dot)
        fail(text_, current_.offset, "position() takes '..', the repeat instance, but found " + describe(current_));
      advance();
      expect(TokenKind::right_paren, "')'");
      return node;
    }
    if (current_.kind != TokenKind::right_paren) {
      node.operands.push_back(binary(0));
      while (current_.kind == TokenKind::comma) {
        advance();
        node.operands.push_back(binary(0));
      }
    }
    expect(TokenKind::right_paren, node.operands.empty() ? "')'" : "',' or ')'");
    const size_t count = node.operands.size();
    if (count < spec->min_arguments || count > spec->max_arguments)
      fail(text_, name.offset, "wrong number of arguments to " + std::string(spec->name) + ": got " +
                                   std::to_string(count) + ", expects " + describe_arity(*spec));
    check_arguments(node, *spec);
    return node;
  }

  void check_arguments(Node& node, const FunctionSpec& spec) {
    switch (node.function) {
      case Function::sum:
      case Function::count:
        if (node.operands[0].kind != NodeKind::reference)
          fail(text_, node.operands[0].offset, std::string(spec.name) + "() takes a question reference such as ${name}");
        break;
      case Function::string_length:
      case Function::number:
        if (node.operands.empty()) node.operands.emplace_back(NodeKind::current, node.offset);  // of '.'
        break;
      case Function::regex:
        compile_literal_pattern(node);
        break;
      case Function::choice_name:
        take_choice_question(node);
        break;
      default:
        break;
    }
    if (expands_references(node.function))
      for (Node& operand : node.operands)
        if (operand.kind == NodeKind::reference) operand.single_value = false;
  }

  static bool is_string_literal(const Node& node) {
    return node.kind == NodeKind::literal && node.literal.kind() == Value::Kind::string;
  }

  void compile_literal_pattern(Node& node) {
    const Node& pattern = node.operands[1];
    if (!is_string_literal(pattern)) return;  // computed while filling
    const std::string source = pattern.literal.as_string();
    try {
      node.pattern.emplace(source);
    } catch (const RegexError& error) {
      const size_t pattern_start = pattern.offset + 1;  // after the quote
      fail(text_, pattern_start + utf8::offset_of(source, error.position()),
           "invalid regular expression: " + error.reason());
    }
  }

  // jr:choice-name(value, '${question}'): the quoted reference names the select question.
  void take_choice_question(Node& node) {
    const Node& question = node.operands[1];
    const std::string quoted = is_string_literal(question) ? question.literal.as_string() : std::string();
    const bool is_quoted_reference = quoted.size() > 3 && quoted.compare(0, 2, "${") == 0 && quoted.back() == '}' &&
                                     is_question_name(std::string_view(quoted).substr(2, quoted.size() - 3));
    if (!is_quoted_reference)
      fail(text_, question.offset, "jr:choice-name() takes the question as a quoted reference such as '${name}'");
    node.name = quoted.substr(2, quoted.size() - 3);
    node.operands.pop_back();
  }

  std::string_view text_;
  Tokenizer tokens_;
  NameRule names_;
  Token current_;
  int depth_ = 0;
};

void add_distinct(std::vector<std::string>& names, const std::string& name) {
  if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
}

// In the order the names are written.
void collect_references(const Node& node, detail::Program& program) {
  if (node.kind == NodeKind::reference) {
    add_distinct(program.references, node.name);
    if (node.single_value) add_distinct(program.single_value_references, node.name);
  }
  for (const Node& operand : node.operands) collect_references(operand, program);
  if (node.kind == NodeKind::call && node.function == Function::choice_name) add_distinct(program.references, node.name);
}

// --- Evaluation

// XPath = and != on single values: as booleans if either is one, else as numbers if either
// is one, else as strings.
bool equal_values(const Value& left, const Value& right) {
  if (left.kind() == Value::Kind::boolean || right.kind() == Value::Kind::boolean)
    return left.as_boolean() == right.as_boolean();
  if (left.kind() == Value::Kind::number || right.kind() == Value::Kind::number)
    return left.as_number() == right.as_number();
  return left.as_string() == right.as_string();
}

// One binary operator on evaluated operands (chains of and/or short-circuit before getting here).
Value apply(Operator op, const Value& left, const Value& right) {
  switch (op) {
    case Operator::equal: return Value::boolean(equal_values(left, right));
    case Operator::not_equal: return Value::boolean(!equal_values(left, right));
    case Operator::less: return Value::boolean(left.as_number() < right.as_number());
    case Operator::less_equal: return Value::boolean(left.as_number() <= right.as_number());
    case Operator::greater: return Value::boolean(left.as_number() > right.as_number());
    case Operator::greater_equal: return Value::boolean(left.as_number() >= right.as_number());
    case Operator::plus: return Value::number(left.as_number() + right.as_number());
    case Operator::minus: return Value::number(left.as_number() - right.as_number());
    case Operator::times: return Value::number(left.as_number() * right.as_number());
    case Operator::div: return Value::number(left.as_number() / right.as_number());
    case Operator::mod: return Value::number(std::fmod(left.as_number(), right.as_number()));
    case Operator::or_: return Value::boolean(left.as_boolean() || right.as_boolean());
    case Operator::and_: break;
  }
  return Value::boolean(left.as_boolean() && right.as_boolean());
}

// A character index from a number, truncated and clamped to [0, length].
size_t clamp_index(double index, size_t length) {
  if (std::isnan(index) || index <= 0) return 0;
  if (index >= static_cast<double>(length)) return length;
  return static_cast<size_t>(index);
}

// Adds one unit in the last place of a decimal numeral ("1.09" to "1.10", "9.9" to "10.0").
std::string increment_decimal(std::string numeral) {
  for (size_t i = numeral.size(); i-- > 0;) {
    if (numeral[i] == '.') continue;
    if (numeral[i] != '9') {
      ++numeral[i];
      return numeral;
    }
    numeral[i] = '0';
  }
  return "1" + numeral;
}

// Rounds the shortest decimal form of `number` (the one people wrote) half away from zero, as
// JavaRosa's BigDecimal does: round(1.005, 2) is 1.01 although the double is a little below.
double round_half_away_from_zero(double number, double digits) {
  if (std::isnan(digits)) return digits;
  if (!std::isfinite(number)) return number;
  digits = std::trunc(std::clamp(digits, -308.0, 400.0));
  if (digits < 0) {
    const double scale = std::pow(10.0, -digits);
    return std::round(number / scale) * scale;
  }
  const auto decimals = static_cast<size_t>(digits);
  char text[400];  // the longest fixed form of a double has 327 characters
  const auto end = std::to_chars(text, text + sizeof text, std::fabs(number), std::chars_format::fixed).ptr;
  const std::string_view numeral(text, static_cast<size_t>(end - text));
  const size_t point = numeral.find('.');
  if (point == std::string_view::npos || numeral.size() - point - 1 <= decimals) return number;
  std::string kept(numeral.substr(0, decimals > 0 ? point + 1 + decimals : point));
  if (numeral[point + 1 + decimals] >= '5') kept = increment_decimal(std::move(kept));
  double rounded = 0;
  std::from_chars(kept.data(), kept.data() + kept.size(), rounded);
  return number < 0 ? -rounded : rounded;
}

class Evaluator {
 public:
  Evaluator(const detail::Program& program, const EvaluationContext& context) : program_(program), context_(context) {}

  Value evaluate(const Node& node) const {
    switch (node.kind) {
      case NodeKind::literal: return node.literal;
      case NodeKind::reference: return single_answer(node);
      case NodeKind::column: return Value::string(context_.choice_column(node.name));
      case NodeKind::current: return Value::string(context_.current_value());
      case NodeKind::negate: return Value::number(-evaluate(node.operands[0]).as_number());
      case NodeKind::chain: return chain(node);
      case NodeKind::call: break;
    }
    return call(node);
  }

 private:
  [[noreturn]] void fail(const Node& node, const std::string& reason) const {
    throw EvaluationError(reason, utf8::length(std::string_view(program_.text).substr(0, node.offset)));
  }

  std::string text(const Node& node) const { return evaluate(node).as_string(); }
  double number(const Node& node) const { return evaluate(node).as_number(); }
  bool truth(const Node& node) const { return evaluate(node).as_boolean(); }

  Value single_answer(const Node& reference) const {
    ReferenceValue answers = context_.resolve(reference.name);
    if (auto* answer = std::get_if<std::string>(&answers)) return Value::string(std::move(*answer));
    auto& all = std::get<std::vector<std::string>>(answers);
    if (all.size() > 1)
      fail(reference, "${" + reference.name + "} has " + std::to_string(all.size()) +
                          " answers here, one per repeat instance; combine them with sum(), count(), min(), max() "
                          "or concat()");
    return Value::string(all.empty() ? std::string() : std::move(all.front()));
  }

  // The values an argument of sum/count/min/max/concat stands for: every answer of a reference.
  std::vector<Value> expand(const Node& argument) const {
    if (argument.kind != NodeKind::reference || argument.single_value) return {evaluate(argument)};
    ReferenceValue answers = context_.resolve(argument.name);
    if (auto* answer = std::get_if<std::string>(&answers)) return {Value::string(std::move(*answer))};
    std::vector<Value> values;
    for (std::string& answer : std::get<std::vector<std::string>>(answers)) values.push_back(Value::string(std::move(answer)));
    return values;
  }

  std::vector<Value> expand_all(const std::vector<Node>& arguments) const {
    std::vector<Value> values;
    for (const Node& argument : arguments) {
      std::vector<Value> expanded = expand(argument);
      values.insert(values.end(), std::make_move_iterator(expanded.begin()), std::make_move_iterator(expanded.end()));
    }
    return values;
  }

  Value chain(const Node& node) const {
    const Operator first = node.operators.front();
    if (first == Operator::or_ || first == Operator::and_) {
      const bool decisive = first == Operator::or_;  // the value that ends an or (true) or an and (false)
      for (const Node& operand : node.operands)
        if (truth(operand) == decisive) return Value::boolean(decisive);
      return Value::boolean(!decisive);
    }
    Value result = evaluate(node.operands[0]);
    for (size_t i = 0; i < node.operators.size(); ++i) result = apply(node.operators[i], result, evaluate(node.operands[i + 1]));
    return result;
  }

  // min() and max(): NaN when there is no value or any value is not a number, as in JavaRosa.
  Value extreme(const Node& node, bool largest) const {
    const std::vector<Value> values = expand_all(node.operands);
    if (values.empty()) return Value::number(std::numeric_limits<double>::quiet_NaN());
    double result = values.front().as_number();
    for (const Value& value : values) {
      const double number = value.as_number();
      if (std::isnan(number)) return Value::number(number);
      result = largest ? std::max(result, number) : std::min(result, number);
    }
    return Value::number(result);
  }

  Value call(const Node& node) const {
    const std::vector<Node>& arguments = node.operands;
    switch (node.function) {
      case Function::if_:
        return evaluate(truth(arguments[0]) ? arguments[1] : arguments[2]);
      case Function::selected: {
        const std::string list = text(arguments[0]);
        const std::string wanted = text(arguments[1]);
        const std::vector<std::string_view> choices = split_on_space(list);
        return Value::boolean(std::find(choices.begin(), choices.end(), trim_space(wanted)) != choices.end());
      }
      case Function::count_selected:
        return Value::number(static_cast<double>(split_on_space(text(arguments[0])).size()));
      case Function::string_length:
        return Value::number(static_cast<double>(utf8::length(text(arguments[0]))));
      case Function::regex:
        return Value::boolean(regex_search(node));
      case Function::concat: {
        std::string joined;
        for (const Value& value : expand_all(arguments)) joined += value.as_string();
        return Value::string(std::move(joined));
      }
      case Function::coalesce: {
        Value first = evaluate(arguments[0]);
        return first.as_string().empty() ? evaluate(arguments[1]) : first;
      }
      case Function::contains:
        return Value::boolean(text(arguments[0]).find(text(arguments[1])) != std::string::npos);
      case Function::starts_with:
        return Value::boolean(text(arguments[0]).rfind(text(arguments[1]), 0) == 0);
      case Function::substr:
        return substr(arguments);
      case Function::today: {
        const LocalTime now = context_.now();
        return Value::string(format_date(local_day(now.epoch_ms, now.utc_offset_minutes)));
      }
      case Function::now: {
        const LocalTime now = context_.now();
        return Value::string(format_date_time(now.epoch_ms, now.utc_offset_minutes));
      }
      case Function::int_:
        return Value::number(std::trunc(number(arguments[0])));
      case Function::number:
        return Value::number(number(arguments[0]));
      case Function::round:
        return Value::number(round_half_away_from_zero(number(arguments[0]), arguments.size() > 1 ? number(arguments[1]) : 0));
      case Function::sum: {
        double total = 0;
        for (const Value& value : expand(arguments[0])) total += value.as_number();
        return Value::number(total);
      }
      case Function::count:
        return Value::number(static_cast<double>(expand(arguments[0]).size()));
      case Function::min:
        return extreme(node, false);
      case Function::max:
        return extreme(node, true);
      case Function::position: {
        const RepeatPath& path = context_.repeat_path();
        return Value::number(path.empty() ? 1 : static_cast<double>(path.back() + 1));
      }
      case Function::choice_name:
        return Value::string(context_.choice_label(node.name, text(arguments[0])).value_or(std::string()));
      case Function::not_:
        return Value::boolean(!truth(arguments[0]));
      case Function::true_:
        return Value::boolean(true);
      case Function::false_:
        break;
    }
    return Value::boolean(false);
  }

  bool regex_search(const Node& node) const {
    const std::string subject = text(node.operands[0]);
    if (node.pattern) return node.pattern->search(subject);
    try {
      return Regex(text(node.operands[1])).search(subject);
    } catch (const RegexError& error) {
      fail(node.operands[1], "the regex() pattern computed here is not valid: " + std::string(error.what()));
    }
  }

  Value substr(const std::vector<Node>& arguments) const {
    const std::string subject = text(arguments[0]);
    const size_t length = utf8::length(subject);
    const size_t start = clamp_index(number(arguments[1]), length);
    const size_t end = arguments.size() > 2 ? clamp_index(number(arguments[2]), length) : length;
    if (end <= start) return Value::string("");
    const size_t start_offset = utf8::offset_of(subject, start);
    return Value::string(subject.substr(start_offset, utf8::offset_of(subject, end) - start_offset));
  }

  const detail::Program& program_;
  const EvaluationContext& context_;
};

}  // namespace

// --- Public API

const std::string& Expression::text() const { return program_->text; }
const std::vector<std::string>& Expression::references() const { return program_->references; }
const std::vector<std::string>& Expression::single_value_references() const {
  return program_->single_value_references;
}

namespace {

std::shared_ptr<const detail::Program> parse_program(std::string_view text, NameRule names) {
  if (text.size() > max_expression_length)
    throw ExpressionError("expression is " + std::to_string(text.size()) + " bytes long, the most allowed is " +
                              std::to_string(max_expression_length),
                          utf8::length(text.substr(0, max_expression_length)));
  auto program = std::make_shared<detail::Program>();
  program->text = text;
  program->root = Parser(program->text, names).parse();
  collect_references(program->root, *program);
  return program;
}

}  // namespace

Expression parse_expression(std::string_view text) {
  return Expression(parse_program(text, NameRule::functions_only));
}

Expression parse_choice_filter(std::string_view text) {
  return Expression(parse_program(text, NameRule::choice_columns));
}

Value evaluate(const Expression& expression, const EvaluationContext& context) {
  return Evaluator(*expression.program_, context).evaluate(expression.program_->root);
}

}  // namespace outpost::forms
