#include "sync/blob_transfer.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <thread>

#include "platform/log.h"
#include "sync/engine.h"

namespace outpost::sync {

using Json = nlohmann::json;

namespace {

constexpr size_t kMaxErrorBody = 64 * 1024;

bool is_retryable_status(int status) { return status == 408 || status == 429 || status >= 500; }

std::string blob_path(const std::string& sha256) { return "/v1/blobs/" + sha256; }

// A JSON answer's body, or BlobError naming what was asked.
Json json_body(const HttpResponse& response, const std::string& what) {
  Json body = Json::parse(response.body, nullptr, false);
  if (!body.is_object()) throw BlobError(what + ": the answer is not JSON (not an Outpost registry?)");
  return body;
}

// The errors every file request may meet, as one sentence. Retryable answers (408, 429, 5xx)
// are handled before this; a 401 concerns the device, any other 4xx this one file.
[[noreturn]] void fail_answer(const HttpResponse& response, const std::string& what, const std::string& sha256) {
  if (response.status == 401)
    throw BlobError(what + ": the registry does not accept this device's token (revoked or never enrolled)", 401);
  if (response.status == 404)
    throw BlobRefused(what + ": the registry has no file " + sha256 + " for this device", 404);
  if (response.status >= 400 && response.status < 500)
    throw BlobRefused(what + ": " + describe_error_response(response), response.status);
  throw BlobError(what + ": " + describe_error_response(response), response.status);
}

// "bytes FIRST-LAST/TOTAL" -> FIRST and TOTAL; nullopt when malformed.
std::optional<std::pair<uint64_t, uint64_t>> parse_content_range(const std::string& value) {
  unsigned long long first = 0, last = 0, total = 0;
  int consumed = 0;
  if (std::sscanf(value.c_str(), "bytes %llu-%llu/%llu%n", &first, &last, &total, &consumed) != 3 ||
      static_cast<size_t>(consumed) != value.size() || last < first || last >= total)
    return std::nullopt;
  return std::make_pair(static_cast<uint64_t>(first), static_cast<uint64_t>(total));
}

}  // namespace

// --- Retries

// Counts requests that failed in a row without moving anything, waiting longer after each.
class BlobTransfer::Backoff {
 public:
  explicit Backoff(const TransferOptions& options) : options_(options), delay_(options.first_backoff) {}

  // After a failed request: retries at once when it still moved verified chunks, otherwise waits,
  // or throws once max_attempts requests in a row moved nothing.
  // `http_status`: the answer's, 0 when none came.
  void failed(const std::string& what, const std::string& reason, int http_status, bool moved_something,
              TransferReport& report) {
    ++report.failures;
    if (moved_something) {
      in_a_row_ = 0;
      delay_ = options_.first_backoff;
      return;
    }
    if (++in_a_row_ >= options_.max_attempts)
      throw BlobError(what + " stopped after " + std::to_string(in_a_row_) + " failed attempts in a row (" + reason +
                      "); " + megabytes(report.done_bytes) + " of " + megabytes(report.size) +
                      " are kept and the next attempt resumes from there",
                      http_status);
    log::info(what + ": " + reason + "; retrying");
    if (options_.sleep)
      options_.sleep(delay_);
    else
      std::this_thread::sleep_for(delay_);
    delay_ = std::min(delay_ * 2, options_.max_backoff);
  }

 private:
  const TransferOptions& options_;
  std::chrono::milliseconds delay_;
  int in_a_row_ = 0;
};

// --- Receiving a range

// Takes the body of one range answer as it arrives and stores every whole chunk that verifies.
class BlobTransfer::RangeReceiver {
 public:
  RangeReceiver(PartialBlob& partial, TransferReport& report, const TransferOptions& options,
                std::map<size_t, int>& rejections)
      : partial_(partial), manifest_(partial.manifest()), report_(report), options_(options), rejections_(rejections) {}

