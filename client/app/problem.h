// Something that went wrong, told in plain words: the model stores only catalog keys, so the
// window shows it in whatever language the user picks, even after the fact.
#pragma once

#include <exception>
#include <optional>
#include <string>

#include "client/app/i18n.h"
#include "sync/transport.h"

namespace outpost::app {

struct Problem {
  // Catalog key prefix: KEY.what says what happened, KEY.todo what to do about it.
  std::string key;
  TextParams params;
  // The core's own sentence (English), for whoever helps the user.
  std::string detail;
};

// What a failed sync means for the user, and whether trying again later can help.
struct SyncFailure {
  Problem problem;
  bool offline = false;   // no answer came back: no connection (yet)
  bool answered = false;  // the registry answered: the link works, the problem is elsewhere
  bool retry_later = true;  // false when only the user can fix it (device revoked, refused)
};

SyncFailure classify_sync_failure(const std::exception& error, const std::string& registry_url);
// `answer`: what came back to the enrollment request, none when nothing did.
Problem classify_enroll_failure(const std::exception& error, const std::string& registry_url,
                                const std::optional<sync::HttpResponse>& answer);

// Empty when `url` looks like a registry address, else the problem with it.
std::optional<Problem> check_registry_url(const std::string& url);

}  // namespace outpost::app
