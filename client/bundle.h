// Bundles: materials (their signed catalog records and their files) and forms in one zip file a
// trainer hands out on a USB stick. Importing checks every file against the registry's
// signature, offline, before anything is stored (docs/protocol.md, "Bundles").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "client/home.h"

namespace outpost::client {

// Writes the bundle to `path` (replaced whole, never half-written). ClientError for an unknown
// material or form, a material whose file is not on this device, or one the registry never signed.
void export_bundle(Home& home, const std::vector<std::string>& material_ids, const std::vector<std::string>& form_ids,
                   const std::string& path);

struct BundleImport {
  size_t materials = 0;
  size_t forms = 0;
  uint64_t file_bytes = 0;
};

// Verifies the bundle whole (its container, every path, every file's hash, every material's
// registry signature) in a staging directory, then stores the files and merges the records in
// one step; the imported materials are pinned. Throws ClientError naming the bundle and what
// was wrong, with nothing stored.
BundleImport import_bundle(Home& home, const std::string& path);

}  // namespace outpost::client
