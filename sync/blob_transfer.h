// Moving files between a device and the registry over the Transport. A download asks for byte
// ranges (HTTP Range) and verifies the body chunk by chunk as it arrives, so a cut connection
// loses at most the chunk in flight. An upload first asks which files the registry already has,
// then which chunks of the others it holds, and sends the rest one chunk per PUT. Both resume
// from the last verified chunk after a cut connection or a killed process (docs/protocol.md,
// "Files").
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sync/blob_store.h"
#include "sync/transport.h"

namespace outpost::sync {

struct TransferReport {
  std::string sha256;
  uint64_t size = 0;
  uint64_t done_bytes = 0;     // verified here (download) or acknowledged by the registry (upload)
  uint64_t resumed_bytes = 0;  // of those, already in place when this transfer started
  bool skipped = false;        // nothing to move: the file was already in place
  size_t requests = 0;
  size_t failures = 0;      // requests cut or answered 408/429/5xx, then retried
  uint64_t bytes_moved = 0;   // file bytes received or sent, including those that had to move again
  uint64_t bytes_wasted = 0;  // bytes that had to move again: chunks in flight at a cut, chunks that failed verification
  size_t chunks_rejected = 0;  // chunks that failed verification on arrival
  std::string refused;         // upload: why the registry refused this file (it stays in the store); "" when sent
};

// The registry refused one file for good: an answer (a 4xx other than those that mean "wait" or
// "not this device") says why, or it kept rejecting a chunk. The other files can still go.
class BlobRefused : public BlobError {
 public:
  using BlobError::BlobError;
};

struct TransferOptions {
  // Requests in a row that fail without moving a verified chunk before the transfer gives up
  // (it resumes from there next time). A link that drops every few minutes never gets there.
  int max_attempts = 6;
  std::chrono::milliseconds first_backoff{500};
  std::chrono::milliseconds max_backoff{30'000};
  // A download asks for at most this much in one range request.
  uint64_t max_range_bytes = 8 * 1024 * 1024;
  // A chunk failing verification this many times means the other side's copy is damaged.
  int max_chunk_rejections = 3;
  std::function<void(const TransferReport&)> on_progress;  // after each verified chunk
  // Throws to refuse a file before any byte of it moves: a device nearby is not trusted the way
  // the registry is, so its manifests are checked against the registry's signature.
  std::function<void(const BlobManifest&)> accept_manifest;
  std::function<void(std::chrono::milliseconds)> sleep;     // tests replace the real sleep
};

class BlobTransfer {
 public:
  BlobTransfer(BlobStore& store, Transport& transport, std::string token, TransferOptions options = {});

  // Brings the file into the store, resuming an unfinished download of it. Throws BlobError
  // (QuotaExceeded when it does not fit); what was verified before stays for the next attempt.
  TransferReport download(const std::string& sha256);

  // POST /v1/blobs/have: which of these files the registry holds for this device.
  std::vector<std::string> registry_has(const std::vector<std::string>& hashes);
  // Sends the files of the local store the registry does not have yet, one report per file. A
  // file the registry refuses (BlobRefused) is reported with the reason, and the others go on;
  // anything else (a connection that stays down, a revoked token) throws BlobError.
  std::vector<TransferReport> upload(const std::vector<std::string>& hashes);

 private:
  class Backoff;
  class RangeReceiver;
  HttpRequest request(const std::string& method, const std::string& path) const;
  // Sends a request whose answer is small; retries cuts and 408/429/5xx answers.
  HttpResponse send_small(HttpRequest request, const std::string& what, TransferReport& report);
  // GET /v1/blobs/{sha256}/manifest.
  BlobManifest fetch_manifest(const std::string& sha256, TransferReport& report);
  void fetch_range(PartialBlob& partial, TransferReport& report, Backoff& backoff);
  void upload_one(const BlobManifest& manifest, TransferReport& report);
  // PUT /v1/blobs/{sha256}/manifest: starts or resumes an upload; the chunks the registry holds,
  // or nullopt once it has the whole file.
  std::optional<std::vector<size_t>> start_upload(const BlobManifest& manifest, TransferReport& report);

  BlobStore& store_;
  Transport& transport_;
  std::string token_;
  TransferOptions options_;
  std::map<size_t, int> rejections_;  // chunk index -> failed verifications, for the current file
};

}  // namespace outpost::sync
