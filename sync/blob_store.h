// Content-addressed file storage. Every file (a material, later an attachment) is stored under
// the SHA-256 of its content and travels in fixed-size chunks whose hashes a manifest lists, so
// each chunk is verified on arrival and an interrupted transfer resumes from the last verified
// chunk. The same store serves devices (pinned materials) and the registry (files it serves and
// uploads it receives).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "platform/files.h"

namespace outpost::sync {

// 64 KiB: small enough that a link cut every 256 KiB (headers included) still lets three chunks
// through per connection and loses at most the one in flight; large enough that the manifest of
// a 40 MB manual stays near 40 KB.
constexpr uint32_t kBlobChunkSize = 64 * 1024;
constexpr uint32_t kMinBlobChunkSize = 4 * 1024;
constexpr uint32_t kMaxBlobChunkSize = 8 * 1024 * 1024;
constexpr size_t kMaxBlobChunks = 1 << 20;

class BlobError : public std::runtime_error {
 public:
  explicit BlobError(const std::string& message, int http_status = 0)
      : std::runtime_error(message), http_status_(http_status) {}
  // The answer that ended the transfer; 0 when none came (no connection) or the trouble is here.
  int http_status() const { return http_status_; }

 private:
  int http_status_;
};

// No room for a file: "storage quota of N MB exceeded: need X MB, Y MB free" (or the same about
// the disk itself).
class QuotaExceeded : public BlobError {
 public:
  using BlobError::BlobError;
};

bool is_sha256_hex(std::string_view text);

// What a file is made of: its hash and size, and the hash of every chunk. Its JSON text is
// canonical (compact, keys sorted), so a registry signature can cover exactly these bytes.
struct BlobManifest {
  static constexpr char kFormat[] = "outpost-blob/1";

  std::string sha256;
  uint64_t size = 0;
  uint32_t chunk_size = kBlobChunkSize;
  std::vector<std::string> chunks;  // SHA-256 of each chunk, in order

  size_t chunk_count() const { return chunks.size(); }
  uint64_t chunk_offset(size_t index) const { return uint64_t{chunk_size} * index; }
  uint32_t chunk_length(size_t index) const;

  nlohmann::json to_json() const;
  std::string canonical_text() const { return to_json().dump(); }
  // Throws BlobError naming `where` and the member at fault.
  static BlobManifest from_json(const nlohmann::json& json, const std::string& where);
  // Hashes a file in one pass. Throws BlobError when it cannot be read.
  static BlobManifest of_file(const std::string& path, uint32_t chunk_size = kBlobChunkSize);

  friend bool operator==(const BlobManifest& a, const BlobManifest& b) {
    return a.sha256 == b.sha256 && a.size == b.size && a.chunk_size == b.chunk_size && a.chunks == b.chunks;
  }
  friend bool operator!=(const BlobManifest& a, const BlobManifest& b) { return !(a == b); }
};

// Reads chunk `index` of the file at `path` laid out as `manifest` says.
std::string read_blob_chunk(const std::string& path, const BlobManifest& manifest, size_t index);

class PartialBlob;

// Files under <directory>/objects/<first two hex digits>/<sha256>, each beside its manifest
// (<sha256>.manifest); unfinished transfers under <directory>/partial/.
class BlobStore {
 public:
  // quota_bytes 0: limited only by the free space of the disk.
  explicit BlobStore(std::string directory, uint64_t quota_bytes = 0);

  const std::string& directory() const { return directory_; }
  uint64_t quota_bytes() const { return quota_bytes_; }

  bool contains(const std::string& sha256) const;
  // Where the complete file is (or would be).
  std::string path(const std::string& sha256) const;
  // The manifest of a complete file; nullopt when the store does not hold it.
  std::optional<BlobManifest> manifest(const std::string& sha256) const;
  // Copies a file in, hashing it on the way; returns its manifest. A file already held is not
  // copied again. Throws QuotaExceeded when it does not fit.
  BlobManifest add_file(const std::string& source, uint32_t chunk_size = kBlobChunkSize);
  // Drops the complete file and any unfinished transfer of it; returns the bytes freed.
  uint64_t remove(const std::string& sha256);
  // Drops an unfinished transfer of a file; the complete file, if held, stays.
  void discard_partial(const std::string& sha256);

  // Bytes held: complete files, plus the full size of every unfinished transfer (reserved).
  uint64_t used_bytes() const;
  // Throws QuotaExceeded unless `bytes` more fit in the quota and on the disk.
  void check_room(uint64_t bytes) const;

  // Starts or resumes receiving a file. A transfer left with another manifest of the same file
  // (another chunk size) starts over. Throws QuotaExceeded when a new transfer does not fit, and
  // BlobError when another process is receiving the same file.
  std::unique_ptr<PartialBlob> open_partial(const BlobManifest& manifest);
  // The manifest of an unfinished transfer, so it can resume without asking for it again.
  std::optional<BlobManifest> partial_manifest(const std::string& sha256) const;
  // Verified bytes of an unfinished transfer; nullopt when there is none.
  std::optional<uint64_t> partial_bytes(const std::string& sha256) const;

 private:
  friend class PartialBlob;
  std::string partial_path(const std::string& sha256, const char* suffix) const;
  static void check_hash(const std::string& sha256);

  std::string directory_;
  uint64_t quota_bytes_;
};

// A file being received: a `.part` file each verified chunk is written into at its offset, and
// beside it a log of the chunks verified so far (`.chunks`, one index a line, appended after
// the chunk's bytes are written). Nothing is kept in memory that is not on disk, so a process
// killed at any instant resumes with a new PartialBlob from its last verified chunk.
class PartialBlob {
 public:
  ~PartialBlob();
  PartialBlob(const PartialBlob&) = delete;
  PartialBlob& operator=(const PartialBlob&) = delete;

  const BlobManifest& manifest() const { return manifest_; }
  bool has_chunk(size_t index) const { return verified_.at(index); }
  size_t verified_chunks() const { return verified_count_; }
  uint64_t verified_bytes() const { return verified_bytes_; }
  bool complete() const { return verified_count_ == manifest_.chunk_count(); }
  // The received chunk indexes, ascending.
  std::vector<size_t> received() const;

  // Checks `data` against the manifest's hash of chunk `index` and stores it. Returns false, and
  // stores nothing, when it does not match. A chunk already verified is left as it is.
  bool write_chunk(size_t index, std::string_view data);
  // Once every chunk is in: verifies the whole file and moves it into the store (true). If the
  // whole does not verify, the chunks that no longer match on disk are dropped, to be received
  // again (false); if every chunk still matches, the manifest itself was wrong: the transfer is
  // discarded and BlobError says so.
  bool finish();

 private:
  friend class BlobStore;
  PartialBlob(BlobStore& store, BlobManifest manifest);
  void load_log();
  void rewrite_log();

  BlobStore& store_;
  BlobManifest manifest_;
  std::string part_path_, log_path_;
  files::ExclusiveLock lock_;
  int part_fd_ = -1;
  int log_fd_ = -1;
  std::vector<bool> verified_;
  size_t verified_count_ = 0;
  uint64_t verified_bytes_ = 0;
};

// "40.0 MB", "7 kB": sizes as people read them in messages (1 MB = 1,000,000 bytes).
std::string megabytes(uint64_t bytes);

}  // namespace outpost::sync
