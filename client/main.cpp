#include <iostream>

#include "client/cli.h"
#include "client/window.h"
#include "platform/process.h"

int main(int argc, char** argv) {
  outpost::process::init();
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (outpost::client::wants_window(args)) return outpost::client::run_window(args, std::cerr);
  return outpost::client::run_cli(args, std::cout, std::cerr);
}
