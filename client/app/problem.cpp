#include "client/app/problem.h"

#include <cctype>

#include "client/home.h"
#include "sync/engine.h"

namespace outpost::app {

SyncFailure classify_sync_failure(const std::exception& error, const std::string& registry_url) {
  const TextParams where = {{"url", registry_url}};
  SyncFailure failure;
  failure.problem.detail = error.what();
  if (const auto* sync_error = dynamic_cast<const sync::SyncError*>(&error)) {
    const int status = sync_error->http_status();
    failure.offline = status == 0 && sync_error->retryable();
    failure.answered = status != 0;
    if (sync_error->retryable()) {
      failure.problem.key = failure.offline ? "problem.offline" : "problem.registry_trouble";
    } else {
      failure.retry_later = false;
      failure.problem.key = status == 401 ? "problem.device_refused" : "problem.sync_refused";
    }
  } else if (dynamic_cast<const client::ClientError*>(&error)) {
    failure.retry_later = false;
    failure.problem.key = "problem.not_enrolled";
  } else {
    // The device's own side: storage full or failing, another program syncing this home.
    failure.problem.key = "problem.local_failure";
  }
  failure.problem.params = where;
  return failure;
}

Problem classify_enroll_failure(const std::exception& error, const std::string& registry_url,
                                const std::optional<sync::HttpResponse>& answer) {
  Problem problem;
  problem.detail = error.what();
  problem.params = {{"url", registry_url}};
  if (!answer) {
    problem.key = "problem.enroll_unreachable";
    return problem;
  }
  // A registry explains every refusal as {"error": code, "message": ...}; anything else answering
  // is some other web server (or a captive portal).
  const sync::Json body = sync::Json::parse(answer->body, nullptr, false);
  const bool from_registry = body.is_object() && body.contains("error") && body["error"].is_string();
  if (answer->status >= 500)
    problem.key = "problem.registry_trouble";
  else if (answer->status >= 400 && from_registry)
    problem.key = "problem.code_refused";
  else
    problem.key = "problem.not_a_registry";
  return problem;
}

std::optional<Problem> check_registry_url(const std::string& url) {
  const Problem bad{"problem.bad_url", {{"url", url}}, "not an http:// or https:// address with a host: " + url};
  std::string rest;
  for (const char* scheme : {"http://", "https://"})
    if (url.rfind(scheme, 0) == 0) rest = url.substr(std::string(scheme).size());
  const std::string host = rest.substr(0, rest.find_first_of("/:"));
  if (host.empty()) return bad;
  for (const unsigned char c : url)
    if (std::isspace(c) || std::iscntrl(c)) return bad;
  return std::nullopt;
}

}  // namespace outpost::app