  void take(const HttpResponse& head, std::string_view piece) {
    if (!started_) start(head);
    if (!is_file_) {
      if (error_body_.size() < kMaxErrorBody) error_body_.append(piece.substr(0, kMaxErrorBody - error_body_.size()));
      return;
    }
    report_.bytes_moved += piece.size();
    while (!piece.empty()) {
      if (skip_ > 0 || position_ >= manifest_.size) {
        // Bytes before the first chunk boundary, or beyond the end: of no use.
        const size_t dropped = position_ >= manifest_.size ? piece.size() : std::min<uint64_t>(skip_, piece.size());
        report_.bytes_wasted += dropped;
        skip_ -= std::min<uint64_t>(skip_, dropped);
        position_ += dropped;
        piece.remove_prefix(dropped);
        continue;
      }
      const size_t index = position_ / manifest_.chunk_size;
      const size_t wanted = manifest_.chunk_length(index) - chunk_.size();
      const size_t taken = std::min(wanted, piece.size());
      chunk_.append(piece.substr(0, taken));
      position_ += taken;
      piece.remove_prefix(taken);
      if (taken == wanted) store(index);
    }
  }

  // After the answer ended, whole or cut: bytes of an unfinished chunk are lost.
  void end() {
    report_.bytes_wasted += chunk_.size();
    chunk_.clear();
  }

  bool stored_any() const { return stored_ > 0; }
  // The answer's status and headers with the body kept for an error message.
  HttpResponse error_answer(HttpResponse head) const {
    head.body = error_body_;
    return head;
  }

 private:
  void start(const HttpResponse& head) {
    started_ = true;
    if (head.status == 206) {
      auto range = parse_content_range(head.header("Content-Range"));
      if (!range) throw BlobError("the registry answered a range request with a malformed Content-Range '" +
                                  head.header("Content-Range") + "'");
      if (range->second != manifest_.size)
        throw BlobError("the registry's copy of " + manifest_.sha256 + " has " + std::to_string(range->second) +
                        " bytes; its manifest says " + std::to_string(manifest_.size));
      position_ = range->first;
      const uint64_t into_chunk = position_ % manifest_.chunk_size;
      skip_ = into_chunk == 0 ? 0 : manifest_.chunk_size - into_chunk;
      is_file_ = true;
    } else if (head.status == 200) {
      position_ = 0;  // the server ignored the range: the whole file follows
      is_file_ = true;
    }
  }

  void store(size_t index) {
    const std::string data = std::move(chunk_);
    chunk_.clear();
    if (partial_.has_chunk(index)) {
      report_.bytes_wasted += data.size();  // a whole-file answer repeats what we hold
      return;
    }
    if (!partial_.write_chunk(index, data)) {
      report_.bytes_wasted += data.size();
      ++report_.chunks_rejected;
      log::warn("chunk " + std::to_string(index) + " of " + manifest_.sha256 + " failed verification; fetching it again");
      if (++rejections_[index] >= options_.max_chunk_rejections)
        throw BlobError("chunk " + std::to_string(index) + " of " + manifest_.sha256 + " failed verification " +
                        std::to_string(rejections_[index]) + " times: the registry's copy may be damaged");
      return;
    }
    ++stored_;
    report_.done_bytes += data.size();
    if (options_.on_progress) options_.on_progress(report_);
  }

