#include <iostream>

#include "registry/cli.h"

int main(int argc, char** argv) {
  return outpost::registry::run_cli(std::vector<std::string>(argv + 1, argv + argc), std::cout, std::cerr);
}
