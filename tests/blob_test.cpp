// The content-addressed store and resumable downloads, against a fake file server that cuts
// answers, corrupts chunks, ignores ranges and "kills" the downloading process.

#include <doctest/doctest.h>

#include <cstdio>
#include <optional>
#include <set>

#include "platform/crypto.h"
#include "platform/files.h"
#include "support/transfer_data.h"
#include "support/temp_dir.h"
#include "sync/blob_transfer.h"

using namespace outpost;
using sync::BlobError;
using sync::BlobManifest;
using sync::BlobStore;
using Json = nlohmann::json;
using test::no_waiting;
using test::random_bytes;
using test::TempDir;

namespace {

BlobManifest manifest_of(const std::string& content, uint32_t chunk_size = sync::kBlobChunkSize) {
  BlobManifest manifest;
  manifest.sha256 = crypto::sha256_hex(content);
  manifest.size = content.size();
  manifest.chunk_size = chunk_size;
  for (size_t offset = 0; offset < content.size(); offset += chunk_size)
    manifest.chunks.push_back(crypto::sha256_hex(std::string_view(content).substr(offset, chunk_size)));
  return manifest;
}

// The "process" downloading was killed: nothing after this point runs.
struct Killed {};

// Serves one file the way the registry does (GET /v1/blobs/{sha}[/manifest], Range), handing the
// body over in pieces, with faults on demand.
class FakeFileServer final : public sync::Transport {
 public:
  explicit FakeFileServer(std::string content) : content_(std::move(content)), manifest_(manifest_of(content_)) {}

  const std::string& content() const { return content_; }
  const BlobManifest& manifest() const { return manifest_; }

  // --- Faults
  size_t cut_every = 0;             // cut every answer after this many body bytes (0: never)
  std::set<size_t> corrupt_chunks;  // served with one byte flipped, the first time only
  bool corrupt_always = false;      // ... or every time
  bool ignore_range = false;        // answer 200 with the whole file
  int answer_503 = 0;               // answer this many requests 503 first
  std::optional<uint64_t> kill_after;  // the downloader dies once this many body bytes arrived

  // --- What happened
  std::vector<uint64_t> range_starts;
  uint64_t body_bytes = 0;
  int cuts = 0;
  int manifest_requests = 0;

