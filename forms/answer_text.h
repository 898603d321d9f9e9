// The text forms of answers by question type, as ODK writes them: shared by the XLSForm reader
// (checking defaults) and the fill engine (checking answers).
#pragma once

#include <string_view>

namespace outpost::forms {

// A finite decimal number, the whole text.
bool parse_number(std::string_view text, double& value);
// An optional sign and 1 to 18 digits.
bool is_integer_text(std::string_view text);
// 'YYYY-MM-DD', a day that exists.
bool is_date_text(std::string_view text);
// 'HH:MM[:SS[.fff]]' with an optional zone (Z, +HH:MM or -HH:MM).
bool is_time_text(std::string_view text);
// A date, 'T', then a time.
bool is_date_time_text(std::string_view text);
// "latitude longitude [altitude [accuracy]]", as ODK writes a geopoint.
bool is_geopoint_text(std::string_view text);

}  // namespace outpost::forms
