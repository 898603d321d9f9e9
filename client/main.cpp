#include <csignal>
#include <iostream>

#include "client/cli.h"

int main(int argc, char** argv) {
  // A peer that hangs up mid-transfer is an error to report, not a reason to die.
  std::signal(SIGPIPE, SIG_IGN);
  return outpost::client::run_cli(std::vector<std::string>(argv + 1, argv + argc), std::cout, std::cerr);
}
