#include "client/home.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "client/attachments.h"
#include "platform/files.h"

namespace outpost::client {

using sync::Json;

Home::Home(const std::string& directory) : directory_(directory) {
  files::ensure_directory(directory_);
  ::chmod(directory_.c_str(), 0700);  // the replica holds the device token
  replica_ = std::make_unique<sync::Replica>(directory_ + "/replica.db");
}

std::string Home::default_directory() {
  if (const char* home = std::getenv("OUTPOST_HOME")) return home;
  if (const char* data = std::getenv("XDG_DATA_HOME")) return std::string(data) + "/outpost";
  if (const char* home = std::getenv("HOME")) return std::string(home) + "/.local/share/outpost";
  return ".outpost";
}

std::string Home::default_device_name() {
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) == 0 && host[0]) return host;
  return "outpost device";
}

std::optional<Enrollment> Home::enrollment() {
  auto token = replica_->setting("token");
  if (!token) return std::nullopt;
  return Enrollment{replica_->setting("registry_url").value_or(""), *token, replica_->setting("device_id").value_or(""),
                    replica_->setting("org_id").value_or(""), replica_->setting("org_name").value_or(""),
                    replica_->setting("role").value_or("")};
}

Enrollment Home::enroll(const std::string& registry_url, const std::string& code, const std::string& device_name,
                        sync::Transport& transport) {
  if (auto existing = enrollment())
    throw ClientError("this device is already enrolled with " + existing->registry_url + " as " + existing->device_id +
                      " (organization " + existing->org_name + "); use another --home to enroll again");
  sync::HttpRequest request;
  request.path = "/v1/enroll";
  request.headers = {{"Content-Type", "application/json"}};
  request.body = Json{{"code", code}, {"replica", replica_->replica_id()}, {"name", device_name}}.dump();
  sync::HttpResponse response;
  try {
    response = transport.send(request);
  } catch (const sync::TransportError& error) {
    throw ClientError(std::string("enrollment failed: ") + error.what() + " (it is safe to try again)");
  }
  if (response.status != 200) throw ClientError("enrollment failed: " + sync::describe_error_response(response));
  const Json body = Json::parse(response.body, nullptr, false);
  if (!body.is_object() || !body.contains("token") || !body["token"].is_string() || !body.contains("device") ||
      !body.contains("org"))
    throw ClientError("enrollment failed: the answer did not come from an Outpost registry");

  Enrollment enrollment{registry_url,
                        body["token"].get<std::string>(),
                        body["device"].value("id", ""),
                        body["org"].value("id", ""),
                        body["org"].value("name", ""),
                        body["device"].value("role", "field")};
  replica_->set_settings({{"registry_url", enrollment.registry_url},
                          {"device_id", enrollment.device_id},
                          {"org_id", enrollment.org_id},
                          {"org_name", enrollment.org_name},
                          {"role", enrollment.role},
                          {"collections", body.value("collections", Json::array()).dump()},
                          {"registry_signing_key", body.value("signing_key", "")},
                          {"token", enrollment.token}});
  return enrollment;
}

std::string Home::registry_signing_key() {
  if (!enrollment()) throw ClientError("this device is not enrolled: run `outpost enroll URL CODE` once, online, first");
  auto key = replica_->setting("registry_signing_key");
  if (!key || key->empty())
    throw ClientError("this device enrolled before its registry signed materials, so it cannot verify them: "
                      "enroll it again (a new --home and a new code)");
  return *key;
}

std::vector<std::string> Home::collections() {
  auto stored = replica_->setting("collections");
  if (!stored) return {};
  const Json names = Json::parse(*stored, nullptr, false);
  std::vector<std::string> result;
  if (names.is_array())
    for (const Json& name : names)
      if (name.is_string()) result.push_back(name.get<std::string>());
  return result;
}

void Home::check_collection(const std::string& collection) {
  if (sync::is_registry_written(collection))
    throw ClientError("'" + collection + "' is published by the registry and read-only on devices");
  const auto known = collections();
  if (known.empty() || std::find(known.begin(), known.end(), collection) != known.end()) return;
  std::string list;
  for (const std::string& name : known) list += (list.empty() ? "" : ", ") + name;
  throw ClientError("unknown collection '" + collection + "'; the registry accepts: " + list);
}

size_t AttachmentUploads::sent() const {
  return static_cast<size_t>(std::count_if(files.begin(), files.end(), [](const sync::TransferReport& file) {
    return !file.skipped && file.refused.empty();
  }));
}

size_t AttachmentUploads::refused() const {
  return static_cast<size_t>(std::count_if(files.begin(), files.end(),
                                           [](const sync::TransferReport& file) { return !file.refused.empty(); }));
}

uint64_t AttachmentUploads::bytes_moved() const {
  uint64_t bytes = 0;
  for (const sync::TransferReport& file : files) bytes += file.bytes_moved;
  return bytes;
}

uint64_t AttachmentUploads::resumed_bytes() const {
  uint64_t bytes = 0;
  for (const sync::TransferReport& file : files)
    if (!file.skipped) bytes += file.resumed_bytes;
  return bytes;
}

HomeSyncReport Home::sync(sync::Transport& transport, const sync::SyncOptions& options) {
  auto enrolled = enrollment();
  if (!enrolled) throw ClientError("this device is not enrolled: run `outpost enroll URL CODE` first");
  files::ExclusiveLock lock(directory_ + "/sync.lock");
  sync::SyncEngine engine(*replica_, transport, enrolled->token);
  try {
    HomeSyncReport report;
    report.records = engine.run(options);
    sync::TransferOptions transfer;
    transfer.max_attempts = options.max_attempts;
    transfer.first_backoff = options.first_backoff;
    if (options.sleep) transfer.sleep = options.sleep;
    try {
      report.attachments = AttachmentStore(*this).upload(transport, enrolled->token, transfer);
    } catch (const sync::BlobError& failed) {
      // Most often the connection dropping or the registry failing: worth trying later. A token
      // it no longer accepts is not.
      const int status = failed.http_status();
      throw sync::SyncError(std::string("sending attachments: ") + failed.what(), status != 401, status);
    }
    replica_->record_sync_result("ok");
    return report;
  } catch (const std::exception& error) {
    replica_->record_sync_result(error.what());
    throw;
  }
}

}  // namespace outpost::client
