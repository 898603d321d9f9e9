// A fresh directory under the system's temporary directory, removed with everything in it when
// the object goes.
#pragma once

#include <filesystem>
#include <string>

#include "platform/crypto.h"

namespace outpost::test {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "outpost-test")
      : path_((std::filesystem::temp_directory_path() / (prefix + "-" + crypto::random_hex(6))).string()) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace outpost::test
