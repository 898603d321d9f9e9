#include "support/xlsx_writer.h"

#include <zip.h>

#include <map>
#include <stdexcept>

#include "forms/sheet.h"

namespace outpost::test {

namespace {

std::string xml_escape(const std::string& text) {
  std::string escaped;
  for (char c : text) {
    switch (c) {
      case '&': escaped += "&amp;"; break;
      case '<': escaped += "&lt;"; break;
      case '>': escaped += "&gt;"; break;
      case '"': escaped += "&quot;"; break;
      case '\r': escaped += "_x000D_"; break;  // Excel's escape: XML would turn CR LF into LF
      default: escaped += c;
    }
  }
  return escaped;
}

constexpr char kXmlDeclaration[] = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";
constexpr char kMainNamespace[] = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
constexpr char kRelationshipTypes[] = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

}  // namespace

ZipParts xlsx_parts(const std::vector<XlsxSheet>& sheets) {
  std::vector<std::string> strings;
  std::map<std::string, size_t> string_index;
  const auto shared = [&](const std::string& text) {
    const auto [entry, added] = string_index.emplace(text, strings.size());
    if (added) strings.push_back(text);
    return entry->second;
  };

  std::string content_types =
      std::string(kXmlDeclaration) +
      "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
      "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
      "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
      "<Override PartName=\"/xl/workbook.xml\" ContentType=\"application/"
      "vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>"
      "<Override PartName=\"/xl/sharedStrings.xml\" ContentType=\"application/"
      "vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml\"/>";
  std::string workbook = std::string(kXmlDeclaration) + "<workbook xmlns=\"" + kMainNamespace + "\" xmlns:r=\"" +
                         kRelationshipTypes + "\"><sheets>";
  std::string workbook_rels = std::string(kXmlDeclaration) +
                              "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">";
  ZipParts worksheets;
  for (size_t i = 0; i < sheets.size(); ++i) {
    const std::string number = std::to_string(i + 1);
    const std::string part = "xl/worksheets/sheet" + number + ".xml";
    content_types += "<Override PartName=\"/" + part +
                     "\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>";
    workbook +=
        "<sheet name=\"" + xml_escape(sheets[i].name) + "\" sheetId=\"" + number + "\" r:id=\"rId" + number + "\"/>";
    workbook_rels += "<Relationship Id=\"rId" + number + "\" Type=\"" + kRelationshipTypes +
                     "/worksheet\" Target=\"worksheets/sheet" + number + ".xml\"/>";
    std::string sheet_xml = std::string(kXmlDeclaration) + "<worksheet xmlns=\"" + kMainNamespace + "\"><sheetData>";
    for (size_t r = 0; r < sheets[i].rows.size(); ++r) {
      const auto& row = sheets[i].rows[r];
      std::string cells;
      for (size_t c = 0; c < row.size(); ++c) {
        if (row[c].empty()) continue;
        cells += "<c r=\"" + forms::column_letters(c) + std::to_string(r + 1) + "\" t=\"s\"><v>" +
                 std::to_string(shared(row[c])) + "</v></c>";
      }
      if (!cells.empty()) sheet_xml += "<row r=\"" + std::to_string(r + 1) + "\">" + cells + "</row>";
    }
    worksheets.emplace_back(part, sheet_xml + "</sheetData></worksheet>");
  }
  const std::string next_id = std::to_string(sheets.size() + 1);
  workbook_rels += "<Relationship Id=\"rId" + next_id + "\" Type=\"" + kRelationshipTypes +
                   "/sharedStrings\" Target=\"sharedStrings.xml\"/></Relationships>";
  std::string shared_strings = std::string(kXmlDeclaration) + "<sst xmlns=\"" + kMainNamespace + "\" count=\"" +
                               std::to_string(strings.size()) + "\" uniqueCount=\"" + std::to_string(strings.size()) +
                               "\">";
  for (const std::string& text : strings)
    shared_strings += "<si><t xml:space=\"preserve\">" + xml_escape(text) + "</t></si>";

  ZipParts parts{
      {"[Content_Types].xml", content_types + "</Types>"},
      {"_rels/.rels", std::string(kXmlDeclaration) +
                          "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
                          "<Relationship Id=\"rId1\" Type=\"" +
                          kRelationshipTypes + "/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>"},
      {"xl/workbook.xml", workbook + "</sheets></workbook>"},
      {"xl/_rels/workbook.xml.rels", workbook_rels},
      {"xl/sharedStrings.xml", shared_strings + "</sst>"},
  };
  parts.insert(parts.end(), worksheets.begin(), worksheets.end());
  return parts;
}

std::string zip_bytes(const ZipParts& parts, Compression compression) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* buffer = zip_source_buffer_create(nullptr, 0, 0, &error);
  zip_t* archive = buffer ? zip_open_from_source(buffer, ZIP_TRUNCATE, &error) : nullptr;
  if (archive == nullptr) {
    if (buffer) zip_source_free(buffer);
    throw std::runtime_error(std::string("zip_bytes: ") + zip_error_strerror(&error));
  }
  zip_source_keep(buffer);  // read the archive back out of it after zip_close
  for (const auto& [name, content] : parts) {
    zip_source_t* part = zip_source_buffer(archive, content.data(), content.size(), 0);
    const zip_int64_t index = part ? zip_file_add(archive, name.c_str(), part, ZIP_FL_ENC_UTF_8) : -1;
    const zip_int32_t method = compression == Compression::Store ? ZIP_CM_STORE : ZIP_CM_DEFLATE;
    if (index < 0 || zip_set_file_compression(archive, static_cast<zip_uint64_t>(index), method, 0) != 0) {
      if (part && index < 0) zip_source_free(part);
      const std::string why = zip_strerror(archive);
      zip_discard(archive);
      zip_source_free(buffer);
      throw std::runtime_error("zip_bytes: " + name + ": " + why);
    }
  }
  if (zip_close(archive) != 0) {
    const std::string why = zip_strerror(archive);
    zip_discard(archive);
    zip_source_free(buffer);
    throw std::runtime_error("zip_bytes: " + why);
  }
  std::string bytes;
  if (zip_source_open(buffer) == 0) {
    char chunk[64 * 1024];
    zip_int64_t count = 0;
    while ((count = zip_source_read(buffer, chunk, sizeof chunk)) > 0) bytes.append(chunk, static_cast<size_t>(count));
    zip_source_close(buffer);
  }
  zip_source_free(buffer);
  if (bytes.empty()) throw std::runtime_error("zip_bytes: the archive could not be read back");
  return bytes;
}

}  // namespace outpost::test
