// Command-line plumbing shared by outpost and outpost-registry: options taken out of the
// argument list wherever they stand, and exceptions turned into a message and an exit code.
#pragma once

#include <functional>
#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace outpost::cli {

// Exit code 2: the command line itself was wrong.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Takes "NAME VALUE" out of args; throws UsageError when the value is missing.
std::optional<std::string> take_option(std::vector<std::string>& args, const std::string& name);
bool take_flag(std::vector<std::string>& args, const std::string& name);
int64_t take_int_option(std::vector<std::string>& args, const std::string& name, int64_t fallback);
// Throws UsageError("usage: PROGRAM USAGE") unless exactly `count` arguments are left.
void expect_args(const std::vector<std::string>& args, size_t count, const std::string& usage);

// Runs `body`; a UsageError prints "PROGRAM: message" and returns 2, any other exception 1.
int run_guarded(const std::string& program, std::ostream& err, const std::function<int()>& body);

}  // namespace outpost::cli
