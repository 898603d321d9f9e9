#include "forms/regex.h"

#include <algorithm>
#include <optional>
#include <string>
#include <tuple>

#include "forms/text.h"

namespace outpost::forms {

namespace {

constexpr unsigned unbounded = ~0u;
constexpr char32_t last_code_point = 0x10FFFF;

using Ranges = std::vector<std::pair<char32_t, char32_t>>;

const Ranges digit_ranges = {{'0', '9'}};
const Ranges word_ranges = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
const Ranges space_ranges = {{'\t', '\r'}, {' ', ' '}};  // \t \n \v \f \r and space, as Java's \s

bool in_ranges(const Ranges& ranges, char32_t character) {
  return std::any_of(ranges.begin(), ranges.end(),
                     [&](const auto& range) { return range.first <= character && character <= range.second; });
}

bool is_word_character(char32_t character) { return in_ranges(word_ranges, character); }

bool is_assertion(Regex::Op op) {
  return op == Regex::Op::text_start || op == Regex::Op::text_end || op == Regex::Op::word_boundary ||
         op == Regex::Op::not_word_boundary;
}

// The ranges of every code point outside `ranges` (which are sorted and disjoint).
Ranges complement(const Ranges& ranges) {
  Ranges outside;
  char32_t next = 0;
  for (const auto& [first, last] : ranges) {
    if (first > next) outside.emplace_back(next, first - 1);
    next = last + 1;
  }
  if (next <= last_code_point) outside.emplace_back(next, last_code_point);
  return outside;
}

// --- Parsing the pattern into a tree

struct Node {
  enum class Kind { instruction, sequence, alternation, repeat };
  Kind kind = Kind::sequence;  // an empty sequence matches the empty string
  Regex::Instruction instruction{Regex::Op::match};  // Kind::instruction: one consuming or assertion step
  std::vector<Node> children;
  unsigned min = 0, max = 0;  // Kind::repeat: counts of children[0]
};

Node single(Regex::Op op, char32_t character = 0, uint32_t target = 0) {
  Node node;
  node.kind = Node::Kind::instruction;
  node.instruction = {op, character, target, 0};
  return node;
}

class PatternParser {
 public:
  PatternParser(std::string_view pattern, std::vector<Regex::CharClass>& classes) : classes_(classes) {
    for (size_t offset = 0; offset < pattern.size();) characters_.push_back(utf8::next(pattern, offset));
  }

  Node parse() {
    Node root = alternation(0);
    if (!at_end()) fail("unmatched ')'");  // alternation() stops only at the end or at ')'
    return root;
  }

 private:
  [[noreturn]] void fail(const std::string& reason) const { fail_at(reason, position_); }
  [[noreturn]] void fail_at(const std::string& reason, size_t position) const { throw RegexError(reason, position); }

  bool at_end() const { return position_ >= characters_.size(); }
  char32_t peek(size_t ahead = 0) const {
    return position_ + ahead < characters_.size() ? characters_[position_ + ahead] : 0;
  }
  bool take(char32_t expected) {
    if (at_end() || peek() != expected) return false;
    ++position_;
    return true;
  }

  Node alternation(int depth) {
    if (depth > Regex::max_group_depth)
      fail("groups nest deeper than " + std::to_string(Regex::max_group_depth) + " levels");
    Node first = sequence(depth);
    if (peek() != '|') return first;
    Node node;
    node.kind = Node::Kind::alternation;
    node.children.push_back(std::move(first));
    while (take('|')) node.children.push_back(sequence(depth));
    return node;
  }

  Node sequence(int depth) {
    Node node;
    node.kind = Node::Kind::sequence;
    while (!at_end() && peek() != '|' && peek() != ')') node.children.push_back(quantified(depth));
    return node;
  }

