// The files a registry serves and receives: a BlobStore beside its database (<db>.blobs/), an
// index of who may read each file, and the routes under /v1/blobs (docs/protocol.md, "Files").
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "platform/clock.h"
#include "platform/sqlite.h"
#include "registry/api.h"
#include "sync/blob_store.h"

namespace outpost::registry {

// GET of a whole file of `store` or, with a Range header, of a part of it: ETag (its hash),
// Accept-Ranges, 206 with Content-Range, 304, 416. The registry and a device sharing its
// library on a LAN answer the same way.
ApiResponse file_response(const ApiRequest& request, const sync::BlobStore& store, const std::string& sha256);

class BlobService {
 public:
  // Whether a device may upload a file: the registry lets an organization upload only the files
  // its own records name (Registry::file_referenced), so a token cannot make the registry store
  // arbitrary data.
  using UploadCheck = std::function<bool(const Device& device, const std::string& sha256)>;

  // `directory` holds the files and their index (index.db). quota_bytes 0: the disk is the limit.
  // Without `may_upload`, uploads are refused (a registry CLI command that only publishes).
  explicit BlobService(const std::string& directory, uint64_t quota_bytes = 0,
                       const Clock& clock = SystemClock::instance(), UploadCheck may_upload = {});

  sync::BlobStore& store() { return store_; }

  // Lets devices of `partition` (an organization id or "public") read a file for as long as
  // `holder` (a material, an upload) keeps it.
  void grant(const std::string& sha256, const std::string& partition, const std::string& holder);
  // Ends what `holder` keeps; files nobody keeps any more are deleted. Returns the bytes freed.
  uint64_t release(const std::string& holder);

  // GET /v1/blobs/{sha256}[/manifest], POST /v1/blobs/have, PUT /v1/blobs/{sha256}/manifest,
  // PUT /v1/blobs/{sha256}/chunks/{index}. `parts` is the split path ("v1", "blobs", ...).
  ApiResponse handle(const Principal& who, const ApiRequest& request, const std::vector<std::string>& parts);

 private:
  // The index, with the mutex held.
  bool readable(const Principal& who, const std::string& sha256);
  void add_grant(const std::string& sha256, const std::string& partition, const std::string& holder);
  ApiResponse have(const Principal& who, const ApiRequest& request);
  ApiResponse start_upload(const Device& device, const ApiRequest& request, const std::string& sha256);
  ApiResponse put_chunk(const Device& device, const ApiRequest& request, const std::string& sha256,
                        const std::string& index_text);
  // The upload's end: the file verified whole goes into the store, readable by the uploader's organization.
  Json finish_upload(const Device& device, sync::PartialBlob& partial);

  std::mutex mutex_;  // the index connection and uploads: one request at a time
  const Clock& clock_;
  UploadCheck may_upload_;
  sync::BlobStore store_;
  db::Database index_;
};

}  // namespace outpost::registry
