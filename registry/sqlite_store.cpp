#include "registry/sqlite_store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "platform/json_text.h"
#include "platform/log.h"

namespace outpost::registry {

namespace {

// 3 stores a record's fields in the shape sync/stored_fields.h writes now; rows of 2 read the
// same, so files of 2 are taken as they are.
constexpr int kSchemaVersion = 3;

const char* const kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS orgs(id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS devices(
  id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id), replica TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL, role TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
  request_hwm INTEGER NOT NULL DEFAULT 0, revoked INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL, last_seen INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS admin_tokens(token_hash TEXT PRIMARY KEY, name TEXT NOT NULL, created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS invites(
  code_hash TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id), role TEXT NOT NULL,
  created INTEGER NOT NULL, expires INTEGER NOT NULL, used_by_replica TEXT, device_id TEXT);
CREATE TABLE IF NOT EXISTS collections(name TEXT PRIMARY KEY) WITHOUT ROWID;
-- One row per record: every field's value with the stamp of the write that set it, as
-- {"field": [value, hlc, replica, wall_ms], ...}. The row's seq is the change number of its
-- newest write, so the change feed is a scan in seq (rowid) order. sole_writer names the replica
-- that wrote every field, if only one did: the feed skips a device's own records unread.
-- applied: {"replica": hlc} of the newest write applied from each device (store.h).
CREATE TABLE IF NOT EXISTS records(
  seq INTEGER PRIMARY KEY, collection TEXT NOT NULL, id TEXT NOT NULL, partition TEXT NOT NULL,
  sole_writer TEXT NOT NULL, fields TEXT NOT NULL, applied TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS records_by_key ON records(collection, id);
CREATE INDEX IF NOT EXISTS records_by_partition_seq ON records(partition, seq);
-- The files a record names in its `attachments` field.
CREATE TABLE IF NOT EXISTS file_references(
  partition TEXT NOT NULL, sha256 TEXT NOT NULL, collection TEXT NOT NULL, id TEXT NOT NULL,
  PRIMARY KEY(partition, sha256, collection, id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS file_references_by_record ON file_references(collection, id);
CREATE TABLE IF NOT EXISTS receipts(
  device_id TEXT NOT NULL, collection TEXT NOT NULL, id TEXT NOT NULL, hlc INTEGER NOT NULL,
  request_seq INTEGER NOT NULL, clamped_to INTEGER,
  PRIMARY KEY(device_id, collection, id, hlc)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS receipts_by_request ON receipts(device_id, request_seq);
)sql";

Device device_from_row(const db::Statement& row) {
  Device device;
  device.id = row.text(0);
  device.org_id = row.text(1);
  device.replica = row.text(2);
  device.name = row.text(3);
  device.role = role_from_name(row.text(4)).value_or(Role::Field);
  device.request_hwm = row.int64(5);
  device.revoked = row.int64(6) != 0;
  device.created_ms = row.int64(7);
  device.last_seen_ms = row.int64(8);
  return device;
}

// A record's applied marks as stored: {"replica": hlc, ...}.
std::string encode_applied(const std::map<std::string, int64_t>& applied) {
  std::string text = "{";
  for (const auto& [replica, hlc] : applied) {
    if (text.size() > 1) text += ',';
    json_text::append_string(text, replica);
    text += ':' + std::to_string(hlc);
  }
  return text + '}';
}

std::map<std::string, int64_t> decode_applied(std::string_view text) {
  std::map<std::string, int64_t> applied;
  json_text::Reader reader(text);
  reader.object([&](std::string_view replica) { applied.emplace(replica, reader.integer()); });
  reader.finish();
  return applied;
}

constexpr char kDeviceColumns[] =
    "SELECT id, org_id, replica, name, role, request_hwm, revoked, created, last_seen FROM devices ";

}  // namespace

namespace {

// The database holds the signing key's secret half and the devices' token hashes: it is its
// owner's alone, whatever the umask made it (SQLite gives its -wal and -shm files the same mode).
void keep_private(const std::string& path) {
  struct stat info {};
  if (path == ":memory:" || ::stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode) || (info.st_mode & 077) == 0)
    return;
  if (::chmod(path.c_str(), S_IRUSR | S_IWUSR) != 0)
    log::warn("cannot make " + path + " private to its owner (" + std::strerror(errno) +
              "); others can read the registry's secret key in it");
  else
    log::info("made " + path + " readable by its owner only: it holds the registry's secret key");
}

}  // namespace

SqliteStore::SqliteStore(const std::string& path) : db_(path) {
  keep_private(path);
  const int64_t version = db_.query_int("PRAGMA user_version");
  if (version > kSchemaVersion)
    throw std::runtime_error(path + " was written by a newer outpost-registry (schema " + std::to_string(version) + ")");
  if (version != 0 && version < 2)
    throw std::runtime_error(path + " was written by a development build of outpost-registry (schema " +
                             std::to_string(version) + ") that this one cannot read");
  db::Transaction tx(db_);
  db_.exec(kSchema);
  db_.exec("PRAGMA user_version=" + std::to_string(kSchemaVersion));
  tx.commit();
}

// --- Transactions

void SqliteStore::begin() {
  db_.reset_open_statements();
  db_.exec("BEGIN IMMEDIATE");
  seq_ = 0;
  seq_dirty_ = false;
}

void SqliteStore::commit() {
  if (seq_dirty_) set_meta("seq", std::to_string(seq_));
  db_.reset_open_statements();
  db_.exec("COMMIT");
  seq_dirty_ = false;
}

void SqliteStore::rollback() noexcept {
  db_.reset_open_statements();
  sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  seq_ = 0;
  seq_dirty_ = false;
}

// --- Organizations

void SqliteStore::insert_org(const Org& org) {
  db_.prepare("INSERT INTO orgs(id, name, created) VALUES(?,?,?)").bind(1, org.id).bind(2, org.name).bind(3, org.created_ms).run();
}

std::optional<Org> SqliteStore::find_org(const std::string& id) {
  auto& select = db_.prepare("SELECT id, name, created FROM orgs WHERE id=?");
  select.bind(1, id);
  if (!select.step()) return std::nullopt;
  return Org{select.text(0), select.text(1), select.int64(2)};
}

std::optional<Org> SqliteStore::find_org_by_name(const std::string& name) {
  auto& select = db_.prepare("SELECT id, name, created FROM orgs WHERE name=?");
  select.bind(1, name);
  if (!select.step()) return std::nullopt;
  return Org{select.text(0), select.text(1), select.int64(2)};
}

std::vector<Org> SqliteStore::list_orgs() {
  std::vector<Org> orgs;
  auto& select = db_.prepare("SELECT id, name, created FROM orgs ORDER BY name");
  while (select.step()) orgs.push_back({select.text(0), select.text(1), select.int64(2)});
  return orgs;
}

// --- Devices

void SqliteStore::insert_device(const Device& device, const std::string& token_hash) {
  db_.prepare("INSERT INTO devices(id, org_id, replica, name, role, token_hash, created) VALUES(?,?,?,?,?,?,?)")
      .bind(1, device.id)
      .bind(2, device.org_id)
      .bind(3, device.replica)
      .bind(4, device.name)
      .bind(5, role_name(device.role))
      .bind(6, token_hash)
      .bind(7, device.created_ms)
      .run();
}

std::optional<Device> SqliteStore::device_where(const std::string& column, const std::string& value) {
  auto& select = db_.prepare(std::string(kDeviceColumns) + "WHERE " + column + "=?");
  select.bind(1, value);
  if (!select.step()) return std::nullopt;
  return device_from_row(select);
}

std::optional<Device> SqliteStore::find_device(const std::string& id) { return device_where("id", id); }

std::optional<Device> SqliteStore::find_device_by_token(const std::string& token_hash) {
  return device_where("token_hash", token_hash);
}

std::optional<Device> SqliteStore::find_device_by_replica(const std::string& replica) {
  return device_where("replica", replica);
}

std::vector<Device> SqliteStore::list_devices(const std::optional<std::string>& org_id) {
  std::vector<Device> devices;
  auto& select = db_.prepare(std::string(kDeviceColumns) + "WHERE ?1 IS NULL OR org_id=?1 ORDER BY created");
  select.bind(1, org_id);
  while (select.step()) devices.push_back(device_from_row(select));
  return devices;
}

void SqliteStore::set_device_token(const std::string& device_id, const std::string& token_hash) {
  db_.prepare("UPDATE devices SET token_hash=? WHERE id=?").bind(1, token_hash).bind(2, device_id).run();
}

void SqliteStore::set_device_seen(const std::string& device_id, int64_t request_hwm, int64_t seen_ms) {
  db_.prepare("UPDATE devices SET request_hwm=?, last_seen=? WHERE id=?")
      .bind(1, request_hwm)
      .bind(2, seen_ms)
      .bind(3, device_id)
      .run();
}

void SqliteStore::revoke_device(const std::string& device_id) {
  db_.prepare("UPDATE devices SET revoked=1 WHERE id=?").bind(1, device_id).run();
}

void SqliteStore::insert_admin_token(const std::string& token_hash, const std::string& name, int64_t created_ms) {
  db_.prepare("INSERT INTO admin_tokens(token_hash, name, created) VALUES(?,?,?)")
      .bind(1, token_hash)
      .bind(2, name)
      .bind(3, created_ms)
      .run();
}

bool SqliteStore::admin_token_exists(const std::string& token_hash) {
  auto& select = db_.prepare("SELECT 1 FROM admin_tokens WHERE token_hash=?");
  select.bind(1, token_hash);
  return select.step();
}

// --- Invites and collections

void SqliteStore::insert_invite(const Invite& invite) {
  db_.prepare("INSERT INTO invites(code_hash, org_id, role, created, expires) VALUES(?,?,?,?,?)")
      .bind(1, invite.code_hash)
      .bind(2, invite.org_id)
      .bind(3, role_name(invite.role))
      .bind(4, invite.created_ms)
      .bind(5, invite.expires_ms)
      .run();
}

std::optional<Invite> SqliteStore::find_invite(const std::string& code_hash) {
  auto& select = db_.prepare(
      "SELECT code_hash, org_id, role, created, expires, used_by_replica, device_id FROM invites WHERE code_hash=?");
  select.bind(1, code_hash);
  if (!select.step()) return std::nullopt;
  return Invite{select.text(0),  select.text(1),          role_from_name(select.text(2)).value_or(Role::Field),
                select.int64(3), select.int64(4),         select.optional_text(5),
                select.optional_text(6)};
}

void SqliteStore::mark_invite_used(const std::string& code_hash, const std::string& replica,
                                   const std::string& device_id) {
  db_.prepare("UPDATE invites SET used_by_replica=?, device_id=? WHERE code_hash=?")
      .bind(1, replica)
      .bind(2, device_id)
      .bind(3, code_hash)
      .run();
}

std::vector<std::string> SqliteStore::list_collections() {
  std::vector<std::string> names;
  auto& select = db_.prepare("SELECT name FROM collections ORDER BY name");
  while (select.step()) names.push_back(select.text(0));
  return names;
}

void SqliteStore::insert_collection(const std::string& name) {
  db_.prepare("INSERT OR IGNORE INTO collections(name) VALUES(?)").bind(1, name).run();
}

// --- Records

std::optional<std::string> SqliteStore::record_partition(const std::string& collection, const std::string& id) {
  auto& select = db_.prepare("SELECT partition FROM records WHERE collection=? AND id=?");
  select.bind(1, collection).bind(2, id);
  if (!select.step()) return std::nullopt;
  return select.text(0);
}

StoredRecord SqliteStore::load_record(const std::string& collection, const std::string& id) {
  auto& select = db_.prepare("SELECT partition, fields, applied, seq FROM records WHERE collection=? AND id=?");
  select.bind(1, collection).bind(2, id);
  if (!select.step()) return {};
  return StoredRecord{select.text(0), sync::decode_fields(select.text(1)), decode_applied(select.text(2)),
                      select.int64(3)};
}

void SqliteStore::write_record(const std::string& collection, const std::string& id, const std::string& partition,
                               const StoredRecord& record, int64_t seq) {
  db_.prepare(
         "INSERT INTO records(seq, collection, id, partition, sole_writer, fields, applied) VALUES(?,?,?,?,?,?,?) "
         "ON CONFLICT(collection, id) DO UPDATE SET seq=excluded.seq, partition=excluded.partition, "
         "sole_writer=excluded.sole_writer, fields=excluded.fields, applied=excluded.applied")
      .bind(1, seq)
      .bind(2, collection)
      .bind(3, id)
      .bind(4, partition)
      .bind(5, sync::sole_writer(record.fields))
      .bind(6, sync::encode_fields(record.fields))
      .bind(7, encode_applied(record.applied))
      .run();
}

int64_t SqliteStore::current_seq() {
  if (seq_ == 0) {
    auto stored = meta("seq");
    seq_ = stored ? std::stoll(*stored) : 0;
  }
  return seq_;
}

int64_t SqliteStore::next_seq() {
  current_seq();
  seq_dirty_ = true;
  return ++seq_;
}

void SqliteStore::changes_since(const std::vector<std::string>& partitions, int64_t after,
                                const std::string& exclude_replica,
                                const std::function<bool(const ChangeRow&)>& visit) {
  // One index range scan per partition, merged here by seq: no sort of the whole tail.
  struct Cursor {
    std::unique_ptr<db::Statement> statement;
    bool has_row = false;
  };
  std::vector<Cursor> cursors;
  for (const std::string& partition : partitions) {
    Cursor cursor;
    cursor.statement = std::make_unique<db::Statement>(
        db_.handle(),
        "SELECT seq, collection, id, fields FROM records WHERE partition=? AND seq>? AND sole_writer<>? ORDER BY seq");
    cursor.statement->bind(1, partition).bind(2, after).bind(3, exclude_replica);
    cursor.has_row = cursor.statement->step();
    cursors.push_back(std::move(cursor));
  }
  for (;;) {
    Cursor* next = nullptr;
    for (Cursor& cursor : cursors)
      if (cursor.has_row && (!next || cursor.statement->int64(0) < next->statement->int64(0))) next = &cursor;
    if (!next) return;
    const db::Statement& row = *next->statement;
    if (!visit(ChangeRow{row.text(1), row.text(2), row.int64(0), row.text(3)})) return;
    next->has_row = next->statement->step();
  }
}

// --- Receipts

std::optional<Receipt> SqliteStore::find_receipt(const std::string& device_id, const std::string& collection,
                                                 const std::string& id, int64_t hlc) {
  auto& select = db_.prepare(
      "SELECT request_seq, clamped_to FROM receipts WHERE device_id=? AND collection=? AND id=? AND hlc=?");
  select.bind(1, device_id).bind(2, collection).bind(3, id).bind(4, hlc);
  if (!select.step()) return std::nullopt;
  Receipt receipt{select.int64(0), std::nullopt};
  if (!select.is_null(1)) receipt.clamped_to = select.int64(1);
  return receipt;
}

void SqliteStore::insert_receipt(const std::string& device_id, const std::string& collection, const std::string& id,
                                 int64_t hlc, const Receipt& receipt) {
  auto& insert = db_.prepare(
      "INSERT OR IGNORE INTO receipts(device_id, collection, id, hlc, request_seq, clamped_to) VALUES(?,?,?,?,?,?)");
  insert.bind(1, device_id).bind(2, collection).bind(3, id).bind(4, hlc).bind(5, receipt.request_seq);
  if (receipt.clamped_to)
    insert.bind(6, *receipt.clamped_to);
  else
    insert.bind(6, nullptr);
  insert.run();
}

void SqliteStore::prune_receipts(const std::string& device_id, int64_t through_request_seq) {
  db_.prepare("DELETE FROM receipts WHERE device_id=? AND request_seq<=?")
      .bind(1, device_id)
      .bind(2, through_request_seq)
      .run();
}

// --- File references

void SqliteStore::set_file_references(const std::string& collection, const std::string& id,
                                      const std::string& partition, const std::vector<std::string>& sha256s) {
  db_.prepare("DELETE FROM file_references WHERE collection=? AND id=?").bind(1, collection).bind(2, id).run();
  for (const std::string& sha256 : sha256s)
    db_.prepare("INSERT OR IGNORE INTO file_references(partition, sha256, collection, id) VALUES(?,?,?,?)")
        .bind(1, partition)
        .bind(2, sha256)
        .bind(3, collection)
        .bind(4, id)
        .run();
}

bool SqliteStore::file_referenced(const std::string& partition, const std::string& sha256) {
  auto& select = db_.prepare("SELECT EXISTS(SELECT 1 FROM file_references WHERE partition=? AND sha256=?)");
  select.bind(1, partition).bind(2, sha256);
  const bool found = select.step() && select.int64(0) != 0;
  select.reset();
  return found;
}

// --- Meta

std::optional<std::string> SqliteStore::meta(const std::string& key) {
  auto& select = db_.prepare("SELECT value FROM meta WHERE key=?");
  select.bind(1, key);
  if (!select.step()) return std::nullopt;
  return select.text(0);
}

void SqliteStore::set_meta(const std::string& key, const std::string& value) {
  db_.prepare("INSERT INTO meta(key, value) VALUES(?,?) ON CONFLICT(key) DO UPDATE SET value=excluded.value")
      .bind(1, key)
      .bind(2, value)
      .run();
}

}  // namespace outpost::registry
