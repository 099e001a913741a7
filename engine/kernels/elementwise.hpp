// Small streaming loops: exp and exp2 over an array (tests) and a scaled copy (finalising the
// flash output rows).
#pragma once

#include <cstdint>
#include <xsimd/xsimd.hpp>

#include "kernels/exp.hpp"

namespace cpuattn::detail {

template <class Arch>
struct Elementwise {
  using Vec = xsimd::batch<float, Arch>;
  static constexpr int64_t kW = static_cast<int64_t>(Vec::size);

  template <Vec (*kFn)(Vec)>
  static void map(const float* x, float* y, int64_t n) {
    int64_t i = 0;
    for (; i + kW <= n; i += kW) kFn(Vec::load_unaligned(x + i)).store_unaligned(y + i);
    if (i < n) {
      alignas(64) float buf[kW] = {};
      for (int64_t j = i; j < n; ++j) buf[j - i] = x[j];
      kFn(Vec::load_aligned(buf)).store_aligned(buf);
      for (int64_t j = i; j < n; ++j) y[j] = buf[j - i];
    }
  }
  static void exp(const float* x, float* y, int64_t n) { map<vexp<Arch>>(x, y, n); }
  static void exp2(const float* x, float* y, int64_t n) { map<vexp2_nonpositive<Arch>>(x, y, n); }

  static void scale_copy(const float* x, float s, float* y, int64_t n) {
    const Vec vs(s);
    int64_t i = 0;
    for (; i + kW <= n; i += kW) (Vec::load_unaligned(x + i) * vs).store_unaligned(y + i);
    for (; i < n; ++i) y[i] = x[i] * s;
  }
};

}  // namespace cpuattn::detail
