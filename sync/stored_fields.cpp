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

void for_each_stored_field(const std::string& text,
                           const std::function<void(const std::string&, const Json&, Stamp, int64_t)>& visit) {
  const Json parsed = Json::parse(text, nullptr, false);
  if (!parsed.is_object()) throw std::invalid_argument("stored record is not a JSON object");
  for (auto it = parsed.begin(); it != parsed.end(); ++it) {
    const Json& row = *it;
    if (!row.is_array() || row.size() != 4 || !row[1].is_number_integer() || !row[2].is_string() ||
        !row[3].is_number_integer())
      throw std::invalid_argument("stored field '" + it.key() + "' is malformed");
    visit(it.key(), row[0], Stamp{row[1].get<int64_t>(), row[2].get<std::string>()}, row[3].get<int64_t>());
  }
}

StoredFields decode_fields(const std::string& text) {
  StoredFields fields;
  for_each_stored_field(text, [&](const std::string& name, const Json& value, Stamp stamp, int64_t wall_ms) {
    fields.emplace(name, StoredField{value.dump(), std::move(stamp), wall_ms});
  });
  return fields;
}

std::string sole_writer(const StoredFields& fields) {
  if (fields.empty()) return {};
  const std::string& first = fields.begin()->second.stamp.replica;
  for (const auto& [name, field] : fields)
    if (field.stamp.replica != first) return {};
  return first;
}

}  // namespace outpost::sync
