#include "client/app/text.h"

#include <cstdio>
#include <iterator>

#include "client/app/i18n.h"
#include "platform/clock.h"

namespace outpost::app {

std::string format_bytes(int64_t bytes) {
  char buffer[32];
  if (bytes < 1000) {
    std::snprintf(buffer, sizeof buffer, "%lld B", static_cast<long long>(bytes));
  } else {
    static constexpr const char* kUnits[] = {"kB", "MB", "GB", "TB"};
    double value = static_cast<double>(bytes) / 1000.0;
    size_t unit = 0;
    while (value >= 1000.0 && unit + 1 < std::size(kUnits)) {
      value /= 1000.0;
      ++unit;
    }
    std::snprintf(buffer, sizeof buffer, value < 100 ? "%.1f %s" : "%.0f %s", value, kUnits[unit]);
  }
  return buffer;
}

std::string format_time(int64_t epoch_ms) {
  if (epoch_ms <= 0) return "";
  return format_epoch(epoch_ms, "%Y-%m-%d %H:%M", Zone::Local);
}

std::string format_ago(int64_t then_ms, int64_t now_ms) {
  const int64_t seconds = (now_ms - then_ms) / 1000;
  if (seconds < 60) return tr("time.just_now");  // also a clock a little behind the writer's
  const int64_t minutes = seconds / 60;
  if (minutes < 60) return translator().count("time.minutes_ago", minutes);
  const int64_t hours = minutes / 60;
  if (hours < 48) return translator().count("time.hours_ago", hours);
  return translator().count("time.days_ago", hours / 24);
}

std::string display_value(const sync::Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "";
  return value.dump();
}

namespace {
bool is_continuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }
}  // namespace

std::string shorten(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t cut = max_bytes;
  while (cut > 0 && is_continuation(static_cast<unsigned char>(text[cut]))) --cut;
  return std::string(text.substr(0, cut)) + "\u2026";
}

bool has_right_to_left(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    uint32_t code = lead;
    size_t length = 1;
    if (lead >= 0xF0) {
      code = lead & 0x07u;
      length = 4;
    } else if (lead >= 0xE0) {
      code = lead & 0x0Fu;
      length = 3;
    } else if (lead >= 0xC0) {
      code = lead & 0x1Fu;
      length = 2;
    }
    for (size_t k = 1; k < length && i + k < text.size(); ++k)
      code = (code << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3Fu);
    i += length;
    // Hebrew through N'Ko; Arabic Extended-A; Hebrew and Arabic presentation forms.
    if ((code >= 0x0590 && code <= 0x07FF) || (code >= 0x08A0 && code <= 0x08FF) ||
        (code >= 0xFB1D && code <= 0xFDFF) || (code >= 0xFE70 && code <= 0xFEFF))
      return true;
  }
  return false;
}

}  // namespace outpost::app
