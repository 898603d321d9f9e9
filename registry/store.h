// The registry's storage, behind one interface so that a PostgreSQL backend can stand beside
// the SQLite one. Every method runs inside the transaction opened with begin(); the merge logic
// lives in the Registry service, not here, so backends only store and fetch.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sync/stamp.h"
#include "sync/stored_fields.h"

namespace outpost::registry {

using sync::Stamp;
using sync::StoredField;
using sync::StoredFields;

enum class Role { OrgAdmin, Field };
std::string role_name(Role role);
std::optional<Role> role_from_name(const std::string& name);

struct Org {
  std::string id;
  std::string name;
  int64_t created_ms = 0;
};

struct Device {
  std::string id;
  std::string org_id;
  std::string replica;
  std::string name;
  Role role = Role::Field;
  int64_t request_hwm = 0;  // highest request number the device has confirmed
  bool revoked = false;
  int64_t created_ms = 0;
  int64_t last_seen_ms = 0;
};

struct Invite {
  std::string code_hash;
  std::string org_id;
  Role role = Role::Field;
  int64_t created_ms = 0;
  int64_t expires_ms = 0;
  std::optional<std::string> used_by_replica;
  std::optional<std::string> device_id;
};

struct StoredRecord {
  std::optional<std::string> partition;  // none: the registry has never seen this record
  StoredFields fields;
  // The newest write (device HLC) of each replica the registry has applied to this record: a
  // device sends its writes of a record in order and all together, so anything at or below is
  // a replay.
  std::map<std::string, int64_t> applied;
  int64_t seq = 0;  // change number of its newest write
};

// A record as the change feed hands it out: its change number (that of its newest write) and
// its fields as stored (sync/stored_fields.h).
struct ChangeRow {
  std::string collection, id;
  int64_t seq = 0;
  std::string fields;
};

struct Receipt {
  int64_t request_seq = 0;
  std::optional<int64_t> clamped_to;
};

constexpr char kPublicPartition[] = "public";

class RegistryStore {
 public:
  virtual ~RegistryStore() = default;

  virtual void begin() = 0;
  virtual void commit() = 0;
  virtual void rollback() noexcept = 0;

  // --- Organizations, devices, credentials
  virtual void insert_org(const Org& org) = 0;
  virtual std::optional<Org> find_org(const std::string& id) = 0;
  virtual std::optional<Org> find_org_by_name(const std::string& name) = 0;
  virtual std::vector<Org> list_orgs() = 0;

  virtual void insert_device(const Device& device, const std::string& token_hash) = 0;
  virtual std::optional<Device> find_device(const std::string& id) = 0;
  virtual std::optional<Device> find_device_by_token(const std::string& token_hash) = 0;
  virtual std::optional<Device> find_device_by_replica(const std::string& replica) = 0;
  // All devices, or those of one organization.
  virtual std::vector<Device> list_devices(const std::optional<std::string>& org_id) = 0;
  virtual void set_device_token(const std::string& device_id, const std::string& token_hash) = 0;
  virtual void set_device_seen(const std::string& device_id, int64_t request_hwm, int64_t seen_ms) = 0;
  virtual void revoke_device(const std::string& device_id) = 0;

  virtual void insert_admin_token(const std::string& token_hash, const std::string& name, int64_t created_ms) = 0;
  virtual bool admin_token_exists(const std::string& token_hash) = 0;

  virtual void insert_invite(const Invite& invite) = 0;
  virtual std::optional<Invite> find_invite(const std::string& code_hash) = 0;
  virtual void mark_invite_used(const std::string& code_hash, const std::string& replica,
                                const std::string& device_id) = 0;

  virtual std::vector<std::string> list_collections() = 0;
  virtual void insert_collection(const std::string& name) = 0;

  // --- Records
  virtual std::optional<std::string> record_partition(const std::string& collection, const std::string& id) = 0;
  virtual StoredRecord load_record(const std::string& collection, const std::string& id) = 0;
  // Stores the whole record (its fields and applied marks) under change number `seq`.
  virtual void write_record(const std::string& collection, const std::string& id, const std::string& partition,
                            const StoredRecord& record, int64_t seq) = 0;
  virtual int64_t next_seq() = 0;
  virtual int64_t current_seq() = 0;
  // Records of the given partitions changed after `after`, in seq order, except those whose
  // every field `exclude_replica` wrote. `visit` returns false to stop.
  virtual void changes_since(const std::vector<std::string>& partitions, int64_t after,
                             const std::string& exclude_replica, const std::function<bool(const ChangeRow&)>& visit) = 0;

  // --- The files records name in their `attachments` field (docs/forms.md), by partition: a
  // device uploads only files its organization's records name.
  // Replaces what the record names.
  virtual void set_file_references(const std::string& collection, const std::string& id, const std::string& partition,
                                   const std::vector<std::string>& sha256s) = 0;
  virtual bool file_referenced(const std::string& partition, const std::string& sha256) = 0;

  // --- Receipts of the writes the registry clamped, so that a replayed request gets the same
  // clamped stamps back. One per device, record and HLC; kept until the device's next request.
  virtual std::optional<Receipt> find_receipt(const std::string& device_id, const std::string& collection,
                                              const std::string& id, int64_t hlc) = 0;
  virtual void insert_receipt(const std::string& device_id, const std::string& collection, const std::string& id,
                              int64_t hlc, const Receipt& receipt) = 0;
  virtual void prune_receipts(const std::string& device_id, int64_t through_request_seq) = 0;

  // --- Small persistent values (the registry's clock)
  virtual std::optional<std::string> meta(const std::string& key) = 0;
  virtual void set_meta(const std::string& key, const std::string& value) = 0;
};

// Rolls back unless committed, like db::Transaction, for any backend.
class StoreTransaction {
 public:
  explicit StoreTransaction(RegistryStore& store) : store_(store) { store_.begin(); }
  ~StoreTransaction() noexcept {
    if (!done_) store_.rollback();
  }
  StoreTransaction(const StoreTransaction&) = delete;
  StoreTransaction& operator=(const StoreTransaction&) = delete;
  void commit() {
    store_.commit();
    done_ = true;
  }

 private:
  RegistryStore& store_;
  bool done_ = false;
};

}  // namespace outpost::registry
