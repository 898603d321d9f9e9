// Minimal leveled logging to stderr. OUTPOST_LOG=debug|info|warn|error sets the threshold.
#pragma once

#include <string_view>

namespace outpost::log {

enum class Level { Debug, Info, Warn, Error };

void write(Level level, std::string_view message);
bool enabled(Level level);
inline void debug(std::string_view message) { write(Level::Debug, message); }
inline void info(std::string_view message) { write(Level::Info, message); }
inline void warn(std::string_view message) { write(Level::Warn, message); }
inline void error(std::string_view message) { write(Level::Error, message); }

}  // namespace outpost::log
