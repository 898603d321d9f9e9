#include "sync/protocol.h"

#include <stdexcept>
#include <tuple>

#include "platform/compress.h"

namespace outpost::sync {

namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.';
}

const Json& member(const Json& object, const char* key, const std::string& where) {
  if (!object.is_object()) throw std::invalid_argument(where + ": expected an object");
  auto it = object.find(key);
  if (it == object.end()) throw std::invalid_argument(where + ": missing \"" + key + "\"");
  return *it;
}

std::string string_member(const Json& object, const char* key, const std::string& where) {
  const Json& value = member(object, key, where);
  if (!value.is_string()) throw std::invalid_argument(where + "." + key + ": expected a string");
  return value.get<std::string>();
}

int64_t int_member(const Json& object, const char* key, const std::string& where, int64_t fallback = -1) {
  auto it = object.find(key);
  if (it == object.end()) {
    if (fallback >= 0) return fallback;
    throw std::invalid_argument(where + ": missing \"" + key + "\"");
  }
  if (!it->is_number_integer() || it->get<int64_t>() < 0)
    throw std::invalid_argument(where + "." + key + ": expected a non-negative integer");
  return it->get<int64_t>();
}

const Json& object_member(const Json& object, const char* key, const std::string& where) {
  const Json& value = member(object, key, where);
  if (!value.is_object()) throw std::invalid_argument(where + "." + key + ": expected an object");
  return value;
}

const Json& array_member(const Json& object, const char* key, const std::string& where) {
  const Json& value = member(object, key, where);
  if (!value.is_array()) throw std::invalid_argument(where + "." + key + ": expected an array");
  return value;
}

Stamp required_stamp(const Json& object, const char* key, const std::string& where) {
  auto stamp = stamp_from_json(member(object, key, where), where + "." + key);
  if (!stamp) throw std::invalid_argument(where + "." + key + ": expected a stamp, not null");
  return *stamp;
}

std::optional<Stamp> optional_stamp(const Json& object, const char* key, const std::string& where) {
  auto it = object.find(key);
  return it == object.end() ? std::nullopt : stamp_from_json(*it, where + "." + key);
}

bool within_depth(const Json& value, int depth) {
  if (depth > kMaxValueDepth) return false;
  if (value.is_structured())
    for (const Json& child : value)
      if (!within_depth(child, depth + 1)) return false;
  return true;
}

// A record entry on the wire. A record's fields written by one action share a stamp and a wall
// time: those go once on the entry ("s", "t") and each field carries only what differs.
// `more` adds what a field carries beyond its value (a push's base).
template <typename Fields, typename More>
Json encode_entry(const std::string& collection, const std::string& id, const Fields& fields, More more) {
  Json entry = {{"c", collection}, {"id", id}};
  bool shared = !fields.empty();
  for (const auto& [name, field] : fields)
    shared = shared && field.stamp == fields.begin()->second.stamp && field.wall_ms == fields.begin()->second.wall_ms;
  if (shared) {
    entry["s"] = stamp_to_json(fields.begin()->second.stamp);
    entry["t"] = fields.begin()->second.wall_ms;
  }
  Json encoded = Json::object();
  for (const auto& [name, field] : fields) {
    Json& out = encoded[name] = {{"v", field.value}};
    if (!shared) {
      out["s"] = stamp_to_json(field.stamp);
      out["t"] = field.wall_ms;
    }
    more(field, out);
  }
  entry["f"] = std::move(encoded);
  return entry;
}

// A field's stamp and wall time: its own, or else the entry's.
std::pair<Stamp, int64_t> field_stamp(const Json& entry, const Json& field, const std::string& where) {
  const Json& holder = field.contains("s") ? field : entry;
  return {required_stamp(holder, "s", where), int_member(holder, "t", where, 0)};
}

