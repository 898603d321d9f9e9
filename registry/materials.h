// The registry's catalog of materials: files it stores (BlobService) and publishes as records
// of the `materials` collection, to one organization or to everyone. Its own list of what it
// published (materials.db beside the files) says what to list and remove, and lets a publication
// interrupted by a crash be finished the next time the catalog is opened.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "platform/clock.h"
#include "platform/sqlite.h"
#include "registry/blobs.h"
#include "registry/service.h"
#include "sync/material_record.h"

namespace outpost::registry {

// What `material add` is given. Missing text is taken from a Markdown file's front matter.
struct MaterialSource {
  std::string file;
  std::optional<std::string> title, summary, lang;
  std::vector<std::string> tags;  // empty: the front matter's
  std::string partition = kPublicPartition;  // an organization id, or public
};

struct PublishedMaterial {
  std::string id;
  std::string partition;
  sync::MaterialInfo info;
};

class Materials {
 public:
  Materials(Registry& registry, BlobService& blobs, const Clock& clock = SystemClock::instance());

  // Stores the file and publishes its record. Throws std::invalid_argument for bad text,
  // sync::QuotaExceeded when the file does not fit, ApiError for an unknown organization.
  PublishedMaterial add(const MaterialSource& source);
  // Materials published and not removed, oldest first.
  std::vector<PublishedMaterial> list();
  // Deletes the record (devices drop it at their next sync) and the file unless something else
  // holds it. Throws std::invalid_argument for an unknown id.
  void remove(const std::string& id);

 private:
  // Writes every record whose publication was not finished.
  void publish_pending();
  // The registry's signature over the material and its file's manifest.
  std::string signature_of(const std::string& id, const sync::MaterialInfo& info);
  // Materials published before the registry signed them are signed and published again.
  void sign_unsigned();

  Registry& registry_;
  BlobService& blobs_;
  const Clock& clock_;
  db::Database catalog_;
};

}  // namespace outpost::registry
