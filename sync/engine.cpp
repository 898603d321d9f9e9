#include "sync/engine.h"

#include <future>
#include <optional>
#include <thread>

#include "platform/compress.h"
#include "platform/log.h"

namespace outpost::sync {

std::string describe_error_response(const HttpResponse& response) {
  Json body = Json::parse(response.body, nullptr, false);
  std::string message;
  if (body.is_object() && body.contains("message") && body["message"].is_string())
    message = body["message"].get<std::string>();
  else if (!response.body.empty() && response.body.size() < 200 && response.body.find('<') == std::string::npos)
    message = response.body;
  else
    message = "unexpected answer (not from an Outpost registry? a captive portal or proxy may be in the way)";
  return "registry answered HTTP " + std::to_string(response.status) + ": " + message;
}

namespace {
bool is_retryable_status(int status) { return status == 408 || status == 429 || status >= 500; }
}  // namespace

SyncEngine::SyncEngine(Replica& replica, Transport& transport, std::string token)
    : replica_(replica), transport_(transport), token_(std::move(token)) {}

HttpResponse SyncEngine::post(const OutgoingBatch& batch, SyncReport& report, const SyncOptions& options) {
  HttpRequest request;
  request.path = "/v1/sync";
  request.headers = {{"Authorization", "Bearer " + token_},
                     {"Content-Type", "application/json"},
                     {"Content-Encoding", kZstd},
                     {"Accept-Encoding", kZstd}};
  request.body = compress_body(encode_request(batch.request));

  auto backoff = options.first_backoff;
  for (int attempt = 1;; ++attempt) {
    std::string failure;
    int status = 0;  // stays 0 when no answer came back at all
    try {
      ++report.requests;
      report.bytes_sent += request.body.size();
      HttpResponse response = transport_.send(request);
      report.bytes_received += response.body.size();
      if (!is_retryable_status(response.status)) return response;
      failure = describe_error_response(response);
      status = response.status;
    } catch (const TransportError& error) {
      failure = error.what();
    }
    if (attempt >= options.max_attempts) throw SyncError(failure, true, status);
    log::info("sync attempt " + std::to_string(attempt) + " failed (" + failure + "); retrying");
    ++report.retries;
    if (options.sleep)
      options.sleep(backoff);
    else
      std::this_thread::sleep_for(backoff);
    backoff *= 2;
  }
}

SyncReport SyncEngine::run(const SyncOptions& options) {
  SyncReport report;
  bool reseated = false;
  OutgoingBatch batch = replica_.next_batch(options.batch_records);
  for (;;) {
    // While a batch travels and the registry works on it, the next one is read from the outbox
    // on another thread: nothing else touches the replica until the answer is in. It is used
    // only if this batch's answer changes nothing it was read from.
    std::future<OutgoingBatch> upcoming;
    if (batch.more_waiting)
      upcoming = std::async(std::launch::async, [this, &options, travelling = batch.outbox_rows] {
        return replica_.next_batch(options.batch_records, kSoftRequestBytes, travelling);
      });
    auto take_upcoming = [&]() -> std::optional<OutgoingBatch> {
      if (!upcoming.valid()) return std::nullopt;
      try {
        return upcoming.get();
      } catch (const std::exception&) {
        return std::nullopt;  // read again below, where an error reaches the caller
      }
    };
    HttpResponse answer = post(batch, report, options);

    if (answer.status == 409) {
      // Our request number was already confirmed: this replica was restored from an older copy.
      // Take the registry's number once; the receipts it keeps make the resend harmless.
      Json body = Json::parse(answer.body, nullptr, false);
      if (!reseated && body.is_object() && body.value("error", "") == "stale_request" &&
          body.contains("expected_seq") && body["expected_seq"].is_number_integer()) {
        take_upcoming();
        replica_.set_next_request_seq(body["expected_seq"].get<int64_t>());
        reseated = true;
        batch = replica_.next_batch(options.batch_records);
        continue;
      }
    }
    if (answer.status == 401)
      throw SyncError("the registry does not accept this device's token (revoked or never enrolled): enroll again", false,
                      401);
    if (answer.status != 200) throw SyncError(describe_error_response(answer), false, answer.status);

    SyncResponse response;
    try {
      const bool compressed = answer.header("Content-Encoding") == kZstd;
      response = decode_response(expand_body(answer.body, compressed));
    } catch (const std::exception& error) {
      throw SyncError(std::string("unreadable answer from the registry: ") + error.what(), true);
    }
    std::optional<OutgoingBatch> next = take_upcoming();
    // Clamped stamps are rewritten in the outbox too, under the next batch's feet.
    if (!response.clamped.empty()) next.reset();
    replica_.apply_response(batch, response);
    report.pushed_changes += response.acked - response.refused.size();
    report.refused_changes += response.refused.size();
    report.pulled_records += response.changes.size();
    report.conflicts_created += response.conflicts_created;
    if (options.on_batch) options.on_batch(report);
    if (!response.more && !replica_.has_pending_changes()) return report;
    if (next) {
      batch = std::move(*next);
      replica_.address(batch.request);
    } else {
      batch = replica_.next_batch(options.batch_records);
    }
  }
}

}  // namespace outpost::sync
