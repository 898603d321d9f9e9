#include "client/text_extraction.h"

#include <md4c.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iterator>
#include <memory>

#include "client/home.h"
#include "client/modules.h"
#include "client/pdf_text.h"
#include "platform/files.h"
#include "platform/utf8.h"
#include "platform/log.h"
#include "sync/material_record.h"

namespace outpost::client {

namespace {

void append_utf8(std::string& out, unsigned long code) {
  if (code == 0 || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) code = 0xFFFD;
  ::outpost::utf8::append(out, static_cast<char32_t>(code));
}

// "&amp;", "&#233;", "&#xE9;", the Latin-1 letters ("&eacute;") and the punctuation text
// commonly uses; others are kept as written.
void append_entity(std::string& out, std::string_view entity) {
  if (entity.size() > 3 && entity[1] == '#') {
    const bool hex = entity[2] == 'x' || entity[2] == 'X';
    const std::string digits(entity.substr(hex ? 3 : 2, entity.size() - (hex ? 4 : 3)));
    append_utf8(out, std::strtoul(digits.c_str(), nullptr, hex ? 16 : 10));
    return;
  }
  const std::string_view name = entity.substr(1, entity.size() - 2);
  // U+00C0 to U+00FF, in order.
  static const char* const kLatin1[] = {
      "Agrave", "Aacute", "Acirc",  "Atilde", "Auml",   "Aring",  "AElig",  "Ccedil", "Egrave", "Eacute", "Ecirc",
      "Euml",   "Igrave", "Iacute", "Icirc",  "Iuml",   "ETH",    "Ntilde", "Ograve", "Oacute", "Ocirc",  "Otilde",
      "Ouml",   "times",  "Oslash", "Ugrave", "Uacute", "Ucirc",  "Uuml",   "Yacute", "THORN",  "szlig",  "agrave",
      "aacute", "acirc",  "atilde", "auml",   "aring",  "aelig",  "ccedil", "egrave", "eacute", "ecirc",  "euml",
      "igrave", "iacute", "icirc",  "iuml",   "eth",    "ntilde", "ograve", "oacute", "ocirc",  "otilde", "ouml",
      "divide", "oslash", "ugrave", "uacute", "ucirc",  "uuml",   "yacute", "thorn",  "yuml"};
  for (size_t i = 0; i < std::size(kLatin1); ++i)
    if (name == kLatin1[i]) return append_utf8(out, 0xC0 + i);
  static const std::pair<std::string_view, unsigned long> kNamed[] = {
      {"amp", '&'},      {"lt", '<'},       {"gt", '>'},       {"quot", '"'},     {"apos", '\''},
      {"nbsp", ' '},     {"laquo", 0xAB},   {"raquo", 0xBB},   {"iexcl", 0xA1},   {"iquest", 0xBF},
      {"ordf", 0xAA},    {"ordm", 0xBA},    {"deg", 0xB0},     {"euro", 0x20AC},  {"ndash", 0x2013},
      {"mdash", 0x2014}, {"lsquo", 0x2018}, {"rsquo", 0x2019}, {"ldquo", 0x201C}, {"rdquo", 0x201D},
      {"hellip", 0x2026}, {"OElig", 0x152}, {"oelig", 0x153}};
  for (const auto& [known, code] : kNamed)
    if (name == known) return append_utf8(out, code);
  out += entity;
}

int ignore_span(MD_SPANTYPE, void*, void*) { return 0; }

void log_debug(const std::string& message) { log::debug(message); }

// Loaded once, by the first PDF (client/modules.h). Null, said once, when it does not load.
OutpostPdfText pdf_module() {
  static const OutpostPdfText entry = []() -> OutpostPdfText {
    try {
      return reinterpret_cast<OutpostPdfText>(
          module_symbol("outpost-pdf-text.so", OUTPOST_BUILD_PDF_MODULE, kOutpostPdfTextSymbol));
    } catch (const ClientError& error) {
      log::warn(std::string("PDF files are indexed by their title and summary only: ") + error.what());
      return nullptr;
    }
  }();
  return entry;
}

std::string pdf_to_text(const std::string& path) {
  const OutpostPdfText pdf_text = pdf_module();
  if (!pdf_text) return {};
  std::string text;
  if (!pdf_text(path.c_str(), kMaxExtractedText, text, log_debug)) {
    log::warn(path + ": not a readable PDF; indexing its title and summary only");
    return {};
  }
  return text;
}

}  // namespace

// --- Blocks for the reader

namespace {

struct MarkdownBlocks {
  std::vector<TextBlock> blocks;
  int list_depth = 0;
  int quote_depth = 0;
  bool open = false;  // the last block still takes text
  size_t total = 0;

