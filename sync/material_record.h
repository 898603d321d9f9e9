// The catalog of materials is synced records in the collection `materials`, written by the
// registry alone (in an organization's partition or the public one). One definition of their
// fields serves the registry that writes them and the devices that read them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sync/blob_store.h"
#include "sync/protocol.h"

namespace outpost::sync {

constexpr char kMaterialsCollection[] = "materials";

struct MaterialInfo {
  std::string title;
  std::string summary;
  std::string lang;               // BCP 47 language code: "en", "fr", "pt-BR"
  std::vector<std::string> tags;  // themes: advocacy, sdgs, human-rights, ...
  std::string file_name;
  std::string media_type;
  uint64_t size = 0;
  std::string sha256;
  uint32_t chunk_size = 0;
  int64_t created_ms = 0;
  // The registry's Ed25519 signature over material_signing_text, as hex; empty from a registry
  // older than signatures.
  std::string signature;

  Json to_fields() const;
  // Throws std::invalid_argument naming the field that is missing or of the wrong type.
  static MaterialInfo from_fields(const Json& fields);
};

// What the registry signs for a material: its id, its catalog fields (the signature left out)
// and its file's manifest (hash, size, chunk size, every chunk's hash), as canonical JSON. Any
// copy of the file, however it travelled, can then be checked offline.
std::string material_signing_text(const std::string& id, const MaterialInfo& info, const BlobManifest& manifest);
// Throws BlobError naming the material and what is wrong unless `manifest` is the one its
// record describes and the record's signature is the registry's (`registry_key`, hex).
void verify_material(const std::string& id, const MaterialInfo& info, const BlobManifest& manifest,
                     const std::string& registry_key);

// What a person typed, checked: throws std::invalid_argument naming the field and the rule.
void check_material_text(const MaterialInfo& info);

// The media type of a file, from its extension ("application/octet-stream" when unknown).
std::string media_type_for(const std::string& file_name);

// A Markdown file's front matter: "---" on the first line, "key: value" lines, "---". Tags are
// a list, inline ("[a, b]") or one "- item" a line.
struct FrontMatter {
  std::map<std::string, std::string> values;
  std::vector<std::string> tags;
  size_t body_offset = 0;  // where the text after the closing "---" starts
};
std::optional<FrontMatter> parse_front_matter(std::string_view text);

}  // namespace outpost::sync
