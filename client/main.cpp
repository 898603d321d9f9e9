#include <csignal>
#include <iostream>

#include "client/cli.h"
#include "client/window.h"

int main(int argc, char** argv) {
  // A peer that hangs up mid-transfer is an error to report, not a reason to die.
  std::signal(SIGPIPE, SIG_IGN);
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (outpost::client::wants_window(args)) return outpost::client::run_window(args, std::cerr);
  return outpost::client::run_cli(args, std::cout, std::cerr);
}