  sync::HttpResponse send(const sync::HttpRequest& request) override {
    sync::HttpResponse response;
    if (answer_503 > 0) {
      --answer_503;
      response.status = 503;
      response.body = R"({"error":"busy","message":"the registry is busy; try again"})";
      return response;
    }
    const std::string base = "/v1/blobs/" + manifest_.sha256;
    if (request.path == base + "/manifest") {
      ++manifest_requests;
      response.status = 200;
      response.body = manifest_.canonical_text();
      return response;
    }
    if (request.path != base) {
      response.status = 404;
      response.body = R"({"error":"not_found","message":"no such file"})";
      return response;
    }
    uint64_t first = 0, last = content_.size() - 1;
    std::string range;
    for (const auto& [name, value] : request.headers)
      if (name == "Range") range = value;
    unsigned long long a = 0, b = 0;
    if (!ignore_range && std::sscanf(range.c_str(), "bytes=%llu-%llu", &a, &b) == 2) {
      if (a >= content_.size()) {
        response.status = 416;
        response.body = R"({"error":"range_not_satisfiable","message":"beyond the end"})";
        return response;
      }
      first = a;
      last = std::min<uint64_t>(b, content_.size() - 1);
      response.status = 206;
      response.headers.emplace_back("Content-Range", "bytes " + std::to_string(first) + "-" + std::to_string(last) +
                                                         "/" + std::to_string(content_.size()));
    } else {
      response.status = 200;
    }
    range_starts.push_back(first);
    std::string body = content_.substr(first, last - first + 1);
    for (size_t chunk = first / manifest_.chunk_size; chunk * manifest_.chunk_size <= last; ++chunk) {
      const uint64_t offset = chunk * manifest_.chunk_size + 100;
      if (corrupt_chunks.count(chunk) && offset >= first && offset <= last) {
        body[offset - first] = static_cast<char>(body[offset - first] ^ 0x5a);
        if (!corrupt_always) corrupt_chunks.erase(chunk);
      }
    }
    size_t limit = body.size();
    if (cut_every > 0 && cut_every < limit) limit = cut_every;
    for (size_t sent = 0; sent < limit;) {
      const size_t piece = std::min<size_t>(limit - sent, 10'000);
      if (kill_after && body_bytes + piece > *kill_after) {
        request.on_body(response, std::string_view(body).substr(sent, *kill_after - body_bytes));
        body_bytes = *kill_after;
        throw Killed{};
      }
      request.on_body(response, std::string_view(body).substr(sent, piece));
      sent += piece;
      body_bytes += piece;
    }
    if (limit < body.size()) {
      ++cuts;
      throw sync::TransportError("test: connection cut");
    }
    return response;
  }

 private:
  std::string content_;
  BlobManifest manifest_;
};

std::string stored_content(const BlobStore& store, const std::string& sha256) {
  return files::read_file(store.path(sha256));
}

}  // namespace

// --- Manifests and the store

TEST_CASE("blobs: a manifest lists every chunk; its canonical JSON round-trips; malformed ones name the member") {
  const std::string content = random_bytes(3 * sync::kBlobChunkSize + 17, 1);
  const BlobManifest manifest = manifest_of(content);
  CHECK(manifest.chunk_count() == 4);
  CHECK(manifest.chunk_length(3) == 17);
  CHECK(BlobManifest::from_json(Json::parse(manifest.canonical_text()), "test") == manifest);
  CHECK(manifest.canonical_text().find(R"("format":"outpost-blob/1")") != std::string::npos);

  auto refusal = [&](const std::function<void(Json&)>& spoil) {
    Json json = manifest.to_json();
    spoil(json);
    try {
      BlobManifest::from_json(json, "upload");
    } catch (const BlobError& error) {
      return std::string(error.what());
    }
    return std::string("accepted");
  };
  CHECK(refusal([](Json& j) { j["chunks"].erase(0); }).find("upload: chunks must list 4 chunk hashes") == 0);
  CHECK(refusal([](Json& j) { j["chunks"][2] = "xyz"; }) == "upload: chunks[2] must be 64 lower-case hex digits");
  CHECK(refusal([](Json& j) { j["chunk_size"] = 12; }).find("upload: chunk_size must be from") == 0);
  CHECK(refusal([](Json& j) { j["size"] = -1; }) == "upload: size must be a whole number of bytes");
  CHECK(refusal([](Json& j) { j["format"] = "v0"; }).find("upload: unsupported manifest format") == 0);
  CHECK(refusal([](Json& j) { j["sha256"] = "ABC"; }) == "upload: sha256 must be 64 lower-case hex digits");
}

TEST_CASE("blobs: files are stored under their hash, once, and removed with what they took") {
  TempDir dir("outpost-blobs");
  const std::string content = random_bytes(200'000, 2);
  files::write_file_atomic(dir.file("manual.pdf"), content);
  BlobStore store(dir.file("store"));

  const BlobManifest manifest = store.add_file(dir.file("manual.pdf"));
  CHECK(manifest == manifest_of(content));
  CHECK(store.contains(manifest.sha256));
  CHECK(store.path(manifest.sha256) == dir.file("store") + "/objects/" + manifest.sha256.substr(0, 2) + "/" +
                                           manifest.sha256);
  CHECK(stored_content(store, manifest.sha256) == content);
  CHECK(store.manifest(manifest.sha256) == manifest);
  CHECK(store.add_file(dir.file("manual.pdf")) == manifest);  // already held: nothing copied
  CHECK(store.used_bytes() == content.size());

  CHECK(store.remove(manifest.sha256) == content.size());
  CHECK_FALSE(store.contains(manifest.sha256));
  CHECK(store.used_bytes() == 0);
  CHECK_THROWS_WITH_AS(store.path("../etc/passwd"), doctest::Contains("is not a SHA-256"), BlobError);
}

TEST_CASE("blobs: a quota refuses a file that does not fit, saying how much is needed and free") {
  TempDir dir("outpost-blobs");
  BlobStore store(dir.file("store"), 1'000'000);
  files::write_file_atomic(dir.file("small"), random_bytes(400'000, 3));
  files::write_file_atomic(dir.file("large"), random_bytes(700'000, 4));
  store.add_file(dir.file("small"));
  CHECK_THROWS_WITH_AS(store.add_file(dir.file("large")),
                       "storage quota of 1 MB exceeded: need 0.7 MB, 0.6 MB free", sync::QuotaExceeded);
  // An unfinished transfer holds its whole size.
  CHECK_THROWS_AS(store.open_partial(manifest_of(random_bytes(700'000, 5))), sync::QuotaExceeded);
  CHECK(store.used_bytes() == 400'000);
}

TEST_CASE("blobs: a partial file keeps verified chunks across reopening and refuses bad ones") {
  TempDir dir("outpost-blobs");
  BlobStore store(dir.file("store"));
  const std::string content = random_bytes(5 * sync::kBlobChunkSize + 1000, 6);
  const BlobManifest manifest = manifest_of(content);
  auto chunk = [&](size_t index) {
    return content.substr(manifest.chunk_offset(index), manifest.chunk_length(index));
  };
  {
    auto partial = store.open_partial(manifest);
    CHECK(partial->write_chunk(0, chunk(0)));
    CHECK(partial->write_chunk(3, chunk(3)));
    std::string bad = chunk(1);
    bad[7] ^= 1;
    CHECK_FALSE(partial->write_chunk(1, bad));
    CHECK_FALSE(partial->write_chunk(1, chunk(1).substr(1)));
    CHECK_THROWS_AS(partial->write_chunk(9, chunk(0)), BlobError);
  }
  // A process killed in the middle of appending to the log left half a line.
  {
    std::FILE* log = std::fopen((dir.file("store") + "/partial/" + manifest.sha256 + ".chunks").c_str(), "a");
    std::fputs("4", log);
    std::fclose(log);
  }
  CHECK(store.partial_bytes(manifest.sha256) == 2 * sync::kBlobChunkSize);
  auto partial = store.open_partial(manifest);
  CHECK(partial->received() == std::vector<size_t>{0, 3});
  CHECK_THROWS_AS(partial->finish(), BlobError);  // not complete
  for (size_t index : {1, 2, 4, 5}) CHECK(partial->write_chunk(index, chunk(index)));
  CHECK(partial->finish());
  CHECK(stored_content(store, manifest.sha256) == content);
  CHECK_FALSE(store.partial_manifest(manifest.sha256).has_value());
}

TEST_CASE("blobs: a chunk the disk lost is dropped at the end and received again") {
  TempDir dir("outpost-blobs");
  BlobStore store(dir.file("store"));
  const std::string content = random_bytes(3 * sync::kBlobChunkSize, 7);
  const BlobManifest manifest = manifest_of(content);
  auto partial = store.open_partial(manifest);
  for (size_t index = 0; index < 3; ++index)
    partial->write_chunk(index, content.substr(manifest.chunk_offset(index), manifest.chunk_length(index)));
  {
    // As after a power cut: the log says chunk 1 arrived, the disk holds something else.
    std::FILE* part = std::fopen((dir.file("store") + "/partial/" + manifest.sha256 + ".part").c_str(), "r+");
    std::fseek(part, static_cast<long>(sync::kBlobChunkSize + 5), SEEK_SET);
    std::fputc('!', part);
    std::fclose(part);
  }
  CHECK_FALSE(partial->finish());
  CHECK(partial->received() == std::vector<size_t>{0, 2});
  CHECK(partial->write_chunk(1, content.substr(manifest.chunk_offset(1), manifest.chunk_length(1))));
  CHECK(partial->finish());
  CHECK(stored_content(store, manifest.sha256) == content);
}

TEST_CASE("blobs: a manifest whose chunks do not make up its file is discarded") {
  TempDir dir("outpost-blobs");
  BlobStore store(dir.file("store"));
  const std::string content = random_bytes(2 * sync::kBlobChunkSize, 8);
  BlobManifest lying = manifest_of(content);
  lying.sha256 = crypto::sha256_hex("something else");
  auto partial = store.open_partial(lying);
  for (size_t index = 0; index < 2; ++index)
    partial->write_chunk(index, content.substr(lying.chunk_offset(index), lying.chunk_length(index)));
  CHECK_THROWS_WITH_AS(partial->finish(), doctest::Contains("does not describe it"), BlobError);
  CHECK_FALSE(store.contains(lying.sha256));
  CHECK_FALSE(store.partial_manifest(lying.sha256).has_value());
}

// --- Downloads

TEST_CASE("download: one range request brings a file, verified") {
  TempDir dir("outpost-blobs");
  BlobStore store(dir.file("store"));
  FakeFileServer server(random_bytes(20 * sync::kBlobChunkSize + 333, 10));
  sync::BlobTransfer transfer(store, server, "token", no_waiting());
  const sync::TransferReport report = transfer.download(server.manifest().sha256);
  CHECK(report.requests == 2);  // the manifest, then the range
  CHECK(report.bytes_moved == server.content().size());
  CHECK(report.bytes_wasted == 0);
  CHECK(stored_content(store, server.manifest().sha256) == server.content());
  // Held now: nothing moves.
  CHECK(transfer.download(server.manifest().sha256).skipped);
}

TEST_CASE("download: answers cut every 256 KiB lose at most the chunk in flight each time") {
  TempDir dir("outpost-blobs");
  BlobStore store(dir.file("store"));
  FakeFileServer server(random_bytes(40 * sync::kBlobChunkSize + 4321, 11));
  server.cut_every = 256 * 1024 - 300;  // the cut counts the headers too
  std::vector<uint64_t> progress;
  sync::TransferOptions options = no_waiting();
  options.on_progress = [&](const sync::TransferReport& report) { progress.push_back(report.done_bytes); };
  sync::BlobTransfer transfer(store, server, "token", options);
  const sync::TransferReport report = transfer.download(server.manifest().sha256);

  CHECK(stored_content(store, server.manifest().sha256) == server.content());
  CHECK(server.cuts >= 10);
  CHECK(report.failures == static_cast<size_t>(server.cuts));
  CHECK(report.bytes_wasted <= static_cast<uint64_t>(server.cuts) * sync::kBlobChunkSize);
  CHECK(report.bytes_moved == server.content().size() + report.bytes_wasted);
  // Every request after a cut starts at the chunk that was in flight: nothing verified is asked again.
  for (size_t i = 1; i < server.range_starts.size(); ++i) {
    CHECK(server.range_starts[i] % sync::kBlobChunkSize == 0);
    CHECK(server.range_starts[i] > server.range_starts[i - 1]);
  }
  CHECK(progress.size() == server.manifest().chunk_count());
  CHECK(progress.back() == server.content().size());
}

TEST_CASE("download: a corrupted chunk fails verification and is fetched again") {
  TempDir dir("outpost-blobs");
  BlobStore store(dir.file("store"));
  FakeFileServer server(random_bytes(10 * sync::kBlobChunkSize, 12));
  server.corrupt_chunks = {4};
  sync::BlobTransfer transfer(store, server, "token", no_waiting());
  const sync::TransferReport report = transfer.download(server.manifest().sha256);
  CHECK(report.chunks_rejected == 1);
  CHECK(report.bytes_wasted == sync::kBlobChunkSize);
  CHECK(server.range_starts == std::vector<uint64_t>{0, 4 * sync::kBlobChunkSize});
  CHECK(stored_content(store, server.manifest().sha256) == server.content());
}

TEST_CASE("download: a chunk damaged at the source every time stops the download with the reason") {
  TempDir dir("outpost-blobs");
  BlobStore store(dir.file("store"));
  FakeFileServer server(random_bytes(10 * sync::kBlobChunkSize, 13));
  server.corrupt_chunks = {6};
  server.corrupt_always = true;
  sync::BlobTransfer transfer(store, server, "token", no_waiting());
  CHECK_THROWS_WITH_AS(transfer.download(server.manifest().sha256),
                       doctest::Contains(("chunk 6 of " + server.manifest().sha256 + " failed verification 3 times").c_str()),
                       BlobError);
  CHECK_FALSE(store.contains(server.manifest().sha256));
  // The other chunks stay verified for the next attempt.
  CHECK(store.partial_bytes(server.manifest().sha256) == 9 * sync::kBlobChunkSize);
}

TEST_CASE("download: a server that ignores Range (200, whole file) still does") {
  TempDir dir("outpost-blobs");
  BlobStore store(dir.file("store"));
  FakeFileServer server(random_bytes(6 * sync::kBlobChunkSize + 10, 14));
  server.kill_after = 3 * sync::kBlobChunkSize + 50;
  {
    sync::BlobTransfer transfer(store, server, "token", no_waiting());
    CHECK_THROWS_AS(transfer.download(server.manifest().sha256), Killed);
  }
  server.kill_after.reset();
  server.ignore_range = true;
  sync::BlobTransfer transfer(store, server, "token", no_waiting());
  const sync::TransferReport report = transfer.download(server.manifest().sha256);
  CHECK(stored_content(store, server.manifest().sha256) == server.content());
  // The answer repeats the three chunks already held: moved again, but not rewritten.
  CHECK(report.bytes_moved == server.content().size());
  CHECK(report.bytes_wasted == 3 * sync::kBlobChunkSize);
}

TEST_CASE("download: a process killed mid-way resumes from its last verified chunk") {
  TempDir dir("outpost-blobs");
  FakeFileServer server(random_bytes(30 * sync::kBlobChunkSize + 99, 15));
  const uint64_t killed_at = 11 * sync::kBlobChunkSize + 12'345;
  server.kill_after = killed_at;
  {
    BlobStore store(dir.file("store"));
    sync::BlobTransfer transfer(store, server, "token", no_waiting());
    CHECK_THROWS_AS(transfer.download(server.manifest().sha256), Killed);
  }  // everything of the first process is gone
  server.kill_after.reset();
  server.range_starts.clear();
  const int manifests_before = server.manifest_requests;
  BlobStore store(dir.file("store"));
  CHECK(store.partial_bytes(server.manifest().sha256) == 11 * sync::kBlobChunkSize);
  sync::BlobTransfer transfer(store, server, "token", no_waiting());
  const sync::TransferReport report = transfer.download(server.manifest().sha256);
  CHECK(report.resumed_bytes == 11 * sync::kBlobChunkSize);
  CHECK(server.range_starts == std::vector<uint64_t>{11 * sync::kBlobChunkSize});
  CHECK(server.manifest_requests == manifests_before);  // the manifest was kept with the partial file
  CHECK(server.body_bytes == killed_at + server.content().size() - 11 * sync::kBlobChunkSize);
  CHECK(stored_content(store, server.manifest().sha256) == server.content());
}

TEST_CASE("download: busy answers are retried; a registry that stays down ends with the reason") {
  TempDir dir("outpost-blobs");
  BlobStore store(dir.file("store"));
  FakeFileServer server(random_bytes(2 * sync::kBlobChunkSize, 16));
  std::vector<std::chrono::milliseconds> waits;
  sync::TransferOptions options;
  options.sleep = [&](std::chrono::milliseconds wait) { waits.push_back(wait); };

  SUBCASE("two busy answers") {
    server.answer_503 = 2;
    sync::BlobTransfer transfer(store, server, "token", options);
    transfer.download(server.manifest().sha256);
    CHECK(waits == std::vector<std::chrono::milliseconds>{std::chrono::milliseconds(500), std::chrono::milliseconds(1000)});
    CHECK(stored_content(store, server.manifest().sha256) == server.content());
  }
  SUBCASE("always busy") {
    server.answer_503 = 1000;
    sync::BlobTransfer transfer(store, server, "token", options);
    CHECK_THROWS_WITH_AS(transfer.download(server.manifest().sha256),
                         doctest::Contains("stopped after 6 failed attempts in a row"), BlobError);
  }
}

TEST_CASE("download: a missing file, a short copy and a full disk are explained") {
  TempDir dir("outpost-blobs");
  FakeFileServer server(random_bytes(3 * sync::kBlobChunkSize, 17));
  SUBCASE("unknown file") {
    BlobStore store(dir.file("store"));
    sync::BlobTransfer transfer(store, server, "token", no_waiting());
    CHECK_THROWS_WITH_AS(transfer.download(std::string(64, 'a')),
                         doctest::Contains(("the registry has no file " + std::string(64, 'a')).c_str()), BlobError);
  }
  SUBCASE("the server's copy is shorter than the manifest says") {
    BlobStore store(dir.file("store"));
    BlobManifest longer = server.manifest();
    longer.size += 2 * sync::kBlobChunkSize;
    longer.chunks.push_back(longer.chunks[0]);
    longer.chunks.push_back(longer.chunks[0]);
    auto partial = store.open_partial(longer);
    for (size_t index = 0; index < 3; ++index)
      partial->write_chunk(index, server.content().substr(longer.chunk_offset(index), longer.chunk_length(index)));
    partial.reset();
    sync::BlobTransfer transfer(store, server, "token", no_waiting());
    CHECK_THROWS_WITH_AS(transfer.download(longer.sha256), doctest::Contains("shorter than its manifest says"), BlobError);
  }
  SUBCASE("over the quota") {
    BlobStore store(dir.file("store"), 100'000);
    sync::BlobTransfer transfer(store, server, "token", no_waiting());
    CHECK_THROWS_WITH_AS(transfer.download(server.manifest().sha256),
                         "storage quota of 0.1 MB exceeded: need 0.2 MB, 0.1 MB free", sync::QuotaExceeded);
  }
}
