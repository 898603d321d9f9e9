// The device's local replica: every record it holds, field by field with the stamp of the write
// that set it; the outbox of local writes the registry has not acknowledged; the sync cursor.
// Each user action is one SQLite transaction, and so is each sync batch together with its
// cursor, so a crash at any instant loses nothing and applies nothing twice.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "platform/sqlite.h"
#include "sync/protocol.h"
#include "sync/stamp.h"
#include "sync/stored_fields.h"

namespace outpost::sync {

class ReplicaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct FieldState {
  Json value;
  Stamp stamp;
  int64_t wall_ms = 0;
};

struct Record {
  std::string collection;
  std::string id;
  bool deleted = false;
  std::map<std::string, FieldState> fields;  // user fields only
  std::optional<FieldState> tombstone;       // the _deleted field, when the record was ever deleted
  int64_t updated_ms = 0;                    // newest wall time among its writes
  Json values() const;                       // {field: value}
};

// A record as a sync answer would carry it, with its fields' stamps (the tombstone as _deleted),
// to hand on to another device.
PulledRecord as_pulled(const Record& record);

struct ConflictSide {
  Json value;
  Stamp stamp;
  std::string by;  // device name (or id) of the writer
  int64_t wall_ms = 0;
};

struct Conflict {
  std::string id;
  std::string collection;
  std::string record_id;
  std::string field;
  ConflictSide kept;
  ConflictSide lost;
  int64_t detected_ms = 0;
  bool open = true;
  std::optional<Json> resolution;
};

// One batch of outgoing changes as sent; kept to match the acknowledgement against.
struct OutgoingBatch {
  SyncRequest request;
  std::vector<int64_t> outbox_rows;  // the local writes the request carries, acknowledged together
  bool more_waiting = false;         // the outbox holds writes this batch could not take
};

struct CollectionUsage {
  std::string collection;
  int64_t records = 0;  // live ones
  int64_t deleted = 0;
  int64_t bytes = 0;  // stored record rows (fields with their stamps, and ids)
};

struct QueuedRecord {
  std::string collection;
  std::string id;
  int priority = 0;
  int64_t written_ms = 0;  // the newest waiting write
};

struct ReplicaStatus {
  int64_t pending_changes = 0;  // writes waiting in the outbox (one per user action on a record)
  int64_t pending_records = 0;
  int64_t open_conflicts = 0;
  int64_t refused_changes = 0;  // writes the registry refused, kept aside (refused_writes)
  int64_t cursor = 0;
  std::optional<int64_t> last_sync_ms;
  std::optional<std::string> last_sync_result;
};

// A local write the registry refused (another organization's record id, a record it publishes
// itself). The record keeps the values written; the write no longer waits in the outbox.
struct RefusedWrite {
  int64_t seq = 0;
  std::string collection;
  std::string id;
  std::string error;    // "forbidden", "unknown_conflict"
  std::string message;  // the registry's words
  int64_t written_ms = 0;
  int64_t refused_ms = 0;
};

class Replica {
 public:
  // Opens or creates the replica file. A new replica gets a random replica id.
  explicit Replica(const std::string& path, const Clock& clock = SystemClock::instance());

  const std::string& replica_id() const { return replica_id_; }
  db::Database& database() { return db_; }

  // --- User actions: each one transaction. They return the stamp of the write.
  // `fields` is a JSON object of user fields. Writing to a deleted record brings it back.
  Stamp put(const std::string& collection, const std::string& id, const Json& fields, int priority = 0);
  Stamp remove(const std::string& collection, const std::string& id);
  // Settles every open conflict on the conflict's field with `value` (for a delete conflict:
  // true keeps the record deleted, false restores it).
  Stamp resolve(const std::string& conflict_id, const Json& value);

