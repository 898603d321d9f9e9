// What the benches compute over repeated measurements.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace outpost::bench {

// The p-th percentile (0 to 100) of `values`, interpolated between neighbours; p 50 is the median.
inline double percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const double rank = p / 100.0 * static_cast<double>(values.size() - 1);
  const size_t low = static_cast<size_t>(rank);
  const size_t high = std::min(low + 1, values.size() - 1);
  return values[low] + (values[high] - values[low]) * (rank - static_cast<double>(low));
}

}  // namespace outpost::bench
