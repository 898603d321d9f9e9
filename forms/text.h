// Text as the expression engine needs it: answers and expressions are UTF-8 and XPath counts
// characters (code points), not bytes; choice lists are separated by XML whitespace.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace outpost::forms::utf8 {

// Decodes the character starting at `offset` and moves `offset` past it. A byte that does not
// start a well-formed sequence is one character, U+FFFD, so malformed text never stops a parse
// or an evaluation.
char32_t next(std::string_view text, size_t& offset);

// Number of characters in `text`.
size_t length(std::string_view text);

// Byte offset of character number `index` (0-based); text.size() when `index` is past the end.
size_t offset_of(std::string_view text, size_t index);

void append(std::string& out, char32_t character);

}  // namespace outpost::forms::utf8

namespace outpost::forms {

inline bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }

// Space, tab, line feed and carriage return: the whitespace of XPath and XML.
inline bool is_xml_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim_space(std::string_view text);

// The runs of non-whitespace, e.g. the choices of a select_multiple answer.
std::vector<std::string_view> split_on_space(std::string_view text);

}  // namespace outpost::forms
