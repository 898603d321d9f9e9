// A record's fields as both ends store them: one row per record, its fields as JSON text
// {"_stamps": [[hlc, replica, wall_ms], ...], "field": [value, stamp index], ...}; the fields one
// action wrote share a stamp, listed once. (Rows first stored each field as [value, hlc, replica,
// wall_ms]; those read the same.) One row per record, rather than per field, keeps a sync batch
// to one read and one write per record.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "sync/stamp.h"

namespace outpost::sync {

struct StoredField {
  std::string value;  // JSON text
  Stamp stamp;
  int64_t wall_ms = 0;
};

using StoredFields = std::map<std::string, StoredField>;

std::string encode_fields(const StoredFields& fields);
// These throw std::invalid_argument when `text` is not what encode_fields writes.
StoredFields decode_fields(std::string_view text);
// Calls visit(name, value as JSON text, stamp, wall_ms) for each field, without copying.
void visit_stored_fields(std::string_view text,
                         const std::function<void(std::string_view, std::string_view, Stamp&&, int64_t)>& visit);
// The same with values parsed: for readers that want values as JSON rather than as text.
void for_each_stored_field(const std::string& text,
                           const std::function<void(const std::string&, const nlohmann::json&, Stamp, int64_t)>& visit);
// The replica that wrote every field, or "" when there were several.
std::string sole_writer(const StoredFields& fields);

}  // namespace outpost::sync