  void start(TextBlock::Kind kind, int level) {
    // A loose list item wraps its text in a paragraph: the item's block takes it.
    if (open && !blocks.empty() && blocks.back().kind == TextBlock::Kind::ListItem && blocks.back().text.empty())
      return;
    if (quote_depth > 0 && kind == TextBlock::Kind::Paragraph) kind = TextBlock::Kind::Quote;
    blocks.push_back({kind, level, {}});
    open = true;
  }
};

int on_reader_block_enter(MD_BLOCKTYPE type, void* detail, void* user) {
  auto& reader = *static_cast<MarkdownBlocks*>(user);
  switch (type) {
    case MD_BLOCK_H: reader.start(TextBlock::Kind::Heading, static_cast<int>(static_cast<MD_BLOCK_H_DETAIL*>(detail)->level)); break;
    case MD_BLOCK_UL:
    case MD_BLOCK_OL: ++reader.list_depth; break;
    case MD_BLOCK_LI: reader.start(TextBlock::Kind::ListItem, reader.list_depth); break;
    case MD_BLOCK_QUOTE: ++reader.quote_depth; break;
    case MD_BLOCK_CODE: reader.start(TextBlock::Kind::Code, 0); break;
    case MD_BLOCK_P:
    case MD_BLOCK_TR: reader.start(TextBlock::Kind::Paragraph, 0); break;
    case MD_BLOCK_TD:
    case MD_BLOCK_TH:
      if (!reader.blocks.empty() && !reader.blocks.back().text.empty()) reader.blocks.back().text += " | ";
      break;
    default: break;
  }
  return 0;
}

int on_reader_block_leave(MD_BLOCKTYPE type, void*, void* user) {
  auto& reader = *static_cast<MarkdownBlocks*>(user);
  switch (type) {
    case MD_BLOCK_UL:
    case MD_BLOCK_OL: --reader.list_depth; break;
    case MD_BLOCK_QUOTE: --reader.quote_depth; break;
    case MD_BLOCK_H:
    case MD_BLOCK_LI:
    case MD_BLOCK_CODE:
    case MD_BLOCK_P:
    case MD_BLOCK_TR: reader.open = false; break;
    default: break;
  }
  return 0;
}

int on_reader_text(MD_TEXTTYPE type, const MD_CHAR* data, MD_SIZE size, void* user) {
  auto& reader = *static_cast<MarkdownBlocks*>(user);
  if (reader.blocks.empty() || !reader.open) reader.start(TextBlock::Kind::Paragraph, 0);
  std::string& text = reader.blocks.back().text;
  const size_t before = text.size();
  switch (type) {
    case MD_TEXT_BR: text += '\n'; break;
    case MD_TEXT_SOFTBR: text += reader.blocks.back().kind == TextBlock::Kind::Code ? '\n' : ' '; break;
    case MD_TEXT_ENTITY: append_entity(text, std::string_view(data, size)); break;
    case MD_TEXT_NULLCHAR: break;
    case MD_TEXT_HTML: text += html_to_text(std::string_view(data, size)); break;
    default: text.append(data, size);
  }
  reader.total += text.size() - before;
  return reader.total > kMaxExtractedText ? 1 : 0;
}

}  // namespace

std::vector<TextBlock> markdown_blocks(std::string_view markdown) {
  if (auto front = sync::parse_front_matter(markdown)) markdown.remove_prefix(front->body_offset);
  MD_PARSER parser{};
  parser.flags = MD_DIALECT_GITHUB;
  parser.enter_block = on_reader_block_enter;
  parser.leave_block = on_reader_block_leave;
  parser.enter_span = ignore_span;
  parser.leave_span = ignore_span;
  parser.text = on_reader_text;
  MarkdownBlocks reader;
  md_parse(markdown.data(), static_cast<MD_SIZE>(markdown.size()), &parser, &reader);
  return std::move(reader.blocks);
}

// The reader's blocks, a line each: what the search index takes of a Markdown file.
std::string markdown_to_text(std::string_view markdown) {
  std::string text;
  for (const TextBlock& block : markdown_blocks(markdown)) {
    text += block.text;
    text += '\n';
  }
  return text;
}

std::vector<TextBlock> text_blocks(std::string_view text) {
  std::vector<TextBlock> blocks;
  bool in_paragraph = false;
  while (!text.empty()) {
    const size_t end = std::min(text.find('\n'), text.size());
    std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) {
      in_paragraph = false;
      continue;
    }
    if (!in_paragraph) blocks.push_back({TextBlock::Kind::Paragraph, 0, {}});
    else blocks.back().text += ' ';
    blocks.back().text.append(line);
    in_paragraph = true;
  }
  return blocks;
}

std::string html_to_text(std::string_view html) {
  std::string text;
  size_t position = 0;
  while (position < html.size() && text.size() < kMaxExtractedText) {
    const char c = html[position];
    if (c == '<') {
      const size_t end = html.find('>', position);
      if (end == std::string_view::npos) break;
      std::string tag(html.substr(position + 1, end - position - 1));
      for (char& t : tag) t = static_cast<char>(std::tolower(static_cast<unsigned char>(t)));
      position = end + 1;
      // What scripts and styles hold is not text.
      for (const char* hidden : {"script", "style"})
        if (tag.rfind(hidden, 0) == 0) {
          const size_t close = html.find(std::string("</") + hidden, position);
          position = close == std::string_view::npos ? html.size() : close;
        }
      text += ' ';  // tags separate words
    } else if (c == '&') {
      const size_t end = html.find(';', position);
      if (end == std::string_view::npos || end - position > 10) {
        text += c;
        ++position;
      } else {
        append_entity(text, html.substr(position, end - position + 1));
        position = end + 1;
      }
    } else {
      text += c;
      ++position;
    }
  }
  return text;
}

std::string extract_text(const std::string& path, const std::string& media_type) {
  try {
    if (media_type == "application/pdf") return pdf_to_text(path);
    const bool markdown = media_type == "text/markdown", html = media_type == "text/html";
    if (!markdown && !html && media_type != "text/plain") return {};
    std::string content = files::read_file(path);
    if (markdown) return markdown_to_text(content);
    if (html) return html_to_text(content);
    if (content.size() > kMaxExtractedText) content.resize(kMaxExtractedText);
    return content;
  } catch (const std::exception& error) {
    log::warn(std::string("cannot read the text of ") + path + ": " + error.what());
    return {};
  }
}

}  // namespace outpost::client