// One entry of a request's changes. Errors name the path below the entry (".f.name.v: ..."),
// the caller adds the entry's index.
RecordChange record_change_from_json(const Json& entry) {
  const std::string where;
  RecordChange change;
  change.collection = string_member(entry, "c", where);
  change.id = string_member(entry, "id", where);
  if (change.id.empty() || change.id.size() > 128) throw std::invalid_argument(".id: must be 1-128 characters");
  if (auto p = entry.find("p"); p != entry.end()) {
    if (!p->is_number_integer()) throw std::invalid_argument(".p: expected an integer");
    change.priority = p->get<int>();
  }
  change.deleted_base = optional_stamp(entry, "db", where);
  const Json& fields = object_member(entry, "f", where);
  if (fields.empty()) throw std::invalid_argument(".f: no fields");
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    try {
      FieldChange field;
      field.value = member(*it, "v", where);
      if (!is_within_value_depth(field.value))
        throw std::invalid_argument(".v: nested deeper than " + std::to_string(kMaxValueDepth) + " levels");
      std::tie(field.stamp, field.wall_ms) = field_stamp(entry, *it, where);
      field.base = optional_stamp(*it, "b", where);
      change.fields.emplace(it.key(), std::move(field));
    } catch (const std::invalid_argument& error) {
      throw std::invalid_argument(".f." + it.key() + error.what());
    }
  }
  if (auto seen = entry.find("seen"); seen != entry.end()) {
    if (!seen->is_object()) throw std::invalid_argument(".seen: expected an object");
    for (auto it = seen->begin(); it != seen->end(); ++it)
      if (auto stamp = stamp_from_json(*it, ".seen." + it.key())) change.seen.emplace(it.key(), *stamp);
  }
  return change;
}

}  // namespace

bool is_within_value_depth(const Json& value) { return within_depth(value, 0); }

bool is_valid_collection_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  const bool system = name[0] == '_';
  for (size_t i = system ? 1 : 0; i < name.size(); ++i) {
    const char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return name.size() > (system ? 1u : 0u) && !(name[system ? 1 : 0] >= '0' && name[system ? 1 : 0] <= '9');
}

bool is_registry_written(const std::string& collection) { return collection == "forms" || collection == "materials"; }

bool is_valid_field_name(const std::string& name) {
  if (name.empty() || name.size() > 128 || name[0] == '_') return false;
  for (char c : name)
    if (!is_name_char(c)) return false;
  return true;
}

// --- Requests

Json to_json(const SyncRequest& request) {
  Json changes = Json::array();
  for (const RecordChange& change : request.changes) {
    Json entry = encode_entry(change.collection, change.id, change.fields, [](const FieldChange& field, Json& out) {
      if (field.base) out["b"] = stamp_to_json(field.base);
    });
    if (change.priority != 0) entry["p"] = change.priority;
    if (change.deleted_base) entry["db"] = stamp_to_json(change.deleted_base);
    if (!change.seen.empty()) {
      Json seen = Json::object();
      for (const auto& [name, stamp] : change.seen) seen[name] = stamp_to_json(stamp);
      entry["seen"] = std::move(seen);
    }
    changes.push_back(std::move(entry));
  }
  return {{"seq", request.seq},
          {"cursor", request.cursor},
          {"limit", request.limit},
          {"clock", request.device_clock_ms},
          {"changes", std::move(changes)}};
}

SyncRequest sync_request_from_json(const Json& json) {
  SyncRequest request;
  request.seq = int_member(json, "seq", "request");
  if (request.seq < 1) throw std::invalid_argument("request.seq: must be at least 1");
  request.cursor = int_member(json, "cursor", "request");
  request.limit = static_cast<size_t>(int_member(json, "limit", "request", kMaxRecordsPerBatch));
  if (request.limit == 0 || request.limit > kMaxRecordsPerBatch)
    throw std::invalid_argument("request.limit: must be between 1 and " + std::to_string(kMaxRecordsPerBatch));
  request.device_clock_ms = int_member(json, "clock", "request", 0);
  const Json& changes = array_member(json, "changes", "request");
  if (changes.size() > kMaxRecordsPerBatch)
    throw std::invalid_argument("request.changes: more than " + std::to_string(kMaxRecordsPerBatch) +
                                " changes in one request");
  // Paths for error messages are built only when there is an error: on the way out.
  for (size_t i = 0; i < changes.size(); ++i) {
    try {
      request.changes.push_back(record_change_from_json(changes[i]));
    } catch (const std::invalid_argument& error) {
      throw std::invalid_argument("changes[" + std::to_string(i) + "]" + error.what());
    }
  }
  return request;
}

