// zstd compression of protocol bodies, with a ceiling on what a body may expand to so that a
// small hostile body cannot exhaust memory.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace outpost::compress {

class CompressError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class TooLarge : public CompressError {
 public:
  using CompressError::CompressError;
};

std::string zstd_compress(std::string_view data, int level = 3);
// Throws CompressError for corrupt input and TooLarge when the output would exceed max_size.
std::string zstd_decompress(std::string_view data, size_t max_size);

}  // namespace outpost::compress
