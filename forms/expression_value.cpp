#include "forms/expression_value.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "forms/calendar.h"
#include "forms/text.h"

namespace outpost::forms {

namespace {


// XPath's Number with an optional leading '-': Digits ('.' Digits?)? | '.' Digits
bool is_xpath_number(std::string_view text) {
  size_t i = text.size() > 0 && text[0] == '-' ? 1 : 0;
  size_t digits = 0;
  for (; i < text.size() && is_ascii_digit(text[i]); ++i) ++digits;
  if (i < text.size() && text[i] == '.')
    for (++i; i < text.size() && is_ascii_digit(text[i]); ++i) ++digits;
  return digits > 0 && i == text.size();
}

}  // namespace

bool Value::as_boolean() const {
  switch (kind()) {
    case Kind::string:
      return !std::get<std::string>(data_).empty();
    case Kind::number: {
      const double number = std::get<double>(data_);
      return number != 0 && !std::isnan(number);
    }
    case Kind::boolean:
      break;
  }
  return std::get<bool>(data_);
}

double Value::as_number() const {
  switch (kind()) {
    case Kind::string:
      return string_to_number(std::get<std::string>(data_));
    case Kind::number:
      return std::get<double>(data_);
    case Kind::boolean:
      break;
  }
  return std::get<bool>(data_) ? 1 : 0;
}

std::string Value::as_string() const {
  switch (kind()) {
    case Kind::string:
      return std::get<std::string>(data_);
    case Kind::number:
      return number_to_string(std::get<double>(data_));
    case Kind::boolean:
      break;
  }
  return std::get<bool>(data_) ? "true" : "false";
}

double string_to_number(std::string_view text) {
  text = trim_space(text);
  if (is_xpath_number(text)) {
    double number = 0;
    if (std::from_chars(text.data(), text.data() + text.size(), number).ec == std::errc::result_out_of_range) {
      // from_chars leaves `number` alone: too many integer digits overflow, leading zeros underflow.
      const size_t first_significant = text.find_first_of("123456789");
      const bool overflow = first_significant < text.find('.');
      const double magnitude = overflow ? std::numeric_limits<double>::infinity() : 0.0;
      return text[0] == '-' ? -magnitude : magnitude;
    }
    return number;
  }
  if (const auto days = days_from_text(text)) return *days;
  return std::numeric_limits<double>::quiet_NaN();
}

std::string number_to_string(double number) {
  if (std::isnan(number)) return "NaN";
  if (std::isinf(number)) return number > 0 ? "Infinity" : "-Infinity";
  if (number == 0) return "0";  // and -0
  char text[400];  // the longest fixed form of a double, 5e-324, has 327 characters
  const auto result = std::to_chars(text, text + sizeof text, number, std::chars_format::fixed);
  return std::string(text, result.ptr);
}

}  // namespace outpost::forms
