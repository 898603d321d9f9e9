#include "forms/calendar.h"

#include <cstdio>
#include <cstdlib>

#include "forms/text.h"

namespace outpost::forms {

namespace {

constexpr int64_t ms_per_day = 86'400'000;

struct CivilDate {
  int64_t year;
  unsigned month;
  unsigned day;
};

// Howard Hinnant's days_from_civil inverse (http://howardhinnant.github.io/date_algorithms.html).
CivilDate civil_from_days(int64_t days) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto day_of_era = static_cast<unsigned>(days - era * 146097);
  const unsigned year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const unsigned day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const unsigned shifted_month = (5 * day_of_year + 2) / 153;  // March = 0
  const unsigned day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
  const unsigned month = shifted_month < 10 ? shifted_month + 3 : shifted_month - 9;
  return {static_cast<int64_t>(year_of_era) + era * 400 + (month <= 2), month, day};
}

bool is_leap_year(int64_t year) { return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0); }

unsigned days_in_month(int64_t year, unsigned month) {
  static constexpr unsigned lengths[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap_year(year) ? 29 : lengths[month - 1];
}

int64_t floor_div(int64_t numerator, int64_t denominator) {
  const int64_t quotient = numerator / denominator;
  return quotient * denominator > numerator ? quotient - 1 : quotient;
}

// Reads fixed-width fields left to right; any mismatch leaves it failed.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  std::optional<unsigned> digits(size_t count) {
    if (position_ + count > text_.size()) return std::nullopt;
    unsigned value = 0;
    for (size_t i = 0; i < count; ++i) {
      const char c = text_[position_ + i];
      if (!is_ascii_digit(c)) return std::nullopt;
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    position_ += count;
    return value;
  }
  bool take(char expected) {
    if (position_ >= text_.size() || text_[position_] != expected) return false;
    ++position_;
    return true;
  }
  bool at_end() const { return position_ == text_.size(); }
  bool at_digit() const { return position_ < text_.size() && is_ascii_digit(text_[position_]); }

 private:
  std::string_view text_;
  size_t position_ = 0;
};

// 'HH:MM[:SS[.fff]][offset]' to the end of the text, as a fraction of a day.
std::optional<double> scan_time_of_day(Scanner& scan) {
  const auto hours = scan.digits(2);
  if (!hours || *hours > 23 || !scan.take(':')) return std::nullopt;
  const auto minutes = scan.digits(2);
  if (!minutes || *minutes > 59) return std::nullopt;
  double seconds = 0;
  if (scan.take(':')) {
    const auto whole = scan.digits(2);
    if (!whole || *whole > 59) return std::nullopt;
    seconds = *whole;
    if (scan.take('.')) {
      if (!scan.at_digit()) return std::nullopt;
      for (double scale = 0.1; scan.at_digit(); scale /= 10) seconds += scale * *scan.digits(1);
    }
  }
  if (!scan.take('Z') && (scan.take('+') || scan.take('-'))) {
    const auto offset_hours = scan.digits(2);
    if (!offset_hours || *offset_hours > 23) return std::nullopt;
    if (scan.take(':') || scan.at_digit()) {
      const auto offset_minutes = scan.digits(2);
      if (!offset_minutes || *offset_minutes > 59) return std::nullopt;
    }
  }
  if (!scan.at_end()) return std::nullopt;
  return (*hours * 3600.0 + *minutes * 60.0 + seconds) / 86400.0;
}

}  // namespace

int64_t days_from_civil(int64_t year, unsigned month, unsigned day) {
  year -= month <= 2;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<int64_t>(day_of_era) - 719468;
}

std::optional<double> days_from_text(std::string_view text) {
  Scanner scan(text);
  if (text.size() > 2 && text[2] == ':') return scan_time_of_day(scan);
  const auto year = scan.digits(4);
  if (!year || !scan.take('-')) return std::nullopt;
  const auto month = scan.digits(2);
  if (!month || *month < 1 || *month > 12 || !scan.take('-')) return std::nullopt;
  const auto day = scan.digits(2);
  if (!day || *day < 1 || *day > days_in_month(*year, *month)) return std::nullopt;
  const auto days = static_cast<double>(days_from_civil(*year, *month, *day));
  if (scan.at_end()) return days;
  if (!scan.take('T')) return std::nullopt;
  const auto fraction = scan_time_of_day(scan);
  if (!fraction) return std::nullopt;
  return days + *fraction;
}

std::string format_date(int64_t days) {
  const CivilDate date = civil_from_days(days);
  char text[32];
  std::snprintf(text, sizeof text, "%04lld-%02u-%02u", static_cast<long long>(date.year), date.month, date.day);
  return text;
}

std::string format_date_time(int64_t epoch_ms, int utc_offset_minutes) {
  const int64_t local_ms = epoch_ms + int64_t{utc_offset_minutes} * 60'000;
  const int64_t day = floor_div(local_ms, ms_per_day);
  const int64_t ms_of_day = local_ms - day * ms_per_day;
  const int offset = std::abs(utc_offset_minutes);
  char time[48];
  std::snprintf(time, sizeof time, "T%02d:%02d:%02d.%03d%c%02d:%02d", static_cast<int>(ms_of_day / 3'600'000),
                static_cast<int>(ms_of_day / 60'000 % 60), static_cast<int>(ms_of_day / 1000 % 60),
                static_cast<int>(ms_of_day % 1000), utc_offset_minutes < 0 ? '-' : '+', offset / 60, offset % 60);
  return format_date(day) + time;
}

int64_t local_day(int64_t epoch_ms, int utc_offset_minutes) {
  return floor_div(epoch_ms + int64_t{utc_offset_minutes} * 60'000, ms_per_day);
}

}  // namespace outpost::forms
