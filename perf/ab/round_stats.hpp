// What the in-process comparisons (cpuattn_ab, sgemm_vs_peers) time with and report: a monotonic
// clock and the quantiles of per-round figures.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <vector>

namespace cpuattn::perf {

inline double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The q-quantile (0 <= q <= 1) of v, nearest rank; v must not be empty.
inline double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5)];
}

}  // namespace cpuattn::perf
