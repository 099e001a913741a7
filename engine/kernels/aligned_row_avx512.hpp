// Row passes over 64-byte-aligned AVX-512 vectors, masked at the row's two ends, for passes whose
// result does not depend on which lane holds which column (a max, a sum, or values written to a
// private buffer at the same lane positions). A row that starts 16 bytes into a line (as a
// std::vector's does) splits every vector load in two; these read each line once. Masked lanes
// are not read, so nothing outside the row is touched.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <xsimd/xsimd.hpp>

namespace cpuattn::detail {

template <class Arch>
struct AlignedRowAvx512 {
  static_assert(std::is_base_of_v<xsimd::avx512f, Arch>, "AVX-512 only");
  static constexpr int64_t kW = 16;

  // Mask of lanes [from, to) of one vector (to may pass kW).
  static __mmask16 lanes(int64_t from, int64_t to) {
    return static_cast<__mmask16>(((1u << std::min<int64_t>(to, kW)) - 1) & (0xFFFFu << from));
  }
  // Floats between the start of x's line and x: x's lane in the first aligned vector.
  static int64_t lanes_before(const float* x) {
    return static_cast<int64_t>(reinterpret_cast<std::uintptr_t>(x) % 64 / sizeof(float));
  }

  // max(x[0, n)); NaN is skipped as by the unaligned vector max.
  static float max(const float* x, int64_t n) {
    const __m512 ninf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
    const int64_t before = lanes_before(x);
    const float* base = x - before;
    const int64_t end = before + n;  // in lanes from base
    // Four accumulators hide the max latency.
    __m512 m0 = ninf, m1 = ninf, m2 = ninf, m3 = ninf;
    int64_t i = 0;
    if (before != 0) {
      m0 = _mm512_mask_load_ps(ninf, lanes(before, end), base);
      i = kW;
    }
    for (; i + 4 * kW <= end; i += 4 * kW) {
      m0 = _mm512_max_ps(_mm512_load_ps(base + i), m0);
      m1 = _mm512_max_ps(_mm512_load_ps(base + i + kW), m1);
      m2 = _mm512_max_ps(_mm512_load_ps(base + i + 2 * kW), m2);
      m3 = _mm512_max_ps(_mm512_load_ps(base + i + 3 * kW), m3);
    }
    for (; i + kW <= end; i += kW) m0 = _mm512_max_ps(_mm512_load_ps(base + i), m0);
    if (i < end) m0 = _mm512_max_ps(_mm512_mask_load_ps(ninf, lanes(0, end - i), base + i), m0);
    return _mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(m0, m1), _mm512_max_ps(m2, m3)));
  }

  // out[lanes_before(x) + j] = f(x[j]) for j in [0, n), returning their sum. out must be 64-byte
  // aligned with room for lanes_before(x) + n floats rounded up to a vector; its lanes outside
  // the row get 0. Lanes outside x enter f as `fill` (any value f handles like a column of the
  // row) and are zeroed after it. touch(i) is called once for each line of the
  // row, i in lanes from the aligned base: the caller's prefetch of what comes next.
  template <class F, class Touch>
  static float map_sum(const float* x, int64_t n, float* out, float fill, F f, Touch touch) {
    using Vec = xsimd::batch<float, Arch>;
    const __m512 vfill = _mm512_set1_ps(fill);
    auto f_masked = [&](__mmask16 m, const float* p) {
      return Vec(_mm512_maskz_mov_ps(m, f(Vec(_mm512_mask_load_ps(vfill, m, p)))));
    };
    const int64_t before = lanes_before(x);
    const float* base = x - before;
    const int64_t end = before + n;
    Vec s0(0.0f), s1(0.0f);
    int64_t i = 0;
    if (before != 0) {
      touch(0);
      const Vec e = f_masked(lanes(before, end), base);
      e.store_aligned(out);
      s0 += e;
      i = kW;
    }
    for (; i + 2 * kW <= end; i += 2 * kW) {
      touch(i);
      touch(i + kW);
      const Vec e0 = f(Vec(_mm512_load_ps(base + i)));
      const Vec e1 = f(Vec(_mm512_load_ps(base + i + kW)));
      e0.store_aligned(out + i);
      e1.store_aligned(out + i + kW);
      s0 += e0;
      s1 += e1;
    }
    for (; i < end; i += kW) {
      touch(i);
      const Vec e = f_masked(lanes(0, end - i), base + i);
      e.store_aligned(out + i);
      s0 += e;
    }
    return xsimd::hadd(s0 + s1);
  }
};

}  // namespace cpuattn::detail
