// Non-temporal stores for outputs that will not be read back soon (xsimd 8.1 has none): they skip
// the read-for-ownership of the destination line, a third of the traffic of a streaming kernel.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <type_traits>
#include <xsimd/xsimd.hpp>

namespace cpuattn::detail {

template <class Arch>
struct StreamStore {
  using Vec = xsimd::batch<float, Arch>;
  static constexpr int64_t kW = static_cast<int64_t>(Vec::size);

  // dst must be aligned to the vector size.
  static inline void store(float* dst, Vec v) {
    if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>) {
      _mm512_stream_ps(dst, v);
    } else if constexpr (std::is_base_of_v<xsimd::avx, Arch>) {
      _mm256_stream_ps(dst, v);
    } else {
      _mm_stream_ps(dst, v);
    }
  }

  // y[i] = x[i] * s for n floats: plain stores up to the first aligned address, streaming after.
  static void scale(const float* x, float s, float* y, int64_t n) {
    const Vec vs(s);
    int64_t i = 0;
    while (i < n && (reinterpret_cast<std::uintptr_t>(y + i) % (kW * sizeof(float))) != 0) {
      y[i] = x[i] * s;
      ++i;
    }
    for (; i + kW <= n; i += kW) store(y + i, Vec::load_unaligned(x + i) * vs);
    for (; i < n; ++i) y[i] = x[i] * s;
  }

  // Orders the streaming stores before later ordinary ones (call once per kernel invocation).
  static void fence() { _mm_sfence(); }
};

}  // namespace cpuattn::detail
