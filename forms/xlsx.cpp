#include "forms/xlsx.h"

#include <zip.h>

#include <pugixml.hpp>

#include <charconv>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace outpost::forms {

namespace {

[[noreturn]] void invalid(const std::string& file, const std::string& why) {
  throw FormError(file, {}, "is not a valid .xlsx (zip) file: " + why);
}

// --- The zip archive

// An archive opened read-only over bytes the caller keeps alive. Every part read counts against
// the per-part and total limits, counted while inflating: the sizes in the archive can lie.
class ZipArchive {
 public:
  ZipArchive(std::string_view bytes, const std::string& file, const XlsxLimits& limits) : file_(file), limits_(limits) {
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
    if (source != nullptr) archive_ = zip_open_from_source(source, ZIP_RDONLY, &error);
    if (archive_ == nullptr) {
      if (source != nullptr) zip_source_free(source);
      const std::string why = zip_error_strerror(&error);
      zip_error_fini(&error);
      invalid(file_, why);
    }
    zip_error_fini(&error);
  }
  ~ZipArchive() { zip_discard(archive_); }
  ZipArchive(const ZipArchive&) = delete;
  ZipArchive& operator=(const ZipArchive&) = delete;

  // A part's content, or nothing when the archive has no such part. Part names compare
  // case-insensitively, as Open Packaging Conventions say.
  std::optional<std::string> read(const std::string& part) {
    const zip_int64_t index = zip_name_locate(archive_, part.c_str(), ZIP_FL_NOCASE);
    if (index < 0) return std::nullopt;
    using FileHandle = std::unique_ptr<zip_file_t, decltype(&zip_fclose)>;
    FileHandle entry(zip_fopen_index(archive_, static_cast<zip_uint64_t>(index), 0), &zip_fclose);
    if (!entry) invalid(file_, part + ": " + zip_strerror(archive_));
    std::string content;
    char buffer[64 * 1024];
    for (;;) {
      const zip_int64_t count = zip_fread(entry.get(), buffer, sizeof buffer);
      if (count < 0) invalid(file_, part + ": " + zip_file_strerror(entry.get()));
      if (count == 0) break;
      const auto bytes = static_cast<size_t>(count);
      if (content.size() + bytes > limits_.part_bytes) {
        throw FormError(
            file_, {},
            "has a part (" + part + ") that expands past " + mebibytes(limits_.part_bytes) + ", too large for a form");
      }
      if (total_read_ + bytes > limits_.total_bytes) {
        throw FormError(file_, {}, "expands past " + mebibytes(limits_.total_bytes) + ", too large for a form");
      }
      content.append(buffer, bytes);
      total_read_ += bytes;
    }
    return content;
  }

 private:
  static std::string mebibytes(size_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

  const std::string& file_;
  const XlsxLimits limits_;
  zip_t* archive_ = nullptr;
  size_t total_read_ = 0;
};

// --- XML parts

// Producers may prefix the spreadsheet namespace (<x:sheet>), so elements and attributes are
// matched by local name.
std::string_view local_name(const char* name) {
  const std::string_view full(name);
  const size_t colon = full.find(':');
  return colon == std::string_view::npos ? full : full.substr(colon + 1);
}

template <typename Visit>
void for_each_child(const pugi::xml_node& parent, std::string_view name, Visit visit) {
  for (pugi::xml_node node : parent.children()) {
    if (node.type() == pugi::node_element && local_name(node.name()) == name) visit(node);
  }
}

pugi::xml_node child(const pugi::xml_node& parent, std::string_view name) {
  for (pugi::xml_node node : parent.children()) {
    if (node.type() == pugi::node_element && local_name(node.name()) == name) return node;
  }
  return {};
}

// The attribute with this local name; "id" finds r:id whatever the relationships prefix is.
std::string_view attribute(const pugi::xml_node& node, std::string_view name) {
  for (pugi::xml_attribute attr : node.attributes()) {
    if (local_name(attr.name()) == name) return attr.value();
  }
  return {};
}

class XmlPart {
 public:
  // Keeps whitespace-only text when it is an element's only content: in rich text,
  // <r><t xml:space="preserve"> </t></r> is the space between two words.
  XmlPart(std::string content, const std::string& part, const std::string& file) : content_(std::move(content)) {
    const pugi::xml_parse_result result = document_.load_buffer_inplace(
        content_.data(), content_.size(), pugi::parse_default | pugi::parse_ws_pcdata_single);
    if (!result) invalid(file, part + ": " + result.description() + " at byte " + std::to_string(result.offset));
  }
  pugi::xml_node root() const { return document_.document_element(); }

