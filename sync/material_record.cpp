#include "sync/material_record.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "platform/crypto.h"

namespace outpost::sync {

namespace {

constexpr size_t kMaxTitle = 200;
constexpr size_t kMaxSummary = 2000;
constexpr size_t kMaxTags = 20;
constexpr size_t kMaxTag = 40;

const Json& member(const Json& fields, const char* name) {
  auto it = fields.find(name);
  if (it == fields.end()) throw std::invalid_argument(std::string("material field '") + name + "' is missing");
  return *it;
}

std::string text_member(const Json& fields, const char* name) {
  const Json& value = member(fields, name);
  if (!value.is_string()) throw std::invalid_argument(std::string("material field '") + name + "' must be text");
  return value.get<std::string>();
}

uint64_t number_member(const Json& fields, const char* name) {
  const Json& value = member(fields, name);
  if (!value.is_number_unsigned())
    throw std::invalid_argument(std::string("material field '") + name + "' must be a whole number");
  return value.get<uint64_t>();
}

bool is_language_code(const std::string& lang) {
  // A primary language of 2-3 letters, then optional subtags of 1-8 letters or digits.
  size_t start = 0;
  for (bool primary = true;; primary = false) {
    const size_t end = std::min(lang.find('-', start), lang.size());
    const std::string part = lang.substr(start, end - start);
    const bool letters = std::all_of(part.begin(), part.end(), [](char c) { return c >= 'a' && c <= 'z'; });
    const bool alnum = std::all_of(part.begin(), part.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
    if (primary ? !(letters && part.size() >= 2 && part.size() <= 3) : !(alnum && !part.empty() && part.size() <= 8))
      return false;
    if (end == lang.size()) return true;
    start = end + 1;
  }
}

bool is_tag(const std::string& tag) {
  return !tag.empty() && tag.size() <= kMaxTag && tag.front() != '-' &&
         std::all_of(tag.begin(), tag.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

std::string trim(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return {};
  const size_t end = text.find_last_not_of(" \t\r");
  return std::string(text.substr(begin, end - begin + 1));
}

// A YAML scalar as people write it in front matter: bare, or in single or double quotes.
std::string unquote(const std::string& value) {
  if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
    return value.substr(1, value.size() - 2);
  return value;
}

}  // namespace

Json MaterialInfo::to_fields() const {
  Json fields = {{"title", title},         {"summary", summary},       {"lang", lang},         {"tags", tags},
          {"file_name", file_name}, {"media_type", media_type}, {"size", size},         {"sha256", sha256},
          {"chunk_size", chunk_size}, {"created", created_ms}};
  if (!signature.empty()) fields["signature"] = signature;
  return fields;
}

MaterialInfo MaterialInfo::from_fields(const Json& fields) {
  if (!fields.is_object()) throw std::invalid_argument("a material record must be an object");
  MaterialInfo info;
  info.title = text_member(fields, "title");
  info.summary = fields.contains("summary") ? text_member(fields, "summary") : "";
  info.lang = text_member(fields, "lang");
  if (fields.contains("tags")) {
    const Json& tags = fields["tags"];
    if (!tags.is_array()) throw std::invalid_argument("material field 'tags' must be a list");
    for (const Json& tag : tags)
      if (tag.is_string()) info.tags.push_back(tag.get<std::string>());
  }
  info.file_name = text_member(fields, "file_name");
  info.media_type = text_member(fields, "media_type");
  info.size = number_member(fields, "size");
  info.sha256 = text_member(fields, "sha256");
  info.chunk_size = static_cast<uint32_t>(number_member(fields, "chunk_size"));
  info.created_ms = static_cast<int64_t>(number_member(fields, "created"));
  info.signature = fields.contains("signature") ? text_member(fields, "signature") : "";
  return info;
}

std::string material_signing_text(const std::string& id, const MaterialInfo& info, const BlobManifest& manifest) {
  MaterialInfo unsigned_info = info;
  unsigned_info.signature.clear();
  return Json{{"format", "outpost-material/1"},
              {"id", id},
              {"fields", unsigned_info.to_fields()},
              {"manifest", manifest.to_json()}}
      .dump();
}

void verify_material(const std::string& id, const MaterialInfo& info, const BlobManifest& manifest,
                     const std::string& registry_key) {
  const std::string what = "material " + id + " (" + info.title + ")";
  if (manifest.sha256 != info.sha256 || manifest.size != info.size || manifest.chunk_size != info.chunk_size)
    throw BlobError("the file of " + what + " is not the one its catalog record describes (sha256 " + manifest.sha256 +
                    ", " + std::to_string(manifest.size) + " bytes; the record says " + info.sha256 + ", " +
                    std::to_string(info.size) + " bytes)");
  if (info.signature.empty())
    throw BlobError(what + " carries no registry signature (published before signatures): it cannot be verified");
  if (!crypto::signature_valid(material_signing_text(id, info, manifest), info.signature, registry_key))
    throw BlobError("the registry's signature does not match " + what +
                    ": its record or file was altered, or it comes from another registry");
}

void check_material_text(const MaterialInfo& info) {
  if (info.title.empty() || info.title.size() > kMaxTitle)
    throw std::invalid_argument("title must be 1-" + std::to_string(kMaxTitle) + " characters");
  if (info.summary.size() > kMaxSummary)
    throw std::invalid_argument("summary must be at most " + std::to_string(kMaxSummary) + " characters");
  if (!is_language_code(info.lang))
    throw std::invalid_argument("language '" + info.lang + "' is not a language code such as en, fr, es or pt-BR");
  if (info.tags.size() > kMaxTags) throw std::invalid_argument("at most " + std::to_string(kMaxTags) + " tags");
  for (const std::string& tag : info.tags)
    if (!is_tag(tag))
      throw std::invalid_argument("tag '" + tag + "' must be 1-" + std::to_string(kMaxTag) +
                                  " lower-case letters, digits and '-', e.g. human-rights");
}

std::string media_type_for(const std::string& file_name) {
  static const std::map<std::string, std::string> kTypes = {
      {".md", "text/markdown"},  {".markdown", "text/markdown"}, {".txt", "text/plain"},
      {".html", "text/html"},    {".htm", "text/html"},          {".pdf", "application/pdf"},
      {".png", "image/png"},     {".jpg", "image/jpeg"},         {".jpeg", "image/jpeg"},
      {".webp", "image/webp"},   {".mp4", "video/mp4"},          {".webm", "video/webm"},
      {".mp3", "audio/mpeg"},    {".ogg", "audio/ogg"},          {".odt", "application/vnd.oasis.opendocument.text"},
      {".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}};
  const size_t dot = file_name.rfind('.');
  if (dot == std::string::npos) return "application/octet-stream";
  std::string extension = file_name.substr(dot);
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto it = kTypes.find(extension);
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

std::optional<FrontMatter> parse_front_matter(std::string_view text) {
  auto next_line = [&](size_t& position) {
    const size_t end = std::min(text.find('\n', position), text.size());
    std::string_view line = text.substr(position, end - position);
    position = end == text.size() ? end : end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  };
  size_t position = 0;
  if (next_line(position) != "---") return std::nullopt;
  FrontMatter front;
  bool in_tag_list = false;
  while (position < text.size()) {
    const std::string_view line = next_line(position);
    if (line == "---") {
      front.body_offset = position;
      return front;
    }
    const std::string content = trim(line);
    if (in_tag_list && content.rfind("- ", 0) == 0) {
      front.tags.push_back(unquote(trim(std::string_view(content).substr(2))));
      continue;
    }
    in_tag_list = false;
    const size_t colon = content.find(':');
    if (content.empty() || content[0] == '#' || colon == std::string::npos) continue;
    const std::string key = trim(std::string_view(content).substr(0, colon));
    const std::string value = trim(std::string_view(content).substr(colon + 1));
    if (key != "tags") {
      front.values[key] = unquote(value);
    } else if (value.empty()) {
      in_tag_list = true;
    } else {
      const std::string list = value.front() == '[' && value.back() == ']' ? value.substr(1, value.size() - 2) : value;
      for (size_t start = 0; start <= list.size();) {
        const size_t comma = std::min(list.find(',', start), list.size());
        const std::string tag = unquote(trim(std::string_view(list).substr(start, comma - start)));
        if (!tag.empty()) front.tags.push_back(tag);
        start = comma + 1;
      }
    }
  }
  return std::nullopt;  // never closed: not front matter
}

}  // namespace outpost::sync
