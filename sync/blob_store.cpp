#include "sync/blob_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>

#include "platform/crypto.h"
#include "platform/log.h"

namespace outpost::sync {

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

// Never fill the disk to the last byte: the replica and the system need room to write too.
constexpr uint64_t kDiskReserve = 32 * 1000 * 1000;

[[noreturn]] void fail_errno(const std::string& what, const std::string& path) {
  throw BlobError(what + " " + path + ": " + std::strerror(errno));
}

// A file descriptor closed when it goes out of scope.
class Fd {
 public:
  Fd(const std::string& path, int flags, mode_t mode = 0644) : fd_(::open(path.c_str(), flags | O_CLOEXEC, mode)) {
    if (fd_ < 0) fail_errno("cannot open", path);
  }
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Hands the descriptor over to the caller, who closes it.
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

// Reads up to `size` bytes at `offset`; fewer only at the end of the file.
std::string read_at(int fd, uint64_t offset, size_t size, const std::string& path) {
  std::string data(size, '\0');
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, data.data() + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_errno("cannot read", path);
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  data.resize(done);
  return data;
}

void write_at(int fd, uint64_t offset, std::string_view data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_errno("cannot write", path);
    done += static_cast<size_t>(n);
  }
}

// Reads a file chunk by chunk, hashing each chunk and the whole; `on_chunk` sees every chunk.
BlobManifest scan_file(int fd, const std::string& path, uint32_t chunk_size,
                       const std::function<void(std::string_view)>& on_chunk = nullptr) {
  if (chunk_size < kMinBlobChunkSize || chunk_size > kMaxBlobChunkSize)
    throw BlobError("chunk size " + std::to_string(chunk_size) + " is outside " + std::to_string(kMinBlobChunkSize) +
                    " to " + std::to_string(kMaxBlobChunkSize) + " bytes");
  BlobManifest manifest;
  manifest.chunk_size = chunk_size;
  crypto::Sha256 whole;
  for (;;) {
    const std::string chunk = read_at(fd, manifest.size, chunk_size, path);
    if (chunk.empty()) break;
    whole.update(chunk);
    manifest.chunks.push_back(crypto::sha256_hex(chunk));
    manifest.size += chunk.size();
    if (on_chunk) on_chunk(chunk);
    if (manifest.chunks.size() > kMaxBlobChunks)
      throw BlobError(path + " is too large: at most " + std::to_string(kMaxBlobChunks) + " chunks");
  }
  manifest.sha256 = whole.finish_hex();
  return manifest;
}

std::string hash_of_file(int fd, const std::string& path) {
  crypto::Sha256 whole;
  uint64_t offset = 0;
  for (;;) {
    const std::string piece = read_at(fd, offset, 1 << 20, path);
    if (piece.empty()) break;
    whole.update(piece);
    offset += piece.size();
  }
  return whole.finish_hex();
}

void remove_if_present(const std::string& path) {
  std::error_code ignored;
  fs::remove(path, ignored);
}

uint64_t file_size_or_zero(const std::string& path) {
  std::error_code error;
  const auto size = fs::file_size(path, error);
  return error ? 0 : size;
}

// The chunk indexes of a `.chunks` log, each once, in the order logged; `complete_length` is
// where the last whole line ends.
std::vector<size_t> parse_chunk_log(const std::string& text, size_t chunk_count, size_t& complete_length) {
  std::vector<bool> seen(chunk_count);
  std::vector<size_t> indexes;
  size_t start = 0;
  for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    const size_t index = std::strtoull(text.c_str() + start, nullptr, 10);
    if (index < chunk_count && !seen[index]) {
      seen[index] = true;
      indexes.push_back(index);
    }
  }
  complete_length = start;
  return indexes;
}

std::optional<BlobManifest> read_manifest_file(const std::string& path) {
  if (!files::exists(path)) return std::nullopt;
  const Json json = Json::parse(files::read_file(path), nullptr, false);
  return BlobManifest::from_json(json, path);
}

}  // namespace