 private:
  std::string content_;  // parsed in place: the document points into it
  pugi::xml_document document_;
};

// --- Relationships

std::string directory_of(const std::string& part) {
  const size_t slash = part.rfind('/');
  return slash == std::string::npos ? std::string() : part.substr(0, slash + 1);
}

// Resolves a relationship target against the directory of the part that holds it.
std::string resolve_target(const std::string& base_directory, std::string_view target) {
  std::vector<std::string> segments;
  std::string path = target.substr(0, 1) == "/" ? std::string(target.substr(1)) : base_directory + std::string(target);
  size_t start = 0;
  while (start <= path.size()) {
    const size_t end = std::min(path.find('/', start), path.size());
    const std::string segment = path.substr(start, end - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    start = end + 1;
  }
  std::string resolved;
  for (const std::string& segment : segments) resolved += (resolved.empty() ? "" : "/") + segment;
  return resolved;
}

struct Relationship {
  std::string type;  // the last segment of the type URI: "officeDocument", "worksheet"
  std::string target;
};

// The relationships of `part`, by id, with targets resolved to part names.
std::map<std::string, Relationship> read_relationships(ZipArchive& zip, const std::string& part,
                                                       const std::string& file) {
  const std::string directory = directory_of(part);
  const std::string rels_part = directory + "_rels/" + part.substr(directory.size()) + ".rels";
  std::map<std::string, Relationship> relationships;
  std::optional<std::string> content = zip.read(rels_part);
  if (!content) return relationships;
  const XmlPart xml(std::move(*content), rels_part, file);
  for_each_child(xml.root(), "Relationship", [&](const pugi::xml_node& node) {
    if (attribute(node, "TargetMode") == "External") return;
    const std::string_view type = attribute(node, "Type");
    relationships[std::string(attribute(node, "Id"))] = Relationship{
        std::string(type.substr(type.rfind('/') + 1)), resolve_target(directory, attribute(node, "Target"))};
  });
  return relationships;
}

std::string find_relationship(const std::map<std::string, Relationship>& relationships, std::string_view type,
                              std::string fallback) {
  for (const auto& [id, relationship] : relationships) {
    if (relationship.type == type) return relationship.target;
  }
  return fallback;
}

// --- Cell text

// Decodes the _xHHHH_ escapes Excel writes for control characters (_x000D_ is a carriage return,
// _x005F_ a literal underscore). Only ASCII is written this way; other sequences stay as text.
std::string decode_escapes(std::string_view text) {
  std::string decoded;
  size_t at = 0;
  while (at < text.size()) {
    unsigned code = 0;
    if (text[at] == '_' && at + 7 <= text.size() && text[at + 1] == 'x' && text[at + 6] == '_' &&
        std::from_chars(text.data() + at + 2, text.data() + at + 6, code, 16).ptr == text.data() + at + 6 &&
        code < 0x80) {
      decoded += static_cast<char>(code);
      at += 7;
    } else {
      decoded += text[at++];
    }
  }
  return decoded;
}

// The text of a shared-string item or an inline string: its <t>, or its rich-text runs' <t>s
// joined (phonetic runs, <rPh>, are not part of the text).
std::string string_item_text(const pugi::xml_node& item) {
  std::string text;
  for (pugi::xml_node node : item.children()) {
    if (node.type() != pugi::node_element) continue;
    const std::string_view name = local_name(node.name());
    if (name == "t") text += node.text().get();
    if (name == "r") text += child(node, "t").text().get();
  }
  return decode_escapes(text);
}

std::vector<std::string> read_shared_strings(ZipArchive& zip, const std::string& part, const std::string& file) {
  std::vector<std::string> strings;
  std::optional<std::string> content = zip.read(part);
  if (!content) return strings;
  const XmlPart xml(std::move(*content), part, file);
  for_each_child(xml.root(), "si", [&](const pugi::xml_node& item) { strings.push_back(string_item_text(item)); });
  return strings;
}

// Numbers as people typed them: 3 rather than 3.0, 0.1 rather than 0.10000000000000001.
std::string number_text(std::string_view stored) {
  double value = 0;
  const auto [end, error] = std::from_chars(stored.data(), stored.data() + stored.size(), value);
  if (error != std::errc() || end != stored.data() + stored.size() || !std::isfinite(value)) return std::string(stored);
  char buffer[64];
  const auto written = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::general, 15);
  return std::string(buffer, written.ptr);
}

// --- Worksheets

constexpr size_t kMaxColumns = 16384;  // XFD, Excel's last column
constexpr int kMaxRows = 1048576;

// Parses a cell reference ("C7") into its column index and row number.
bool parse_reference(std::string_view reference, size_t& column, int& row) {
  size_t at = 0;
  size_t letters_value = 0;
  while (at < reference.size() && at < 3 && reference[at] >= 'A' && reference[at] <= 'Z') {
    letters_value = letters_value * 26 + size_t(reference[at] - 'A' + 1);
    ++at;
  }
  if (at == 0 || letters_value > kMaxColumns) return false;
  const auto [end, error] = std::from_chars(reference.data() + at, reference.data() + reference.size(), row);
  if (error != std::errc() || end != reference.data() + reference.size() || row < 1 || row > kMaxRows) return false;
  column = letters_value - 1;
  return true;
}

class WorksheetReader {
 public:
  WorksheetReader(const std::string& file, const std::string& sheet_name, const std::vector<std::string>& shared)
      : file_(file), shared_(shared), builder_(file, sheet_name), sheet_name_(sheet_name) {}

