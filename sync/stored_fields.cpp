#include "sync/stored_fields.h"

#include <utility>
#include <vector>

#include "platform/json_text.h"

namespace outpost::sync {

using Json = nlohmann::json;

namespace {

// The stamps of a record's fields, each with its wall time, listed once: the fields written by
// one action share one.
constexpr std::string_view kStampsKey = "_stamps";

struct StampAndWall {
  const Stamp* stamp;
  int64_t wall_ms;
};

}  // namespace

std::string encode_fields(const StoredFields& fields) {
  std::vector<StampAndWall> stamps;
  std::string text = "{\"_stamps\":[";
  std::string body;
  for (const auto& [name, field] : fields) {
    size_t index = 0;
    while (index < stamps.size() &&
           !(*stamps[index].stamp == field.stamp && stamps[index].wall_ms == field.wall_ms))
      ++index;
    if (index == stamps.size()) {
      stamps.push_back({&field.stamp, field.wall_ms});
      if (index > 0) text += ',';
      text += '[';
      text += std::to_string(field.stamp.hlc);
      text += ',';
      json_text::append_string(text, field.stamp.replica);
      text += ',';
      text += std::to_string(field.wall_ms);
      text += ']';
    }
    body += ',';
    json_text::append_string(body, name);
    body += ":[";
    body += field.value;
    body += ',';
    body += std::to_string(index);
    body += ']';
  }
  text += ']';
  text += body;
  text += '}';
  return text;
}

void visit_stored_fields(std::string_view text,
                         const std::function<void(std::string_view, std::string_view, Stamp&&, int64_t)>& visit) {
  try {
    json_text::Reader reader(text);
    std::vector<std::pair<Stamp, int64_t>> stamps;
    reader.object([&](std::string_view name) {
      if (name == kStampsKey) {
        reader.array([&] {
          Stamp stamp;
          int64_t wall_ms = 0;
          int index = 0;
          reader.array([&] {
            switch (index++) {
              case 0: stamp.hlc = reader.integer(); break;
              case 1: stamp.replica = reader.string(); break;
              case 2: wall_ms = reader.integer(); break;
              default: reader.fail("a stamp has three elements");
            }
          });
          if (index != 3) reader.fail("a stamp has three elements");
          stamps.emplace_back(std::move(stamp), wall_ms);
        });
        return;
      }
      // [value, index into the stamps], or as rows were first written: [value, hlc, replica, wall].
      std::string_view value;
      int64_t number = 0, wall_ms = 0;
      std::string replica;
      int count = 0;
      reader.array([&] {
        switch (count++) {
          case 0: value = reader.value(); break;
          case 1: number = reader.integer(); break;
          case 2: replica = reader.string(); break;
          case 3: wall_ms = reader.integer(); break;
          default: reader.fail("too many elements");
        }
      });
      if (count == 2) {
        if (number < 0 || static_cast<size_t>(number) >= stamps.size()) reader.fail("no stamp " + std::to_string(number));
        const auto& [stamp, wall] = stamps[static_cast<size_t>(number)];
        visit(name, value, Stamp(stamp), wall);
      } else if (count == 4) {
        visit(name, value, Stamp{number, std::move(replica)}, wall_ms);
      } else {
        reader.fail("a field has two or four elements");
      }
    });
    reader.finish();
  } catch (const std::invalid_argument& error) {
    throw std::invalid_argument(std::string("stored record is malformed: ") + error.what());
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
