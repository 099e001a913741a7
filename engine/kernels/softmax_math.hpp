// The softmax numerics shared by the row softmax and the fused attention's online softmax:
// the max shift that keeps exp from overflowing, and its guard for fully masked rows.
#pragma once

#include <immintrin.h>

#include <limits>
#include <type_traits>
#include <xsimd/xsimd.hpp>

#include "kernels/exp.hpp"

namespace cpuattn::detail {

// The shift subtracted before exp: the running max, or 0 while everything seen is -inf (masked),
// so exp(-inf - shift) = 0 instead of exp(-inf + inf) = NaN.
template <class Arch>
inline xsimd::batch<float, Arch> softmax_shift(xsimd::batch<float, Arch> running_max) {
  using Vec = xsimd::batch<float, Arch>;
  return xsimd::select(running_max == Vec(-std::numeric_limits<float>::infinity()), Vec(0.0f),
                       running_max);
}

// Online-softmax step for a new block whose max is block_max: returns the new running max and
// sets rescale = 2^(old_max - new_shift), the factor that moves old sums onto the new shift.
// Base 2: the online softmax takes scores in log2 units (see OnlineSoftmaxFn).
template <class Arch>
inline xsimd::batch<float, Arch> online_max_update(xsimd::batch<float, Arch> old_max,
                                                   xsimd::batch<float, Arch> block_max,
                                                   xsimd::batch<float, Arch>* rescale) {
  // max(block, old) keeps a NaN of old_max (x86 max returns its second operand on NaN).
  const xsimd::batch<float, Arch> new_max = xsimd::max(block_max, old_max);
  *rescale = vexp2_nonpositive(old_max - softmax_shift(new_max));
  return new_max;
}

// Lane-wise max of a vector reduced to a scalar. Callers accumulate with max(x, acc), which
// keeps acc when x is NaN, so no lane holds NaN here (a NaN row still ends NaN through its sum).
// A shuffle tree: the scalar loop it replaces cost ~40 cycles a row, a third of a 128-column row.
template <class Arch>
inline float reduce_max(xsimd::batch<float, Arch> v) {
  if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>) {
    return _mm512_reduce_max_ps(v);
  } else if constexpr (std::is_base_of_v<xsimd::avx, Arch>) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    return _mm_cvtss_f32(_mm_max_ss(m, _mm_shuffle_ps(m, m, 1)));
  } else if constexpr (std::is_base_of_v<xsimd::sse2, Arch>) {
    __m128 m = _mm_max_ps(v, _mm_movehl_ps(v, v));
    return _mm_cvtss_f32(_mm_max_ss(m, _mm_shuffle_ps(m, m, 1)));
  } else {
    alignas(64) float lanes[xsimd::batch<float, Arch>::size];
    v.store_aligned(lanes);
    float m = lanes[0];
    for (float x : lanes) m = x > m ? x : m;
    return m;
  }
}

}  // namespace cpuattn::detail
