#include "forms/sheet.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

namespace outpost::forms {

// --- Places and errors

std::string CellLocation::describe() const {
  std::string text = sheet;
  if (row > 0) text += " row " + std::to_string(row);
  if (!column.empty()) {
    text += ", column " + column;
    if (!header.empty()) text += " (" + header + ")";
  }
  return text;
}

namespace {
std::string compose_message(const std::string& file, const CellLocation& location, const std::string& detail) {
  if (location.row == 0) return file + " " + detail;
  return file + ": " + location.describe() + ": " + detail;
}
}  // namespace

FormError::FormError(std::string file, CellLocation location, std::string detail)
    : std::runtime_error(compose_message(file, location, detail)),
      file_(std::move(file)),
      location_(std::move(location)),
      detail_(std::move(detail)) {}

// --- Sheets

std::string column_letters(size_t index) {
  std::string letters;
  for (size_t n = index + 1; n > 0; n = (n - 1) / 26) letters.insert(letters.begin(), char('A' + (n - 1) % 26));
  return letters;
}

CellLocation Sheet::location(int row, size_t column) const {
  CellLocation place{name, row, column_letters(column), {}};
  if (const SheetRow* head = header()) {
    if (auto cell = head->cells.find(column); cell != head->cells.end()) place.header = cell->second;
  }
  return place;
}

SheetBuilder::SheetBuilder(std::string file, std::string sheet_name) : file_(std::move(file)) {
  sheet_.name = std::move(sheet_name);
}

void SheetBuilder::add_cell(int row, size_t column, std::string_view value) {
  if (!sheet_.rows.empty() && row < sheet_.rows.back().number) {
    throw FormError(file_, sheet_.location(row),
                    "rows are out of order: this one comes after row " + std::to_string(sheet_.rows.back().number));
  }
  const std::string_view text = trim(value);
  if (text.empty()) return;
  if (!is_valid_utf8(text)) {
    throw FormError(file_, sheet_.location(row, column), "the text is not valid UTF-8 (save the file as UTF-8)");
  }
  if (sheet_.rows.empty() || sheet_.rows.back().number != row) sheet_.rows.push_back(SheetRow{row, {}});
  sheet_.rows.back().cells[column] = std::string(text);
}

Sheet SheetBuilder::finish() { return std::move(sheet_); }

const Sheet* Workbook::find(std::string_view name) const {
  for (const Sheet& sheet : sheets) {
    if (equals_ignoring_case(sheet.name, name)) return &sheet;
  }
  return nullptr;
}

// --- CSV

const std::vector<std::string>& xlsform_sheet_names() {
  static const std::vector<std::string> names{"survey", "choices", "settings"};
  return names;
}

Sheet parse_csv(std::string_view text, const std::string& file, const std::string& sheet_name) {
  constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";
  if (text.substr(0, kByteOrderMark.size()) == kByteOrderMark) text.remove_prefix(kByteOrderMark.size());

  SheetBuilder builder(file, sheet_name);
  int row = 1;
  size_t column = 0;
  size_t at = 0;
  std::string field;
  while (at < text.size()) {
    field.clear();
    if (text[at] == '"') {
      ++at;
      for (;;) {
        const size_t quote = text.find('"', at);
        if (quote == std::string_view::npos) {
          throw FormError(file, CellLocation{sheet_name, row, column_letters(column), {}},
                          "a quoted field is never closed (a \" is missing)");
        }
        field.append(text.substr(at, quote - at));  // line breaks inside quotes stay in the record
        at = quote + 1;
        if (at < text.size() && text[at] == '"') {
          field += '"';
          ++at;
          continue;
        }
        break;
      }
      if (at < text.size() && text[at] != ',' && text[at] != '\r' && text[at] != '\n') {
        throw FormError(file, CellLocation{sheet_name, row, column_letters(column), {}},
                        "text follows a closing quote (write a quote inside a quoted field as \"\")");
      }
    } else {
      const size_t end = std::min(text.find_first_of(",\r\n", at), text.size());
      field.assign(text.substr(at, end - at));
      at = end;
    }
    builder.add_cell(row, column, field);
    if (at == text.size()) break;
    if (text[at] == ',') {
      ++at;
      ++column;
      continue;
    }
    if (text[at] == '\r' && at + 1 < text.size() && text[at + 1] == '\n') ++at;
    ++at;
    ++row;
    column = 0;
  }
  return builder.finish();
}

std::string read_form_file(const std::string& path) {
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (error || !std::filesystem::exists(status)) throw FormError(path, {}, "does not exist");
  if (!std::filesystem::is_regular_file(status)) throw FormError(path, {}, "is not a file");
  const auto size = std::filesystem::file_size(path, error);
  if (!error && size > kMaxFormFileBytes) {
    throw FormError(path, {}, "is larger than " + std::to_string(kMaxFormFileBytes >> 20) + " MiB");
  }
  std::ifstream in(path, std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad() || error) throw FormError(path, {}, "cannot be read");
  return content;
}

Workbook read_csv_directory(const std::string& directory) {
  std::error_code error;
  if (!std::filesystem::is_directory(directory, error)) throw FormError(directory, {}, "is not a directory");
  Workbook workbook;
  workbook.source = directory;
  for (const std::string& sheet_name : xlsform_sheet_names()) {
    for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
      if (!equals_ignoring_case(entry.path().filename().string(), sheet_name + ".csv")) continue;
      workbook.sheets.push_back(parse_csv(read_form_file(entry.path().string()), directory, sheet_name));
      workbook.sheet_names.push_back(sheet_name);
      break;
    }
    if (error) throw FormError(directory, {}, "cannot be listed: " + error.message());
  }
  return workbook;
}

// --- Text helpers

std::string to_lower_ascii(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  }
  return lower;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && to_lower_ascii(a) == to_lower_ascii(b);
}

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n\v\f";
  const size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

bool is_valid_utf8(std::string_view text) {
  size_t at = 0;
  while (at < text.size()) {
    const auto lead = static_cast<unsigned char>(text[at]);
    if (lead < 0x80) {
      ++at;
      continue;
    }
    // The lead byte gives the sequence length and the code point's top bits.
    size_t length = 0;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
    } else {
      return false;
    }
    char32_t code = lead & (0x7F >> length);
    if (at + length > text.size()) return false;
    for (size_t i = 1; i < length; ++i) {
      const auto next = static_cast<unsigned char>(text[at + i]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    const char32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < smallest[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    at += length;
  }
  return true;
}

}  // namespace outpost::forms