  Node quantified(int depth) {
    const size_t start = position_;
    Node atom_node = atom(depth);
    unsigned min = 0, max = 0;
    if (take('*')) {
      min = 0, max = unbounded;
    } else if (take('+')) {
      min = 1, max = unbounded;
    } else if (take('?')) {
      min = 0, max = 1;
    } else if (peek() == '{') {
      std::tie(min, max) = counts();
    } else {
      return atom_node;
    }
    take('?');  // lazy: the same matches exist
    if (atom_node.kind == Node::Kind::instruction && is_assertion(atom_node.instruction.op))
      fail_at("nothing to repeat: an anchor or boundary cannot take a quantifier", start);
    Node node;
    node.kind = Node::Kind::repeat;
    node.min = min, node.max = max;
    node.children.push_back(std::move(atom_node));
    return node;
  }

  // {n}, {n,} or {n,m}
  std::pair<unsigned, unsigned> counts() {
    const size_t start = position_;
    take('{');
    const unsigned min = count();
    unsigned max = min;
    if (take(',')) max = peek() == '}' ? unbounded : count();
    if (!take('}')) fail("expected '}' to close the repeat count opened at position " + std::to_string(start));
    if (max < min) fail_at("repeat count {" + std::to_string(min) + "," + std::to_string(max) + "} has its maximum below its minimum", start);
    return {min, max};
  }

  unsigned count() {
    if (peek() < '0' || peek() > '9') fail("expected a number in the repeat count");
    unsigned value = 0;
    while (peek() >= '0' && peek() <= '9') {
      value = value * 10 + static_cast<unsigned>(peek() - '0');
      if (value > Regex::max_repeat_count)
        fail("repeat count above " + std::to_string(Regex::max_repeat_count));
      ++position_;
    }
    return value;
  }

  Node atom(int depth) {
    const size_t start = position_;
    const char32_t c = peek();
    ++position_;
    switch (c) {
      case '(': {
        if (take('?') && !take(':'))
          fail_at("'(?' is only supported as the non-capturing group '(?:'; look-around and flags are not", start);
        Node group = alternation(depth + 1);
        if (!take(')')) fail("missing ')' for the '(' at position " + std::to_string(start));
        return group;
      }
      case '[':
        return char_class(start);
      case '.':
        return single(Regex::Op::any);
      case '^':
        return single(Regex::Op::text_start);
      case '$':
        return single(Regex::Op::text_end);
      case '\\':
        return escape(start);
      case '*':
      case '+':
      case '?':
        fail_at(std::string("nothing to repeat before '") + static_cast<char>(c) + "'", start);
      case '{':
        fail_at("nothing to repeat before '{'; write \\{ for a literal brace", start);
      default:
        return single(Regex::Op::character, c);
    }
  }

  Node class_node(Ranges ranges, bool negated) {
    classes_.push_back({std::move(ranges), negated});
    return single(Regex::Op::char_class, 0, static_cast<uint32_t>(classes_.size() - 1));
  }

  // The ranges of \d \w \s and their upper-case negations, or nothing for another letter.
  static std::optional<Ranges> shorthand_class(char32_t letter) {
    switch (letter) {
      case 'd': return digit_ranges;
      case 'w': return word_ranges;
      case 's': return space_ranges;
      case 'D': return complement(digit_ranges);
      case 'W': return complement(word_ranges);
      case 'S': return complement(space_ranges);
      default: return std::nullopt;
    }
  }

  Node escape(size_t start) {
    if (at_end()) fail_at("the pattern ends with a lone '\\'", start);
    const char32_t letter = peek();
    if (auto ranges = shorthand_class(letter)) {
      ++position_;
      return class_node(std::move(*ranges), false);
    }
    if (take('b')) return single(Regex::Op::word_boundary);
    if (take('B')) return single(Regex::Op::not_word_boundary);
    return single(Regex::Op::character, escaped_character(start));
  }

