// File-system seams: directories, whole-file reads and crash-safe writes, and an exclusive lock.
#pragma once

#include <string>

namespace outpost::files {

void ensure_directory(const std::string& path);
bool exists(const std::string& path);
std::string read_file(const std::string& path);
// Writes to a temporary file beside `path`, syncs it and renames it over `path`, so a crash
// leaves either the old content or the new, never half of it.
void write_file_atomic(const std::string& path, const std::string& content, bool private_to_user = false);

// An advisory exclusive lock held for the object's lifetime (flock on a lock file).
class ExclusiveLock {
 public:
  // Throws std::runtime_error naming the file when another process holds the lock.
  explicit ExclusiveLock(const std::string& path);
  ~ExclusiveLock();
  ExclusiveLock(const ExclusiveLock&) = delete;
  ExclusiveLock& operator=(const ExclusiveLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace outpost::files
