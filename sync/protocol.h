// The sync protocol's messages and their JSON form (docs/protocol.md describes the wire).
// One POST /v1/sync carries a device's outgoing changes and its cursor; the answer carries the
// acknowledgement, the changes the device has not seen and the new cursor. Field values stay
// JSON text from the writing device to every store and body: the messages are read and written
// as text (platform/json_text.h), never as a document tree.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sync/stamp.h"

namespace outpost::sync {

using Json = nlohmann::json;

// --- Limits and names shared by both ends

constexpr size_t kMaxRecordsPerBatch = 500;
// Outgoing values stop being added to a request past this many bytes of JSON.
constexpr size_t kSoftRequestBytes = 4 * 1024 * 1024;
// Hard limits the registry enforces (compressed body, and what it may expand to).
constexpr size_t kMaxCompressedBody = 16 * 1024 * 1024;
constexpr size_t kMaxExpandedBody = 64 * 1024 * 1024;
// Stamps further ahead of the registry's clock than this are pulled back.
constexpr int64_t kMaxClockLeadMs = 5 * 60 * 1000;

constexpr char kDeletedField[] = "_deleted";
constexpr char kConflictsCollection[] = "_conflicts";
constexpr char kResolutionField[] = "resolution";
constexpr char kRegistryReplica[] = "registry";

bool is_valid_collection_name(const std::string& name);
// The catalogs the registry publishes (forms, materials): devices read them, only the registry
// writes them.
bool is_registry_written(const std::string& collection);
// User fields: 1-128 characters of letters, digits, '_', '-', '.', not starting with '_'
// (those names are the system's).
bool is_valid_field_name(const std::string& name);

// Field values are re-serialised recursively, so their nesting is bounded.
constexpr int kMaxValueDepth = 32;
bool is_within_value_depth(const Json& value);

// --- Push

struct FieldChange {
  std::string value;  // JSON text
  Stamp stamp;
  std::optional<Stamp> base;  // the stamp this write overwrote on the writing device
  int64_t wall_ms = 0;        // the device's wall time at the write: shown to people, never compared
};

struct RecordChange {
  std::string collection;
  std::string id;
  int priority = 0;
  // The tombstone stamp the device knew when it wrote these fields.
  std::optional<Stamp> deleted_base;
  std::map<std::string, FieldChange> fields;
  // For a delete: the stamp of every field the device knew, so that edits it never saw are
  // recognised as concurrent with the delete.
  std::map<std::string, Stamp> seen;
};

struct SyncRequest {
  int64_t seq = 0;     // this device's request number; one already confirmed is a replay
  int64_t cursor = 0;  // the registry sequence number the device holds everything up to
  size_t limit = kMaxRecordsPerBatch;
  int64_t device_clock_ms = 0;
  std::vector<RecordChange> changes;
};

// --- Pull

struct PulledField {
  std::string value;  // JSON text
  Stamp stamp;
  int64_t wall_ms = 0;
};

struct PulledRecord {
  std::string collection;
  std::string id;
  std::map<std::string, PulledField> fields;
  Json values() const;  // {field: value}, parsed
};

struct ClampedStamp {
  std::string collection, id, field;
  int64_t from = 0, to = 0;
};

// A change of the request the registry would not take (another organization's record, one it
// publishes itself); the request's other changes were applied. Refusing the one rather than the
// whole request keeps a device's other writes flowing (as CouchDB's _bulk_docs answers per
// document).
struct RefusedChange {
  size_t index = 0;     // in the request's changes
  std::string error;    // "forbidden", "unknown_conflict"
  std::string message;  // in plain words, naming the record
};

struct SyncResponse {
  size_t acked = 0;  // changes handled: applied, or refused (below)
  std::vector<RefusedChange> refused;
  std::vector<ClampedStamp> clamped;
  std::vector<PulledRecord> changes;
  int64_t cursor = 0;
  bool more = false;
  size_t conflicts_created = 0;
  int64_t registry_clock_ms = 0;
  std::vector<std::string> collections;
};

// --- JSON text of the messages. The readers throw json_text::ParseError for malformed JSON and
// std::invalid_argument naming the path of the first element of the wrong shape
// ("changes[3].f.name.v: nested deeper than 32 levels").

std::string encode_request(const SyncRequest& request);
SyncRequest decode_request(std::string_view text);
std::string encode_response(const SyncResponse& response);
SyncResponse decode_response(std::string_view text);

// One record with its fields' stamps, as a sync answer carries it (bundles and shares do too).
Json to_json(const PulledRecord& record);
// Throws std::invalid_argument starting with `where`.
PulledRecord pulled_record_from_json(const Json& json, const std::string& where);

// --- Bodies: JSON compressed with zstd

constexpr char kZstd[] = "zstd";
std::string compress_body(std::string_view json_text);
std::string encode_body(const Json& json);
// The JSON text of a body. Throws compress::TooLarge or compress::CompressError.
std::string expand_body(const std::string& body, bool compressed, size_t max_expanded = kMaxExpandedBody);
// Throws compress::TooLarge, compress::CompressError or std::invalid_argument (bad JSON).
Json decode_body(const std::string& body, bool compressed, size_t max_expanded = kMaxExpandedBody);

}  // namespace outpost::sync
