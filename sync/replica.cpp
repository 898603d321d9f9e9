#include "sync/replica.h"

#include <algorithm>
#include <set>

#include "platform/crypto.h"

namespace outpost::sync {

namespace {

constexpr int kSchemaVersion = 1;

const char* const kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
-- Every field of every record, with the stamp of the write that set it. Deleting a record
-- writes its _deleted field; the other fields stay, so a concurrent edit can be restored.
CREATE TABLE IF NOT EXISTS fields(
  collection TEXT NOT NULL, id TEXT NOT NULL, field TEXT NOT NULL,
  value TEXT NOT NULL, hlc INTEGER NOT NULL, replica TEXT NOT NULL, at INTEGER NOT NULL,
  PRIMARY KEY(collection, id, field)) WITHOUT ROWID;
-- Local writes the registry has not acknowledged. base is the stamp the write overwrote here;
-- deleted_base the record's tombstone stamp at the time; seen, for a delete, every field stamp.
CREATE TABLE IF NOT EXISTS outbox(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  collection TEXT NOT NULL, id TEXT NOT NULL, field TEXT NOT NULL,
  value TEXT NOT NULL, hlc INTEGER NOT NULL, at INTEGER NOT NULL,
  base_hlc INTEGER, base_replica TEXT,
  deleted_base_hlc INTEGER, deleted_base_replica TEXT,
  seen TEXT, priority INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS outbox_by_field ON outbox(collection, id, field, seq);
CREATE INDEX IF NOT EXISTS outbox_by_priority ON outbox(priority DESC, seq);
)sql";

std::optional<Stamp> stamp_columns(const db::Statement& row, int hlc_column, int replica_column) {
  if (row.is_null(hlc_column)) return std::nullopt;
  return Stamp{row.int64(hlc_column), row.text(replica_column)};
}

Json parse_stored(const std::string& text) { return Json::parse(text); }

ConflictSide side_from_json(const Json& side) {
  ConflictSide result;
  if (!side.is_object()) return result;
  result.value = side.value("value", Json());
  if (auto stamp = side.find("stamp"); stamp != side.end())
    if (auto parsed = stamp_from_json(*stamp, "conflict stamp")) result.stamp = *parsed;
  result.by = side.value("by", std::string());
  result.wall_ms = side.value("at", int64_t{0});
  return result;
}

void check_record_key(const std::string& collection, const std::string& id) {
  if (!is_valid_collection_name(collection) || collection[0] == '_')
    throw ReplicaError("invalid collection name '" + collection +
                       "': use 1-64 lower-case letters, digits and '_', starting with a letter");
  if (id.empty() || id.size() > 128 || id.find_first_of("\n\r\t") != std::string::npos)
    throw ReplicaError("invalid record id '" + id + "': use 1-128 characters without control characters");
}

}  // namespace

Json Record::values() const {
  Json out = Json::object();
  for (const auto& [name, field] : fields) out[name] = field.value;
  return out;
}

// --- Opening

Replica::Replica(const std::string& path, const Clock& clock) : db_(path), clock_(clock) {
  const int64_t version = db_.query_int("PRAGMA user_version");
  if (version > kSchemaVersion)
    throw ReplicaError(path + " was written by a newer Outpost (schema " + std::to_string(version) +
                       "); update Outpost to open it");
  {
    db::Transaction tx(db_);
    db_.exec(kSchema);
    db_.exec("PRAGMA user_version=" + std::to_string(kSchemaVersion));
    if (!meta("replica_id")) set_meta("replica_id", crypto::random_hex(16));
    tx.commit();
  }
  replica_id_ = *meta("replica_id");
  clock_.observe(meta_int("hlc", 0));
}

// --- Meta

std::optional<std::string> Replica::meta(const std::string& key) {
  auto& select = db_.prepare("SELECT value FROM meta WHERE key=?");
  select.bind(1, key);
  if (!select.step()) return std::nullopt;
  return select.text(0);
}

int64_t Replica::meta_int(const std::string& key, int64_t fallback) {
  auto value = meta(key);
  return value ? std::stoll(*value) : fallback;
}

void Replica::set_meta(const std::string& key, const std::string& value) {
  db_.prepare("INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value")
      .bind(1, key)
      .bind(2, value)
      .run();
}

std::optional<std::string> Replica::setting(const std::string& key) { return meta(key); }

void Replica::set_setting(const std::string& key, const std::string& value) { set_settings({{key, value}}); }

void Replica::set_settings(const std::map<std::string, std::string>& values) {
  db::Transaction tx(db_);
  for (const auto& [key, value] : values) set_meta(key, value);
  tx.commit();
}

Stamp Replica::next_stamp() { return Stamp{clock_.tick(), replica_id_}; }

void Replica::save_clock() { set_meta("hlc", std::to_string(clock_.last())); }

// --- Local writes

std::optional<Replica::LocalField> Replica::local_field(const std::string& collection, const std::string& id,
                                                        const std::string& field) {
  auto& select = db_.prepare("SELECT value, hlc, replica FROM fields WHERE collection=? AND id=? AND field=?");
  select.bind(1, collection).bind(2, id).bind(3, field);
  if (!select.step()) return std::nullopt;
  return LocalField{select.text(0), Stamp{select.int64(1), select.text(2)}};
}

std::map<std::string, Stamp> Replica::local_stamps(const std::string& collection, const std::string& id) {
  std::map<std::string, Stamp> stamps;
  auto& select = db_.prepare("SELECT field, hlc, replica FROM fields WHERE collection=? AND id=?");
  select.bind(1, collection).bind(2, id);
  while (select.step()) stamps.emplace(select.text(0), Stamp{select.int64(1), select.text(2)});
  return stamps;
}

void Replica::store_field(const std::string& collection, const std::string& id, const std::string& field,
                          const std::string& value, const Stamp& stamp, int64_t wall_ms) {
  // Last writer wins: the row changes only when the new stamp sorts after the stored one.
  db_.prepare(
         "INSERT INTO fields(collection, id, field, value, hlc, replica, at) VALUES(?,?,?,?,?,?,?) "
         "ON CONFLICT(collection, id, field) DO UPDATE SET value=excluded.value, hlc=excluded.hlc, "
         "replica=excluded.replica, at=excluded.at WHERE (excluded.hlc, excluded.replica) > (hlc, replica)")
      .bind(1, collection)
      .bind(2, id)
      .bind(3, field)
      .bind(4, value)
      .bind(5, stamp.hlc)
      .bind(6, stamp.replica)
      .bind(7, wall_ms)
      .run();
}

void Replica::write_local(const std::string& collection, const std::string& id,
                          const std::map<std::string, Json>& fields, const Stamp& stamp, int priority) {
  const int64_t wall = clock_.wall().now_ms();
  const auto tombstone = local_field(collection, id, kDeletedField);
  std::optional<std::string> seen;
  if (auto it = fields.find(kDeletedField); it != fields.end() && it->second == Json(true)) {
    Json stamps = Json::object();
    for (const auto& [name, field_stamp] : local_stamps(collection, id))
      if (name != kDeletedField) stamps[name] = stamp_to_json(field_stamp);
    seen = stamps.dump();
  }

  // All pending rows of a record share its highest priority, so they leave in the order written.
  auto& top = db_.prepare("SELECT max(priority) FROM outbox WHERE collection=? AND id=?");
  top.bind(1, collection).bind(2, id);
  if (top.step() && !top.is_null(0) && top.int64(0) != priority) {
    const int64_t existing = top.int64(0);
    if (existing > priority) {
      priority = static_cast<int>(existing);
    } else {
      db_.prepare("UPDATE outbox SET priority=? WHERE collection=? AND id=?")
          .bind(1, priority)
          .bind(2, collection)
          .bind(3, id)
          .run();
    }
  }

  for (const auto& [field, value] : fields) {
    const std::string text = value.dump();
    const auto current = local_field(collection, id, field);
    auto& last = db_.prepare(
        "SELECT seq, hlc FROM outbox WHERE collection=? AND id=? AND field=? ORDER BY seq DESC LIMIT 1");
    last.bind(1, collection).bind(2, id).bind(3, field);
    const bool pending = last.step();
    const int64_t pending_seq = pending ? last.int64(0) : 0;
    const int64_t pending_hlc = pending ? last.int64(1) : 0;
    // A pending write nothing has overwritten here since is simply replaced; one a pulled change
    // beat stays queued, so the registry still records that conflict.
    if (pending && current && current->stamp == Stamp{pending_hlc, replica_id_}) {
      db_.prepare("UPDATE outbox SET value=?, hlc=?, at=?, seen=?, priority=? WHERE seq=?")
          .bind(1, text)
          .bind(2, stamp.hlc)
          .bind(3, wall)
          .bind(4, seen)
          .bind(5, priority)
          .bind(6, pending_seq)
          .run();
    } else {
      auto& insert = db_.prepare(
          "INSERT INTO outbox(collection, id, field, value, hlc, at, base_hlc, base_replica, deleted_base_hlc, "
          "deleted_base_replica, seen, priority) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)");
      insert.bind(1, collection).bind(2, id).bind(3, field).bind(4, text).bind(5, stamp.hlc).bind(6, wall);
      if (current)
        insert.bind(7, current->stamp.hlc).bind(8, current->stamp.replica);
      else
        insert.bind(7, nullptr).bind(8, nullptr);
      if (tombstone)
        insert.bind(9, tombstone->stamp.hlc).bind(10, tombstone->stamp.replica);
      else
        insert.bind(9, nullptr).bind(10, nullptr);
      insert.bind(11, seen).bind(12, priority).run();
    }
    store_field(collection, id, field, text, stamp, wall);
  }
}

Stamp Replica::put(const std::string& collection, const std::string& id, const Json& fields, int priority) {
  check_record_key(collection, id);
  if (!fields.is_object() || fields.empty()) throw ReplicaError("nothing to write: give at least one FIELD=VALUE");
  std::map<std::string, Json> values;
  for (const auto& [name, value] : fields.items()) {
    if (!is_valid_field_name(name))
      throw ReplicaError("invalid field name '" + name +
                         "': use 1-128 letters, digits, '_', '-' or '.', not starting with '_'");
    if (!is_within_value_depth(value))
      throw ReplicaError("field '" + name + "' is nested deeper than " + std::to_string(kMaxValueDepth) + " levels");
    values.emplace(name, value);
  }
  db::Transaction tx(db_);
  if (auto tombstone = local_field(collection, id, kDeletedField); tombstone && tombstone->value == "true")
    values.emplace(kDeletedField, false);
  const Stamp stamp = next_stamp();
  write_local(collection, id, values, stamp, priority);
  save_clock();
  tx.commit();
  return stamp;
}

Stamp Replica::remove(const std::string& collection, const std::string& id) {
  check_record_key(collection, id);
  db::Transaction tx(db_);
  auto record = get(collection, id);
  if (!record || record->deleted) throw ReplicaError("no record " + collection + "/" + id + " to delete");
  const Stamp stamp = next_stamp();
  write_local(collection, id, {{kDeletedField, true}}, stamp, 0);
  save_clock();
  tx.commit();
  return stamp;
}

Stamp Replica::resolve(const std::string& conflict_id, const Json& value) {
  db::Transaction tx(db_);
  auto target = conflict(conflict_id);
  if (!target) throw ReplicaError("no conflict with id " + conflict_id + " (list them with `outpost conflicts`)");
  if (!target->open) throw ReplicaError("conflict " + conflict_id + " was already resolved");
  if (target->field == kDeletedField && !value.is_boolean())
    throw ReplicaError("conflict " + conflict_id +
                       " is about a deleted record: resolve it with --value true (stay deleted) or false (restore)");
  const Stamp stamp = next_stamp();
  write_local(target->collection, target->record_id, {{target->field, value}}, stamp, 0);
  const Json resolution = {{"value", value}, {"by", replica_id_}, {"at", clock_.wall().now_ms()}};
  for (const Conflict& other : conflicts(true))
    if (other.collection == target->collection && other.record_id == target->record_id &&
        other.field == target->field)
      write_local(kConflictsCollection, other.id, {{kResolutionField, resolution}}, stamp, 0);
  save_clock();
  tx.commit();
  return stamp;
}

// --- Reads

namespace {
// Folds rows of (id, field, value, hlc, replica, at) into records, in row order.
template <typename Emit>
void fold_records(db::Statement& rows, const std::string& collection, Emit emit) {
  std::optional<Record> current;
  while (rows.step()) {
    std::string id = rows.text(0);
    if (current && current->id != id) {
      emit(std::move(*current));
      current.reset();
    }
    if (!current) current = Record{collection, std::move(id), false, {}, std::nullopt, 0};
    FieldState state{parse_stored(rows.text(2)), Stamp{rows.int64(3), rows.text(4)}, rows.int64(5)};
    current->updated_ms = std::max(current->updated_ms, state.wall_ms);
    const std::string field = rows.text(1);
    if (field == kDeletedField) {
      current->deleted = state.value == Json(true);
      current->tombstone = std::move(state);
    } else {
      current->fields.emplace(field, std::move(state));
    }
  }
  if (current) emit(std::move(*current));
}
}  // namespace

std::optional<Record> Replica::get(const std::string& collection, const std::string& id) {
  auto& rows = db_.prepare(
      "SELECT id, field, value, hlc, replica, at FROM fields WHERE collection=? AND id=? ORDER BY field");
  rows.bind(1, collection).bind(2, id);
  std::optional<Record> found;
  fold_records(rows, collection, [&](Record&& record) { found = std::move(record); });
  return found;
}

std::vector<Record> Replica::list(const std::string& collection, bool include_deleted) {
  std::vector<Record> records;
  for_each_record(collection, include_deleted, [&](Record&& record) { records.push_back(std::move(record)); });
  return records;
}

void Replica::for_each_record(const std::string& collection, bool include_deleted,
                              const std::function<void(Record&&)>& visit) {
  auto& rows = db_.prepare(
      "SELECT id, field, value, hlc, replica, at FROM fields WHERE collection=? ORDER BY id, field");
  rows.bind(1, collection);
  fold_records(rows, collection, [&](Record&& record) {
    if (include_deleted || !record.deleted) visit(std::move(record));
  });
}

namespace {
Conflict conflict_from_record(const Record& record) {
  Conflict conflict;
  conflict.id = record.id;
  auto text = [&](const char* name) {
    auto it = record.fields.find(name);
    return it != record.fields.end() && it->second.value.is_string() ? it->second.value.get<std::string>()
                                                                      : std::string();
  };
  conflict.collection = text("collection");
  conflict.record_id = text("record");
  conflict.field = text("field");
  if (auto it = record.fields.find("kept"); it != record.fields.end()) conflict.kept = side_from_json(it->second.value);
  if (auto it = record.fields.find("lost"); it != record.fields.end()) conflict.lost = side_from_json(it->second.value);
  if (auto it = record.fields.find("detected_at"); it != record.fields.end() && it->second.value.is_number_integer())
    conflict.detected_ms = it->second.value.get<int64_t>();
  if (auto it = record.fields.find(kResolutionField); it != record.fields.end()) {
    conflict.open = false;
    conflict.resolution = it->second.value;
  }
  return conflict;
}
}  // namespace

std::vector<Conflict> Replica::conflicts(bool open_only) {
  std::vector<Conflict> result;
  for (const Record& record : list(kConflictsCollection)) {
    Conflict conflict = conflict_from_record(record);
    if (!open_only || conflict.open) result.push_back(std::move(conflict));
  }
  std::sort(result.begin(), result.end(),
            [](const Conflict& a, const Conflict& b) { return a.detected_ms < b.detected_ms; });
  return result;
}

std::optional<Conflict> Replica::conflict(const std::string& conflict_id) {
  auto record = get(kConflictsCollection, conflict_id);
  if (!record || record->deleted) return std::nullopt;
  return conflict_from_record(*record);
}

ReplicaStatus Replica::status() {
  ReplicaStatus status;
  status.pending_changes = db_.query_int("SELECT count(*) FROM outbox");
  status.pending_records = db_.query_int("SELECT count(*) FROM (SELECT DISTINCT collection, id FROM outbox)");
  status.open_conflicts = db_.query_int(
      "SELECT count(*) FROM fields c WHERE c.collection='_conflicts' AND c.field='field' AND NOT EXISTS "
      "(SELECT 1 FROM fields r WHERE r.collection='_conflicts' AND r.id=c.id AND r.field='resolution')");
  status.cursor = meta_int("cursor", 0);
  if (auto at = meta("last_sync_ms")) status.last_sync_ms = std::stoll(*at);
  status.last_sync_result = meta("last_sync_result");
  return status;
}

bool Replica::has_pending_changes() { return db_.query_int("SELECT EXISTS(SELECT 1 FROM outbox)") != 0; }

std::vector<CollectionUsage> Replica::usage() {
  auto& rows = db_.prepare(
      "SELECT collection, count(DISTINCT id), sum(CASE WHEN field='_deleted' AND value='true' THEN 1 ELSE 0 END), "
      "sum(length(value) + length(field) + length(id)) FROM fields GROUP BY collection ORDER BY collection");
  std::vector<CollectionUsage> result;
  while (rows.step()) {
    const int64_t deleted = rows.int64(2);
    result.push_back({rows.text(0), rows.int64(1) - deleted, deleted, rows.int64(3)});
  }
  return result;
}

std::vector<QueuedRecord> Replica::queued_records(int min_priority) {
  auto& rows = db_.prepare(
      "SELECT collection, id, max(priority), max(at) FROM outbox WHERE priority >= ? GROUP BY collection, id "
      "ORDER BY max(priority) DESC, min(seq)");
  rows.bind(1, min_priority);
  std::vector<QueuedRecord> result;
  while (rows.step())
    result.push_back({rows.text(0), rows.text(1), static_cast<int>(rows.int64(2)), rows.int64(3)});
  return result;
}

// --- Sync

OutgoingBatch Replica::next_batch(size_t max_records, size_t soft_bytes) {
  OutgoingBatch batch;
  batch.request.seq = meta_int("next_request_seq", 1);
  batch.request.cursor = meta_int("cursor", 0);
  batch.request.device_clock_ms = clock_.wall().now_ms();

  // Records leave whole: every pending write of a record goes in the same request (the
  // registry's receipts count on it), in the order written. A record needs a second entry only
  // when a field has two pending writes, or a different tombstone base.
  std::set<std::pair<std::string, std::string>> taken;
  size_t bytes = 0;
  auto& order = db_.prepare("SELECT collection, id FROM outbox ORDER BY priority DESC, seq");
  auto& rows = db_.prepare(
      "SELECT seq, field, value, hlc, at, base_hlc, base_replica, deleted_base_hlc, deleted_base_replica, seen, "
      "priority FROM outbox WHERE collection=? AND id=? ORDER BY seq");
  while (order.step()) {
    auto key = std::make_pair(order.text(0), order.text(1));
    if (taken.count(key)) continue;
    std::vector<RecordChange> entries;
    std::vector<OutgoingBatch::Sent> sent;
    size_t size = 0;
    rows.reset();
    rows.bind(1, key.first).bind(2, key.second);
    while (rows.step()) {
      const std::string field = rows.text(1);
      const std::optional<Stamp> deleted_base = stamp_columns(rows, 7, 8);
      if (entries.empty() || entries.back().fields.count(field) || entries.back().deleted_base != deleted_base) {
        RecordChange fresh;
        fresh.collection = key.first;
        fresh.id = key.second;
        fresh.priority = static_cast<int>(rows.int64(10));
        fresh.deleted_base = deleted_base;
        entries.push_back(std::move(fresh));
      }
      RecordChange& entry = entries.back();
      if (!rows.is_null(9)) {
        const Json seen = parse_stored(rows.text(9));
        for (const auto& [name, stamp] : seen.items())
          if (auto parsed = stamp_from_json(stamp, "outbox seen")) entry.seen[name] = *parsed;
      }
      const std::string value = rows.text(2);
      size += value.size() + field.size() + 96;
      FieldChange change{parse_stored(value), Stamp{rows.int64(3), replica_id_}, stamp_columns(rows, 5, 6),
                         rows.int64(4)};
      sent.push_back({rows.int64(0), key.first, key.second, field, change.stamp});
      entry.fields.emplace(field, std::move(change));
    }
    if (!batch.request.changes.empty() &&
        (batch.request.changes.size() + entries.size() > max_records || bytes + size > soft_bytes))
      break;
    for (RecordChange& entry : entries) batch.request.changes.push_back(std::move(entry));
    batch.sent.insert(batch.sent.end(), sent.begin(), sent.end());
    bytes += size;
    taken.insert(std::move(key));
  }
  return batch;
}

void Replica::apply_response(const OutgoingBatch& batch, const SyncResponse& response) {
  if (response.acked != batch.request.changes.size())
    throw ReplicaError("registry acknowledged " + std::to_string(response.acked) + " of " +
                       std::to_string(batch.request.changes.size()) + " changes; nothing was applied");

  db::Transaction tx(db_);
  // Stamps the registry pulled back from the future replace ours wherever they still stand.
  std::map<std::tuple<std::string, std::string, std::string, int64_t>, int64_t> clamped;
  for (const ClampedStamp& c : response.clamped) {
    clamped[{c.collection, c.id, c.field, c.from}] = c.to;
    db_.prepare("UPDATE fields SET hlc=? WHERE collection=? AND id=? AND field=? AND hlc=? AND replica=?")
        .bind(1, c.to).bind(2, c.collection).bind(3, c.id).bind(4, c.field).bind(5, c.from).bind(6, replica_id_)
        .run();
    db_.prepare("UPDATE outbox SET base_hlc=? WHERE collection=? AND id=? AND field=? AND base_hlc=? AND base_replica=?")
        .bind(1, c.to).bind(2, c.collection).bind(3, c.id).bind(4, c.field).bind(5, c.from).bind(6, replica_id_)
        .run();
  }
  for (const OutgoingBatch::Sent& sent : batch.sent) {
    db_.prepare("DELETE FROM outbox WHERE seq=? AND hlc=?").bind(1, sent.outbox_seq).bind(2, sent.stamp.hlc).run();
    if (db_.changes() == 0) {
      // Rewritten locally while the request was under way: what the registry now holds is
      // what this later write overwrites.
      auto it = clamped.find({sent.collection, sent.id, sent.field, sent.stamp.hlc});
      const int64_t hlc = it != clamped.end() ? it->second : sent.stamp.hlc;
      db_.prepare("UPDATE outbox SET base_hlc=?, base_replica=? WHERE seq=?")
          .bind(1, hlc).bind(2, replica_id_).bind(3, sent.outbox_seq).run();
    }
  }
  for (const PulledRecord& record : response.changes)
    for (const auto& [field, pulled] : record.fields) {
      store_field(record.collection, record.id, field, pulled.value.dump(), pulled.stamp, pulled.wall_ms);
      clock_.observe(pulled.stamp.hlc);
    }
  set_meta("cursor", std::to_string(response.cursor));
  set_meta("next_request_seq", std::to_string(batch.request.seq + 1));
  if (!response.collections.empty()) set_meta("collections", Json(response.collections).dump());
  save_clock();
  tx.commit();
}

void Replica::record_sync_result(const std::string& result) {
  db::Transaction tx(db_);
  set_meta("last_sync_ms", std::to_string(clock_.wall().now_ms()));
  set_meta("last_sync_result", result);
  tx.commit();
}

void Replica::set_next_request_seq(int64_t seq) {
  db::Transaction tx(db_);
  set_meta("next_request_seq", std::to_string(seq));
  tx.commit();
}

}  // namespace outpost::sync
