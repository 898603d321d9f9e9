// Wall clock seam: tests drive time by hand; everything else asks the system.
#pragma once

#include <cstdint>
#include <string>

namespace outpost {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch.
  virtual int64_t now_ms() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t now_ms() const override;
  static const SystemClock& instance();
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_ms) : now_(start_ms) {}
  int64_t now_ms() const override { return now_; }
  void advance(int64_t ms) { now_ += ms; }
  void set(int64_t ms) { now_ = ms; }

 private:
  int64_t now_;
};

// `ms` since the epoch through strftime's `format`, in UTC or the device's time zone.
enum class Zone { Utc, Local };
std::string format_epoch(int64_t ms, const char* format, Zone zone);
// `ms` since the epoch as ISO 8601 in UTC, to the second: "2026-11-23T17:40:00Z".
std::string iso_utc(int64_t ms);

}  // namespace outpost
