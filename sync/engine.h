// The sync engine: drains the outbox and pulls what the device has not seen, one batch per
// round trip, each batch committed with its cursor. It speaks only to a Transport.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "sync/replica.h"
#include "sync/transport.h"

namespace outpost::sync {

class SyncError : public std::runtime_error {
 public:
  SyncError(const std::string& message, bool retryable, int http_status = 0)
      : std::runtime_error(message), retryable_(retryable), http_status_(http_status) {}
  bool retryable() const { return retryable_; }
  // The registry's answer; 0 when none came (no connection, a cut, a timeout).
  int http_status() const { return http_status_; }

 private:
  bool retryable_;
  int http_status_;
};

struct SyncReport {
  size_t requests = 0;
  size_t pushed_changes = 0;  // record entries acknowledged and applied
  size_t refused_changes = 0;  // record entries the registry refused (Replica::refused_writes)
  size_t pulled_records = 0;
  size_t conflicts_created = 0;
  size_t bytes_sent = 0;  // request bodies as sent (compressed)
  size_t bytes_received = 0;
  size_t retries = 0;
};

struct SyncOptions {
  int max_attempts = 4;  // per batch, for cuts, timeouts and 5xx answers
  std::chrono::milliseconds first_backoff{400};
  size_t batch_records = kMaxRecordsPerBatch;
  std::function<void(const SyncReport&)> on_batch;  // progress, after each committed batch
  std::function<void(std::chrono::milliseconds)> sleep;  // tests replace the real sleep
};

class SyncEngine {
 public:
  SyncEngine(Replica& replica, Transport& transport, std::string token);
  // Syncs until the outbox is empty and nothing is left to pull. Throws SyncError; every batch
  // committed before the error stays committed.
  SyncReport run(const SyncOptions& options = {});

 private:
  HttpResponse post(const OutgoingBatch& batch, SyncReport& report, const SyncOptions& options);
  Replica& replica_;
  Transport& transport_;
  std::string token_;
};

// The message of a registry error answer ({"error": ..., "message": ...}), or a fallback.
std::string describe_error_response(const HttpResponse& response);

}  // namespace outpost::sync
