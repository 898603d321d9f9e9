// The XLSForm reader: the sheet layer (CSV and .xlsx, read through real zip archives written by
// tests/support/xlsx_writer), the form model it builds, the built-in templates in assets/forms,
// forms shaped like real Kobo/ODK deployments in tests/fixtures/forms, and broken forms, each with
// its exact error.

#include "forms/form.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "forms/sheet.h"
#include "forms/xlsform_reader.h"
#include "forms/xlsx.h"
#include "platform/files.h"
#include "support/temp_dir.h"
#include "support/xlsx_writer.h"

using namespace outpost;
using namespace outpost::forms;
using outpost::test::TempDir;
using outpost::test::XlsxSheet;
using outpost::test::ZipParts;

namespace {

using Rows = std::vector<std::vector<std::string>>;

const std::string kFixtures = OUTPOST_FORM_FIXTURES;
const std::string kTemplates = OUTPOST_FORM_TEMPLATES;
const std::string kEnglish = "English (en)";
const std::string kFrench = "Français (fr)";

// --- Helpers ------------------------------------------------------------------------------------

Form read_sheets(const Rows& survey, const Rows& choices = {}, const Rows& settings = {},
                 const std::string& file = "broken.xlsx") {
  std::vector<XlsxSheet> sheets{{"survey", survey}};
  if (!choices.empty()) sheets.push_back({"choices", choices});
  if (!settings.empty()) sheets.push_back({"settings", settings});
  return read_xlsform_xlsx(test::xlsx_bytes(sheets), file);
}

// The FormError's message, or a note that nothing was thrown.
std::string error_of(const std::function<void()>& read) {
  try {
    read();
  } catch (const FormError& error) {
    return error.what();
  }
  return "(no error)";
}

// The sheets of a CSV form directory written as an .xlsx, every cell at the same row and column.
std::string xlsx_from_directory(const std::string& directory) {
  std::vector<XlsxSheet> sheets;
  for (const Sheet& sheet : read_csv_directory(directory).sheets) {
    XlsxSheet written{sheet.name, {}};
    for (const SheetRow& row : sheet.rows) {
      written.rows.resize(static_cast<size_t>(row.number));
      auto& cells = written.rows.back();
      for (const auto& [column, text] : row.cells) {
        cells.resize(std::max(cells.size(), column + 1));
        cells[column] = text;
      }
    }
    sheets.push_back(std::move(written));
  }
  return test::xlsx_bytes(sheets);
}

std::string describe(const Translations& texts) {
  std::string text;
  for (const auto& [language, words] : texts) text += language + "=" + words + ";";
  return text;
}

std::string describe(const std::optional<ExpressionCell>& cell) {
  return cell ? cell->text + " @ " + cell->location.describe() : "-";
}

// Everything the reader took from a form, one line per item, to compare two reads of one form.
std::string summary(const Form& form) {
  std::ostringstream out;
  const FormSettings& settings = form.settings();
  out << settings.form_id << "|" << settings.version << "|" << settings.form_title << "|" << settings.default_language
      << "|" << describe(settings.instance_name) << "|" << settings.priority << "\n";
  for (const Language& language : form.languages())
    out << language.key << "|" << language.name << "|" << language.code << "\n";
  for (const Question& q : form.questions()) {
    out << type_name(q.type) << " " << q.name << " row " << q.row << " list " << q.list_name << " parent "
        << (q.parent ? form.questions()[*q.parent].name : "-") << "\n  " << describe(q.label) << " " << describe(q.hint)
        << " " << describe(q.required_message) << " " << describe(q.constraint_message) << "\n  required "
        << q.required.yes << describe(q.required.expression) << " read_only " << q.read_only.yes
        << describe(q.read_only.expression) << "\n  " << describe(q.relevant) << " " << describe(q.constraint) << " "
        << describe(q.calculation) << " " << describe(q.choice_filter) << " " << describe(q.repeat_count) << "\n  ["
        << q.default_value << "] [" << q.appearance << "] [" << q.hxl << "]\n";
  }
  for (const auto& [name, list] : form.choice_lists()) {
    for (const Choice& choice : list.choices) {
      out << name << "/" << choice.name << " row " << choice.row << " " << describe(choice.label);
      for (const auto& [column, value] : choice.columns) out << " " << column << "=" << value;
      out << "\n";
    }
  }
  return out.str();
}

// Reads a CSV form directory both as CSV and as an .xlsx written from the same cells; both reads
// must agree on everything, cell locations included.
Form read_both_ways(const std::string& directory) {
  const Form from_csv = read_xlsform(directory);
  const std::string file_name = std::filesystem::path(directory).filename().string() + ".xlsx";
  const Form from_xlsx = read_xlsform_xlsx(xlsx_from_directory(directory), file_name);
  CHECK(summary(from_csv) == summary(from_xlsx));
  return from_csv;
}

const Question& question(const Form& form, const std::string& name) {
  const Question* found = form.find(name);
  REQUIRE_MESSAGE(found != nullptr, name);
  return *found;
}

std::vector<std::string> names(const Form& form, const std::vector<size_t>& indexes) {
  std::vector<std::string> result;
  for (size_t index : indexes) result.push_back(form.questions()[index].name);
  return result;
}

void set_part(ZipParts& parts, const std::string& name, const std::string& content) {
  for (auto& [part, text] : parts) {
    if (part == name) {
      text = content;
      return;
    }
  }
  parts.emplace_back(name, content);
}

constexpr char kSheetNamespace[] = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";

std::string worksheet(const std::string& rows) {
  return std::string("<worksheet xmlns=\"") + kSheetNamespace + "\"><sheetData>" + rows + "</sheetData></worksheet>";
}

const Sheet& only_sheet(const Workbook& workbook) {
  REQUIRE(workbook.sheets.size() == 1);
  return workbook.sheets.front();
}

// A sheet's cells as "row:column=text" lines, to compare in one CHECK.
std::string cells_of(const Sheet& sheet) {
  std::string text;
  for (const SheetRow& row : sheet.rows) {
    for (const auto& [column, value] : row.cells) {
      text += std::to_string(row.number) + ":" + column_letters(column) + "=" + value + "\n";
    }
  }
  return text;
}

}  // namespace

// --- Sheets: CSV --------------------------------------------------------------------------------

TEST_CASE("forms csv: RFC 4180 quoting, line breaks in quotes, BOM, CRLF; rows numbered as a spreadsheet shows them") {
  const std::string text =
      "\xEF\xBB\xBFtype,name,label\r\n"
      "text,q1,\"Hello, \"\"world\"\"\"\r\n"
      "note,q2,\"two\r\nlines\"\r\n"
      "\r\n  integer , q3 ,\r\n"
      ",,\ntext,q4,last";
  const Sheet sheet = parse_csv(text, "form", "survey");
  CHECK(cells_of(sheet) ==
        "1:A=type\n1:B=name\n1:C=label\n"
        "2:A=text\n2:B=q1\n2:C=Hello, \"world\"\n"
        "3:A=note\n3:B=q2\n3:C=two\r\nlines\n"
        "5:A=integer\n5:B=q3\n"
        "7:A=text\n7:B=q4\n7:C=last\n");
  CHECK(sheet.location(3, 2).describe() == "survey row 3, column C (label)");
}

