#include "sync/protocol.h"

#include <stdexcept>
#include <tuple>

#include "platform/compress.h"
#include "platform/json_text.h"

namespace outpost::sync {

namespace {

using json_text::Reader;

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.';
}

bool within_depth(const Json& value, int depth) {
  if (depth > kMaxValueDepth) return false;
  if (value.is_structured())
    for (const Json& child : value)
      if (!within_depth(child, depth + 1)) return false;
  return true;
}

// --- Reading: errors carry the path of what was being read. Paths are built only when there is
// an error, on the way out; malformed JSON keeps its byte offset instead.

// An error whose message holds its whole path already: enclosing readers pass it on unchanged.
class PathError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Runs read(); a shape error gets path() in front (a PathError if `kWhole`).
template <bool kWhole = false, typename Path, typename Read>
auto at(const Path& path, Read&& read) -> decltype(read()) {
  try {
    return read();
  } catch (const json_text::ParseError&) {
    throw;
  } catch (const PathError&) {
    throw;
  } catch (const std::invalid_argument& error) {
    const std::string message = error.what();
    const bool nested = !message.empty() && (message[0] == '.' || message[0] == '[');
    std::string whole = std::string(path()) + (nested ? "" : ": ") + message;
    if (kWhole) throw PathError(whole);
    throw std::invalid_argument(whole);
  }
}

int64_t read_count(Reader& reader) {
  const int64_t value = reader.integer();
  if (value < 0) throw std::invalid_argument("expected a non-negative integer");
  return value;
}

Stamp read_required_stamp(Reader& reader) {
  auto stamp = read_stamp(reader);
  if (!stamp) throw std::invalid_argument("expected a stamp, not null");
  return *stamp;
}

void require(bool present, const char* member) {
  if (!present) throw std::invalid_argument(std::string("missing \"") + member + "\"");
}

// A field's stamp and wall time as an entry carries them: its own, or else the entry's.
struct EntryStamps {
  std::optional<Stamp> stamp;
  int64_t wall_ms = 0;
};

// A record entry on the wire: {"c", "id", "s", "t", "f": {name: {"v", "s", "t", ...}}, ...}.
// `on_member` reads the entry's other members, `on_field_member` a field's other members; both
// return false for members they do not know, which are skipped.
template <typename Field, typename OnMember, typename OnFieldMember>
void read_entry(Reader& reader, std::string& collection, std::string& id, std::map<std::string, Field>& fields,
                OnMember&& on_member, OnFieldMember&& on_field_member) {
  bool has_collection = false, has_id = false, has_fields = false;
  EntryStamps shared;
  std::map<std::string, EntryStamps> own;  // fields with their own stamp
  reader.object([&](std::string_view key) {
    if (key == "c") {
      collection = at([] { return ".c"; }, [&] { return reader.string(); });
      has_collection = true;
    } else if (key == "id") {
      id = at([] { return ".id"; }, [&] { return reader.string(); });
      has_id = true;
    } else if (key == "s") {
      shared.stamp = at([] { return ".s"; }, [&] { return read_required_stamp(reader); });
    } else if (key == "t") {
      shared.wall_ms = at([] { return ".t"; }, [&] { return read_count(reader); });
    } else if (key == "f") {
      has_fields = true;
      at([] { return ".f"; }, [&] {
        reader.object([&](std::string_view name) {
          at([&] { return "." + std::string(name); }, [&] {
            Field field;
            bool has_value = false;
            EntryStamps stamps;
            reader.object([&](std::string_view member) {
              if (member == "v") {
                field.value = std::string(at([] { return ".v"; }, [&] { return reader.value(kMaxValueDepth); }));
                has_value = true;
              } else if (member == "s") {
                stamps.stamp = at([] { return ".s"; }, [&] { return read_required_stamp(reader); });
              } else if (member == "t") {
                stamps.wall_ms = at([] { return ".t"; }, [&] { return read_count(reader); });
              } else if (!on_field_member(member, field)) {
                reader.skip();
              }
            });
            require(has_value, "v");
            if (stamps.stamp) own.insert_or_assign(std::string(name), stamps);
            fields.insert_or_assign(std::string(name), std::move(field));
          });
        });
      });
    } else if (!on_member(key)) {
      reader.skip();
    }
  });
  require(has_collection, "c");
  require(has_id, "id");
  require(has_fields, "f");
  for (auto& [name, field] : fields) {
    auto it = own.find(name);
    const EntryStamps& stamps = it != own.end() ? it->second : shared;
    if (!stamps.stamp) throw std::invalid_argument(".f." + name + ": missing \"s\"");
    field.stamp = *stamps.stamp;
    field.wall_ms = stamps.wall_ms;
  }
}

// --- Writing

void append_key(std::string& out, std::string_view key) {
  json_text::append_string(out, key);
  out += ':';
}

// A record's fields written by one action share a stamp and a wall time: those go once on the
// entry ("s", "t") and each field carries only what differs. `more_entry` and `more_field` add
// what an entry or a field carries beyond that (a push's base, priority...), each member
// starting with a comma.
template <typename Fields, typename MoreEntry, typename MoreField>
void append_entry(std::string& out, const std::string& collection, const std::string& id, const Fields& fields,
                  MoreEntry&& more_entry, MoreField&& more_field) {
  bool shared = !fields.empty();
  for (const auto& [name, field] : fields)
    shared = shared && field.stamp == fields.begin()->second.stamp && field.wall_ms == fields.begin()->second.wall_ms;
  out += "{\"c\":";
  json_text::append_string(out, collection);
  out += ",\"id\":";
  json_text::append_string(out, id);
  if (shared) {
    out += ",\"s\":";
    append_stamp(out, fields.begin()->second.stamp);
    out += ",\"t\":";
    out += std::to_string(fields.begin()->second.wall_ms);
  }
  out += ",\"f\":{";
  bool first = true;
  for (const auto& [name, field] : fields) {
    if (!first) out += ',';
    first = false;
    append_key(out, name);
    out += "{\"v\":";
    out += field.value;
    if (!shared) {
      out += ",\"s\":";
      append_stamp(out, field.stamp);
      out += ",\"t\":";
      out += std::to_string(field.wall_ms);
    }
    more_field(field);
    out += '}';
  }
  out += '}';
  more_entry();
  out += '}';
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

std::string encode_request(const SyncRequest& request) {
  std::string out = "{\"seq\":" + std::to_string(request.seq) + ",\"cursor\":" + std::to_string(request.cursor) +
                    ",\"limit\":" + std::to_string(request.limit) + ",\"clock\":" +
                    std::to_string(request.device_clock_ms) + ",\"changes\":[";
  bool first = true;
  for (const RecordChange& change : request.changes) {
    if (!first) out += ',';
    first = false;
    append_entry(
        out, change.collection, change.id, change.fields,
        [&] {
          if (change.priority != 0) out += ",\"p\":" + std::to_string(change.priority);
          if (change.deleted_base) {
            out += ",\"db\":";
            append_stamp(out, change.deleted_base);
          }
          if (!change.seen.empty()) {
            out += ",\"seen\":{";
            bool first_seen = true;
            for (const auto& [name, stamp] : change.seen) {
              if (!first_seen) out += ',';
              first_seen = false;
              append_key(out, name);
              append_stamp(out, stamp);
            }
            out += '}';
          }
        },
        [&](const FieldChange& field) {
          if (!field.base) return;
          out += ",\"b\":";
          append_stamp(out, field.base);
        });
  }
  out += "]}";
  return out;
}

namespace {

RecordChange read_change(Reader& reader) {
  RecordChange change;
  read_entry(
      reader, change.collection, change.id, change.fields,
      [&](std::string_view key) {
        if (key == "p") {
          at([] { return ".p"; }, [&] {
            const int64_t priority = reader.integer();
            if (priority < -1000000 || priority > 1000000) throw std::invalid_argument("priority out of range");
            change.priority = static_cast<int>(priority);
          });
        } else if (key == "db") {
          change.deleted_base = at([] { return ".db"; }, [&] { return read_stamp(reader); });
        } else if (key == "seen") {
          at([] { return ".seen"; }, [&] {
            reader.object([&](std::string_view name) {
              auto stamp = at([&] { return "." + std::string(name); }, [&] { return read_stamp(reader); });
              if (stamp) change.seen.insert_or_assign(std::string(name), std::move(*stamp));
            });
          });
        } else {
          return false;
        }
        return true;
      },
      [&](std::string_view member, FieldChange& field) {
        if (member != "b") return false;
        field.base = at([] { return ".b"; }, [&] { return read_stamp(reader); });
        return true;
      });
  if (change.id.empty() || change.id.size() > 128) throw std::invalid_argument(".id: must be 1-128 characters");
  if (change.fields.empty()) throw std::invalid_argument(".f: no fields");
  return change;
}

}  // namespace

SyncRequest decode_request(std::string_view text) {
  SyncRequest request;
  bool has_seq = false, has_cursor = false, has_changes = false;
  Reader reader(text);
  at([] { return "request"; }, [&] {
    reader.object([&](std::string_view key) {
      if (key == "seq") {
        request.seq = at([] { return ".seq"; }, [&] { return read_count(reader); });
        has_seq = true;
      } else if (key == "cursor") {
        request.cursor = at([] { return ".cursor"; }, [&] { return read_count(reader); });
        has_cursor = true;
      } else if (key == "limit") {
        request.limit = static_cast<size_t>(at([] { return ".limit"; }, [&] { return read_count(reader); }));
      } else if (key == "clock") {
        request.device_clock_ms = at([] { return ".clock"; }, [&] { return read_count(reader); });
      } else if (key == "changes") {
        has_changes = true;
        at([] { return ".changes"; }, [&] { reader.array([&] {
          if (request.changes.size() >= kMaxRecordsPerBatch)
            throw std::invalid_argument("more than " + std::to_string(kMaxRecordsPerBatch) +
                                        " changes in one request");
          // Entries' paths stand alone ("changes[3].f.name"), as the registry's messages name them.
          const size_t index = request.changes.size();
          at<true>([&] { return "changes[" + std::to_string(index) + "]"; },
                   [&] { request.changes.push_back(read_change(reader)); });
        }); });
      } else {
        reader.skip();
      }
    });
    require(has_seq, "seq");
    require(has_cursor, "cursor");
    require(has_changes, "changes");
  });
  reader.finish();
  if (request.seq < 1) throw std::invalid_argument("request.seq: must be at least 1");
  if (request.limit == 0 || request.limit > kMaxRecordsPerBatch)
    throw std::invalid_argument("request.limit: must be between 1 and " + std::to_string(kMaxRecordsPerBatch));
  return request;
}

// --- Responses

Json PulledRecord::values() const {
  Json values = Json::object();
  for (const auto& [name, field] : fields) values[name] = Json::parse(field.value);
  return values;
}

namespace {

void append_record(std::string& out, const PulledRecord& record) {
  append_entry(out, record.collection, record.id, record.fields, [] {}, [](const PulledField&) {});
}

PulledRecord read_record(Reader& reader) {
  PulledRecord record;
  read_entry(
      reader, record.collection, record.id, record.fields, [](std::string_view) { return false; },
      [](std::string_view, PulledField&) { return false; });
  return record;
}

}  // namespace

Json to_json(const PulledRecord& record) {
  std::string text;
  append_record(text, record);
  return Json::parse(text);
}

PulledRecord pulled_record_from_json(const Json& json, const std::string& where) {
  const std::string text = json.dump();
  Reader reader(text);
  return at([&] { return where; }, [&] { return read_record(reader); });
}

std::string encode_response(const SyncResponse& response) {
  std::string out = "{\"acked\":" + std::to_string(response.acked) + ",\"clamped\":[";
  bool first = true;
  for (const ClampedStamp& c : response.clamped) {
    if (!first) out += ',';
    first = false;
    out += "{\"c\":";
    json_text::append_string(out, c.collection);
    out += ",\"id\":";
    json_text::append_string(out, c.id);
    out += ",\"f\":";
    json_text::append_string(out, c.field);
    out += ",\"from\":" + std::to_string(c.from) + ",\"to\":" + std::to_string(c.to) + '}';
  }
  out += ']';
  if (!response.refused.empty()) {  // left out when empty: devices before it read the rest alike
    out += ",\"refused\":[";
    first = true;
    for (const RefusedChange& refused : response.refused) {
      if (!first) out += ',';
      first = false;
      out += "{\"i\":" + std::to_string(refused.index) + ",\"error\":";
      json_text::append_string(out, refused.error);
      out += ",\"message\":";
      json_text::append_string(out, refused.message);
      out += '}';
    }
    out += ']';
  }
  out += ",\"changes\":[";
  first = true;
  for (const PulledRecord& record : response.changes) {
    if (!first) out += ',';
    first = false;
    append_record(out, record);
  }
  out += "],\"cursor\":" + std::to_string(response.cursor) + ",\"more\":" + (response.more ? "true" : "false") +
         ",\"conflicts\":" + std::to_string(response.conflicts_created) +
         ",\"clock\":" + std::to_string(response.registry_clock_ms) + ",\"collections\":[";
  first = true;
  for (const std::string& name : response.collections) {
    if (!first) out += ',';
    first = false;
    json_text::append_string(out, name);
  }
  out += "]}";
  return out;
}

namespace {

// Reads an array into `list`, each element with read_one(); errors name the element's index.
template <typename T, typename ReadOne>
void read_list(Reader& reader, const char* path, std::vector<T>& list, ReadOne&& read_one) {
  at([&] { return path; }, [&] {
    reader.array([&] {
      const size_t index = list.size();
      at([&] { return "[" + std::to_string(index) + "]"; }, [&] { list.push_back(read_one()); });
    });
  });
}

ClampedStamp read_clamped(Reader& reader) {
  ClampedStamp clamped;
  bool has_collection = false, has_id = false, has_field = false, has_from = false, has_to = false;
  reader.object([&](std::string_view key) {
    if (key == "c") {
      clamped.collection = reader.string();
      has_collection = true;
    } else if (key == "id") {
      clamped.id = reader.string();
      has_id = true;
    } else if (key == "f") {
      clamped.field = reader.string();
      has_field = true;
    } else if (key == "from") {
      clamped.from = at([] { return ".from"; }, [&] { return read_count(reader); });
      has_from = true;
    } else if (key == "to") {
      clamped.to = at([] { return ".to"; }, [&] { return read_count(reader); });
      has_to = true;
    } else {
      reader.skip();
    }
  });
  require(has_collection, "c");
  require(has_id, "id");
  require(has_field, "f");
  require(has_from, "from");
  require(has_to, "to");
  return clamped;
}

RefusedChange read_refused(Reader& reader) {
  RefusedChange refused;
  bool has_index = false, has_error = false;
  reader.object([&](std::string_view key) {
    if (key == "i") {
      refused.index = static_cast<size_t>(at([] { return ".i"; }, [&] { return read_count(reader); }));
      has_index = true;
    } else if (key == "error") {
      refused.error = reader.string();
      has_error = true;
    } else if (key == "message") {
      refused.message = reader.string();
    } else {
      reader.skip();
    }
  });
  require(has_index, "i");
  require(has_error, "error");
  return refused;
}

}  // namespace

SyncResponse decode_response(std::string_view text) {
  SyncResponse response;
  bool has_acked = false, has_clamped = false, has_changes = false, has_cursor = false, has_more = false;
  Reader reader(text);
  at([] { return "response"; }, [&] {
    reader.object([&](std::string_view key) {
      if (key == "acked") {
        response.acked = static_cast<size_t>(at([] { return ".acked"; }, [&] { return read_count(reader); }));
        has_acked = true;
      } else if (key == "clamped") {
        has_clamped = true;
        read_list(reader, ".clamped", response.clamped, [&] { return read_clamped(reader); });
      } else if (key == "refused") {
        read_list(reader, ".refused", response.refused, [&] { return read_refused(reader); });
      } else if (key == "changes") {
        has_changes = true;
        read_list(reader, ".changes", response.changes, [&] { return read_record(reader); });
      } else if (key == "cursor") {
        response.cursor = at([] { return ".cursor"; }, [&] { return read_count(reader); });
        has_cursor = true;
      } else if (key == "more") {
        response.more = at([] { return ".more"; }, [&] { return reader.boolean(); });
        has_more = true;
      } else if (key == "conflicts") {
        response.conflicts_created =
            static_cast<size_t>(at([] { return ".conflicts"; }, [&] { return read_count(reader); }));
      } else if (key == "clock") {
        response.registry_clock_ms = at([] { return ".clock"; }, [&] { return read_count(reader); });
      } else if (key == "collections") {
        at([] { return ".collections"; }, [&] {
          reader.array([&] { response.collections.push_back(reader.string()); });
        });
      } else {
        reader.skip();
      }
    });
    require(has_acked, "acked");
    require(has_clamped, "clamped");
    require(has_changes, "changes");
    require(has_cursor, "cursor");
    require(has_more, "more");
  });
  reader.finish();
  return response;
}

// --- Bodies

std::string compress_body(std::string_view json_text) { return compress::zstd_compress(json_text, 3); }

std::string encode_body(const Json& json) { return compress_body(json.dump()); }

std::string expand_body(const std::string& body, bool compressed, size_t max_expanded) {
  if (compressed) return compress::zstd_decompress(body, max_expanded);
  if (body.size() > max_expanded)
    throw compress::TooLarge("body of " + std::to_string(body.size()) + " bytes exceeds " +
                             std::to_string(max_expanded));
  return body;
}

Json decode_body(const std::string& body, bool compressed, size_t max_expanded) {
  Json json = Json::parse(expand_body(body, compressed, max_expanded), nullptr, false);
  if (json.is_discarded()) throw std::invalid_argument("body is not valid JSON");
  return json;
}

}  // namespace outpost::sync
