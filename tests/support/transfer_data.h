// Test data for file transfers: bytes that do not compress (like the PDFs and videos of a
// library), and transfers that retry without waiting.
#pragma once

#include <chrono>
#include <random>
#include <string>

#include "sync/blob_transfer.h"

namespace outpost::test {

inline std::string random_bytes(size_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string data(size, '\0');
  for (char& c : data) c = static_cast<char>(rng() & 0xff);
  return data;
}

// A "photo": random bytes behind a JPEG file's signature, which is all an image question checks.
inline std::string jpeg_bytes(size_t size, uint32_t seed) {
  std::string data = random_bytes(size, seed);
  data.replace(0, 4, "\xFF\xD8\xFF\xE0");
  return data;
}

inline sync::TransferOptions no_waiting() {
  sync::TransferOptions options;
  options.sleep = [](std::chrono::milliseconds) {};
  return options;
}

}  // namespace outpost::test
