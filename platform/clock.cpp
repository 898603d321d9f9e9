#include "platform/clock.h"

#include <chrono>
#include <ctime>

namespace outpost {

int64_t SystemClock::now_ms() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

const SystemClock& SystemClock::instance() {
  static const SystemClock clock;
  return clock;
}

std::string format_epoch(int64_t ms, const char* format, Zone zone) {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm parts{};
  if (zone == Zone::Utc)
    gmtime_r(&seconds, &parts);
  else
    localtime_r(&seconds, &parts);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, format, &parts);
  return buffer;
}

std::string iso_utc(int64_t ms) { return format_epoch(ms, "%Y-%m-%dT%H:%M:%SZ", Zone::Utc); }

}  // namespace outpost