TEST_CASE("forms csv: an unclosed quote, text after a closing quote and invalid UTF-8 are refused at their cell") {
  CHECK(error_of([] { parse_csv("type,name\ntext,\"q1\n", "dir", "survey"); }) ==
        "dir: survey row 2, column B: a quoted field is never closed (a \" is missing)");
  CHECK(error_of([] { parse_csv("type,name\n\"text\"x,q1\n", "dir", "survey"); }) ==
        "dir: survey row 2, column A: text follows a closing quote (write a quote inside a quoted field as \"\")");
  CHECK(error_of([] { parse_csv("type,label\ntext,caf\xE9\n", "dir", "survey"); }) ==
        "dir: survey row 2, column B (label): the text is not valid UTF-8 (save the file as UTF-8)");
}

TEST_CASE("forms csv: a directory of sheets, file names in any case; what is missing is named") {
  TempDir dir;
  files::write_file_atomic(dir.file("SURVEY.CSV"), "type,name,label\ntext,q,Question\n");
  files::write_file_atomic(dir.file("Settings.csv"), "form_id\nmy_form\n");
  const Workbook workbook = read_csv_directory(dir.path());
  CHECK(workbook.sheet_names == std::vector<std::string>{"survey", "settings"});
  CHECK(read_xlsform(dir.path()).settings().form_id == "my_form");

  CHECK(error_of([&] { read_xlsform(dir.file("absent")); }) == dir.file("absent") + " does not exist");
  TempDir empty;
  CHECK(error_of([&] { read_xlsform(empty.path()); }) == empty.path() + " has no survey sheet (its sheets: none)");
}

TEST_CASE("forms sheet: column letters") {
  CHECK(column_letters(0) == "A");
  CHECK(column_letters(25) == "Z");
  CHECK(column_letters(26) == "AA");
  CHECK(column_letters(701) == "ZZ");
  CHECK(column_letters(16383) == "XFD");
}

// --- Sheets: .xlsx ------------------------------------------------------------------------------

TEST_CASE("forms xlsx: shared strings with rich text, inline strings, numbers, booleans, gaps in rows and columns") {
  ZipParts parts = test::xlsx_parts({{"Survey", {}}});  // the sheet name's case does not matter
  set_part(parts, "xl/sharedStrings.xml",
           std::string("<sst xmlns=\"") + kSheetNamespace +
               "\"><si><t>type</t></si>"
               "<si><r><rPr><b/></rPr><t>Hello</t></r><r><t xml:space=\"preserve\"> </t></r><r><t>world</t></r>"
               "<rPh sb=\"0\" eb=\"1\"><t>ハロー</t></rPh></si>"
               "<si><t>one_x000D_\ntwo _x005F_x000D_</t></si></sst>");
  set_part(parts, "xl/worksheets/sheet1.xml",
           worksheet("<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"C1\" t=\"inlineStr\"><is><t>  inline  "
                     "</t></is></c></row>"
                     "<row r=\"3\"><c r=\"A3\"><v>3</v></c><c r=\"B3\"><v>0.10000000000000001</v></c>"
                     "<c r=\"C3\" t=\"b\"><v>1</v></c><c r=\"D3\" t=\"b\"><v>0</v></c>"
                     "<c r=\"E3\" t=\"str\"><f>A1</f><v>formula text</v></c><c r=\"F3\" s=\"1\"/></row>"
                     "<row r=\"4\"><c t=\"s\"><v>1</v></c><c t=\"s\"><v>2</v></c></row>"
                     "<row><c r=\"AB5\"><v>-2.5E-3</v></c><c "
                     "t=\"inlineStr\"><is><r><t>run</t></r><r><t>s</t></r></is></c></row>"));
  const Workbook workbook = read_xlsx(test::zip_bytes(parts), "cells.xlsx", {"survey"});
  CHECK(workbook.sheet_names == std::vector<std::string>{"Survey"});
  const Sheet& sheet = only_sheet(workbook);
  CHECK(sheet.name == "Survey");
  CHECK(cells_of(sheet) ==
        "1:A=type\n1:C=inline\n"
        "3:A=3\n3:B=0.1\n3:C=TRUE\n3:D=FALSE\n3:E=formula text\n"
        "4:A=Hello world\n4:B=one\r\ntwo _x000D_\n"
        "5:AB=-0.0025\n5:AC=runs\n");
}

TEST_CASE("forms xlsx: prefixed namespaces, absolute relationship targets, sheets not asked for left unread") {
  ZipParts parts = test::xlsx_parts({{"notes", {{"anything"}}}, {"survey", {}}});
  set_part(parts, "xl/workbook.xml",
           std::string("<x:workbook xmlns:x=\"") + kSheetNamespace +
               "\" xmlns:rel=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><x:sheets>"
               "<x:sheet name=\"notes\" sheetId=\"1\" rel:id=\"rId1\"/><x:sheet name=\"survey\" sheetId=\"2\" "
               "rel:id=\"rId2\"/>"
               "</x:sheets></x:workbook>");
  set_part(parts, "xl/_rels/workbook.xml.rels",
           "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
           "<Relationship Id=\"rId1\" "
           "Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" "
           "Target=\"worksheets/sheet1.xml\"/>"
           "<Relationship Id=\"rId2\" "
           "Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" "
           "Target=\"/xl/worksheets/../worksheets/sheet2.xml\"/></Relationships>");
  set_part(
      parts, "xl/worksheets/sheet2.xml",
      std::string("<x:worksheet xmlns:x=\"") + kSheetNamespace +
          "\"><x:sheetData><x:row r=\"1\"><x:c r=\"B1\" t=\"inlineStr\"><x:is><x:t>prefixed</x:t></x:is></x:c></x:row>"
          "</x:sheetData></x:worksheet>");
  const Workbook workbook = read_xlsx(test::zip_bytes(parts), "prefixed.xlsx", {"survey"});
  CHECK(workbook.sheet_names == std::vector<std::string>{"notes", "survey"});
  CHECK(cells_of(only_sheet(workbook)) == "1:B=prefixed\n");
}