  // --- Reads
  std::optional<Record> get(const std::string& collection, const std::string& id);
  // Live records of a collection, ordered by id; `include_deleted` adds tombstoned ones.
  std::vector<Record> list(const std::string& collection, bool include_deleted = false);
  // The same records one at a time, so a long collection is never all in memory at once. The
  // visitor must not call back into the replica.
  void for_each_record(const std::string& collection, bool include_deleted,
                       const std::function<void(Record&&)>& visit);
  // The live records of a collection that hold `field`; the others are skipped unread.
  void for_each_record_with(const std::string& collection, const std::string& field,
                            const std::function<void(Record&&)>& visit);
  // Live records of a collection whose `field` holds `value` (drafts among submissions, say):
  // one pass over the collection's rows that reads only those holding the value's text.
  int64_t count_live_with(const std::string& collection, const std::string& field, const Json& value);
  // Live records of a collection, and their rows [offset, offset + limit), newest first (in the
  // order they were first written or received here): what a long list on screen reads, one
  // window at a time, from an index (records_live_by_row).
  int64_t count_live(const std::string& collection);
  std::map<std::string, int64_t> live_counts();  // every collection held, system ones included
  void for_each_live_record(const std::string& collection, int64_t offset, int64_t limit,
                            const std::function<void(Record&&)>& visit);
  std::vector<Conflict> conflicts(bool open_only = true);
  std::optional<Conflict> conflict(const std::string& conflict_id);
  ReplicaStatus status();  // counts the outbox and the conflicts: not for every frame
  // Where the device's pull stands: it moves whenever a sync brings changes.
  int64_t cursor();
  bool has_pending_changes();
  // Writes the registry refused, oldest first.
  std::vector<RefusedWrite> refused_writes();
  // Records and stored bytes of every collection held, system ones ("_conflicts") included.
  // Reads every record: seconds on a large replica (live_counts() reads an index).
  std::vector<CollectionUsage> usage();
  // Records with writes waiting in the outbox at `min_priority` or above, highest first.
  std::vector<QueuedRecord> queued_records(int min_priority);
  // Ids of a collection's records the registry does not hold as written here: writes waiting in
  // the outbox (read from an index), or refused and kept aside (refused_writes).
  std::set<std::string> unsent_ids(const std::string& collection);
  // Whether the record has writes waiting in the outbox (one look-up in an index).
  bool is_queued(const std::string& collection, const std::string& id);

  // --- Sync
  // The next request's worth of outbox, highest priority first, at most `max_records` record
  // entries and about `soft_bytes` of JSON.
  // `travelling`: outbox rows of a request under way, left out.
  OutgoingBatch next_batch(size_t max_records = kMaxRecordsPerBatch, size_t soft_bytes = kSoftRequestBytes,
                           const std::vector<int64_t>& travelling = {});
  // Sets the request number, cursor and clock a request goes with now.
  void address(SyncRequest& request);
  // Applies the registry's answer to `batch` in one transaction: acknowledged outbox rows go,
  // clamped stamps are rewritten, pulled fields merge by last-writer-wins, the cursor moves.
  void apply_response(const OutgoingBatch& batch, const SyncResponse& response);
  void record_sync_result(const std::string& result);
  // Merges records that came another way than a sync answer (a bundle, a device nearby), with
  // the stamps they were written with, in one transaction and by last-writer-wins like pulled
  // changes; the cursor and the outbox stay as they are, so the next sync is unaffected.
  void merge_records(const std::vector<PulledRecord>& records);
  // After the registry said our request number was already used (a restored backup, say).
  void set_next_request_seq(int64_t seq);

  // --- Small key/value settings (enrollment, registry address, ...)
  std::optional<std::string> setting(const std::string& key);
  void set_setting(const std::string& key, const std::string& value);
  // Several settings in one transaction.
  void set_settings(const std::map<std::string, std::string>& values);

 private:
  StoredFields load_fields(const std::string& collection, const std::string& id);
  void save_fields(const std::string& collection, const std::string& id, const StoredFields& fields);
  // Writes fields locally and queues them in the outbox as one write; the caller holds the
  // transaction.
  void write_local(const std::string& collection, const std::string& id, const std::map<std::string, Json>& fields,
                   const Stamp& stamp, int priority);
  // Pulled fields merge by last-writer-wins; the caller holds the transaction.
  void merge_pulled(const std::vector<PulledRecord>& records);
  // Rewrites our stamp `from` to `to` on a field and on the outbox writes made over it.
  void apply_clamp(const ClampedStamp& clamp);
  Stamp next_stamp();
  void save_clock();
  void set_meta(const std::string& key, const std::string& value);
  std::optional<std::string> meta(const std::string& key);
  int64_t meta_int(const std::string& key, int64_t fallback);

  db::Database db_;
  HybridClock clock_;
  std::string replica_id_;
};

}  // namespace outpost::sync
