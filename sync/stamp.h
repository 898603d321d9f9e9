// Stamps order every write: a hybrid logical clock (milliseconds in the high 48 bits, a counter
// in the low 16) and, to break ties, the id of the replica that wrote it. Comparing stamps is
// the whole of last-writer-wins, so every replica that sees the same writes picks the same one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>

#include <nlohmann/json.hpp>

#include "platform/clock.h"

namespace outpost::json_text {
class Reader;
}

namespace outpost::sync {

struct Stamp {
  int64_t hlc = 0;
  std::string replica;

  friend bool operator==(const Stamp& a, const Stamp& b) { return a.hlc == b.hlc && a.replica == b.replica; }
  friend bool operator!=(const Stamp& a, const Stamp& b) { return !(a == b); }
  friend bool operator<(const Stamp& a, const Stamp& b) {
    return std::tie(a.hlc, a.replica) < std::tie(b.hlc, b.replica);
  }
  friend bool operator>(const Stamp& a, const Stamp& b) { return b < a; }
};

constexpr int kHlcCounterBits = 16;
inline int64_t hlc_millis(int64_t hlc) { return hlc >> kHlcCounterBits; }
inline int64_t hlc_from_millis(int64_t ms) { return ms << kHlcCounterBits; }

// On the wire a stamp is [hlc, "replica"]; a missing stamp is null.
nlohmann::json stamp_to_json(const std::optional<Stamp>& stamp);
// Throws std::invalid_argument naming `where` when the JSON is not a stamp.
std::optional<Stamp> stamp_from_json(const nlohmann::json& value, const std::string& where);
// The same as text. read_stamp throws std::invalid_argument when the value is not a stamp.
void append_stamp(std::string& out, const std::optional<Stamp>& stamp);
std::optional<Stamp> read_stamp(json_text::Reader& reader);

// A hybrid logical clock: never goes backwards, stays close to wall time, and moves past every
// stamp it observes so that a write made after seeing another always sorts after it.
class HybridClock {
 public:
  explicit HybridClock(const Clock& wall, int64_t last = 0) : wall_(wall), last_(last) {}
  int64_t tick();
  void observe(int64_t remote);
  int64_t last() const { return last_; }
  const Clock& wall() const { return wall_; }

 private:
  const Clock& wall_;
  int64_t last_;
};

}  // namespace outpost::sync
