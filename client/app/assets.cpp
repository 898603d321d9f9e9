#include "client/app/assets.h"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace outpost::app {

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> candidates() {
  std::vector<fs::path> paths;
  if (const char* configured = std::getenv("OUTPOST_ASSETS"); configured && *configured) paths.emplace_back(configured);
  std::error_code error;
  const fs::path executable = fs::read_symlink("/proc/self/exe", error);
  if (!error) {
    paths.push_back(executable.parent_path().parent_path() / "share" / "outpost");  // installed: PREFIX/bin/outpost
    paths.push_back(executable.parent_path() / "assets");                            // unpacked next to the binary
  }
  paths.emplace_back(OUTPOST_SOURCE_ASSETS_DIR);  // a build tree run in place
  return paths;
}

}  // namespace

std::string assets_directory() {
  std::string looked;
  for (const fs::path& path : candidates()) {
    std::error_code error;
    if (fs::is_regular_file(path / "i18n" / "en.json", error)) return path.string();
    looked += (looked.empty() ? "" : ", ") + path.string();
  }
  throw std::runtime_error("cannot find the app's assets (i18n/en.json) in " + looked +
                           "; set OUTPOST_ASSETS to the assets directory");
}

std::string i18n_directory() { return assets_directory() + "/i18n"; }

}  // namespace outpost::app
