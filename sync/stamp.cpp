#include "sync/stamp.h"

#include <stdexcept>

#include "platform/json_text.h"

namespace outpost::sync {

nlohmann::json stamp_to_json(const std::optional<Stamp>& stamp) {
  if (!stamp) return nullptr;
  return nlohmann::json::array({stamp->hlc, stamp->replica});
}

std::optional<Stamp> stamp_from_json(const nlohmann::json& value, const std::string& where) {
  if (value.is_null()) return std::nullopt;
  if (!value.is_array() || value.size() != 2 || !value[0].is_number_integer() || !value[1].is_string() ||
      value[0].get<int64_t>() <= 0 || value[1].get_ref<const std::string&>().empty())
    throw std::invalid_argument(where + ": expected a stamp [hlc, \"replica\"]");
  return Stamp{value[0].get<int64_t>(), value[1].get<std::string>()};
}

void append_stamp(std::string& out, const std::optional<Stamp>& stamp) {
  if (!stamp) {
    out += "null";
    return;
  }
  out += '[';
  out += std::to_string(stamp->hlc);
  out += ',';
  json_text::append_string(out, stamp->replica);
  out += ']';
}

std::optional<Stamp> read_stamp(json_text::Reader& reader) {
  if (reader.null()) return std::nullopt;
  const char* const expected = "expected a stamp [hlc, \"replica\"]";
  Stamp stamp;
  int index = 0;
  try {
    reader.array([&] {
      if (index == 0)
        stamp.hlc = reader.integer();
      else if (index == 1)
        stamp.replica = reader.string();
      else
        throw std::invalid_argument(expected);
      ++index;
    });
  } catch (const json_text::ParseError&) {
    throw;
  } catch (const std::invalid_argument&) {
    throw std::invalid_argument(expected);
  }
  if (index != 2 || stamp.hlc <= 0 || stamp.replica.empty()) throw std::invalid_argument(expected);
  return stamp;
}

int64_t HybridClock::tick() {
  const int64_t wall = hlc_from_millis(wall_.now_ms());
  last_ = wall > last_ ? wall : last_ + 1;
  return last_;
}

void HybridClock::observe(int64_t remote) {
  if (remote > last_) last_ = remote;
}

}  // namespace outpost::sync
