#include "platform/cli_args.h"

#include <ostream>

namespace outpost::cli {

std::optional<std::string> take_option(std::vector<std::string>& args, const std::string& name) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] != name) continue;
    if (i + 1 >= args.size()) throw UsageError(name + " needs a value");
    std::string value = args[i + 1];
    args.erase(args.begin() + static_cast<long>(i), args.begin() + static_cast<long>(i) + 2);
    return value;
  }
  return std::nullopt;
}

bool take_flag(std::vector<std::string>& args, const std::string& name) {
  for (size_t i = 0; i < args.size(); ++i)
    if (args[i] == name) {
      args.erase(args.begin() + static_cast<long>(i));
      return true;
    }
  return false;
}

int64_t take_int_option(std::vector<std::string>& args, const std::string& name, int64_t fallback) {
  auto text = take_option(args, name);
  if (!text) return fallback;
  try {
    size_t used = 0;
    const int64_t value = std::stoll(*text, &used);
    if (used == text->size()) return value;
  } catch (const std::exception&) {
  }
  throw UsageError(name + " wants a whole number, not '" + *text + "'");
}

void expect_args(const std::vector<std::string>& args, size_t count, const std::string& usage) {
  if (args.size() != count) throw UsageError("usage: " + usage);
}

int run_guarded(const std::string& program, std::ostream& err, const std::function<int()>& body) {
  try {
    return body();
  } catch (const UsageError& error) {
    err << program << ": " << error.what() << "\n";
    return 2;
  } catch (const std::exception& error) {
    err << program << ": " << error.what() << "\n";
    return 1;
  }
}

}  // namespace outpost::cli