  PartialBlob& partial_;
  const BlobManifest& manifest_;
  TransferReport& report_;
  const TransferOptions& options_;
  std::map<size_t, int>& rejections_;
  bool started_ = false;
  bool is_file_ = false;
  uint64_t position_ = 0;  // file offset of the next byte
  uint64_t skip_ = 0;      // bytes to drop before the next chunk boundary
  std::string chunk_;      // the chunk being received
  std::string error_body_;
  size_t stored_ = 0;
};

// --- Requests

BlobTransfer::BlobTransfer(BlobStore& store, Transport& transport, std::string token, TransferOptions options)
    : store_(store), transport_(transport), token_(std::move(token)), options_(std::move(options)) {}

HttpRequest BlobTransfer::request(const std::string& method, const std::string& path) const {
  HttpRequest request;
  request.method = method;
  request.path = path;
  request.headers = {{"Authorization", "Bearer " + token_}};
  return request;
}

HttpResponse BlobTransfer::send_small(HttpRequest request, const std::string& what, TransferReport& report) {
  Backoff backoff(options_);
  for (;;) {
    std::string failure;
    int status = 0;
    try {
      ++report.requests;
      HttpResponse response = transport_.send(request);
      if (!is_retryable_status(response.status)) return response;
      failure = describe_error_response(response);
      status = response.status;
    } catch (const TransportError& error) {
      failure = error.what();
    }
    backoff.failed(what, failure, status, false, report);
  }
}

BlobManifest BlobTransfer::fetch_manifest(const std::string& sha256, TransferReport& report) {
  const std::string what = "fetching the manifest of " + sha256;
  const HttpResponse response = send_small(request("GET", blob_path(sha256) + "/manifest"), what, report);
  if (response.status != 200) fail_answer(response, what, sha256);
  BlobManifest manifest = BlobManifest::from_json(json_body(response, what), "the registry's manifest of " + sha256);
  if (manifest.sha256 != sha256)
    throw BlobError(what + ": the registry sent the manifest of another file (" + manifest.sha256 + ")");
  return manifest;
}

// --- Download

void BlobTransfer::fetch_range(PartialBlob& partial, TransferReport& report, Backoff& backoff) {
  const BlobManifest& manifest = partial.manifest();
  size_t first = 0;
  while (partial.has_chunk(first)) ++first;
  size_t last = first;
  uint64_t bytes = manifest.chunk_length(first);
  while (last + 1 < manifest.chunk_count() && !partial.has_chunk(last + 1) &&
         bytes + manifest.chunk_length(last + 1) <= options_.max_range_bytes)
    bytes += manifest.chunk_length(++last);
  const uint64_t from = manifest.chunk_offset(first);

  HttpRequest range = request("GET", blob_path(manifest.sha256));
  range.headers.emplace_back("Range", "bytes=" + std::to_string(from) + "-" + std::to_string(from + bytes - 1));
  RangeReceiver receiver(partial, report, options_, rejections_);
  range.on_body = [&receiver](const HttpResponse& head, std::string_view piece) { receiver.take(head, piece); };
  const std::string what = "downloading " + manifest.sha256;
  HttpResponse answer;
  try {
    ++report.requests;
    answer = transport_.send(range);
  } catch (const TransportError& error) {
    receiver.end();
    backoff.failed(what, error.what(), 0, receiver.stored_any(), report);
    return;
  }
  receiver.end();
  if (answer.status == 206 || answer.status == 200) return;
  answer = receiver.error_answer(std::move(answer));
  if (answer.status == 416)
    throw BlobError(what + ": the registry's copy is shorter than its manifest says (HTTP 416)");
  if (!is_retryable_status(answer.status)) fail_answer(answer, what, manifest.sha256);
  backoff.failed(what, describe_error_response(answer), answer.status, false, report);
}

TransferReport BlobTransfer::download(const std::string& sha256) {
  TransferReport report;
  report.sha256 = sha256;
  if (auto held = store_.manifest(sha256)) {
    report.size = report.done_bytes = report.resumed_bytes = held->size;
    report.skipped = true;
    return report;
  }
  rejections_.clear();
  auto left = store_.partial_manifest(sha256);
  const BlobManifest manifest = left ? *left : fetch_manifest(sha256, report);
  if (options_.accept_manifest) options_.accept_manifest(manifest);
  const auto partial = store_.open_partial(manifest);
  report.size = manifest.size;
  report.done_bytes = report.resumed_bytes = partial->verified_bytes();
  Backoff backoff(options_);
  // A whole that does not verify drops the chunks the disk lost; they are fetched once more.
  for (int round = 0; round < 3; ++round) {
    while (!partial->complete()) fetch_range(*partial, report, backoff);
    if (partial->finish()) return report;
    report.done_bytes = partial->verified_bytes();
  }
  throw BlobError("downloading " + sha256 + ": chunks written to " + store_.directory() +
                  " keep changing on disk; check the storage");
}

// --- Upload

std::vector<std::string> BlobTransfer::registry_has(const std::vector<std::string>& hashes) {
  HttpRequest have = request("POST", "/v1/blobs/have");
  have.headers.emplace_back("Content-Type", "application/json");
  have.body = Json{{"hashes", hashes}}.dump();
  const std::string what = "asking the registry which files it has";
  TransferReport ignored;
  const HttpResponse response = send_small(have, what, ignored);
  if (response.status != 200) fail_answer(response, what, "");
  const Json body = json_body(response, what);
  std::vector<std::string> held;
  if (body.contains("have") && body["have"].is_array())
    for (const Json& hash : body["have"])
      if (hash.is_string()) held.push_back(hash.get<std::string>());
  return held;
}

std::optional<std::vector<size_t>> BlobTransfer::start_upload(const BlobManifest& manifest, TransferReport& report) {
  HttpRequest start = request("PUT", blob_path(manifest.sha256) + "/manifest");
  start.headers.emplace_back("Content-Type", "application/json");
  start.body = manifest.canonical_text();
  const std::string what = "uploading " + manifest.sha256;
  const HttpResponse response = send_small(start, what, report);
  if (response.status != 200) fail_answer(response, what, manifest.sha256);
  const Json body = json_body(response, what);
  if (body.value("complete", false)) return std::nullopt;
  std::vector<size_t> received;
  if (body.contains("received") && body["received"].is_array())
    for (const Json& index : body["received"])
      if (index.is_number_unsigned() && index.get<size_t>() < manifest.chunk_count()) received.push_back(index.get<size_t>());
  return received;
}

void BlobTransfer::upload_one(const BlobManifest& manifest, TransferReport& report) {
  const std::string what = "uploading " + manifest.sha256;
  const std::string file = store_.path(manifest.sha256);
  rejections_.clear();
  Backoff backoff(options_);
  bool first_round = true;
  for (;;) {
    // Each round asks the registry what it holds, then sends the rest.
    const auto received = start_upload(manifest, report);
    if (!received) break;
    std::set<size_t> held(received->begin(), received->end());
    report.done_bytes = 0;
    for (size_t index : held) report.done_bytes += manifest.chunk_length(index);
    if (first_round) report.resumed_bytes = report.done_bytes;
    first_round = false;

    bool restart = false;
    bool moved = false;
    for (size_t index = 0; index < manifest.chunk_count() && !restart; ++index) {
      if (held.count(index)) continue;
      HttpRequest put = request("PUT", blob_path(manifest.sha256) + "/chunks/" + std::to_string(index));
      put.headers.emplace_back("Content-Type", "application/octet-stream");
      put.body = read_blob_chunk(file, manifest, index);
      report.bytes_moved += put.body.size();
      ++report.requests;
      HttpResponse answer;
      try {
        answer = transport_.send(put);
      } catch (const TransportError& error) {
        backoff.failed(what, error.what(), 0, moved, report);
        restart = true;
        continue;
      }
      if (answer.status == 200) {
        moved = true;
        report.done_bytes += put.body.size();
        if (options_.on_progress) options_.on_progress(report);
        if (json_body(answer, what).value("complete", false)) return;
      } else if (answer.status == 422 && json_body(answer, what).value("error", "") == "chunk_mismatch") {
        ++report.chunks_rejected;
        if (++rejections_[index] >= options_.max_chunk_rejections)
          throw BlobRefused(what + ": the registry refused chunk " + std::to_string(index) + " " +
                          std::to_string(rejections_[index]) + " times; the local copy may be damaged");
        restart = true;
      } else if (is_retryable_status(answer.status) || answer.status == 409) {
        // 409: the registry no longer has this upload under way; the next round starts it again.
        backoff.failed(what, describe_error_response(answer), answer.status, moved, report);
        restart = true;
      } else {
        fail_answer(answer, what, manifest.sha256);
      }
    }
    // Every chunk sent and none said "complete": the registry dropped some; the next round asks.
  }
}

std::vector<TransferReport> BlobTransfer::upload(const std::vector<std::string>& hashes) {
  std::vector<BlobManifest> manifests;
  for (const std::string& sha256 : hashes) {
    auto manifest = store_.manifest(sha256);
    if (!manifest) throw BlobError("cannot upload " + sha256 + ": it is not in " + store_.directory());
    manifests.push_back(std::move(*manifest));
  }
  const std::vector<std::string> held = registry_has(hashes);
  std::vector<TransferReport> reports;
  for (const BlobManifest& manifest : manifests) {
    TransferReport report;
    report.sha256 = manifest.sha256;
    report.size = manifest.size;
    if (std::find(held.begin(), held.end(), manifest.sha256) != held.end()) {
      report.done_bytes = report.resumed_bytes = manifest.size;
      report.skipped = true;
    } else {
      try {
        upload_one(manifest, report);
        report.done_bytes = manifest.size;
      } catch (const BlobRefused& refused) {
        report.refused = refused.what();
      }
      // Everything sent beyond what the registry lacked had to travel again.
      report.bytes_wasted = report.bytes_moved - std::min(report.bytes_moved, manifest.size - report.resumed_bytes);
    }
    reports.push_back(std::move(report));
  }
  return reports;
}

}  // namespace outpost::sync
