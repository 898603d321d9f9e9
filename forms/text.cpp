#include "forms/text.h"

#include "platform/utf8.h"

namespace outpost::forms::utf8 {

namespace {

constexpr char32_t replacement_character = 0xFFFD;

bool is_continuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

}  // namespace

char32_t next(std::string_view text, size_t& offset) {
  const auto lead = static_cast<unsigned char>(text[offset]);
  size_t extra = 0;
  char32_t character = lead;
  char32_t smallest = 0;  // overlong encodings are malformed
  if (lead < 0x80) {
    ++offset;
    return lead;
  } else if ((lead & 0xE0) == 0xC0) {
    extra = 1, character = lead & 0x1F, smallest = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    extra = 2, character = lead & 0x0F, smallest = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    extra = 3, character = lead & 0x07, smallest = 0x10000;
  } else {
    ++offset;
    return replacement_character;
  }
  if (offset + extra >= text.size()) {  // truncated sequence
    ++offset;
    return replacement_character;
  }
  for (size_t i = 1; i <= extra; ++i) {
    const auto byte = static_cast<unsigned char>(text[offset + i]);
    if (!is_continuation(byte)) {
      ++offset;
      return replacement_character;
    }
    character = (character << 6) | (byte & 0x3F);
  }
  if (character < smallest || character > 0x10FFFF || (character >= 0xD800 && character <= 0xDFFF)) {
    ++offset;
    return replacement_character;
  }
  offset += extra + 1;
  return character;
}

size_t length(std::string_view text) {
  size_t count = 0;
  for (size_t offset = 0; offset < text.size(); ++count) next(text, offset);
  return count;
}

size_t offset_of(std::string_view text, size_t index) {
  size_t offset = 0;
  for (size_t count = 0; count < index && offset < text.size(); ++count) next(text, offset);
  return offset;
}

void append(std::string& out, char32_t character) { ::outpost::utf8::append(out, character); }

}  // namespace outpost::forms::utf8

namespace outpost::forms {

std::string_view trim_space(std::string_view text) {
  while (!text.empty() && is_xml_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_xml_space(text.back())) text.remove_suffix(1);
  return text;
}

std::vector<std::string_view> split_on_space(std::string_view text) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_xml_space(text[i])) ++i;
    const size_t start = i;
    while (i < text.size() && !is_xml_space(text[i])) ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

}  // namespace outpost::forms
