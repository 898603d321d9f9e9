// Regular expressions for regex() in constraints, matched by a Pike VM (a Thompson NFA run over
// all its states at once): time grows with the answer's length times the pattern's size, and no
// recursion depends on the answer, so neither a pathological pattern nor a long answer can hang
// or crash a device. std::regex is not used: libstdc++ backtracks (exponential time on patterns
// like ^(a+)+$) and recurses once per character (a stack overflow near 30,000 characters).
//
// Syntax: the common ground of the ECMAScript and Java dialects ODK forms are written for.
// Literal characters (UTF-8, matched as characters), '.', classes [...] and [^...] with ranges,
// \d \w \s and their negations \D \W \S (ASCII, as in Java), \b \B, ^ and $ (start and end of
// the answer), (...) and (?:...), '|', * + ? {n} {n,} {n,m} (a trailing lazy '?' is accepted:
// only whether there is a match counts), escapes \t \n \r \f \v \xHH \uHHHH and any escaped
// punctuation. Look-around, back-references, inline flags, possessive quantifiers, \p{...} and
// nested or intersected classes are refused with an error rather than guessed at.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "forms/positioned_error.h"

namespace outpost::forms {

// position() counts characters into the pattern.
class RegexError : public PositionedError {
 public:
  using PositionedError::PositionedError;
};

class Regex {
 public:
  static constexpr size_t max_program_size = 10'000;  // instructions, counted repeats expanded
  static constexpr unsigned max_repeat_count = 1000;  // the largest n or m in {n,m}
  static constexpr int max_group_depth = 64;

  // Throws RegexError naming what is wrong and where.
  explicit Regex(std::string_view pattern);

  // True when some part of `text` matches: ODK's regex() searches (forms anchor with ^ and $).
  bool search(std::string_view text) const;

  // A character set: the union of `ranges` (inclusive), or everything outside it when negated.
  struct CharClass {
    std::vector<std::pair<char32_t, char32_t>> ranges;
    bool negated = false;
    bool contains(char32_t character) const;
  };

  enum class Op : uint8_t {
    character,          // consumes `character`
    any,                // consumes any character but a line break
    char_class,         // consumes a character of classes_[target]
    split,              // continues at `target` and at `alternative`
    jump,               // continues at `target`
    text_start,         // ^
    text_end,           // $
    word_boundary,      // \b
    not_word_boundary,  // \B
    match,
  };
  struct Instruction {
    Op op;
    char32_t character = 0;
    uint32_t target = 0;
    uint32_t alternative = 0;
  };

 private:
  std::vector<Instruction> program_;
  std::vector<CharClass> classes_;
};

}  // namespace outpost::forms
