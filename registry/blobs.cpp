#include "registry/blobs.h"

#include <filesystem>

namespace outpost::registry {

using sync::BlobError;
using sync::BlobManifest;

namespace {

// An upload another organization left idle this long may be taken over (and starts over).
constexpr int64_t kUploadClaimMs = 24 * 60 * 60 * 1000;
constexpr size_t kMaxHaveHashes = 1000;

const char* const kIndexSchema = R"sql(
-- Who may read a file: devices of `partition`, for as long as `holder` ("material:ID",
-- "upload:DEVICE") keeps it. A file nobody holds is deleted.
CREATE TABLE IF NOT EXISTS grants(
  holder TEXT NOT NULL, sha256 TEXT NOT NULL, partition TEXT NOT NULL,
  PRIMARY KEY(holder, sha256, partition)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS grants_by_file ON grants(sha256, partition);
-- Uploads under way, each owned by the organization whose device started it: only that
-- organization's devices add chunks, and only it is granted the file at the end.
CREATE TABLE IF NOT EXISTS uploads(
  sha256 TEXT PRIMARY KEY, partition TEXT NOT NULL, device TEXT NOT NULL, touched INTEGER NOT NULL) WITHOUT ROWID;
)sql";

void expect_method(const ApiRequest& request, const char* wanted) {
  if (request.method != wanted)
    throw ApiError(405, "method_not_allowed",
                   request.method + " is not allowed on " + request.path + "; use " + wanted);
}

const Device& uploading_device(const Principal& who) {
  if (!who.device) throw ApiError(403, "forbidden", "files are uploaded by enrolled devices; use a device token");
  return *who.device;
}

// What a Range header asks of a file of `size` bytes. Several ranges, or units other than
// bytes, are answered with the whole file, as HTTP allows.
struct RangeRequest {
  enum class Kind { Whole, Part, Unsatisfiable } kind = Kind::Whole;
  uint64_t first = 0, last = 0;
};

std::optional<uint64_t> parse_digits(const std::string& text) {
  if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return std::stoull(text);
}

RangeRequest parse_range(const std::string& header, uint64_t size) {
  RangeRequest range;
  const std::string prefix = "bytes=";
  if (header.rfind(prefix, 0) != 0 || header.find(',') != std::string::npos) return range;
  const std::string spec = header.substr(prefix.size());
  const size_t dash = spec.find('-');
  if (dash == std::string::npos) return range;
  const std::string from = spec.substr(0, dash), to = spec.substr(dash + 1);
  if (from.empty()) {  // the last N bytes
    const auto suffix = parse_digits(to);
    if (!suffix) return range;
    if (*suffix == 0 || size == 0) return {RangeRequest::Kind::Unsatisfiable};
    return {RangeRequest::Kind::Part, size > *suffix ? size - *suffix : 0, size - 1};
  }
  const auto first = parse_digits(from);
  const auto last = to.empty() ? std::optional<uint64_t>(UINT64_MAX) : parse_digits(to);
  if (!first || !last || *last < *first) return range;
  if (*first >= size) return {RangeRequest::Kind::Unsatisfiable};
  return {RangeRequest::Kind::Part, *first, std::min(*last, size - 1)};
}

}  // namespace

BlobService::BlobService(const std::string& directory, uint64_t quota_bytes, const Clock& clock, UploadCheck may_upload)
    : clock_(clock),
      may_upload_(std::move(may_upload)),
      store_(directory, quota_bytes),
      index_(directory + "/index.db") {
  index_.exec(kIndexSchema);
}

// --- Who may read what

void BlobService::grant(const std::string& sha256, const std::string& partition, const std::string& holder) {
  std::lock_guard<std::mutex> lock(mutex_);
  add_grant(sha256, partition, holder);
}

void BlobService::add_grant(const std::string& sha256, const std::string& partition, const std::string& holder) {
  index_.prepare("INSERT OR IGNORE INTO grants(holder, sha256, partition) VALUES(?, ?, ?)")
      .bind(1, holder)
      .bind(2, sha256)
      .bind(3, partition)
      .run();
}

uint64_t BlobService::release(const std::string& holder) {
  std::lock_guard<std::mutex> lock(mutex_);
  db::Transaction tx(index_);
  std::vector<std::string> held;
  auto& select = index_.prepare("SELECT DISTINCT sha256 FROM grants WHERE holder=?");
  select.bind(1, holder);
  while (select.step()) held.push_back(select.text(0));
  index_.prepare("DELETE FROM grants WHERE holder=?").bind(1, holder).run();
  std::vector<std::string> orphans;
  for (const std::string& sha256 : held) {
    auto& kept = index_.prepare(
        "SELECT EXISTS(SELECT 1 FROM grants WHERE sha256=?1) OR EXISTS(SELECT 1 FROM uploads WHERE sha256=?1)");
    kept.bind(1, sha256);
    if (kept.step() && kept.int64(0) == 0) orphans.push_back(sha256);
    kept.reset();
  }
  tx.commit();
  uint64_t freed = 0;
  for (const std::string& sha256 : orphans) freed += store_.remove(sha256);
  return freed;
}

bool BlobService::readable(const Principal& who, const std::string& sha256) {
  if (!store_.contains(sha256)) return false;
  if (who.registry_admin) return true;
  if (!who.device) return false;
  auto& select = index_.prepare("SELECT EXISTS(SELECT 1 FROM grants WHERE sha256=? AND partition IN (?, 'public'))");
  select.bind(1, sha256).bind(2, who.device->org_id);
  const bool granted = select.step() && select.int64(0) != 0;
  // A statement left on its row would pin an old snapshot of the index: the registry CLI writes it too.
  select.reset();
  return granted;
}

// --- Routes

ApiResponse BlobService::handle(const Principal& who, const ApiRequest& request, const std::vector<std::string>& parts) {
  if (parts.size() == 3 && parts[2] == "have") {
    expect_method(request, "POST");
    return have(who, request);
  }
  if (parts.size() < 3 || !sync::is_sha256_hex(parts[2]))
    throw ApiError(400, "invalid_hash",
                   "'" + (parts.size() < 3 ? std::string() : parts[2]) + "' is not a SHA-256 (64 lower-case hex digits)");
  const std::string& sha256 = parts[2];
  const bool reading = request.method == "GET";
  if (reading) {
    std::lock_guard<std::mutex> lock(mutex_);
    // Another organization's file answers exactly like a missing one.
    if (!readable(who, sha256)) throw ApiError(404, "not_found", "no file " + sha256 + " for this device");
  }
  if (parts.size() == 3) {
    expect_method(request, "GET");
    return file_response(request, store_, sha256);
  }
  if (parts.size() == 4 && parts[3] == "manifest") {
    if (reading) return json_response(request, store_.manifest(sha256)->to_json());
    expect_method(request, "PUT");
    return start_upload(uploading_device(who), request, sha256);
  }
  if (parts.size() == 5 && parts[3] == "chunks") {
    expect_method(request, "PUT");
    return put_chunk(uploading_device(who), request, sha256, parts[4]);
  }
  throw ApiError(404, "not_found", "no such endpoint: " + request.path);
}

ApiResponse BlobService::have(const Principal& who, const ApiRequest& request) {
  const Json body = read_json_body(request);
  if (!body.is_object() || !body.contains("hashes") || !body["hashes"].is_array())
    throw ApiError(400, "invalid_request", "send {\"hashes\": [SHA-256, ...]}");
  const Json& hashes = body["hashes"];
  if (hashes.size() > kMaxHaveHashes)
    throw ApiError(413, "too_large", "ask about at most " + std::to_string(kMaxHaveHashes) + " files at a time");
  Json held = Json::array();
  std::lock_guard<std::mutex> lock(mutex_);
  for (size_t i = 0; i < hashes.size(); ++i) {
    if (!hashes[i].is_string() || !sync::is_sha256_hex(hashes[i].get<std::string>()))
      throw ApiError(400, "invalid_hash", "hashes[" + std::to_string(i) + "] is not a SHA-256 (64 lower-case hex digits)");
    if (readable(who, hashes[i].get<std::string>())) held.push_back(hashes[i]);
  }
  return json_response(request, {{"have", held}});
}

// --- Uploads

ApiResponse BlobService::start_upload(const Device& device, const ApiRequest& request, const std::string& sha256) {
  BlobManifest manifest;
  try {
    manifest = BlobManifest::from_json(read_json_body(request), "manifest");
  } catch (const BlobError& error) {
    throw ApiError(400, "invalid_manifest", error.what());
  }
  if (manifest.sha256 != sha256)
    throw ApiError(400, "invalid_manifest", "the manifest describes " + manifest.sha256 + ", not " + sha256);

  // Asked before the index is locked: the check reads the registry's records.
  if (!may_upload_ || !may_upload_(device, sha256))
    throw ApiError(403, "not_referenced",
                   "no record of this organization names the file " + sha256 +
                       " in its attachments; send the record first (sync), then the file");
  std::lock_guard<std::mutex> lock(mutex_);
  if (readable(Principal{device, false}, sha256)) return json_response(request, {{"complete", true}});
  const int64_t now = clock_.now_ms();
  auto& owner = index_.prepare("SELECT partition, touched FROM uploads WHERE sha256=?");
  owner.bind(1, sha256);
  if (owner.step() && owner.text(0) != device.org_id) {
    if (now - owner.int64(1) < kUploadClaimMs)
      throw ApiError(409, "upload_busy", "another organization is uploading " + sha256 + "; try again later");
    store_.discard_partial(sha256);  // what the other organization sent proves nothing about this one
  }
  owner.reset();
  index_.prepare("INSERT OR REPLACE INTO uploads(sha256, partition, device, touched) VALUES(?, ?, ?, ?)")
      .bind(1, sha256)
      .bind(2, device.org_id)
      .bind(3, device.id)
      .bind(4, now)
      .run();
  std::unique_ptr<sync::PartialBlob> partial;
  try {
    partial = store_.open_partial(manifest);
  } catch (const sync::QuotaExceeded& error) {
    index_.prepare("DELETE FROM uploads WHERE sha256=?").bind(1, sha256).run();
    throw ApiError(507, "storage_quota", std::string("the registry cannot take this file: ") + error.what());
  }
  if (partial->complete()) return json_response(request, finish_upload(device, *partial));
  return json_response(request, {{"complete", false}, {"received", partial->received()}});
}

ApiResponse BlobService::put_chunk(const Device& device, const ApiRequest& request, const std::string& sha256,
                                   const std::string& index_text) {
  const auto index = parse_digits(index_text);
  if (!index) throw ApiError(400, "invalid_chunk", "'" + index_text + "' is not a chunk number");
  std::lock_guard<std::mutex> lock(mutex_);
  auto& owner = index_.prepare("SELECT partition FROM uploads WHERE sha256=?");
  owner.bind(1, sha256);
  const bool ours = owner.step() && owner.text(0) == device.org_id;
  owner.reset();
  const auto manifest = store_.partial_manifest(sha256);
  if (!ours || !manifest)
    throw ApiError(409, "upload_not_started", "no upload of " + sha256 + " is under way for this organization: send " +
                                                  "its manifest first (PUT /v1/blobs/" + sha256 + "/manifest)");
  const auto partial = store_.open_partial(*manifest);
  if (*index >= manifest->chunk_count())
    throw ApiError(400, "invalid_chunk", "chunk " + index_text + " is beyond the end of " + sha256 + " (" +
                                             std::to_string(manifest->chunk_count()) + " chunks)");
  const uint32_t expected = manifest->chunk_length(*index);
  if (request.body.size() != expected)
    throw ApiError(400, "invalid_chunk", "chunk " + index_text + " of " + sha256 + " must be " +
                                             std::to_string(expected) + " bytes, not " + std::to_string(request.body.size()));
  if (!partial->write_chunk(*index, request.body))
    throw ApiError(422, "chunk_mismatch",
                   "chunk " + index_text + " of " + sha256 + " does not match its hash in the manifest; send it again");
  index_.prepare("UPDATE uploads SET touched=? WHERE sha256=?").bind(1, clock_.now_ms()).bind(2, sha256).run();
  if (partial->complete()) return json_response(request, finish_upload(device, *partial));
  return json_response(request, {{"complete", false}, {"chunks_received", partial->verified_chunks()}});
}

Json BlobService::finish_upload(const Device& device, sync::PartialBlob& partial) {
  const std::string sha256 = partial.manifest().sha256;
  try {
    // Chunks the disk lost since they arrived are dropped; the device sends them again.
    if (!partial.finish()) return {{"complete", false}, {"received", partial.received()}};
  } catch (const BlobError& error) {
    index_.prepare("DELETE FROM uploads WHERE sha256=?").bind(1, sha256).run();
    throw ApiError(422, "manifest_mismatch", error.what());
  }
  db::Transaction tx(index_);
  add_grant(sha256, device.org_id, "upload:" + device.id);
  index_.prepare("DELETE FROM uploads WHERE sha256=?").bind(1, sha256).run();
  tx.commit();
  return {{"complete", true}};
}

ApiResponse file_response(const ApiRequest& request, const sync::BlobStore& store, const std::string& sha256) {
  const std::string path = store.path(sha256);
  std::error_code error;
  const uint64_t size = std::filesystem::file_size(path, error);
  if (error) throw ApiError(404, "not_found", "no file " + sha256 + " for this device");
  const std::string etag = "\"" + sha256 + "\"";
  const std::vector<std::pair<std::string, std::string>> headers = {
      {"ETag", etag}, {"Accept-Ranges", "bytes"}, {"Cache-Control", "private, max-age=31536000, immutable"}};

  ApiResponse response;
  response.headers = headers;
  if (request.header("If-None-Match") == etag) {
    response.status = 304;
    return response;
  }
  const RangeRequest range = parse_range(request.header("Range"), size);
  if (range.kind == RangeRequest::Kind::Unsatisfiable) {
    ApiResponse refusal = error_response(416, "range_not_satisfiable",
                                         "the range '" + request.header("Range") + "' lies beyond the end of " + sha256 +
                                             " (" + std::to_string(size) + " bytes)");
    refusal.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
    return refusal;
  }
  response.content_type = "application/octet-stream";
  if (range.kind == RangeRequest::Kind::Part) {
    response.status = 206;
    response.headers.emplace_back("Content-Range", "bytes " + std::to_string(range.first) + "-" +
                                                       std::to_string(range.last) + "/" + std::to_string(size));
    response.file = FileSlice{path, range.first, range.last - range.first + 1};
  } else {
    response.file = FileSlice{path, 0, size};
  }
  return response;
}

}  // namespace outpost::registry
