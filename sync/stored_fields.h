// A record's fields as both ends store them: one row per record, its fields as JSON text
// {"field": [value, hlc, replica, wall_ms], ...}. One row per record (rather than per field)
// keeps a sync batch to one read and one write per record.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "sync/stamp.h"

namespace outpost::sync {

struct StoredField {
  std::string value;  // JSON text
  Stamp stamp;
  int64_t wall_ms = 0;
};

using StoredFields = std::map<std::string, StoredField>;

std::string encode_fields(const StoredFields& fields);
// Throws std::invalid_argument when `text` is not what encode_fields writes.
StoredFields decode_fields(const std::string& text);

}  // namespace outpost::sync
