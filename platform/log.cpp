#include "platform/log.h"

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

namespace outpost::log {

namespace {
Level threshold() {
  static const Level level = [] {
    const char* value = std::getenv("OUTPOST_LOG");
    const std::string name = value ? value : "warn";
    if (name == "debug") return Level::Debug;
    if (name == "info") return Level::Info;
    if (name == "error") return Level::Error;
    return Level::Warn;
  }();
  return level;
}

const char* label(Level level) {
  switch (level) {
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warn: return "warning";
    case Level::Error: return "error";
  }
  return "";
}
}  // namespace

bool enabled(Level level) { return level >= threshold(); }

void write(Level level, std::string_view message) {
  if (!enabled(level)) return;
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  std::fprintf(stderr, "%s: %.*s\n", label(level), static_cast<int>(message.size()), message.data());
}

}  // namespace outpost::log
