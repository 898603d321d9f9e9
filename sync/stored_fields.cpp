#include "sync/stored_fields.h"

#include <stdexcept>

namespace outpost::sync {

using Json = nlohmann::json;

std::string encode_fields(const StoredFields& fields) {
  std::string text = "{";
  for (const auto& [name, field] : fields) {
    if (text.size() > 1) text += ',';
    text += Json(name).dump();
    text += ":[";
    text += field.value;
    text += ',' + std::to_string(field.stamp.hlc) + ',' + Json(field.stamp.replica).dump() + ',' +
            std::to_string(field.wall_ms) + ']';
  }
  text += '}';
  return text;
}

StoredFields decode_fields(const std::string& text) {
  const Json parsed = Json::parse(text, nullptr, false);
  if (!parsed.is_object()) throw std::invalid_argument("stored record is not a JSON object");
  StoredFields fields;
  for (auto it = parsed.begin(); it != parsed.end(); ++it) {
    const Json& row = *it;
    if (!row.is_array() || row.size() != 4 || !row[1].is_number_integer() || !row[2].is_string() ||
        !row[3].is_number_integer())
      throw std::invalid_argument("stored field '" + it.key() + "' is malformed");
    fields.emplace(it.key(), StoredField{row[0].dump(), Stamp{row[1].get<int64_t>(), row[2].get<std::string>()},
                                         row[3].get<int64_t>()});
  }
  return fields;
}

}  // namespace outpost::sync
