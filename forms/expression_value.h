// Values of XLSForm expressions: XPath 1.0's string, number and boolean with its conversions,
// plus ODK's reading of date answers as day counts. There is no node-set value: a reference to a
// repeated question is expanded only where a function takes all of its answers (expression.h).
#pragma once

#include <string>
#include <string_view>
#include <variant>

namespace outpost::forms {

class Value {
 public:
  enum class Kind { string, number, boolean };

  Value() = default;  // "", what an unanswered question is
  static Value string(std::string text) { return Value(Data(std::in_place_index<0>, std::move(text))); }
  static Value number(double number) { return Value(Data(std::in_place_index<1>, number)); }
  static Value boolean(bool truth) { return Value(Data(std::in_place_index<2>, truth)); }

  Kind kind() const { return static_cast<Kind>(data_.index()); }

  // XPath boolean(): a string is true when not empty, a number when neither 0 nor NaN.
  bool as_boolean() const;
  // XPath number(): string_to_number() of a string, 1 or 0 of a boolean.
  double as_number() const;
  // XPath string(): number_to_string() of a number, "true" or "false" of a boolean.
  std::string as_string() const;

 private:
  using Data = std::variant<std::string, double, bool>;  // in the order of Kind
  explicit Value(Data data) : data_(std::move(data)) {}
  Data data_;
};

// XPath number() of text: an optional '-', digits and an optional decimal point, with optional
// whitespace around (no exponent, no '+'). Failing that, a date, dateTime or time is its day count
// (calendar.h), as ODK reads date answers in arithmetic and comparisons. Anything else is NaN,
// so number('') of an unanswered question is NaN and `${age} > 5` is false while it is empty.
double string_to_number(std::string_view text);

// XPath string() of a number: "NaN", "Infinity", "-Infinity"; integers without a decimal point;
// others in the shortest decimal that reads back as the same number, never with an exponent.
std::string number_to_string(double number);

}  // namespace outpost::forms
