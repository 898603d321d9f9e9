// Dates as XLSForms use them: answers are text ('YYYY-MM-DD', ODK's dateTime and time forms) and
// arithmetic on them counts days since 1970-01-01, as ODK does, so `today() - ${dob}` is an age
// in days.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace outpost::forms {

// Days since 1970-01-01 of a proleptic Gregorian date (negative before it).
int64_t days_from_civil(int64_t year, unsigned month, unsigned day);

// The day count of date or time text, read in its own wall-clock time (a UTC offset is accepted
// and ignored, so a dateTime and the date it was taken on are the same day):
//   'YYYY-MM-DD'                                   whole days
//   'YYYY-MM-DDTHH:MM[:SS[.fff]][Z|+HH:MM|-HH:MM]' days plus the fraction of the day
//   'HH:MM[:SS[.fff]][Z|+HH:MM|-HH:MM]'            the fraction of a day
// nullopt when the text is none of these or names an impossible date or time.
std::optional<double> days_from_text(std::string_view text);

// 'YYYY-MM-DD' of a day count.
std::string format_date(int64_t days);

// ODK's dateTime text of an instant in a time zone: '2024-05-01T10:20:30.000+02:00'.
std::string format_date_time(int64_t epoch_ms, int utc_offset_minutes);

// The local calendar day of an instant in a time zone, as days since 1970-01-01.
int64_t local_day(int64_t epoch_ms, int utc_offset_minutes);

}  // namespace outpost::forms
