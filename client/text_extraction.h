// The words of a material's file, for the search index: Markdown rendered to plain text (md4c,
// front matter left out), HTML without its tags, the text layer of a PDF (poppler), plain text
// as it is. Files of other types (images, video) have no text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace outpost::client {

// At most this much text of one file goes into the index.
constexpr size_t kMaxExtractedText = 2 * 1024 * 1024;

// "" for types without text and for files that cannot be read as their type (a damaged PDF):
// search then still knows the title, summary and tags.
std::string extract_text(const std::string& path, const std::string& media_type);

// The same for content already in memory (PDFs excepted).
std::string markdown_to_text(std::string_view markdown);
std::string html_to_text(std::string_view html);

// A Markdown document as the app's reader shows it: headings, paragraphs, list items, code and
// quotes, their text without markup (links keep their words, emphasis is dropped).
struct TextBlock {
  enum class Kind { Heading, Paragraph, ListItem, Code, Quote };
  Kind kind = Kind::Paragraph;
  int level = 0;  // heading level 1-6; nesting depth of a list item (1: top level)
  std::string text;
};
std::vector<TextBlock> markdown_blocks(std::string_view markdown);
// Plain text as paragraphs: runs of lines separated by blank lines.
std::vector<TextBlock> text_blocks(std::string_view text);

}  // namespace outpost::client
