#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace outpost::registry {

// The outpost-registry command line. Returns the process exit code.
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace outpost::registry
