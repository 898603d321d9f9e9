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

inline sync::TransferOptions no_waiting() {
  sync::TransferOptions options;
  options.sleep = [](std::chrono::milliseconds) {};
  return options;
}

}  // namespace outpost::test
