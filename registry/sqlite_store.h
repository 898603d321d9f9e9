#pragma once

#include <string>

#include "platform/sqlite.h"
#include "registry/store.h"

namespace outpost::registry {

// The default backend: one SQLite file, WAL mode, zero set-up.
class SqliteStore final : public RegistryStore {
 public:
  explicit SqliteStore(const std::string& path);

  void begin() override;
  void commit() override;
  void rollback() noexcept override;

  void insert_org(const Org& org) override;
  std::optional<Org> find_org(const std::string& id) override;
  std::optional<Org> find_org_by_name(const std::string& name) override;
  std::vector<Org> list_orgs() override;

  void insert_device(const Device& device, const std::string& token_hash) override;
  std::optional<Device> find_device(const std::string& id) override;
  std::optional<Device> find_device_by_token(const std::string& token_hash) override;
  std::optional<Device> find_device_by_replica(const std::string& replica) override;
  std::vector<Device> list_devices(const std::optional<std::string>& org_id) override;
  void set_device_token(const std::string& device_id, const std::string& token_hash) override;
  void set_device_seen(const std::string& device_id, int64_t request_hwm, int64_t seen_ms) override;
  void revoke_device(const std::string& device_id) override;

  void insert_admin_token(const std::string& token_hash, const std::string& name, int64_t created_ms) override;
  bool admin_token_exists(const std::string& token_hash) override;

  void insert_invite(const Invite& invite) override;
  std::optional<Invite> find_invite(const std::string& code_hash) override;
  void mark_invite_used(const std::string& code_hash, const std::string& replica, const std::string& device_id) override;

  std::vector<std::string> list_collections() override;
  void insert_collection(const std::string& name) override;

  std::optional<std::string> record_partition(const std::string& collection, const std::string& id) override;
  StoredRecord load_record(const std::string& collection, const std::string& id) override;
  void write_record(const std::string& collection, const std::string& id, const std::string& partition,
                    const StoredRecord& record, int64_t seq) override;
  int64_t next_seq() override;
  int64_t current_seq() override;
  void changes_since(const std::vector<std::string>& partitions, int64_t after, const std::string& exclude_replica,
                     const std::function<bool(const ChangeRow&)>& visit) override;

  void set_file_references(const std::string& collection, const std::string& id, const std::string& partition,
                           const std::vector<std::string>& sha256s) override;
  bool file_referenced(const std::string& partition, const std::string& sha256) override;

  std::optional<Receipt> find_receipt(const std::string& device_id, const std::string& collection,
                                      const std::string& id, int64_t hlc) override;
  void insert_receipt(const std::string& device_id, const std::string& collection, const std::string& id, int64_t hlc,
                      const Receipt& receipt) override;
  void prune_receipts(const std::string& device_id, int64_t through_request_seq) override;

  std::optional<std::string> meta(const std::string& key) override;
  void set_meta(const std::string& key, const std::string& value) override;

  db::Database& database() { return db_; }

 private:
  std::optional<Device> device_where(const std::string& column, const std::string& value);
  db::Database db_;
  int64_t seq_ = 0;  // last sequence number handed out, mirrored in meta on commit
  bool seq_dirty_ = false;
};

}  // namespace outpost::registry