bool is_sha256_hex(std::string_view text) {
  return text.size() == 64 &&
         text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

std::string megabytes(uint64_t bytes) {
  constexpr uint64_t kMegabyte = 1000 * 1000;
  if (bytes < kMegabyte / 10) return std::to_string((bytes + 500) / 1000) + " kB";
  if (bytes % kMegabyte == 0) return std::to_string(bytes / kMegabyte) + " MB";
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MB", static_cast<double>(bytes) / kMegabyte);
  return text;
}

// --- Manifests

uint32_t BlobManifest::chunk_length(size_t index) const {
  if (index >= chunk_count()) throw BlobError("chunk " + std::to_string(index) + " is beyond the end of " + sha256);
  return static_cast<uint32_t>(std::min<uint64_t>(chunk_size, size - chunk_offset(index)));
}

Json BlobManifest::to_json() const {
  return {{"format", kFormat}, {"sha256", sha256}, {"size", size}, {"chunk_size", chunk_size}, {"chunks", chunks}};
}

BlobManifest BlobManifest::from_json(const Json& json, const std::string& where) {
  auto fail = [&](const std::string& what) -> BlobError { return BlobError(where + ": " + what); };
  if (!json.is_object()) throw fail("not a file manifest (JSON object expected)");
  if (json.value("format", "") != kFormat)
    throw fail(std::string("unsupported manifest format (expected \"") + kFormat + "\")");
  BlobManifest manifest;
  const auto sha = json.find("sha256");
  if (sha == json.end() || !sha->is_string() || !is_sha256_hex(sha->get<std::string>()))
    throw fail("sha256 must be 64 lower-case hex digits");
  manifest.sha256 = sha->get<std::string>();
  const auto size = json.find("size");
  if (size == json.end() || !size->is_number_unsigned()) throw fail("size must be a whole number of bytes");
  manifest.size = size->get<uint64_t>();
  const auto chunk_size = json.find("chunk_size");
  if (chunk_size == json.end() || !chunk_size->is_number_unsigned() ||
      chunk_size->get<uint64_t>() < kMinBlobChunkSize || chunk_size->get<uint64_t>() > kMaxBlobChunkSize)
    throw fail("chunk_size must be from " + std::to_string(kMinBlobChunkSize) + " to " +
               std::to_string(kMaxBlobChunkSize) + " bytes");
  manifest.chunk_size = chunk_size->get<uint32_t>();
  const uint64_t expected = (manifest.size + manifest.chunk_size - 1) / manifest.chunk_size;
  if (expected > kMaxBlobChunks) throw fail("the file is too large: at most " + std::to_string(kMaxBlobChunks) + " chunks");
  const auto chunks = json.find("chunks");
  if (chunks == json.end() || !chunks->is_array() || chunks->size() != expected)
    throw fail("chunks must list " + std::to_string(expected) + " chunk hashes for " + std::to_string(manifest.size) +
               " bytes in chunks of " + std::to_string(manifest.chunk_size));
  for (size_t i = 0; i < chunks->size(); ++i) {
    const Json& chunk = (*chunks)[i];
    if (!chunk.is_string() || !is_sha256_hex(chunk.get<std::string>()))
      throw fail("chunks[" + std::to_string(i) + "] must be 64 lower-case hex digits");
    manifest.chunks.push_back(chunk.get<std::string>());
  }
  return manifest;
}

BlobManifest BlobManifest::of_file(const std::string& path, uint32_t chunk_size) {
  Fd file(path, O_RDONLY);
  return scan_file(file.get(), path, chunk_size);
}

std::string read_blob_chunk(const std::string& path, const BlobManifest& manifest, size_t index) {
  Fd file(path, O_RDONLY);
  const uint32_t length = manifest.chunk_length(index);
  std::string data = read_at(file.get(), manifest.chunk_offset(index), length, path);
  if (data.size() != length) throw BlobError(path + " is shorter than its manifest says");
  return data;
}

// --- The store

BlobStore::BlobStore(std::string directory, uint64_t quota_bytes)
    : directory_(std::move(directory)), quota_bytes_(quota_bytes) {
  files::ensure_directory(directory_ + "/objects");
  files::ensure_directory(directory_ + "/partial");
}

void BlobStore::check_hash(const std::string& sha256) {
  if (!is_sha256_hex(sha256)) throw BlobError("'" + sha256 + "' is not a SHA-256 (64 lower-case hex digits)");
}

std::string BlobStore::path(const std::string& sha256) const {
  check_hash(sha256);
  return directory_ + "/objects/" + sha256.substr(0, 2) + "/" + sha256;
}

std::string BlobStore::partial_path(const std::string& sha256, const char* suffix) const {
  check_hash(sha256);
  return directory_ + "/partial/" + sha256 + suffix;
}

bool BlobStore::contains(const std::string& sha256) const { return files::exists(path(sha256)); }

std::optional<BlobManifest> BlobStore::manifest(const std::string& sha256) const {
  const std::string file = path(sha256);
  if (!files::exists(file)) return std::nullopt;
  try {
    if (auto stored = read_manifest_file(file + ".manifest")) return stored;
  } catch (const BlobError& error) {
    log::warn(std::string(error.what()) + "; rebuilding it");
  }
  // The file is there but not its manifest (lost, damaged, or written by hand): rebuild it.
  BlobManifest computed = BlobManifest::of_file(file);
  if (computed.sha256 != sha256) throw BlobError(file + " is damaged: its content hashes to " + computed.sha256);
  files::write_file_atomic(file + ".manifest", computed.canonical_text());
  return computed;
}

BlobManifest BlobStore::add_file(const std::string& source, uint32_t chunk_size) {
  std::error_code error;
  const uint64_t size = fs::file_size(source, error);
  if (error) throw BlobError("cannot read " + source + ": " + error.message());
  check_room(size);
  // Copied and hashed in the same pass, so what is stored is exactly what was hashed.
  const std::string temporary = directory_ + "/partial/import-" + crypto::random_hex(8) + ".tmp";
  Fd in(source, O_RDONLY);
  BlobManifest manifest;
  try {
    Fd out(temporary, O_WRONLY | O_CREAT | O_TRUNC);
    uint64_t written = 0;
    manifest = scan_file(in.get(), source, chunk_size, [&](std::string_view chunk) {
      write_at(out.get(), written, chunk, temporary);
      written += chunk.size();
    });
    if (::fsync(out.get()) != 0) fail_errno("cannot write", temporary);
    if (contains(manifest.sha256)) {
      remove_if_present(temporary);
      return manifest;
    }
    const std::string target = path(manifest.sha256);
    files::ensure_directory(fs::path(target).parent_path().string());
    files::write_file_atomic(target + ".manifest", manifest.canonical_text());
    if (::rename(temporary.c_str(), target.c_str()) != 0) fail_errno("cannot store", target);
  } catch (...) {
    remove_if_present(temporary);
    throw;
  }
  return manifest;
}

uint64_t BlobStore::remove(const std::string& sha256) {
  uint64_t freed = file_size_or_zero(path(sha256));
  if (auto partial = partial_manifest(sha256)) freed += partial->size;
  remove_if_present(path(sha256));
  remove_if_present(path(sha256) + ".manifest");
  discard_partial(sha256);
  return freed;
}

void BlobStore::discard_partial(const std::string& sha256) {
  for (const char* suffix : {".part", ".chunks", ".manifest", ".lock"}) remove_if_present(partial_path(sha256, suffix));
}

uint64_t BlobStore::used_bytes() const {
  uint64_t used = 0;
  std::error_code error;
  for (fs::recursive_directory_iterator it(directory_ + "/objects", error), end; !error && it != end; it.increment(error))
    if (it->is_regular_file(error) && it->path().extension() != ".manifest") used += it->file_size(error);
  for (fs::directory_iterator it(directory_ + "/partial", error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (it->path().extension() == ".manifest")
      if (auto partial = partial_manifest(name.substr(0, name.size() - std::strlen(".manifest"))))
        used += partial->size;
  }
  return used;
}

void BlobStore::check_room(uint64_t bytes) const {
  if (quota_bytes_ > 0) {
    const uint64_t used = used_bytes();
    if (used + bytes > quota_bytes_)
      throw QuotaExceeded("storage quota of " + megabytes(quota_bytes_) + " exceeded: need " + megabytes(bytes) + ", " +
                          megabytes(used < quota_bytes_ ? quota_bytes_ - used : 0) + " free");
  }
  std::error_code error;
  const fs::space_info space = fs::space(directory_, error);
  if (!error && bytes + kDiskReserve > space.available)
    throw QuotaExceeded("not enough disk space in " + directory_ + ": need " + megabytes(bytes) + ", " +
                        megabytes(space.available > kDiskReserve ? space.available - kDiskReserve : 0) + " free");
}

std::unique_ptr<PartialBlob> BlobStore::open_partial(const BlobManifest& manifest) {
  return std::unique_ptr<PartialBlob>(new PartialBlob(*this, manifest));
}

std::optional<BlobManifest> BlobStore::partial_manifest(const std::string& sha256) const {
  if (!is_sha256_hex(sha256)) return std::nullopt;
  try {
    return read_manifest_file(partial_path(sha256, ".manifest"));
  } catch (const BlobError&) {
    return std::nullopt;  // a damaged leftover: the next transfer starts over
  }
}

std::optional<uint64_t> BlobStore::partial_bytes(const std::string& sha256) const {
  auto manifest = partial_manifest(sha256);
  if (!manifest) return std::nullopt;
  const std::string log = partial_path(sha256, ".chunks");
  uint64_t bytes = 0;
  if (files::exists(log)) {
    size_t ignored = 0;
    for (size_t index : parse_chunk_log(files::read_file(log), manifest->chunk_count(), ignored))
      bytes += manifest->chunk_length(index);
  }
  return bytes;
}

// --- Receiving a file

PartialBlob::PartialBlob(BlobStore& store, BlobManifest manifest)
    : store_(store),
      manifest_(std::move(manifest)),
      part_path_(store.partial_path(manifest_.sha256, ".part")),
      log_path_(store.partial_path(manifest_.sha256, ".chunks")),
      lock_(store.partial_path(manifest_.sha256, ".lock")) {
  const std::string manifest_path = store.partial_path(manifest_.sha256, ".manifest");
  const auto left = store.partial_manifest(manifest_.sha256);
  if (left != manifest_) {
    if (left || files::exists(part_path_)) {
      remove_if_present(part_path_);
      remove_if_present(log_path_);
      remove_if_present(manifest_path);
    }
    store.check_room(manifest_.size);
    files::write_file_atomic(manifest_path, manifest_.canonical_text());
  }
  Fd part(part_path_, O_RDWR | O_CREAT);
  Fd log(log_path_, O_WRONLY | O_APPEND | O_CREAT);
  if (::ftruncate(part.get(), static_cast<off_t>(manifest_.size)) != 0) fail_errno("cannot size", part_path_);
  part_fd_ = part.release();
  log_fd_ = log.release();
  verified_.assign(manifest_.chunk_count(), false);
  load_log();
}

PartialBlob::~PartialBlob() {
  if (part_fd_ >= 0) ::close(part_fd_);
  if (log_fd_ >= 0) ::close(log_fd_);
}

void PartialBlob::load_log() {
  const std::string text = files::read_file(log_path_);
  size_t complete_length = 0;
  for (size_t index : parse_chunk_log(text, verified_.size(), complete_length)) {
    verified_[index] = true;
    ++verified_count_;
    verified_bytes_ += manifest_.chunk_length(index);
  }
  // A line cut short by a killed process would run into the next one: drop it.
  if (complete_length != text.size()) rewrite_log();
}

void PartialBlob::rewrite_log() {
  std::string text;
  for (size_t index : received()) text += std::to_string(index) + "\n";
  files::write_file_atomic(log_path_, text);
  // The old descriptor points at the replaced file.
  ::close(log_fd_);
  log_fd_ = Fd(log_path_, O_WRONLY | O_APPEND | O_CREAT).release();
}

std::vector<size_t> PartialBlob::received() const {
  std::vector<size_t> indexes;
  for (size_t i = 0; i < verified_.size(); ++i)
    if (verified_[i]) indexes.push_back(i);
  return indexes;
}

bool PartialBlob::write_chunk(size_t index, std::string_view data) {
  if (index >= verified_.size())
    throw BlobError("chunk " + std::to_string(index) + " is beyond the end of " + manifest_.sha256 + " (" +
                    std::to_string(verified_.size()) + " chunks)");
  if (verified_[index]) return true;
  if (data.size() != manifest_.chunk_length(index) || crypto::sha256_hex(data) != manifest_.chunks[index]) return false;
  write_at(part_fd_, manifest_.chunk_offset(index), data, part_path_);
  // The log line goes after the bytes: a chunk is never recorded before it is written.
  const std::string line = std::to_string(index) + "\n";
  write_at(log_fd_, 0, line, log_path_);  // O_APPEND: the offset is ignored
  verified_[index] = true;
  ++verified_count_;
  verified_bytes_ += data.size();
  return true;
}

bool PartialBlob::finish() {
  if (!complete())
    throw BlobError("cannot finish " + manifest_.sha256 + ": " + std::to_string(verified_count_) + " of " +
                    std::to_string(verified_.size()) + " chunks received");
  const std::string actual = hash_of_file(part_fd_, part_path_);
  if (actual != manifest_.sha256) {
    // Every chunk verified when it arrived; find the ones the disk lost since (a power cut can
    // drop writes the log kept).
    size_t dropped = 0;
    for (size_t i = 0; i < verified_.size(); ++i) {
      const std::string data = read_at(part_fd_, manifest_.chunk_offset(i), manifest_.chunk_length(i), part_path_);
      if (crypto::sha256_hex(data) == manifest_.chunks[i]) continue;
      verified_[i] = false;
      --verified_count_;
      verified_bytes_ -= manifest_.chunk_length(i);
      ++dropped;
    }
    if (dropped == 0) {
      store_.remove(manifest_.sha256);
      throw BlobError("the manifest of " + manifest_.sha256 + " does not describe it: every chunk matches, but the " +
                      "whole file hashes to " + actual + "; the transfer was discarded");
    }
    rewrite_log();
    return false;
  }
  if (::fsync(part_fd_) != 0) fail_errno("cannot write", part_path_);
  const std::string target = store_.path(manifest_.sha256);
  if (files::exists(target)) {
    remove_if_present(part_path_);  // received again (a proof of possession): the copy held stays
  } else {
    files::ensure_directory(fs::path(target).parent_path().string());
    files::write_file_atomic(target + ".manifest", manifest_.canonical_text());
    if (::rename(part_path_.c_str(), target.c_str()) != 0) fail_errno("cannot store", target);
  }
  for (const char* suffix : {".chunks", ".manifest", ".lock"}) remove_if_present(store_.partial_path(manifest_.sha256, suffix));
  return true;
}

}  // namespace outpost::sync
