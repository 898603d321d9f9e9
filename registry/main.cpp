#include <iostream>

#include "platform/process.h"
#include "registry/cli.h"

int main(int argc, char** argv) {
  outpost::process::init();
  return outpost::registry::run_cli(std::vector<std::string>(argv + 1, argv + argc), std::cout, std::cerr);
}
