#include "sync/transport.h"

#include <algorithm>
#include <cctype>

namespace outpost::sync {

std::string HttpResponse::header(const std::string& name) const {
  auto same = [&](const std::string& candidate) {
    return candidate.size() == name.size() &&
           std::equal(candidate.begin(), candidate.end(), name.begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
           });
  };
  for (const auto& [key, value] : headers)
    if (same(key)) return value;
  return {};
}

}  // namespace outpost::sync