  // After a '\': a control escape, \xHH, \uHHHH, or escaped punctuation.
  char32_t escaped_character(size_t start) {
    const char32_t letter = peek();
    ++position_;
    switch (letter) {
      case 't': return '\t';
      case 'n': return '\n';
      case 'r': return '\r';
      case 'f': return '\f';
      case 'v': return '\v';
      case 'x': return hex_digits(2, start);
      case 'u': return hex_digits(4, start);
      default: break;
    }
    if (letter >= '1' && letter <= '9') fail_at("back-references such as \\1 are not supported", start);
    if ((letter >= 'a' && letter <= 'z') || (letter >= 'A' && letter <= 'Z') || letter == '0') {
      std::string escape_text = "\\";
      utf8::append(escape_text, letter);
      fail_at("unsupported escape '" + escape_text + "'", start);
    }
    return letter;
  }

  char32_t hex_digits(int count, size_t start) {
    char32_t value = 0;
    for (int i = 0; i < count; ++i, ++position_) {
      const char32_t c = peek();
      int digit = -1;
      if (c >= '0' && c <= '9') digit = static_cast<int>(c - '0');
      else if (c >= 'a' && c <= 'f') digit = static_cast<int>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') digit = static_cast<int>(c - 'A' + 10);
      if (digit < 0) fail_at("expected " + std::to_string(count) + " hexadecimal digits after the escape", start);
      value = value * 16 + static_cast<char32_t>(digit);
    }
    return value;
  }

  // After '[': items up to the closing ']'.
  Node char_class(size_t start) {
    const bool negated = take('^');
    if (peek() == ']') fail("empty character class; write \\] for a literal ']'");
    Ranges ranges;
    while (!take(']')) {
      if (at_end()) fail_at("unterminated character class", start);
      const size_t item_start = position_;
      if (peek() == '[') fail("'[' inside a character class is not supported; write \\[ for a literal '['");
      if (peek() == '&' && peek(1) == '&') fail("'&&' inside a character class is not supported");
      if (peek() == '\\' && shorthand_class(peek(1))) {
        const Ranges shorthand = *shorthand_class(peek(1));
        position_ += 2;
        ranges.insert(ranges.end(), shorthand.begin(), shorthand.end());
        continue;
      }
      const char32_t first = class_character();
      char32_t last = first;
      if (peek() == '-' && peek(1) != ']' && position_ + 1 < characters_.size()) {
        ++position_;
        if (peek() == '\\' && shorthand_class(peek(1))) fail("a range cannot end in a class escape");
        last = class_character();
        if (last < first) fail_at("range out of order in character class", item_start);
      }
      ranges.emplace_back(first, last);
    }
    return class_node(std::move(ranges), negated);
  }

  char32_t class_character() {
    const size_t start = position_;
    const char32_t c = peek();
    ++position_;
    if (c != '\\') return c;
    if (at_end()) fail_at("the pattern ends with a lone '\\'", start);
    if (peek() == 'b' || peek() == 'B') fail_at("\\b and \\B are not supported inside a character class", start);
    return escaped_character(start);
  }

  std::vector<char32_t> characters_;
  size_t position_ = 0;
  std::vector<Regex::CharClass>& classes_;
};

// --- Compiling the tree into a program

class Emitter {
 public:
  explicit Emitter(std::vector<Regex::Instruction>& program) : program_(program) {}

  void emit(const Node& node) {
    switch (node.kind) {
      case Node::Kind::instruction:
        push(node.instruction);
        return;
      case Node::Kind::sequence:
        for (const Node& child : node.children) emit(child);
        return;
      case Node::Kind::alternation:
        return emit_alternation(node.children);
      case Node::Kind::repeat:
        return emit_repeat(node.children.front(), node.min, node.max);
    }
  }

 private:
  uint32_t push(Regex::Instruction instruction) {
    if (program_.size() >= Regex::max_program_size)
      throw RegexError("pattern is too large once its repeat counts are expanded (more than " +
                           std::to_string(Regex::max_program_size) + " steps)",
                       0);
    program_.push_back(instruction);
    return static_cast<uint32_t>(program_.size() - 1);
  }
  uint32_t here() const { return static_cast<uint32_t>(program_.size()); }

