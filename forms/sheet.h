// The raw table layer under the XLSForm reader: sheets of trimmed text cells as a spreadsheet
// shows them, where every cell knows its place, and the error type that names that place.
// Sheets come from an .xlsx (forms/xlsx.h) or from a directory of .csv files (here).
#pragma once

#include <cstddef>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace outpost::forms {

// --- Places and errors

// Where something is in a form's workbook. row 0 means the whole sheet (or, with no sheet, the
// whole file); an empty column means the whole row.
struct CellLocation {
  std::string sheet;   // as the workbook names it: "survey"
  int row = 0;         // 1-based as the spreadsheet shows it, header row included
  std::string column;  // letters: "C"
  std::string header;  // the column's header as written: "relevant"

  // "survey row 7, column C (relevant)"
  std::string describe() const;
};

// A form that cannot be used as written. what() reads
//   "FILE: SHEET row R, column L (header): DETAIL"  for a row or a cell,
//   "FILE DETAIL"                                     for the whole file or sheet, where DETAIL
//                                                     reads on from the file name ("is empty").
class FormError : public std::runtime_error {
 public:
  FormError(std::string file, CellLocation location, std::string detail);

  const std::string& file() const { return file_; }
  const CellLocation& location() const { return location_; }
  const std::string& detail() const { return detail_; }

 private:
  std::string file_;
  CellLocation location_;
  std::string detail_;
};

// --- Sheets

// 0 -> "A", 25 -> "Z", 26 -> "AA".
std::string column_letters(size_t index);

struct SheetRow {
  int number = 0;                       // as the spreadsheet shows it, 1-based
  std::map<size_t, std::string> cells;  // by column index (0 = A); only non-empty cells
};

struct Sheet {
  std::string name;
  std::vector<SheetRow> rows;  // in order; rows with no content are left out

  // The first row is the header row (pyxform reads it the same way).
  const SheetRow* header() const { return rows.empty() ? nullptr : &rows.front(); }
  // A cell's place, with its column's header text.
  CellLocation location(int row, size_t column) const;
  CellLocation location(int row) const { return CellLocation{name, row, {}, {}}; }
};

// Builds sheets one cell at a time the same way for both file formats: values are trimmed of
// surrounding whitespace, must be UTF-8, and empty cells and empty rows are dropped.
class SheetBuilder {
 public:
  SheetBuilder(std::string file, std::string sheet_name);
  void add_cell(int row, size_t column, std::string_view value);
  Sheet finish();

 private:
  std::string file_;
  Sheet sheet_;
};

struct Workbook {
  std::string source;                    // the file or directory it came from, for messages and the fallback form id
  std::vector<Sheet> sheets;             // the sheets that were read
  std::vector<std::string> sheet_names;  // every sheet the workbook has, read or not

  // Sheet names compare case-insensitively (ASCII), as pyxform does.
  const Sheet* find(std::string_view name) const;
};

// --- CSV

// The sheets of an XLSForm, when given as CSV files.
const std::vector<std::string>& xlsform_sheet_names();  // survey, choices, settings

// Parses RFC 4180 CSV: quoted fields, doubled quotes, line breaks inside quotes, CRLF or LF,
// an optional UTF-8 byte order mark. Row numbers count records, as a spreadsheet shows them.
Sheet parse_csv(std::string_view text, const std::string& file, const std::string& sheet_name);

// Reads DIR/survey.csv, DIR/choices.csv and DIR/settings.csv (file names matched
// case-insensitively); absent ones are left out of the workbook.
Workbook read_csv_directory(const std::string& directory);

// Form files larger than this are refused before they are read.
constexpr size_t kMaxFormFileBytes = 32 * 1024 * 1024;
// Reads a whole form file; a missing, unreadable or oversized file is a FormError.
std::string read_form_file(const std::string& path);

// --- Text helpers shared by the form layer

std::string to_lower_ascii(std::string_view text);
bool equals_ignoring_case(std::string_view a, std::string_view b);
std::string_view trim(std::string_view text);
bool is_valid_utf8(std::string_view text);

}  // namespace outpost::forms
