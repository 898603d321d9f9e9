// libFuzzer target for the XLSForm reader. Each input is read twice:
// - as an .xlsx held in memory (the zip container, the XML parts, the cells), and
// - as CSV sheets, split on form feeds into survey, choices and settings, so that arbitrary tables
//   reach the form builder without having to get through a valid zip first.
// A FormError is the expected answer to bad input; anything else (a crash, another exception, a
// sanitizer report, a leak) is a bug.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "forms/sheet.h"
#include "forms/xlsform_reader.h"

namespace {

void read_as_xlsx(std::string_view bytes) {
  try {
    outpost::forms::read_xlsform_xlsx(bytes, "fuzz.xlsx");
  } catch (const outpost::forms::FormError&) {
  }
}

void read_as_csv_sheets(std::string_view bytes) {
  outpost::forms::Workbook workbook;
  workbook.source = "fuzz";
  try {
    for (const std::string& name : outpost::forms::xlsform_sheet_names()) {
      const size_t end = std::min(bytes.find('\f'), bytes.size());
      workbook.sheets.push_back(outpost::forms::parse_csv(bytes.substr(0, end), "fuzz", name));
      workbook.sheet_names.push_back(name);
      if (end == bytes.size()) break;
      bytes.remove_prefix(end + 1);
    }
    outpost::forms::build_form(workbook);
  } catch (const outpost::forms::FormError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  read_as_xlsx(bytes);
  read_as_csv_sheets(bytes);
  return 0;
}
