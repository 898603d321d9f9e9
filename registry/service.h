// The registry service: enrollment, authentication, per-organization partitioning and the merge
// of incoming changes with conflict capture. Transport-agnostic: api.cpp maps HTTP onto it.
#pragma once

#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "platform/clock.h"
#include "platform/crypto.h"
#include "registry/store.h"
#include "sync/protocol.h"

namespace outpost::registry {

using sync::Json;

// An error to hand back to a caller: HTTP status, a stable code and a sentence for people.
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string code, const std::string& message, Json extra = Json::object())
      : std::runtime_error(message), status_(status), code_(std::move(code)), extra_(std::move(extra)) {}
  int status() const { return status_; }
  const std::string& code() const { return code_; }
  const Json& extra() const { return extra_; }

 private:
  int status_;
  std::string code_;
  Json extra_;
};

// Who is calling: a device (field worker or organization admin) or a registry administrator.
struct Principal {
  std::optional<Device> device;
  bool registry_admin = false;
  bool is_org_admin_of(const std::string& org_id) const;
};

struct Enrollment {
  Device device;
  std::string token;
  Org org;
  std::vector<std::string> collections;
};

class Registry {
 public:
  Registry(RegistryStore& store, const Clock& clock = SystemClock::instance());

  // --- Administration
  Org add_org(const std::string& name);
  std::vector<Org> orgs(const Principal& who);
  // Returns the one-time code. Org admins may invite to their own organization only.
  std::string invite(const Principal& who, const std::string& org_id, Role role, int64_t valid_days = 14);
  std::string create_admin_token(const std::string& name);
  std::vector<Device> devices(const Principal& who);
  void revoke(const Principal& who, const std::string& device_id);
  void add_collection(const std::string& name);
  std::vector<std::string> collections();
  static Principal cli_admin() { return Principal{std::nullopt, true}; }

  // --- The registry's Ed25519 key, made when its database is first opened and kept in its meta
  // table; devices receive the public half at enrollment and check what it signed offline.
  const std::string& signing_public_key() const { return signing_key_.public_hex; }
  std::string sign(std::string_view message) const;

  // --- Devices
  // Throws ApiError(401) for a missing, unknown or revoked token.
  Principal authenticate(const std::string& bearer_token);
  Enrollment enroll(const std::string& code, const std::string& replica, const std::string& device_name);
  sync::SyncResponse sync(const Principal& who, const sync::SyncRequest& request);
  // One record as the device would see it, or ApiError(404) when it is not visible to them.
  Json read_record(const Principal& who, const std::string& collection, const std::string& id);
  int64_t now_ms() const { return clock_.now_ms(); }
  // Whether a record of organization `org_id` names the file in its `attachments` field: only
  // then may the organization's devices upload it.
  bool file_referenced(const std::string& org_id, const std::string& sha256);

  // --- Records of the registry itself (registry_records.cpp); registry administrators only
  struct RecordWrite {
    std::string collection, id;
    Json fields;
  };
  // Writes the records' fields stamped by the registry, in `partition` (an organization id, or
  // kPublicPartition for every device), all or none; adds collections that are new. Devices
  // pull them like any change; `_deleted: true` deletes a record. ApiError for bad names, an
  // unknown organization, or a record that lives in another partition.
  void write_records_as_registry(const Principal& who, const std::string& partition,
                                 const std::vector<RecordWrite>& writes);
  // Every live record of `collection` in every partition: (id, {field: value}), oldest change first.
  std::vector<std::pair<std::string, Json>> records(const Principal& who, const std::string& collection);

 private:
  class Merge;
  Device require_device(const Principal& who);
  std::mutex mutex_;  // one writer at a time, as SQLite wants
  RegistryStore& store_;
  const Clock& clock_;
  crypto::SigningKeyPair signing_key_;
};

}  // namespace outpost::registry