TEST_CASE("forms xlsx: a file that is not a readable .xlsx says so") {
  const std::string good = test::xlsx_bytes({{"survey", {{"type", "name", "label"}, {"text", "q", "Q"}}}});
  CHECK(read_xlsform_xlsx(good, "good.xlsx").questions().size() == 1);

  CHECK(error_of([] { read_xlsform_xlsx("", "empty.xlsx"); }) == "empty.xlsx is empty");
  CHECK(error_of([] { read_xlsform_xlsx("type,name\ntext,q\n", "survey.xlsx"); }) ==
        "survey.xlsx is not a valid .xlsx (zip) file: Not a zip archive");
  CHECK(error_of([&] { read_xlsform_xlsx(good.substr(0, good.size() / 2), "truncated.xlsx"); }) ==
        "truncated.xlsx is not a valid .xlsx (zip) file: Not a zip archive");
  CHECK(error_of([&] { read_xlsform_xlsx(good.substr(0, good.size() - 10), "cut.xlsx"); }) ==
        "cut.xlsx is not a valid .xlsx (zip) file: Not a zip archive");
  CHECK(error_of([] { read_xlsform_xlsx(std::string("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8) + "rest", "old.xls"); }) ==
        "old.xls is an Excel 97-2003 (.xls) or password-protected file; save it as an unprotected .xlsx");
  CHECK(error_of([] {
          read_xlsform_xlsx(test::zip_bytes({{"readme.txt", "hello"}}), "other.zip");
        }) == "other.zip is not a valid .xlsx (zip) file: it has no workbook part (xl/workbook.xml)");

  ZipParts parts = test::xlsx_parts({{"survey", {}}});
  set_part(parts, "xl/worksheets/sheet1.xml", worksheet("<row r=\"1\"><c r=\"A1\"><v>1</v></row>"));
  CHECK(error_of([&] { read_xlsform_xlsx(test::zip_bytes(parts), "xml.xlsx"); }) ==
        "xml.xlsx is not a valid .xlsx (zip) file: xl/worksheets/sheet1.xml: Start-end tags mismatch at byte 119");
  set_part(parts, "xl/worksheets/sheet1.xml", worksheet("<row r=\"1\"><c r=\"1A\"><v>1</v></c></row>"));
  CHECK(error_of([&] { read_xlsform_xlsx(test::zip_bytes(parts), "ref.xlsx"); }) ==
        "ref.xlsx is not a valid .xlsx (zip) file: xl/worksheets/sheet1.xml: bad cell reference \"1A\"");
  set_part(parts, "xl/worksheets/sheet1.xml", worksheet("<row r=\"4\"><c r=\"C4\" t=\"e\"><v>#REF!</v></c></row>"));
  CHECK(error_of([&] { read_xlsform_xlsx(test::zip_bytes(parts), "formula.xlsx"); }) ==
        "formula.xlsx: survey row 4, column C: the cell holds the spreadsheet error #REF!");
  set_part(parts, "xl/worksheets/sheet1.xml", worksheet("<row r=\"2\"><c r=\"A2\" t=\"s\"><v>99</v></c></row>"));
  CHECK(error_of([&] { read_xlsform_xlsx(test::zip_bytes(parts), "strings.xlsx"); }) ==
        "strings.xlsx: survey row 2, column A: the cell refers to a shared string that does not exist");
}

TEST_CASE("forms xlsx: a damaged part is caught by its checksum") {
  // Stored rather than deflated, so one changed byte still inflates and only the CRC tells.
  ZipParts parts = test::xlsx_parts({{"survey", {}}});
  set_part(
      parts, "xl/worksheets/sheet1.xml",
      worksheet("<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>" + std::string(500, 'q') + "</t></is></c></row>"));
  std::string bytes = test::zip_bytes(parts, test::Compression::Store);
  const size_t run = bytes.find(std::string(500, 'q'));
  REQUIRE(run != std::string::npos);
  bytes[run + 250] = 'r';
  CHECK(error_of([&] { read_xlsform_xlsx(bytes, "damaged.xlsx"); }) ==
        "damaged.xlsx is not a valid .xlsx (zip) file: xl/worksheets/sheet1.xml: CRC error");
}

TEST_CASE("forms xlsx: parts that expand past the limits are refused while they are inflated") {
  // Small limits keep the test quick; the defaults (32 MiB a part, 64 MiB in all) work the same way.
  constexpr size_t kMiB = 1024 * 1024;
  const XlsxLimits limits{kMiB, 2 * kMiB};
  ZipParts parts = test::xlsx_parts({{"survey", {}}});
  set_part(parts, "xl/worksheets/sheet1.xml", worksheet(std::string(kMiB, ' ')));
  const std::string bomb = test::zip_bytes(parts);
  CHECK(bomb.size() < 10 * 1024);
  CHECK(error_of([&] { read_xlsx(bomb, "bomb.xlsx", {"survey"}, limits); }) ==
        "bomb.xlsx has a part (xl/worksheets/sheet1.xml) that expands past 1 MiB, too large for a form");

  parts = test::xlsx_parts({{"survey", {}}, {"choices", {}}, {"settings", {}}});
  for (int i = 1; i <= 3; ++i)
    set_part(parts, "xl/worksheets/sheet" + std::to_string(i) + ".xml", worksheet(std::string(kMiB - 1000, ' ')));
  CHECK(error_of([&] { read_xlsx(test::zip_bytes(parts), "bombs.xlsx", xlsform_sheet_names(), limits); }) ==
        "bombs.xlsx expands past 2 MiB, too large for a form");
}

TEST_CASE("forms xlsx: a form file on disk, and one too large to read") {
  TempDir dir;
  const std::string path = dir.file("Rapid assessment (v2).xlsx");
  files::write_file_atomic(path, test::xlsx_bytes({{"survey", {{"type", "name", "label"}, {"text", "q", "Q"}}}}));
  const Form form = read_xlsform(path);
  CHECK(form.settings().form_id == "Rapid_assessment__v2_");  // no form_id: the file name stands in
  CHECK(form.settings().form_title == "Rapid_assessment__v2_");

  const std::string huge = dir.file("huge.xlsx");
  std::filesystem::resize_file((files::write_file_atomic(huge, ""), huge), kMaxFormFileBytes + 1);
  CHECK(error_of([&] { read_xlsform(huge); }) == huge + " is larger than 32 MiB");
}

// --- The form model -----------------------------------------------------------------------------

TEST_CASE("forms model: a tree with a flat index, texts per language, expressions with their cells") {
  const Form form = read_sheets(
      {{"Type", " Name ", "Label::English (en)", "label::Français (fr)", "hint", "required", "relevant", "constraint",
        "constraint_message::English (en)", "calculation", "default", "read_only", "appearance", "choice_filter",
        "repeat_count", "HXL", "$kuid"},
       {"begin group", "site", "Site", "Site"},
       {"select_one region", "region", "Region", "Région", "Pick one", "yes", "", "", "", "", "north", "", "minimal",
        "", "", "#adm1 +code", "k1"},
       {"end group"},
       {"integer", "n", "How many?", "Combien ?", "", "true()", "${region} != ''", ". > 0", "More than zero", "", "2"},
       {"begin_repeat", "person", "Person", "Personne", "", "", "${n} > 0", "", "", "", "", "", "", "", "${n}"},
       {"text", "person_name", "Name", "Nom", "", "${n} > 1", "", "", "", "", "", "no"},
       {"calculate", "double", "", "", "", "", "", "", "", "${n} * 2", "", "", "", "", "", "#x_double"},
       {"end_repeat"},
       {"select_one region", "region_again", "Again", "Encore", "", "", "", "", "", "", "", "yes", "",
        "name != ${region}"},
       {"note", "done", "Done: ${double}", "Fini : ${double}"}},
      {{"list_name", "name", "label::English (en)", "label::Français (fr)", "zone"},
       {"region", "north", "North", "Nord", "z1"},
       {"region", "south", "South", "", "z2"}},
      {{"form_id", "version", "form_title", "default_language", "instance_name", "priority"},
       {"model", "7", "Model form", kEnglish, "concat(${n}, ' people')", "urgent"}},
      "model.xlsx");

  CHECK(form.settings().form_id == "model");
  CHECK(form.settings().version == "7");
  CHECK(form.settings().form_title == "Model form");
  CHECK(form.settings().priority == kUrgentPriority);
  CHECK(form.settings().instance_name->location.describe() == "settings row 2, column E (instance_name)");

  REQUIRE(form.languages().size() == 2);
  CHECK(form.languages()[0].key == kEnglish);
  CHECK(form.languages()[0].name == "English");
  CHECK(form.languages()[0].code == "en");
  CHECK(form.languages()[1].code == "fr");

  CHECK(names(form, form.top_level()) == std::vector<std::string>{"site", "n", "person", "region_again", "done"});
  const Question& site = question(form, "site");
  CHECK(site.type == QuestionType::Group);
  CHECK(names(form, site.children) == std::vector<std::string>{"region"});
  const Question& region = question(form, "region");
  CHECK(region.list_name == "region");
  CHECK(region.row == 3);
  CHECK(region.required.yes);
  CHECK(!region.required.expression);
  CHECK(region.default_value == "north");
  CHECK(region.appearance == "minimal");
  CHECK(region.hxl == "#adm1 +code");
  CHECK(form.text(region.label, "Français (fr)") == "Région");
  CHECK(form.text(region.hint, "Français (fr)") == "Pick one");  // only in the default language

  const Question& n = question(form, "n");
  CHECK(n.required.yes);
  CHECK(n.relevant->text == "${region} != ''");
  CHECK(n.relevant->location.describe() == "survey row 5, column G (relevant)");
  CHECK(n.constraint->location.describe() == "survey row 5, column H (constraint)");
  CHECK(form.text(n.constraint_message, "Français (fr)") == "More than zero");

  const Question& person = question(form, "person");
  CHECK(person.type == QuestionType::Repeat);
  CHECK(person.repeat_count->text == "${n}");
  CHECK(names(form, person.children) == std::vector<std::string>{"person_name", "double"});
  const Question& person_name = question(form, "person_name");
  CHECK(!person_name.required.yes);
  CHECK(person_name.required.expression->text == "${n} > 1");
  CHECK(person_name.required.expression->location.describe() == "survey row 7, column F (required)");
  CHECK(!person_name.read_only.yes);
  REQUIRE(form.enclosing_repeats(question(form, "double")).size() == 1);
  CHECK(form.enclosing_repeats(question(form, "double")).front()->name == "person");
  CHECK(form.enclosing_repeats(region).empty());
  CHECK(question(form, "double").calculation->location.describe() == "survey row 8, column J (calculation)");
  CHECK(question(form, "region_again").choice_filter->location.describe() == "survey row 10, column N (choice_filter)");
  CHECK(question(form, "region_again").read_only.yes);

  const ChoiceList* regions = form.choices("region");
  REQUIRE(regions != nullptr);
  REQUIRE(regions->choices.size() == 2);
  CHECK(regions->choices[0].columns == std::map<std::string, std::string>{{"zone", "z1"}});
  CHECK(form.text(regions->choices[1].label, "Français (fr)") == "South");
  CHECK(regions->find("south")->row == 3);
  CHECK(form.choices("absent") == nullptr);
  CHECK(form.find("absent") == nullptr);

  std::vector<std::string> expressions;
  for (const ExpressionCell* cell : form.expressions()) expressions.push_back(cell->text);
  CHECK(expressions == std::vector<std::string>{"${region} != ''", ". > 0", "${n} > 0", "${n}", "${n} > 1", "${n} * 2",
                                                "name != ${region}", "concat(${n}, ' people')"});
}

TEST_CASE("forms model: a form without languages or settings; priorities") {
  const Form plain = read_sheets({{"type", "name", "label"}, {"text", "q", "Question"}}, {}, {}, "plain.xlsx");
  CHECK(plain.settings().form_id == "plain");
  CHECK(plain.settings().priority == kNormalPriority);
  REQUIRE(plain.languages().size() == 1);
  CHECK(plain.languages()[0].key == kDefaultLanguageKey);
  CHECK(plain.text(question(plain, "q").label, "Français (fr)") == "Question");

  const Rows survey{{"type", "name", "label"}, {"text", "q", "Question"}};
  CHECK(read_sheets(survey, {}, {{"priority"}, {"7"}}).settings().priority == 7);
  CHECK(read_sheets(survey, {}, {{"priority"}, {"Normal"}}).settings().priority == kNormalPriority);
  CHECK(read_sheets(survey, {}, {{"priority"}, {"URGENT"}}).settings().priority == kUrgentPriority);
}

// --- Built-in templates -------------------------------------------------------------------------

TEST_CASE("forms templates: every built-in template reads cleanly from CSV and from .xlsx, in English and French") {
  std::set<std::string> read;
  for (const auto& entry : std::filesystem::directory_iterator(kTemplates)) {
    if (!entry.is_directory()) continue;
    const std::string id = entry.path().filename().string();
    CAPTURE(id);
    const Form form = read_both_ways(entry.path().string());
    read.insert(id);
    CHECK(form.settings().form_id == id);
    CHECK(!form.settings().version.empty());
    CHECK(form.settings().instance_name);
    REQUIRE(form.languages().size() == 2);
    CHECK(form.languages()[0].key == kEnglish);
    CHECK(form.languages()[1].key == kFrench);

    size_t tagged = 0;
    for (const Question& q : form.questions()) {
      CAPTURE(q.name);
      for (const Translations* texts : {&q.label, &q.hint, &q.required_message, &q.constraint_message}) {
        CHECK(texts->count(kEnglish) == texts->count(kFrench));  // nothing left untranslated
      }
      if (q.type != QuestionType::Calculate && !is_metadata(q.type)) CHECK(q.label.count(kFrench) == 1);
      if (q.constraint && holds_value(q.type)) CHECK(q.constraint_message.count(kFrench) == 1);
      if (!q.hxl.empty()) ++tagged;
    }
    CHECK(tagged >= 8);
    for (const auto& [list_name, list] : form.choice_lists()) {
      for (const Choice& choice : list.choices) CHECK(choice.label.count(kFrench) == 1);
    }
  }
  CHECK(read == std::set<std::string>{"activity_3w", "incident_report", "rapid_needs_assessment", "sitrep"});
}

TEST_CASE("forms templates: emergency templates are urgent, the 3W is not, and each carries its HXL tags") {
  const auto hxl_tags = [](const Form& form) {
    std::set<std::string> tags;
    for (const Question& q : form.questions()) {
      if (!q.hxl.empty()) tags.insert(q.hxl);
    }
    return tags;
  };
  const auto has_all = [](const std::set<std::string>& tags, const std::vector<std::string>& wanted) {
    for (const std::string& tag : wanted) CHECK_MESSAGE(tags.count(tag) == 1, tag);
  };

  const Form sitrep = read_xlsform(kTemplates + "/sitrep");
  CHECK(sitrep.settings().priority == kUrgentPriority);
  has_all(hxl_tags(sitrep),
          {"#affected +ind", "#inneed +ind", "#reached +ind", "#affected +idps +ind", "#date +reported",
           "#sector +cluster", "#description +needs", "#description +response", "#description +gaps"});
  CHECK(question(sitrep, "cluster_updates").type == QuestionType::Repeat);
  CHECK(sitrep.choices("cluster")->choices.size() == 15);

  const Form assessment = read_xlsform(kTemplates + "/rapid_needs_assessment");
  CHECK(assessment.settings().priority == kUrgentPriority);
  has_all(hxl_tags(assessment),
          {"#adm1 +name", "#adm2 +name", "#loc +name", "#geo +coord", "#affected +ind", "#sector +priority"});
  CHECK(question(assessment, "priority_sectors").type == QuestionType::SelectMultiple);
  CHECK(question(assessment, "first_priority").choice_filter->text == "selected(${priority_sectors}, name)");

  const Form three_w = read_xlsform(kTemplates + "/activity_3w");
  CHECK(three_w.settings().priority == kNormalPriority);
  has_all(hxl_tags(three_w), {"#org +name", "#sector +cluster", "#activity +name", "#adm1 +name", "#adm2 +name",
                              "#loc +name", "#date +start", "#date +end", "#targeted +ind", "#reached +ind"});
  CHECK(three_w.choices("cluster")->choices.size() == 15);
  REQUIRE(three_w.enclosing_repeats(question(three_w, "activity")).size() == 1);
  CHECK(three_w.enclosing_repeats(question(three_w, "activity")).front()->name == "activities");

  const Form incident = read_xlsform(kTemplates + "/incident_report");
  CHECK(incident.settings().priority == kUrgentPriority);
  has_all(hxl_tags(incident), {"#date +incident", "#event +type", "#affected +f +children", "#affected +m +adults"});
  const Question& consent = question(incident, "informed_consent");
  CHECK(consent.type == QuestionType::Acknowledge);
  CHECK(consent.required.yes);
  CHECK(question(incident, "incident").relevant->text == "${informed_consent} = 'OK'");
}

// --- Forms shaped like real deployments ---------------------------------------------------------

TEST_CASE("forms fixtures: cascading selects filter on the choices' own columns (region -> district -> village)") {
  const Form form = read_both_ways(kFixtures + "/cascading_locations");
  CHECK(form.settings().form_id == "cascading_locations");
  CHECK(form.settings().version == "vA7xQ2kLp9");
  REQUIRE(form.languages().size() == 1);
  CHECK(form.languages()[0].key == kDefaultLanguageKey);

  CHECK(question(form, "region").required.yes);
  CHECK(!question(form, "household_location").required.yes);
  const Question& district = question(form, "district");
  CHECK(district.choice_filter->text == "region=${region}");
  CHECK(district.choice_filter->location.describe() == "survey row 5, column G (choice_filter)");
  CHECK(question(form, "village").choice_filter->text == "district=${district} or name='other'");
  CHECK(question(form, "village").appearance == "minimal");

  const ChoiceList& villages = *form.choices("village");
  REQUIRE(villages.choices.size() == 6);
  CHECK(villages.choices[0].row == 9);  // blank rows still count
  CHECK(villages.choices[0].columns == std::map<std::string, std::string>{{"district", "kaya"}, {"region", "north"}});
  CHECK(villages.find("other")->columns.empty());
  CHECK(form.choices("district")->find("leo")->columns.at("region") == "south");
  CHECK(form.text(form.choices("district")->find("leo")->label, "any") == "Léo");
}

TEST_CASE("forms fixtures: a cascading list as long as a country's villages") {
  Rows choices{{"list_name", "name", "label", "district"}};
  for (int i = 0; i < 5000; ++i) {
    choices.push_back(
        {"village", "v" + std::to_string(i), "Village " + std::to_string(i), "d" + std::to_string(i % 50)});
  }
  const Form form = read_sheets({{"type", "name", "label", "choice_filter"},
                                 {"select_one village", "village", "Village", "district=${district}"},
                                 {"text", "district", "District code"}},
                                choices, {}, "villages.xlsx");
  REQUIRE(form.choices("village")->choices.size() == 5000);
  CHECK(form.choices("village")->choices.back().columns.at("district") == "d49");
  choices.push_back({"village", "v123", "Again", "d1"});
  CHECK(error_of([&] {
          read_sheets({{"type", "name", "label"}, {"select_one village", "v", "V"}}, choices);
        }) ==
        "broken.xlsx: choices row 5002, column B (name): the choice \"v123\" is already in list \"village\" (row 125)");
}

TEST_CASE("forms fixtures: nested repeats (households -> members) with a repeat_count and sums across entries") {
  const Form form = read_both_ways(kFixtures + "/household_members");
  CHECK(names(form, form.top_level()) == std::vector<std::string>{"today", "household", "household_total", "summary"});
  const Question& household = question(form, "household");
  CHECK(household.type == QuestionType::Repeat);
  CHECK(household.appearance == "field-list");
  CHECK(names(form, household.children) == std::vector<std::string>{"household_id", "member_count", "member",
                                                                    "children_count", "children_note", "shelter"});
  const Question& member = question(form, "member");
  CHECK(member.repeat_count->text == "${member_count}");
  CHECK(member.repeat_count->location.describe() == "survey row 6, column I (repeat_count)");

  std::vector<std::string> around_age;
  for (const Question* repeat : form.enclosing_repeats(question(form, "age"))) around_age.push_back(repeat->name);
  CHECK(around_age == std::vector<std::string>{"household", "member"});
  CHECK(question(form, "shelter").type == QuestionType::Group);  // spelled "begin group"
  CHECK(form.enclosing_repeats(question(form, "rooms")).size() == 1);
  CHECK(question(form, "in_school").relevant->text == "${age} >= 5 and ${age} <= 17");
  CHECK(question(form, "children_count").calculation->text == "sum(${is_child})");
  CHECK(question(form, "household_total").calculation->text == "count(${household})");
  CHECK(form.settings().instance_name->text == "concat('Households ', ${today})");
}

TEST_CASE("forms fixtures: three languages, Spanish by default, for labels, hints, messages and choices") {
  const Form form = read_both_ways(kFixtures + "/multilingual_wash");
  CHECK(form.settings().default_language == "Español (es)");
  std::vector<std::string> codes;
  for (const Language& language : form.languages()) codes.push_back(language.name + "/" + language.code);
  CHECK(codes == std::vector<std::string>{"Español/es", "English/en", "Français/fr"});

  const Question& source = question(form, "water_source");
  CHECK(form.text(source.label, "Français (fr)") == "Source principale d'eau de boisson");
  CHECK(form.text(source.label, "Deutsch (de)") == "Fuente principal de agua para beber");
  CHECK(form.text(source.required_message, "English (en)") == "Please answer this question.");
  const Question& minutes = question(form, "collection_minutes");
  CHECK(form.text(minutes.hint, "Español (es)") == "Incluya el tiempo de espera.");
  CHECK(form.text(minutes.constraint_message, "Français (fr)") == "Entre 0 et 600 minutes.");
  CHECK(question(form, "treatment").type == QuestionType::SelectMultiple);
  CHECK(question(form, "soap_photo").type == QuestionType::Image);
  CHECK(form.text(form.choices("yes_no")->find("yes")->label, "Español (es)") == "Sí");
  CHECK(form.text(form.choices("treatment")->find("none")->label, "Français (fr)") == "Aucun");
}

TEST_CASE("forms fixtures: a health facility survey with constraints, calculations and required messages") {
  const Form form = read_both_ways(kFixtures + "/health_facility");
  const Question& code = question(form, "facility_code");
  CHECK(code.required.yes);
  CHECK(form.text(code.required_message, "") == "The facility code is needed to match the register.");
  CHECK(code.constraint->text == "regex(., '^HF-[0-9]{3}$')");
  CHECK(code.hxl == "#loc +code");
  CHECK(question(form, "beds_occupied").constraint->text == ". >= 0 and . <= ${beds}");
  CHECK(question(form, "occupancy").calculation->text ==
        "if(${beds} > 0, round(${beds_occupied} div ${beds} * 100, 1), 0)");
  const Question& per_clinician = question(form, "consultations_per_clinician");
  CHECK(per_clinician.read_only.yes);
  CHECK(per_clinician.calculation->location.describe() == "survey row 17, column J (calculation)");
  CHECK(question(form, "ors_stock_days").default_value == "0");
  CHECK(question(form, "cold_chain").relevant->text == "selected(${services}, 'immunization')");
  CHECK(form.expressions().size() == 18);
}

TEST_CASE("forms fixtures: every supported type, with defaults") {
  const Form form = read_both_ways(kFixtures + "/all_types");
  std::set<QuestionType> types;
  for (const Question& q : form.questions()) types.insert(q.type);
  CHECK(types.size() == 20);                                    // every QuestionType
  CHECK(question(form, "media").type == QuestionType::Group);   // "begin group"
  CHECK(question(form, "items").type == QuestionType::Repeat);  // "begin repeat"
  CHECK(question(form, "a_date_time").type == QuestionType::DateTime);
  CHECK(question(form, "colours").default_value == "red blue");
  CHECK(question(form, "a_geopoint").default_value == "12.3714 -1.5197 300 5");
  const Question& acknowledgement = question(form, "an_acknowledgement");
  CHECK(acknowledgement.default_value == "OK");
  CHECK(acknowledgement.required.expression->text == "${an_integer} > 0");
  CHECK(question(form, "computed_text").read_only.yes);
  CHECK(question(form, "an_image").appearance == "annotate");
  for (const Question& q : form.questions()) {
    if (is_metadata(q.type)) CHECK(q.name == type_name(q.type));
  }
}

TEST_CASE("forms fixtures: a KoboToolbox export, saved as Excel's CSV UTF-8 (BOM, CRLF)") {
  const Form form = read_both_ways(kFixtures + "/kobo_export");
  CHECK(form.settings().form_id == "aHqEGbVzWXCuHBhTc5r3Xk");  // from id_string
  CHECK(form.settings().version == "vZ4rBxTeKmP8zWvT2Yq9Lk");
  REQUIRE(form.languages().size() == 1);
  CHECK(form.languages()[0].key == kEnglish);
  CHECK(question(form, "distribution_done").required.yes);
  CHECK(!question(form, "reason").required.yes);
  CHECK(question(form, "households_served").hxl == "#reached +hh");
  CHECK(form.text(question(form, "reason").hint, kEnglish) == "Why not? Security, access, supplies...");
  CHECK(question(form, "__version__").calculation->text == "'vZ4rBxTeKmP8zWvT2Yq9Lk'");
  CHECK(form.choices("yes_no")->find("no")->columns.at("$autovalue") == "no");
}

TEST_CASE("forms fixtures: a workbook written by openpyxl (inline strings, number cells) reads like its CSV sheets") {
  // Written by openpyxl 3.0.9 (the library behind pyxform's and Kobo's .xlsx files) from the all_types
  // CSV sheets, with numbers stored as numbers (-12, 3.25, version 1).
  const Form from_openpyxl = read_xlsform(kFixtures + "/written_by_openpyxl/all_types.xlsx");
  CHECK(summary(from_openpyxl) == summary(read_xlsform(kFixtures + "/all_types")));
  CHECK(question(from_openpyxl, "an_integer").default_value == "-12");
  CHECK(from_openpyxl.settings().version == "1");
}

// --- Broken forms -------------------------------------------------------------------------------

namespace {

struct BrokenForm {
  const char* what;
  Rows survey;
  Rows choices;
  Rows settings;
  std::string expected;
};

const Rows kHeader{{"type", "name", "label", "relevant", "constraint", "calculation"}};

Rows with_header(Rows rows, const Rows& header = kHeader) {
  rows.insert(rows.begin(), header.begin(), header.end());
  return rows;
}

const std::string kSupportedTypes =
    "text, integer, decimal, select_one LIST, select_multiple LIST, date, time, dateTime, geopoint, note, calculate, "
    "acknowledge, image, file, begin_group, end_group, begin_repeat, end_repeat, start, end, today, deviceid";

const Rows kColours{{"list_name", "name", "label"}, {"colors", "red", "Red"}};
const Rows kYesNo{{"list_name", "name", "label"}, {"yes_no", "yes", "Yes"}, {"yes_no", "no", "No"}};
const Rows kMoreColumns{{"type", "name", "label", "choice_filter", "default", "hxl", "parameters"}};

const std::vector<BrokenForm>& broken_forms() {
  static const std::vector<BrokenForm> forms{
      {"empty survey sheet", {}, {}, {}, "broken.xlsx has an empty survey sheet"},
      {"no questions", with_header({}), {}, {}, "broken.xlsx has no questions in its survey sheet"},
      {"no type column",
       {{"name", "label"}, {"q", "Q"}},
       {},
       {},
       "broken.xlsx: survey row 1: the survey sheet has no type column"},
      {"no name column",
       {{"type", "label"}, {"text", "Q"}},
       {},
       {},
       "broken.xlsx: survey row 1: the survey sheet has no name column"},
      {"a column twice",
       {{"type", "name", "label", "Label"}, {"text", "q", "Q", "Q"}},
       {},
       {},
       "broken.xlsx: survey row 1, column D (Label): the column is there twice (also column C)"},
      {"a language on a column without languages",
       {{"type", "name", "label", "relevant::English (en)"}},
       {},
       {},
       "broken.xlsx: survey row 1, column D (relevant::English (en)): the relevant column takes no language"},

      {"unknown type, close to one",
       with_header({{"text", "a", "A"}, {"intger", "b", "B"}}),
       {},
       {},
       "broken.xlsx: survey row 3, column A (type): unknown type \"intger\" (did you mean integer?)"},
      {"unknown type, close to none",
       with_header({{"scanner", "b", "B"}}),
       {},
       {},
       "broken.xlsx: survey row 2, column A (type): unknown type \"scanner\" (supported: " + kSupportedTypes + ")"},
      {"a type Outpost does not support",
       with_header({{"geoshape", "area", "Area"}}),
       {},
       {},
       "broken.xlsx: survey row 2, column A (type): \"geoshape\" is an XLSForm type Outpost does not support "
       "(supported: " +
           kSupportedTypes + ")"},
      {"select_one_from_file",
       with_header({{"select_one_from_file villages.csv", "v", "Village"}}),
       {},
       {},
       "broken.xlsx: survey row 2, column A (type): select_one_from_file is not supported: put the choices in the "
       "choices sheet and use select_one"},
      {"or_other",
       with_header({{"select_one yes_no or_other", "q", "Q"}}),
       kYesNo,
       {},
       "broken.xlsx: survey row 2, column A (type): or_other is not supported: add an \"other\" choice to the list and "
       "a text question shown when it is selected"},
      {"select without a list name",
       with_header({{"select_multiple", "q", "Q"}}),
       kYesNo,
       {},
       "broken.xlsx: survey row 2, column A (type): select_multiple needs a list name: select_multiple LIST"},
      {"something after the type",
       with_header({{"integer years", "q", "Q"}}),
       {},
       {},
       "broken.xlsx: survey row 2, column A (type): unexpected \"years\" after integer"},

      {"select list not in choices",
       with_header({{"select_one colours", "c", "Colour"}}),
       kColours,
       {},
       "broken.xlsx: survey row 2, column A (type): the list \"colours\" is not in the choices sheet (did you mean "
       "colors?)"},
      {"select without a choices sheet",
       with_header({{"select_one colours", "c", "Colour"}}),
       {},
       {},
       "broken.xlsx: survey row 2, column A (type): the list \"colours\" needs a choices sheet, and there is none"},

      {"begin without end",
       with_header({{"begin_group", "site", "Site"}, {"text", "a", "A"}}),
       {},
       {},
       "broken.xlsx: survey row 2, column A (type): begin_group \"site\" has no end_group"},
      {"repeat without end",
       with_header({{"begin repeat", "people", "People"}, {"text", "a", "A"}}),
       {},
       {},
       "broken.xlsx: survey row 2, column A (type): begin_repeat \"people\" has no end_repeat"},
      {"end without begin",
       with_header({{"text", "a", "A"}, {"end_group"}}),
       {},
       {},
       "broken.xlsx: survey row 3, column A (type): end_group has no begin_group before it"},
      {"end repeat without begin",
       with_header({{"text", "a", "A"}, {"end repeat"}}),
       {},
       {},
       "broken.xlsx: survey row 3, column A (type): end_repeat has no begin_repeat before it"},
      {"crossed ends",
       with_header(
           {{"begin_group", "g", "G"}, {"begin_repeat", "r", "R"}, {"text", "a", "A"}, {"end_group"}, {"end_repeat"}}),
       {},
       {},
       "broken.xlsx: survey row 5, column A (type): end_group cannot close begin_repeat \"r\" (row 3), which must end "
       "first"},
      {"a rule on an end row",
       with_header({{"begin_group", "g", "G"}, {"text", "a", "A"}, {"end_group", "", "", "${a} != ''"}}),
       {},
       {},
       "broken.xlsx: survey row 4, column D (relevant): relevant does not apply to an end_group row; put it on row 2"},

      {"duplicate names",
       with_header({{"text", "age", "Age"}, {"begin_group", "g", "G"}, {"integer", "age", "Age again"}, {"end_group"}}),
       {},
       {},
       "broken.xlsx: survey row 4, column B (name): the name \"age\" is already used on row 2"},
      {"a name starting with a digit",
       with_header({{"text", "1st_visit", "First visit"}}),
       {},
       {},
       "broken.xlsx: survey row 2, column B (name): \"1st_visit\" is not a valid name: start with a letter or '_', "
       "then use letters, digits, '_', '-' or '.'"},
      {"a name with a space",
       with_header({{"text", "first visit", "First visit"}}),
       {},
       {},
       "broken.xlsx: survey row 2, column B (name): \"first visit\" is not a valid name: start with a letter or '_', "
       "then use letters, digits, '_', '-' or '.'"},
      {"no name",
       with_header({{"text", "", "Label"}}),
       {},
       {},
       "broken.xlsx: survey row 2, column B (name): a text needs a name"},
      {"a name without a type",
       with_header({{"", "q", "Q"}}),
       {},
       {},
       "broken.xlsx: survey row 2, column A (type): the row names \"q\" but has no type"},
      {"no label",
       with_header({{"text", "q"}}),
       {},
       {},
       "broken.xlsx: survey row 2, column C (label): the text \"q\" needs a label"},

      {"reference to an unknown name",
       with_header({{"integer", "age", "Age"}, {"text", "school", "School", "${agee} >= 5"}}),
       {},
       {},
       "broken.xlsx: survey row 3, column D (relevant): ${agee} does not name a question (did you mean age?)"},
      {"reference to an unknown name in a label",
       with_header({{"calculate", "total", "", "", "", "1 + 1"}, {"note", "n", "Total: ${totl}"}}),
       {},
       {},
       "broken.xlsx: survey row 3, column C (label): ${totl} does not name a question (did you mean total?)"},
      {"an empty reference",
       with_header({{"integer", "n", "N", "", "${} > 0"}}),
       {},
       {},
       "broken.xlsx: survey row 2, column E (constraint): ${} is not a reference to a question name"},
      {"reference in the instance name",
       with_header({{"text", "village", "Village"}}),
       {},
       {{"instance_name"}, {"concat(${vilage}, '')"}},
       "broken.xlsx: settings row 2, column A (instance_name): ${vilage} does not name a question (did you mean "
       "village?)"},
      {"calculate without a calculation",
       with_header({{"calculate", "c"}}),
       {},
       {},
       "broken.xlsx: survey row 2, column F (calculation): a calculate needs a calculation"},

      {"choice_filter on a text question",
       with_header({{"text", "q", "Q", "x = 1"}}, kMoreColumns),
       {},
       {},
       "broken.xlsx: survey row 2, column D (choice_filter): choice_filter applies only to select_one and "
       "select_multiple, not to text"},
      {"a default that is not a number",
       with_header({{"integer", "n", "N", "", "many"}}, kMoreColumns),
       {},
       {},
       "broken.xlsx: survey row 2, column E (default): the default \"many\" is not a whole number"},
      {"a default that is not a date",
       with_header({{"date", "d", "D", "", "2023-02-29"}}, kMoreColumns),
       {},
       {},
       "broken.xlsx: survey row 2, column E (default): the default \"2023-02-29\" is not a date (YYYY-MM-DD; format "
       "the cell as text)"},
      {"a default that is not a choice",
       with_header({{"select_one yes_no", "q", "Q", "", "maybe"}}, kMoreColumns),
       kYesNo,
       {},
       "broken.xlsx: survey row 2, column E (default): the default \"maybe\" is not a choice of list \"yes_no\""},
      {"a computed default",
       with_header({{"text", "t", "T", "", "${n}"}}, kMoreColumns),
       {},
       {},
       "broken.xlsx: survey row 2, column E (default): a default is a fixed value; use a calculation for a computed "
       "one"},
      {"not an HXL hashtag",
       with_header({{"integer", "n", "N", "", "", "affected"}}, kMoreColumns),
       {},
       {},
       "broken.xlsx: survey row 2, column F (hxl): \"affected\" is not an HXL hashtag (write it like #affected +f "
       "+children)"},
      {"an HXL tag on a group",
       with_header({{"begin_group", "g", "G", "", "", "#x_group"}, {"end_group"}}, kMoreColumns),
       {},
       {},
       "broken.xlsx: survey row 2, column F (hxl): hxl applies only to questions that hold a value, not to "
       "begin_group"},
      {"question parameters",
       with_header({{"image", "photo", "Photo", "", "", "", "max-pixels=1024"}}, kMoreColumns),
       {},
       {},
       "broken.xlsx: survey row 2, column G (parameters): question parameters are not supported; leave the parameters "
       "column empty"},

      {"duplicate choice",
       with_header({{"select_one yes_no", "q", "Q"}}),
       {{"list_name", "name", "label"}, {"yes_no", "yes", "Yes"}, {"yes_no", "yes", "Yes again"}},
       {},
       "broken.xlsx: choices row 3, column B (name): the choice \"yes\" is already in list \"yes_no\" (row 2)"},
      {"a choice without a name",
       with_header({{"select_one yes_no", "q", "Q"}}),
       {{"list_name", "name", "label"}, {"yes_no", "yes", "Yes"}, {"yes_no", "", "Maybe"}},
       {},
       "broken.xlsx: choices row 3, column B (name): a choice of list \"yes_no\" needs a name"},
      {"a space in a select_multiple choice",
       with_header({{"select_multiple fruit", "fruits", "Fruits"}}),
       {{"list_name", "name", "label"}, {"fruit", "green apple", "Green apple"}},
       {},
       "broken.xlsx: choices row 2, column B (name): the choice \"green apple\" has a space in its name, and "
       "select_multiple \"fruits\" separates answers with spaces"},
      {"choices without list_name",
       with_header({{"text", "q", "Q"}}),
       {{"name", "label"}, {"a", "A"}},
       {},
       "broken.xlsx: choices row 1: the choices sheet has no list_name column"},

      {"a priority that is neither urgent nor a number",
       with_header({{"text", "q", "Q"}}),
       {},
       {{"priority"}, {"soon"}},
       "broken.xlsx: settings row 2, column A (priority): priority must be urgent, normal or a number from 0 to 10, "
       "not \"soon\""},
      {"a form_id with a space",
       with_header({{"text", "q", "Q"}}),
       {},
       {{"form_id"}, {"my form"}},
       "broken.xlsx: settings row 2, column A (form_id): form_id \"my form\" must be 1-64 letters, digits, '_', '-' or "
       "'.'"},
      {"an encrypted form",
       with_header({{"text", "q", "Q"}}),
       {},
       {{"form_id", "public_key"}, {"f", "MIIBIjANBgkq"}},
       "broken.xlsx: settings row 2, column B (public_key): encrypted forms are not supported; leave public_key empty"},
      {"a default language nothing is written in",
       {{"type", "name", "label::English (en)"}, {"text", "q", "Q"}},
       {},
       {{"default_language"}, {"Français (fr)"}},
       "broken.xlsx: settings row 2, column A (default_language): no text is written in the default_language "
       "\"Français (fr)\" (the form's languages: English (en))"},

      {"an expression that does not parse",
       with_header({{"integer", "age", "Age"}, {"text", "school", "School", "(${age} > 5 and ${age} < 18"}}),
       {},
       {},
       "broken.xlsx: survey row 3, column D (relevant): expected ')' but found the end of the expression at position 27"},
      {"an unknown function",
       with_header({{"integer", "age", "Age", "", "", "", ""}, {"calculate", "years", "", "", "", "age(${age})"}}),
       {},
       {},
       "broken.xlsx: survey row 3, column F (calculation): unknown function 'age' at position 0"},
      {"a repeated answer used as one value outside its repeat",
       with_header({{"begin_repeat", "member", "Member"},
                    {"integer", "age", "Age"},
                    {"end_repeat"},
                    {"note", "adult", "An adult", "${age} >= 18"}}),
       {},
       {},
       "broken.xlsx: survey row 5, column D (relevant): ${age} is inside the repeat \"member\", so here it stands for the "
       "answers of every entry; use it inside the repeat, or as a whole argument of sum(), count(), min(), max() or "
       "concat()"},
      {"calculations in a cycle",
       with_header({{"calculate", "a", "", "", "", "${b} + 1"}, {"calculate", "b", "", "", "", "${a} * 2"}}),
       {},
       {},
       "broken.xlsx: survey row 2, column F (calculation): the calculation depends on itself: ${a} -> ${b} -> ${a}"},
  };
  return forms;
}

}  // namespace

TEST_CASE("forms broken: each broken form gives its exact error, naming sheet, row and column") {
  for (const BrokenForm& form : broken_forms()) {
    CAPTURE(form.what);
    CHECK(error_of([&] { read_sheets(form.survey, form.choices, form.settings); }) == form.expected);
  }
}

TEST_CASE("forms broken: a workbook without a survey sheet names the sheets it has") {
  const std::string bytes = test::xlsx_bytes({{"Sheet1", {{"type", "name"}}}, {"choices", {}}});
  CHECK(error_of([&] { read_xlsform_xlsx(bytes, "broken.xlsx"); }) ==
        "broken.xlsx has no survey sheet (its sheets: Sheet1, choices)");
}

TEST_CASE("forms broken: the error carries its place as fields, and a CSV form gets the same error") {
  try {
    read_sheets(with_header({{"text", "a", "A"}, {"intger", "b", "B"}}));
    FAIL("no error");
  } catch (const FormError& error) {
    CHECK(error.file() == "broken.xlsx");
    CHECK(error.location().sheet == "survey");
    CHECK(error.location().row == 3);
    CHECK(error.location().column == "A");
    CHECK(error.location().header == "type");
    CHECK(error.detail() == "unknown type \"intger\" (did you mean integer?)");
  }
  TempDir dir;
  files::write_file_atomic(dir.file("survey.csv"), "type,name,label\r\ntext,a,\"A,\r\nmultiline\"\r\nintger,b,B\r\n");
  CHECK(error_of([&] { read_xlsform(dir.path()); }) ==
        dir.path() + ": survey row 3, column A (type): unknown type \"intger\" (did you mean integer?)");
}