  void emit_alternation(const std::vector<Node>& choices) {
    std::vector<uint32_t> jumps_to_end;
    for (size_t i = 0; i + 1 < choices.size(); ++i) {
      const uint32_t split = push({Regex::Op::split});
      program_[split].target = here();
      emit(choices[i]);
      jumps_to_end.push_back(push({Regex::Op::jump}));
      program_[split].alternative = here();
    }
    emit(choices.back());
    for (const uint32_t jump : jumps_to_end) program_[jump].target = here();
  }

  void emit_repeat(const Node& body, unsigned min, unsigned max) {
    for (unsigned i = 0; i < min; ++i) emit(body);
    if (max == unbounded) {
      const uint32_t loop = push({Regex::Op::split});
      program_[loop].target = here();
      emit(body);
      push({Regex::Op::jump, 0, loop});
      program_[loop].alternative = here();
      return;
    }
    std::vector<uint32_t> skips;  // each optional copy may stop the repeat
    for (unsigned i = min; i < max; ++i) {
      skips.push_back(push({Regex::Op::split}));
      program_[skips.back()].target = here();
      emit(body);
    }
    for (const uint32_t skip : skips) program_[skip].alternative = here();
  }

  std::vector<Regex::Instruction>& program_;
};

}  // namespace

bool Regex::CharClass::contains(char32_t character) const { return in_ranges(ranges, character) != negated; }

Regex::Regex(std::string_view pattern) {
  const Node root = PatternParser(pattern, classes_).parse();
  Emitter emitter(program_);
  emitter.emit(root);
  program_.push_back({Op::match});
}

// --- Matching

bool Regex::search(std::string_view text) const {
  // `pending` are the instructions threads stand at before their epsilon closure at this
  // position; `consuming` the character-consuming instructions that closure reached.
  std::vector<uint32_t> pending, consuming, stack;
  std::vector<size_t> visited(program_.size(), ~size_t{0});  // the position each was last reached at
  char32_t previous = 0;
  bool has_previous = false;
  for (size_t offset = 0, step = 0;; ++step) {
    const bool at_end = offset == text.size();
    size_t next_offset = offset;
    const char32_t current = at_end ? 0 : utf8::next(text, next_offset);
    const bool word_before = has_previous && is_word_character(previous);
    const bool word_after = !at_end && is_word_character(current);

    pending.push_back(0);  // a search: a match may start at every position
    consuming.clear();
    for (const uint32_t start : pending) {
      stack.push_back(start);
      while (!stack.empty()) {
        const uint32_t pc = stack.back();
        stack.pop_back();
        if (visited[pc] == step) continue;
        visited[pc] = step;
        const Instruction& instruction = program_[pc];
        switch (instruction.op) {
          case Op::match:
            return true;
          case Op::jump:
            stack.push_back(instruction.target);
            break;
          case Op::split:
            stack.push_back(instruction.alternative);
            stack.push_back(instruction.target);
            break;
          case Op::text_start:
            if (offset == 0) stack.push_back(pc + 1);
            break;
          case Op::text_end:
            if (at_end) stack.push_back(pc + 1);
            break;
          case Op::word_boundary:
            if (word_before != word_after) stack.push_back(pc + 1);
            break;
          case Op::not_word_boundary:
            if (word_before == word_after) stack.push_back(pc + 1);
            break;
          case Op::character:
          case Op::any:
          case Op::char_class:
            consuming.push_back(pc);
            break;
        }
      }
    }
    if (at_end) return false;

    pending.clear();
    for (const uint32_t pc : consuming) {
      const Instruction& instruction = program_[pc];
      const bool accepts = instruction.op == Op::character ? instruction.character == current
                           : instruction.op == Op::any     ? current != '\n' && current != '\r'
                                                           : classes_[instruction.target].contains(current);
      if (accepts) pending.push_back(pc + 1);
    }
    previous = current, has_previous = true;
    offset = next_offset;
  }
}

}  // namespace outpost::forms
