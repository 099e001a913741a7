// Vector exp(x) for float, the one exp behind every softmax in cpuattn.
//
// exp(x) = 2^n * e^r with n = round(x / ln2) and r = x - n ln2 in [-ln2/2, ln2/2], the subtraction
// done in two steps (Cody-Waite: ln2 = C1 + C2, C1 exact in 9 bits) so r keeps full precision;
// e^r is the degree-7 minimax polynomial of Cephes' expf. 2^n is applied by vscalefps on AVX-512
// and elsewhere as two exact power-of-two factors; either way results in the subnormal range
// round once and exp(89) overflows to +inf.
// Inputs below -104 give 0 (exp(-104) is under half the smallest subnormal), -inf gives 0,
// +inf gives +inf and NaN stays NaN.
//
// Measured maximum error over every float in [-88, 88] (tests/softmax/exp_test.cpp):
// 1 ulp against the correctly rounded value, on every ISA variant.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <type_traits>
#include <xsimd/xsimd.hpp>

namespace cpuattn::detail {

template <class Arch>
inline xsimd::batch<float, Arch> vexp(xsimd::batch<float, Arch> x) {
  using Vec = xsimd::batch<float, Arch>;
  using IVec = xsimd::batch<int32_t, Arch>;
  // max/min(constant, x) return x when x is NaN (x86 min/max return the second operand).
  x = xsimd::max(Vec(-104.0f), x);
  x = xsimd::min(Vec(89.0f), x);
  const Vec n = xsimd::nearbyint(x * Vec(1.44269504088896341f));
  Vec r = xsimd::fnma(n, Vec(0.693359375f), x);
  r = xsimd::fnma(n, Vec(-2.12194440e-4f), r);
  Vec p = Vec(1.9875691500e-4f);
  p = xsimd::fma(p, r, Vec(1.3981999507e-3f));
  p = xsimd::fma(p, r, Vec(8.3334519073e-3f));
  p = xsimd::fma(p, r, Vec(4.1665795894e-2f));
  p = xsimd::fma(p, r, Vec(1.6666665459e-1f));
  p = xsimd::fma(p, r, Vec(5.0000001201e-1f));
  p = xsimd::fma(p, r * r, r + Vec(1.0f));
  if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>) {
    // vscalefps: p * 2^n in one rounding, overflow to inf and subnormals handled in hardware.
    return _mm512_scalef_ps(p, n);
  } else {
    // n in [-150, 129]: split it so both factors are normal powers of two.
    const IVec ni = xsimd::nearbyint_as_int(n);
    const IVec n1 = ni >> 1;
    const IVec n2 = ni - n1;
    const Vec s1 = xsimd::bitwise_cast<Vec>((n1 + IVec(127)) << 23);
    const Vec s2 = xsimd::bitwise_cast<Vec>((n2 + IVec(127)) << 23);
    return p * s1 * s2;
  }
}

}  // namespace cpuattn::detail
