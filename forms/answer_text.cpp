#include "forms/answer_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <system_error>
#include <vector>

#include "forms/text.h"

namespace outpost::forms {

namespace {

// Reads exactly `digits` decimal digits at `at`.
bool read_digits(std::string_view text, size_t& at, size_t digits, int& value) {
  if (at + digits > text.size()) return false;
  value = 0;
  for (size_t i = 0; i < digits; ++i) {
    const char c = text[at + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  at += digits;
  return true;
}

bool read_date(std::string_view text, size_t& at) {
  int year = 0, month = 0, day = 0;
  if (!read_digits(text, at, 4, year) || at >= text.size() || text[at++] != '-' || !read_digits(text, at, 2, month) ||
      at >= text.size() || text[at++] != '-' || !read_digits(text, at, 2, day)) {
    return false;
  }
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const int days_in_month[] = {31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month >= 1 && month <= 12 && day >= 1 && day <= days_in_month[month - 1];
}

// HH:MM[:SS[.fff]] then an optional zone (Z or +HH:MM).
bool read_time(std::string_view text, size_t& at) {
  int hour = 0, minute = 0, second = 0;
  if (!read_digits(text, at, 2, hour) || at >= text.size() || text[at++] != ':' || !read_digits(text, at, 2, minute)) {
    return false;
  }
  if (at < text.size() && text[at] == ':') {
    ++at;
    if (!read_digits(text, at, 2, second)) return false;
    if (at < text.size() && text[at] == '.') {
      const size_t digits_start = ++at;
      while (at < text.size() && text[at] >= '0' && text[at] <= '9') ++at;
      if (at == digits_start) return false;
    }
  }
  if (hour > 23 || minute > 59 || second > 59) return false;
  if (at < text.size() && text[at] == 'Z') {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    ++at;
    int zone_hour = 0, zone_minute = 0;
    if (!read_digits(text, at, 2, zone_hour) || at >= text.size() || text[at++] != ':' ||
        !read_digits(text, at, 2, zone_minute)) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool parse_number(std::string_view text, double& value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size() && std::isfinite(value);
}

bool is_integer_text(std::string_view text) {
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) text.remove_prefix(1);
  return !text.empty() && text.size() <= 18 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_date_text(std::string_view text) {
  size_t at = 0;
  return read_date(text, at) && at == text.size();
}

bool is_time_text(std::string_view text) {
  size_t at = 0;
  return read_time(text, at) && at == text.size();
}

bool is_date_time_text(std::string_view text) {
  size_t at = 0;
  if (!read_date(text, at) || at >= text.size() || text[at++] != 'T') return false;
  return read_time(text, at) && at == text.size();
}

// "latitude longitude [altitude [accuracy]]", as ODK writes a geopoint.
bool is_geopoint_text(std::string_view text) {
  const std::vector<std::string_view> parts = split_on_space(text);
  if (parts.size() < 2 || parts.size() > 4) return false;
  std::vector<double> numbers(parts.size());
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!parse_number(parts[i], numbers[i])) return false;
  }
  return std::abs(numbers[0]) <= 90 && std::abs(numbers[1]) <= 180 && (parts.size() < 4 || numbers[3] >= 0);
}

// "#affected +f +children": a hashtag, then attributes, letters first, as HXL 1.1 defines them.

}  // namespace outpost::forms