  Sheet read(const pugi::xml_node& worksheet, const std::string& part) {
    int row = 0;
    for_each_child(child(worksheet, "sheetData"), "row", [&](const pugi::xml_node& row_node) {
      const std::string_view row_reference = attribute(row_node, "r");
      if (row_reference.empty()) {
        ++row;
      } else {
        const auto [end, error] =
            std::from_chars(row_reference.data(), row_reference.data() + row_reference.size(), row);
        if (error != std::errc() || end != row_reference.data() + row_reference.size() || row < 1 || row > kMaxRows) {
          invalid(file_, part + ": bad row number \"" + std::string(row_reference) + "\"");
        }
      }
      size_t column = 0;
      bool first = true;
      for_each_child(row_node, "c", [&](const pugi::xml_node& cell) {
        const std::string_view reference = attribute(cell, "r");
        int cell_row = row;
        if (reference.empty()) {
          column = first ? 0 : column + 1;  // cells without a reference follow each other
        } else if (!parse_reference(reference, column, cell_row)) {
          invalid(file_, part + ": bad cell reference \"" + std::string(reference) + "\"");
        } else if (first && row_reference.empty()) {
          row = cell_row;  // a row without a number takes its cells' row
        } else if (cell_row != row) {
          invalid(file_, part + ": cell " + std::string(reference) + " is inside row " + std::to_string(row));
        }
        first = false;
        if (column >= kMaxColumns) invalid(file_, part + ": too many columns in row " + std::to_string(row));
        builder_.add_cell(row, column, cell_text(cell, row, column));
      });
    });
    return builder_.finish();
  }

 private:
  std::string cell_text(const pugi::xml_node& cell, int row, size_t column) const {
    const std::string_view type = attribute(cell, "t");
    const char* value = child(cell, "v").text().get();
    if (type == "inlineStr") return string_item_text(child(cell, "is"));
    if (type == "s") {
      size_t index = 0;
      const std::string_view digits(value);
      const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
      if (error != std::errc() || end != digits.data() + digits.size() || index >= shared_.size()) {
        throw FormError(file_, place(row, column), "the cell refers to a shared string that does not exist");
      }
      return shared_[index];
    }
    if (type == "b") return std::string_view(value) == "1" ? "TRUE" : "FALSE";
    if (type == "e")
      throw FormError(file_, place(row, column), "the cell holds the spreadsheet error " + std::string(value));
    if (type == "str" || type == "d") return decode_escapes(value);
    return number_text(value);
  }

  CellLocation place(int row, size_t column) const {
    return CellLocation{sheet_name_, row, column_letters(column), {}};
  }

  const std::string& file_;
  const std::vector<std::string>& shared_;
  SheetBuilder builder_;
  std::string sheet_name_;
};

}  // namespace

// --- The workbook

Workbook read_xlsx(std::string_view bytes, const std::string& file, const std::vector<std::string>& wanted,
                   const XlsxLimits& limits) {
  ZipArchive zip(bytes, file, limits);
  const std::string workbook_part =
      find_relationship(read_relationships(zip, "", file), "officeDocument", "xl/workbook.xml");
  std::optional<std::string> workbook_content = zip.read(workbook_part);
  if (!workbook_content) invalid(file, "it has no workbook part (" + workbook_part + ")");
  const XmlPart workbook_xml(std::move(*workbook_content), workbook_part, file);
  const auto relationships = read_relationships(zip, workbook_part, file);
  const std::vector<std::string> shared_strings = read_shared_strings(
      zip, find_relationship(relationships, "sharedStrings", directory_of(workbook_part) + "sharedStrings.xml"), file);

  Workbook workbook;
  workbook.source = file;
  for_each_child(child(workbook_xml.root(), "sheets"), "sheet", [&](const pugi::xml_node& sheet) {
    const std::string name(trim(attribute(sheet, "name")));
    workbook.sheet_names.push_back(name);
    bool is_wanted = false;
    for (const std::string& wanted_name : wanted) is_wanted = is_wanted || equals_ignoring_case(name, wanted_name);
    if (!is_wanted) return;
    const auto relationship = relationships.find(std::string(attribute(sheet, "id")));
    if (relationship == relationships.end()) invalid(file, "sheet \"" + name + "\" has no part");
    const std::string& part = relationship->second.target;
    std::optional<std::string> content = zip.read(part);
    if (!content) invalid(file, "sheet \"" + name + "\" has no part (" + part + ")");
    const XmlPart sheet_xml(std::move(*content), part, file);
    workbook.sheets.push_back(WorksheetReader(file, name, shared_strings).read(sheet_xml.root(), part));
  });
  return workbook;
}

}  // namespace outpost::forms
