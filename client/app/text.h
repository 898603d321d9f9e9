// Values and times as people read them, in the interface language.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sync/protocol.h"

namespace outpost::app {

// "812 B", "12.4 kB", "3.1 MB".
std::string format_bytes(int64_t bytes);
// Local date and time, "2026-05-01 14:03"; "" for 0.
std::string format_time(int64_t epoch_ms);
// "just now", "5 minutes ago", "3 days ago" (translated).
std::string format_ago(int64_t then_ms, int64_t now_ms);
// A field value for reading: text as is, null as an empty string, anything else as compact JSON.
std::string display_value(const sync::Json& value);

// At most `max_bytes` of `text`, cut at a character boundary, with "…" when cut.
std::string shorten(std::string_view text, size_t max_bytes);
// True when `text` has letters of a right-to-left script (Arabic, Hebrew, Syriac, Thaana, N'Ko),
// which the window cannot shape (docs/ui.md).
bool has_right_to_left(std::string_view text);

}  // namespace outpost::app
