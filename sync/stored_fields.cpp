#include "sync/stored_fields.h"

#include "platform/json_text.h"

namespace outpost::sync {

using Json = nlohmann::json;

std::string encode_fields(const StoredFields& fields) {
  std::string text = "{";
  for (const auto& [name, field] : fields) {
    if (text.size() > 1) text += ',';
    json_text::append_string(text, name);
    text += ":[";
    text += field.value;
    text += ',';
    text += std::to_string(field.stamp.hlc);
    text += ',';
    json_text::append_string(text, field.stamp.replica);
    text += ',';
    text += std::to_string(field.wall_ms);
    text += ']';
  }
  text += '}';
  return text;
}

void visit_stored_fields(std::string_view text,
                         const std::function<void(std::string_view, std::string_view, Stamp&&, int64_t)>& visit) {
  try {
    json_text::Reader reader(text);
    reader.object([&](std::string_view name) {
      std::string_view value;
      Stamp stamp;
      int64_t wall_ms = 0;
      int index = 0;
      reader.array([&] {
        switch (index++) {
          case 0: value = reader.value(); break;
          case 1: stamp.hlc = reader.integer(); break;
          case 2: stamp.replica = reader.string(); break;
          case 3: wall_ms = reader.integer(); break;
          default: reader.fail("more than four elements");
        }
      });
      if (index != 4) reader.fail("fewer than four elements");
      visit(name, value, std::move(stamp), wall_ms);
    });
    reader.finish();
  } catch (const json_text::ParseError& error) {
    throw std::invalid_argument(std::string("stored record is malformed ") + error.what());
  }
}

void for_each_stored_field(const std::string& text,
                           const std::function<void(const std::string&, const Json&, Stamp, int64_t)>& visit) {
  visit_stored_fields(text, [&](std::string_view name, std::string_view value, Stamp&& stamp, int64_t wall_ms) {
    visit(std::string(name), Json::parse(value), std::move(stamp), wall_ms);
  });
}

StoredFields decode_fields(std::string_view text) {
  StoredFields fields;
  visit_stored_fields(text, [&](std::string_view name, std::string_view value, Stamp&& stamp, int64_t wall_ms) {
    fields.insert_or_assign(std::string(name), StoredField{std::string(value), std::move(stamp), wall_ms});
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
