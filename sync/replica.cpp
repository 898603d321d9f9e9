#include "sync/replica.h"

#include <algorithm>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "platform/crypto.h"
#include "platform/json_text.h"

namespace outpost::sync {

namespace {

// 3 added outbox.later; 4 keeps the live records of a collection in the order they came
// (records_live_by_row, replacing records_live by id); 5 added refused. Files of versions 2 to
// 4 are upgraded in place.
constexpr int kSchemaVersion = 5;

const char* const kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
-- Every record, its fields as {"field": [value, hlc, replica, wall_ms], ...} (sync/stored_fields.h).
-- Deleting a record writes its _deleted field; the other fields stay, so a concurrent edit can
-- be restored. Rows are appended in rowid order and found through a small index, rather than
-- kept in random-UUID order, so a sync batch dirties few pages.
CREATE TABLE IF NOT EXISTS records(
  row INTEGER PRIMARY KEY, collection TEXT NOT NULL, id TEXT NOT NULL, fields TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS records_by_key ON records(collection, id);
-- The live (not deleted) records of each collection, in the order they were first written or
-- received here (the index ends with the row): counting a collection and reading the newest rows
-- N to N+100 of it walk this index alone. A new record's entry goes at the end of its
-- collection's range, so writing one dirties one page of it.
CREATE INDEX IF NOT EXISTS records_live_by_row ON records(collection) WHERE json_extract(fields, '$._deleted[0]') IS NOT 1;
-- Local writes the registry has not acknowledged, one row per user action on a record: its
-- stamp, and each field as [value, base], base being the stamp the write overwrote here.
-- deleted_base is the record's tombstone stamp at the time; seen, for a delete, every field's;
-- later, that newer writes of the record wait behind this one.
CREATE TABLE IF NOT EXISTS outbox(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  collection TEXT NOT NULL, id TEXT NOT NULL, hlc INTEGER NOT NULL, at INTEGER NOT NULL,
  deleted_base_hlc INTEGER, deleted_base_replica TEXT, seen TEXT, priority INTEGER NOT NULL DEFAULT 0,
  fields TEXT NOT NULL, later INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS outbox_by_record ON outbox(collection, id, seq);
CREATE INDEX IF NOT EXISTS outbox_by_priority ON outbox(priority DESC, seq);
-- Outbox rows the registry refused (sync/protocol.h, RefusedChange), kept aside with its reason
-- so they neither block the outbox nor vanish; the record itself keeps the values written.
CREATE TABLE IF NOT EXISTS refused(
  seq INTEGER PRIMARY KEY, collection TEXT NOT NULL, id TEXT NOT NULL, fields TEXT NOT NULL,
  at INTEGER NOT NULL, error TEXT NOT NULL, message TEXT NOT NULL, refused_at INTEGER NOT NULL);
)sql";

std::optional<Stamp> stamp_columns(const db::Statement& row, int hlc_column, int replica_column) {
  if (row.is_null(hlc_column)) return std::nullopt;
  return Stamp{row.int64(hlc_column), row.text(replica_column)};
}

Json parse_stored(const std::string& text) { return Json::parse(text); }

// A record row as the reads hand it out, parsed once.
Record record_from_row(const std::string& collection, const std::string& id, const std::string& fields_text) {
  Record record{collection, id, false, {}, std::nullopt, 0};
  for_each_stored_field(fields_text, [&](const std::string& name, const Json& value, Stamp stamp, int64_t wall_ms) {
    FieldState state{value, std::move(stamp), wall_ms};
    record.updated_ms = std::max(record.updated_ms, state.wall_ms);
    if (name == kDeletedField) {
      record.deleted = state.value == Json(true);
      record.tombstone = std::move(state);
    } else {
      record.fields.emplace(name, std::move(state));
    }
  });
  return record;
}

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
  if (version != 0 && version < 2)
    throw ReplicaError(path + " was written by a development build of Outpost (schema " + std::to_string(version) +
                       ") that this one cannot read; sync it with that build, then start with a new home");
  {
    db::Transaction tx(db_);
    // Rows already waiting may have later writes behind them: marked so, they are read whole.
    if (version == 2) db_.exec("ALTER TABLE outbox ADD COLUMN later INTEGER NOT NULL DEFAULT 1");
    if (version == 2 || version == 3) db_.exec("DROP INDEX IF EXISTS records_live");
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

StoredFields Replica::load_fields(const std::string& collection, const std::string& id) {
  auto& select = db_.prepare("SELECT fields FROM records WHERE collection=? AND id=?");
  select.bind(1, collection).bind(2, id);
  if (!select.step()) return {};
  return decode_fields(select.text(0));
}

void Replica::save_fields(const std::string& collection, const std::string& id, const StoredFields& fields) {
  db_.prepare(
         "INSERT INTO records(collection, id, fields) VALUES(?,?,?) "
         "ON CONFLICT(collection, id) DO UPDATE SET fields=excluded.fields")
      .bind(1, collection)
      .bind(2, id)
      .bind(3, encode_fields(fields))
      .run();
}

void Replica::write_local(const std::string& collection, const std::string& id,
                          const std::map<std::string, Json>& fields, const Stamp& stamp, int priority) {
  const int64_t wall = clock_.wall().now_ms();
  StoredFields stored = load_fields(collection, id);
  std::optional<Stamp> tombstone;
  if (auto it = stored.find(kDeletedField); it != stored.end()) tombstone = it->second.stamp;
  std::optional<std::string> seen;
  if (auto it = fields.find(kDeletedField); it != fields.end() && it->second == Json(true)) {
    Json stamps = Json::object();
    for (const auto& [name, field] : stored)
      if (name != kDeletedField) stamps[name] = stamp_to_json(field.stamp);
    seen = stamps.dump();
  }

  // All pending writes of a record share its highest priority, so they leave in the order
  // written; those already waiting learn that a later one follows.
  auto& top = db_.prepare("SELECT max(priority) FROM outbox WHERE collection=? AND id=?");
  top.bind(1, collection).bind(2, id);
  if (top.step() && !top.is_null(0)) {
    priority = std::max(priority, static_cast<int>(top.int64(0)));
    db_.prepare("UPDATE outbox SET priority=?, later=1 WHERE collection=? AND id=?")
        .bind(1, priority)
        .bind(2, collection)
        .bind(3, id)
        .run();
  }

  // The clock ticks past every stamp this replica has seen, so a local write always wins here.
  // The outbox row holds {"field": [value, base], ...}.
  std::string outgoing = "{";
  for (const auto& [field, value] : fields) {
    if (outgoing.size() > 1) outgoing += ',';
    json_text::append_string(outgoing, field);
    std::string text = value.dump();
    outgoing += ":[" + text + ',';
    auto current = stored.find(field);
    append_stamp(outgoing, current == stored.end() ? std::nullopt : std::optional<Stamp>(current->second.stamp));
    outgoing += ']';
    stored[field] = StoredField{std::move(text), stamp, wall};
  }
  outgoing += '}';
  save_fields(collection, id, stored);
  auto& insert = db_.prepare(
      "INSERT INTO outbox(collection, id, hlc, at, deleted_base_hlc, deleted_base_replica, seen, priority, fields) "
      "VALUES(?,?,?,?,?,?,?,?,?)");
  insert.bind(1, collection).bind(2, id).bind(3, stamp.hlc).bind(4, wall);
  if (tombstone)
    insert.bind(5, tombstone->hlc).bind(6, tombstone->replica);
  else
    insert.bind(5, nullptr).bind(6, nullptr);
  insert.bind(7, seen).bind(8, priority).bind(9, outgoing).run();
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
  const StoredFields stored = load_fields(collection, id);
  if (auto tombstone = stored.find(kDeletedField); tombstone != stored.end() && tombstone->second.value == "true")
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

std::optional<Record> Replica::get(const std::string& collection, const std::string& id) {
  auto& select = db_.prepare("SELECT fields FROM records WHERE collection=? AND id=?");
  select.bind(1, collection).bind(2, id);
  if (!select.step()) return std::nullopt;
  return record_from_row(collection, id, select.text(0));
}

std::vector<Record> Replica::list(const std::string& collection, bool include_deleted) {
  std::vector<Record> records;
  for_each_record(collection, include_deleted, [&](Record&& record) { records.push_back(std::move(record)); });
  return records;
}

void Replica::for_each_record(const std::string& collection, bool include_deleted,
                              const std::function<void(Record&&)>& visit) {
  auto& rows = db_.prepare("SELECT id, fields FROM records WHERE collection=? ORDER BY id");
  rows.bind(1, collection);
  while (rows.step()) {
    Record record = record_from_row(collection, rows.text(0), rows.text(1));
    if (include_deleted || !record.deleted) visit(std::move(record));
  }
}

void Replica::for_each_record_with(const std::string& collection, const std::string& field,
                                   const std::function<void(Record&&)>& visit) {
  // A field's name appears quoted and followed by ':' in its row (sync/stored_fields.h); a
  // value with that text in it is a false match, dropped once the row is read.
  // One pass over the table in row order; through an index on the collection, every row would
  // be a separate look-up.
  auto& rows =
      db_.prepare("SELECT id, fields FROM records NOT INDEXED WHERE collection=? AND instr(fields, ?) > 0 ORDER BY row");
  rows.bind(1, collection).bind(2, json_text::quoted(field) + ':');
  while (rows.step()) {
    Record record = record_from_row(collection, rows.text(0), rows.text(1));
    if (!record.deleted && record.fields.count(field)) visit(std::move(record));
  }
}

int64_t Replica::count_live_with(const std::string& collection, const std::string& field, const Json& value) {
  // The field's value follows its name as the writer's JSON text: compact, as every Outpost
  // device writes it. A row holding that text elsewhere (in an object's value) is read and dropped.
  auto& rows = db_.prepare("SELECT fields FROM records NOT INDEXED WHERE collection=? AND instr(fields, ?) > 0");
  rows.bind(1, collection).bind(2, json_text::quoted(field) + ":[" + value.dump() + ',');
  int64_t count = 0;
  while (rows.step()) {
    const Record record = record_from_row(collection, "", rows.text(0));
    const auto found = record.fields.find(field);
    if (!record.deleted && found != record.fields.end() && found->second.value == value) ++count;
  }
  return count;
}

namespace {
// The condition records_live_by_row is built with, word for word, so that SQLite reads that index alone.
const std::string kLiveRecord = "json_extract(fields, '$._deleted[0]') IS NOT 1";
}  // namespace

int64_t Replica::count_live(const std::string& collection) {
  static const std::string sql = "SELECT count(*) FROM records WHERE collection=? AND " + kLiveRecord;
  auto& count = db_.prepare(sql);
  count.bind(1, collection);
  const int64_t live = count.step() ? count.int64(0) : 0;
  count.reset();
  return live;
}

std::map<std::string, int64_t> Replica::live_counts() {
  static const std::string sql = "SELECT collection, count(*) FROM records WHERE " + kLiveRecord + " GROUP BY collection";
  auto& rows = db_.prepare(sql);
  std::map<std::string, int64_t> counts;
  while (rows.step()) counts.emplace(rows.text(0), rows.int64(1));
  return counts;
}

void Replica::for_each_live_record(const std::string& collection, int64_t offset, int64_t limit,
                                   const std::function<void(Record&&)>& visit) {
  static const std::string sql =
      "SELECT id, fields FROM records WHERE collection=? AND " + kLiveRecord + " ORDER BY row DESC LIMIT ? OFFSET ?";
  auto& rows = db_.prepare(sql);
  rows.bind(1, collection).bind(2, limit).bind(3, offset);
  while (rows.step()) visit(record_from_row(collection, rows.text(0), rows.text(1)));
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
      "SELECT count(*) FROM records WHERE collection='_conflicts' AND json_extract(fields, '$.resolution') IS NULL");
  status.refused_changes = db_.query_int("SELECT count(*) FROM refused");
  status.cursor = cursor();
  if (auto at = meta("last_sync_ms")) status.last_sync_ms = std::stoll(*at);
  status.last_sync_result = meta("last_sync_result");
  return status;
}

int64_t Replica::cursor() { return meta_int("cursor", 0); }

std::vector<RefusedWrite> Replica::refused_writes() {
  auto& rows = db_.prepare("SELECT seq, collection, id, error, message, at, refused_at FROM refused ORDER BY seq");
  std::vector<RefusedWrite> writes;
  while (rows.step())
    writes.push_back({rows.int64(0), rows.text(1), rows.text(2), rows.text(3), rows.text(4), rows.int64(5), rows.int64(6)});
  return writes;
}

bool Replica::has_pending_changes() { return db_.query_int("SELECT EXISTS(SELECT 1 FROM outbox)") != 0; }

std::vector<CollectionUsage> Replica::usage() {
  auto& rows = db_.prepare(
      "SELECT collection, count(*), sum(json_extract(fields, '$._deleted[0]') IS 1), sum(length(fields) + length(id)) "
      "FROM records GROUP BY collection ORDER BY collection");
  std::vector<CollectionUsage> result;
  while (rows.step()) {
    const int64_t deleted = rows.int64(2);
    result.push_back({rows.text(0), rows.int64(1) - deleted, deleted, rows.int64(3)});
  }
  return result;
}

std::vector<QueuedRecord> Replica::queued_records(int min_priority) {
  // Through the priority index: otherwise SQLite walks the whole outbox in record order to group
  // it, reading every row (200 MB with 200,000 writes waiting) when a few urgent ones are wanted.
  auto& rows = db_.prepare(
      "SELECT collection, id, max(priority), max(at) FROM outbox INDEXED BY outbox_by_priority WHERE priority >= ? "
      "GROUP BY collection, id "
      "ORDER BY max(priority) DESC, min(seq)");
  rows.bind(1, min_priority);
  std::vector<QueuedRecord> result;
  while (rows.step())
    result.push_back({rows.text(0), rows.text(1), static_cast<int>(rows.int64(2)), rows.int64(3)});
  return result;
}

std::set<std::string> Replica::unsent_ids(const std::string& collection) {
  auto& rows = db_.prepare("SELECT id FROM outbox WHERE collection=?1 UNION SELECT id FROM refused WHERE collection=?1");
  rows.bind(1, collection);
  std::set<std::string> ids;
  while (rows.step()) ids.insert(rows.text(0));
  return ids;
}

bool Replica::is_queued(const std::string& collection, const std::string& id) {
  auto& row = db_.prepare("SELECT EXISTS(SELECT 1 FROM outbox WHERE collection=? AND id=?)");
  row.bind(1, collection).bind(2, id);
  const bool queued = row.step() && row.int64(0) != 0;
  row.reset();
  return queued;
}

// --- Sync

namespace {

constexpr char kOutboxColumns[] =
    "SELECT seq, collection, id, hlc, at, deleted_base_hlc, deleted_base_replica, seen, priority, fields, later "
    "FROM outbox ";

struct OutboxRow {
  int64_t seq = 0;
  int64_t hlc = 0;
  int64_t at = 0;
  std::optional<Stamp> deleted_base;
  std::optional<std::string> seen;
  int priority = 0;
  std::string fields;
  bool later = false;  // newer pending writes of the same record follow
};

OutboxRow outbox_row(const db::Statement& row) {
  return {row.int64(0),           row.int64(3), row.int64(4), stamp_columns(row, 5, 6), row.optional_text(7),
          static_cast<int>(row.int64(8)), row.text(9), row.int64(10) != 0};
}

// One record's pending writes, in the order written.
struct PendingRecord {
  std::string collection, id;
  std::vector<OutboxRow> rows;
  size_t bytes = 0;
  bool complete = false;
};

// A record's pending writes as a request carries them: one entry per write, in the order
// written. A write over our own earlier pending write of a field replaces it: only the newer
// value travels, over the base the earlier one had. One a pulled change beat (its base is that
// change) stays, so the registry records the conflict.
std::vector<RecordChange> pending_changes(const PendingRecord& record, const std::string& replica_id) {
  std::vector<RecordChange> entries;
  std::map<std::string, size_t, std::less<>> latest;  // field -> entry holding its newest write
  for (const OutboxRow& row : record.rows) {
    RecordChange entry;
    entry.collection = record.collection;
    entry.id = record.id;
    entry.priority = row.priority;
    entry.deleted_base = row.deleted_base;
    if (row.seen) {
      json_text::Reader seen(*row.seen);
      seen.object([&](std::string_view name) {
        if (auto stamp = read_stamp(seen)) entry.seen.emplace(name, std::move(*stamp));
      });
    }
    const Stamp stamp{row.hlc, replica_id};
    json_text::Reader fields(row.fields);
    fields.object([&](std::string_view name) {
      FieldChange change{{}, stamp, std::nullopt, row.at};
      bool first = true;
      fields.array([&] {
        if (first) change.value = std::string(fields.value());
        else change.base = read_stamp(fields);
        first = false;
      });
      if (auto earlier = latest.find(name); earlier != latest.end()) {
        auto& replaced = entries[earlier->second].fields;
        auto previous = replaced.find(std::string(name));
        if (change.base && *change.base == previous->second.stamp) {
          change.base = previous->second.base;
          replaced.erase(previous);
        }
        earlier->second = entries.size();
      } else {
        latest.emplace(name, entries.size());
      }
      entry.fields.emplace(name, std::move(change));
    });
    entries.push_back(std::move(entry));
  }
  entries.erase(std::remove_if(entries.begin(), entries.end(), [](const RecordChange& e) { return e.fields.empty(); }),
                entries.end());
  return entries;
}

}  // namespace

void Replica::address(SyncRequest& request) {
  request.seq = meta_int("next_request_seq", 1);
  request.cursor = meta_int("cursor", 0);
  request.device_clock_ms = clock_.wall().now_ms();
}

OutgoingBatch Replica::next_batch(size_t max_records, size_t soft_bytes, const std::vector<int64_t>& travelling) {
  OutgoingBatch batch;
  address(batch.request);
  const std::unordered_set<int64_t> skipped(travelling.begin(), travelling.end());

  // Records leave whole: every pending write of a record goes in the same request (the
  // registry's replay check counts on it). One scan in sending order finds them: a record's
  // writes share its priority, so they come in the order written, and the last of them is the
  // one no later write follows. A record still open when the batch is full is read whole.
  std::vector<PendingRecord> records;
  std::unordered_map<std::string, size_t> open;  // collection '\0' id -> index in records
  size_t bytes = 0;
  auto& scan = db_.prepare(std::string(kOutboxColumns) + "ORDER BY priority DESC, seq");
  while (scan.step()) {
    if (!skipped.empty() && skipped.count(scan.int64(0))) continue;
    std::string key = scan.text(1) + '\0' + scan.text(2);
    auto it = open.find(key);
    if (it == open.end()) {
      if (records.size() >= max_records || bytes >= soft_bytes) {
        batch.more_waiting = true;
        break;
      }
      it = open.emplace(std::move(key), records.size()).first;
      records.push_back({scan.text(1), scan.text(2), {}, 0, false});
    }
    PendingRecord& record = records[it->second];
    record.rows.push_back(outbox_row(scan));
    record.bytes += record.rows.back().fields.size() + 96;
    bytes += record.rows.back().fields.size() + 96;
    if (!record.rows.back().later) {
      record.complete = true;
      open.erase(it);
    }
  }
  for (PendingRecord& record : records) {
    if (record.complete) continue;
    auto& rows = db_.prepare(std::string(kOutboxColumns) + "WHERE collection=? AND id=? ORDER BY seq");
    rows.bind(1, record.collection).bind(2, record.id);
    record.rows.clear();
    record.bytes = 0;
    while (rows.step()) {
      if (skipped.count(rows.int64(0))) continue;
      record.rows.push_back(outbox_row(rows));
      record.bytes += record.rows.back().fields.size() + 96;
    }
  }

  bytes = 0;
  for (const PendingRecord& record : records) {
    std::vector<RecordChange> entries = pending_changes(record, replica_id_);
    if (!batch.request.changes.empty() &&
        (batch.request.changes.size() + entries.size() > max_records || bytes + record.bytes > soft_bytes)) {
      batch.more_waiting = true;
      break;
    }
    for (RecordChange& entry : entries) batch.request.changes.push_back(std::move(entry));
    for (const OutboxRow& row : record.rows) batch.outbox_rows.push_back(row.seq);
    bytes += record.bytes;
  }
  return batch;
}

void Replica::apply_clamp(const ClampedStamp& clamp) {
  StoredFields stored = load_fields(clamp.collection, clamp.id);
  if (auto it = stored.find(clamp.field);
      it != stored.end() && it->second.stamp == Stamp{clamp.from, replica_id_}) {
    it->second.stamp.hlc = clamp.to;
    save_fields(clamp.collection, clamp.id, stored);
  }
  const Json from = stamp_to_json(Stamp{clamp.from, replica_id_});
  auto& rows = db_.prepare("SELECT seq, fields FROM outbox WHERE collection=? AND id=?");
  rows.bind(1, clamp.collection).bind(2, clamp.id);
  std::vector<std::pair<int64_t, std::string>> rewritten;
  while (rows.step()) {
    Json fields = parse_stored(rows.text(1));
    auto it = fields.find(clamp.field);
    if (it == fields.end() || (*it)[1] != from) continue;
    (*it)[1] = stamp_to_json(Stamp{clamp.to, replica_id_});
    rewritten.emplace_back(rows.int64(0), fields.dump());
  }
  for (const auto& [seq, fields] : rewritten)
    db_.prepare("UPDATE outbox SET fields=? WHERE seq=?").bind(1, fields).bind(2, seq).run();
}

void Replica::apply_response(const OutgoingBatch& batch, const SyncResponse& response) {
  if (response.acked != batch.request.changes.size())
    throw ReplicaError("registry acknowledged " + std::to_string(response.acked) + " of " +
                       std::to_string(batch.request.changes.size()) + " changes; nothing was applied");

  std::map<std::pair<std::string, std::string>, const RefusedChange*> refused;
  for (const RefusedChange& change : response.refused) {
    const bool in_order = &change == &response.refused.front() || (&change - 1)->index < change.index;
    if (change.index >= batch.request.changes.size() || !in_order)
      throw ReplicaError("registry refused change " + std::to_string(change.index) + " of " +
                         std::to_string(batch.request.changes.size()) + " out of order; nothing was applied");
    const RecordChange& sent = batch.request.changes[change.index];
    refused.emplace(std::make_pair(sent.collection, sent.id), &change);
  }

  db::Transaction tx(db_);
  // Stamps the registry pulled back from the future replace ours wherever they still stand,
  // including as the base of writes made here while the request was under way.
  for (const ClampedStamp& clamp : response.clamped) apply_clamp(clamp);
  // Acknowledged rows go; refused ones are set aside with the reason.
  const int64_t now = clock_.wall().now_ms();
  for (const int64_t seq : batch.outbox_rows) {
    if (!refused.empty()) {
      auto& row = db_.prepare("SELECT collection, id FROM outbox WHERE seq=?");
      row.bind(1, seq);
      const auto key = row.step() ? std::make_pair(row.text(0), row.text(1)) : std::make_pair(std::string(), std::string());
      row.reset();
      if (const auto found = refused.find(key); found != refused.end())
        db_.prepare(
               "INSERT INTO refused(seq, collection, id, fields, at, error, message, refused_at) "
               "SELECT seq, collection, id, fields, at, ?, ?, ? FROM outbox WHERE seq=?")
            .bind(1, found->second->error)
            .bind(2, found->second->message)
            .bind(3, now)
            .bind(4, seq)
            .run();
    }
    db_.prepare("DELETE FROM outbox WHERE seq=?").bind(1, seq).run();
  }
  merge_pulled(response.changes);
  set_meta("cursor", std::to_string(response.cursor));
  set_meta("next_request_seq", std::to_string(batch.request.seq + 1));
  if (!response.collections.empty()) set_meta("collections", Json(response.collections).dump());
  save_clock();
  tx.commit();
}

PulledRecord as_pulled(const Record& record) {
  PulledRecord out{record.collection, record.id, {}};
  for (const auto& [name, field] : record.fields) out.fields[name] = {field.value.dump(), field.stamp, field.wall_ms};
  if (record.tombstone)
    out.fields[kDeletedField] = {record.tombstone->value.dump(), record.tombstone->stamp, record.tombstone->wall_ms};
  return out;
}

void Replica::merge_pulled(const std::vector<PulledRecord>& records) {
  for (const PulledRecord& record : records) {
    StoredFields stored = load_fields(record.collection, record.id);
    bool changed = false;
    for (const auto& [field, pulled] : record.fields) {
      clock_.observe(pulled.stamp.hlc);
      auto it = stored.find(field);
      if (it != stored.end() && !(pulled.stamp > it->second.stamp)) continue;  // last writer wins
      stored[field] = StoredField{pulled.value, pulled.stamp, pulled.wall_ms};
      changed = true;
    }
    if (changed) save_fields(record.collection, record.id, stored);
  }
}

void Replica::merge_records(const std::vector<PulledRecord>& records) {
  db::Transaction tx(db_);
  merge_pulled(records);
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
