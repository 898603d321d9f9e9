// A small .xlsx writer for tests, so the XLSForm reader is exercised through real zip archives and
// real SpreadsheetML, the way Excel, LibreOffice and Kobo write them: a workbook with its
// relationships, one worksheet per sheet and shared strings, deflated by libzip.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace outpost::test {

// A sheet as rows of cell texts. An empty text leaves the cell out, so rows and columns can have
// gaps; an empty row leaves the row out.
struct XlsxSheet {
  std::string name;
  std::vector<std::vector<std::string>> rows;
};

// Part name -> content, in archive order.
using ZipParts = std::vector<std::pair<std::string, std::string>>;

// The parts of a minimal, valid .xlsx holding `sheets` (every cell a shared string), so a test
// can change one part before zipping.
ZipParts xlsx_parts(const std::vector<XlsxSheet>& sheets);

enum class Compression { Deflate, Store };

// A zip archive of `parts`, in memory.
std::string zip_bytes(const ZipParts& parts, Compression compression = Compression::Deflate);

inline std::string xlsx_bytes(const std::vector<XlsxSheet>& sheets) { return zip_bytes(xlsx_parts(sheets)); }

}  // namespace outpost::test
