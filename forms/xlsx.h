// Reading sheets out of an .xlsx (Office Open XML spreadsheet): a zip archive (libzip) of XML
// parts (pugixml). Only what a form needs: sheet names, cell text, numbers and booleans.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "forms/sheet.h"

namespace outpost::forms {

// Limits against zip bombs: what one part, and all parts read together, may expand to.
constexpr size_t kMaxXlsxPartBytes = 32 * 1024 * 1024;
constexpr size_t kMaxXlsxTotalBytes = 64 * 1024 * 1024;

struct XlsxLimits {
  size_t part_bytes = kMaxXlsxPartBytes;
  size_t total_bytes = kMaxXlsxTotalBytes;
};

// Reads the sheets named in `wanted` (compared case-insensitively; absent ones are left out) from
// an .xlsx held in `bytes`. `file` names the file in errors. Cells hold text as the spreadsheet
// shows it: shared and inline strings (rich text runs joined), numbers without binary noise
// ("3", "0.1"), booleans as TRUE/FALSE. A file that is not a readable .xlsx is a FormError
// "FILE is not a valid .xlsx (zip) file: why"; a cell holding a spreadsheet error (#REF!) is a
// FormError naming the cell.
Workbook read_xlsx(std::string_view bytes, const std::string& file, const std::vector<std::string>& wanted,
                   const XlsxLimits& limits = {});

}  // namespace outpost::forms
