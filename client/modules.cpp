#include "client/modules.h"

#include <dlfcn.h>

#include <filesystem>
#include <vector>

#include "client/home.h"

namespace outpost::client {

void* module_symbol(const std::string& file_name, const std::string& build_path, const char* symbol) {
  std::vector<std::filesystem::path> candidates;
  std::error_code error;
  const std::filesystem::path executable = std::filesystem::read_symlink("/proc/self/exe", error);
  if (!error) {
    candidates.push_back(executable.parent_path().parent_path() / "lib" / "outpost" / file_name);
    candidates.push_back(executable.parent_path() / file_name);
  }
  candidates.emplace_back(build_path);
  std::string reasons;
  // dlopen keeps one copy of a module however often it is opened, so a second call costs a look-up.
  for (const std::filesystem::path& path : candidates) {
    if (void* module = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) {
      if (void* address = dlsym(module, symbol)) return address;
    }
    reasons += std::string("; ") + dlerror();
  }
  throw ClientError("cannot load " + file_name + reasons);
}

}  // namespace outpost::client
