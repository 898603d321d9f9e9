// JSON as text, without a document tree: a validating pull reader that hands out each value's
// own text, and a writer for string literals. The sync path stores and forwards field values
// as the JSON text they arrived as, so it reads the envelope around them and copies the values
// through, instead of building a tree of every body and serialising it again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace outpost::json_text {

// Malformed JSON; the message starts with "at byte N". Well-formed JSON of another shape than
// the reader asked for (a string where it wants an integer, say) is a plain
// std::invalid_argument saying what was expected, for the caller to put its path in front.
class ParseError : public std::invalid_argument {
 public:
  ParseError(size_t offset, const std::string& what);
  size_t offset() const { return offset_; }

 private:
  size_t offset_;
};

// Appends `text` (UTF-8) as a JSON string literal, escaping as nlohmann::json::dump does.
void append_string(std::string& out, std::string_view text);
std::string quoted(std::string_view text);

// Reads one JSON text front to back. Objects and arrays are read with callbacks, which see the
// reader positioned at each member's value (or element) and must read it whole:
//   reader.object([&](std::string_view key) { if (key == "n") n = reader.integer(); else reader.skip(); });
class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}

  template <typename OnMember>
  void object(OnMember&& on_member) {
    open('{');
    if (consume_if('}')) return;
    std::string key;
    do {
      read_string(key);
      expect(':');
      on_member(std::string_view(key));
    } while (more('}'));
  }

  template <typename OnElement>
  void array(OnElement&& on_element) {
    open('[');
    if (consume_if(']')) return;
    do on_element();
    while (more(']'));
  }

  std::string string();
  int64_t integer();
  bool boolean();
  // Consumes a null and returns true, or returns false and reads nothing.
  bool null();
  // The next value, whatever it is, checked against the JSON grammar (and UTF-8) and nested at
  // most `max_depth` levels (deeper is a shape error); returns its text. Iterative: hostile nesting cannot blow the stack.
  std::string_view value(int max_depth = 64);
  void skip() { value(); }
  // The first non-space character ahead, or '\0' at the end.
  char peek();
  // Nothing but white space may follow.
  void finish();

  size_t offset() const { return at_; }
  [[noreturn]] void fail(const std::string& what) const;

 private:
  void skip_space();
  void expect(char c);
  // Consumes the '{' or '[' that opens an object or array.
  void open(char bracket);
  // A shape error when the next thing is a value of another kind, else a ParseError.
  [[noreturn]] void expected(const char* what);
  bool consume_if(char c);
  // After a member or element: true at ',', false at `close`.
  bool more(char close);
  void read_string(std::string& out);
  // Skips a string literal, checking its escapes and UTF-8.
  void scan_string();
  void scan_number();
  void scan_literal(std::string_view word);

  std::string_view text_;
  size_t at_ = 0;
  std::vector<char> open_;  // value(): the containers it is inside
};

}  // namespace outpost::json_text