// --- Responses

Json PulledRecord::values() const {
  Json values = Json::object();
  for (const auto& [name, field] : fields) values[name] = field.value;
  return values;
}

Json to_json(const PulledRecord& record) {
  return encode_entry(record.collection, record.id, record.fields, [](const PulledField&, Json&) {});
}

PulledRecord pulled_record_from_json(const Json& json, const std::string& where) {
  try {
    PulledRecord record;
    record.collection = string_member(json, "c", "");
    record.id = string_member(json, "id", "");
    const Json& fields = object_member(json, "f", "");
    for (auto it = fields.begin(); it != fields.end(); ++it) {
      try {
        const auto [stamp, wall_ms] = field_stamp(json, *it, "");
        record.fields.emplace(it.key(), PulledField{member(*it, "v", ""), stamp, wall_ms});
      } catch (const std::invalid_argument& error) {
        throw std::invalid_argument(".f." + it.key() + error.what());
      }
    }
    return record;
  } catch (const std::invalid_argument& error) {
    throw std::invalid_argument(where + error.what());
  }
}

Json to_json(const SyncResponse& response) {
  Json clamped = Json::array();
  for (const ClampedStamp& c : response.clamped)
    clamped.push_back({{"c", c.collection}, {"id", c.id}, {"f", c.field}, {"from", c.from}, {"to", c.to}});
  Json changes = Json::array();
  for (const PulledRecord& record : response.changes) changes.push_back(to_json(record));
  return {{"acked", response.acked},
          {"clamped", std::move(clamped)},
          {"changes", std::move(changes)},
          {"cursor", response.cursor},
          {"more", response.more},
          {"conflicts", response.conflicts_created},
          {"clock", response.registry_clock_ms},
          {"collections", response.collections}};
}

SyncResponse sync_response_from_json(const Json& json) {
  SyncResponse response;
  response.acked = static_cast<size_t>(int_member(json, "acked", "response"));
  for (const Json& c : array_member(json, "clamped", "response"))
    response.clamped.push_back({string_member(c, "c", "clamped"), string_member(c, "id", "clamped"),
                                string_member(c, "f", "clamped"), int_member(c, "from", "clamped"),
                                int_member(c, "to", "clamped")});
  const Json& changes = array_member(json, "changes", "response");
  for (size_t i = 0; i < changes.size(); ++i) {
    response.changes.push_back(pulled_record_from_json(changes[i], "response.changes[" + std::to_string(i) + "]"));
  }
  response.cursor = int_member(json, "cursor", "response");
  const Json& more = member(json, "more", "response");
  if (!more.is_boolean()) throw std::invalid_argument("response.more: expected a boolean");
  response.more = more.get<bool>();
  response.conflicts_created = static_cast<size_t>(int_member(json, "conflicts", "response", 0));
  response.registry_clock_ms = int_member(json, "clock", "response", 0);
  if (auto collections = json.find("collections"); collections != json.end() && collections->is_array())
    for (const Json& name : *collections)
      if (name.is_string()) response.collections.push_back(name.get<std::string>());
  return response;
}

// --- Bodies

std::string encode_body(const Json& json) { return compress::zstd_compress(json.dump(), 3); }

Json decode_body(const std::string& body, bool compressed, size_t max_expanded) {
  const std::string text = compressed ? compress::zstd_decompress(body, max_expanded) : body;
  if (!compressed && text.size() > max_expanded)
    throw compress::TooLarge("body of " + std::to_string(text.size()) + " bytes exceeds " + std::to_string(max_expanded));
  Json json = Json::parse(text, nullptr, false);
  if (json.is_discarded()) throw std::invalid_argument("body is not valid JSON");
  return json;
}

}  // namespace outpost::sync
