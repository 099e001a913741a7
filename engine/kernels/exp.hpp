// Vector exp(x) and 2^x for float.
//
// exp(x) = 2^n * e^r with n = round(x / ln2) and r = x - n ln2 in [-ln2/2, ln2/2], the subtraction
// done in two steps (Cody-Waite: ln2 = C1 + C2, C1 exact in 9 bits) so r keeps full precision;
// e^r is a degree-6 minimax polynomial (relative error 1.9e-9 on [-ln2/2, ln2/2], Horner: 6 FMAs,
// two fewer than Cephes' degree-7 form it replaced). 2^n is applied by vscalefps on AVX-512
// and elsewhere as two exact power-of-two factors; either way results in the subnormal range
// round once and exp(89) overflows to +inf.
// Inputs below -104 give 0 (exp(-104) is under half the smallest subnormal), -inf gives 0,
// +inf gives +inf and NaN stays NaN.
//
// Measured maximum error over every float in [-88, 88] (tests/softmax/exp_test.cpp):
// 1 ulp against the correctly rounded value, on every ISA variant.
//
// vexp2_nonpositive(x) = 2^x for x <= 0 (and positive x below 64.5), the exp of both
// softmaxes: the fused attention's scores carry log2(e) in the query scale and the row softmax
// folds it into its shift, so the exponent needs no Cody-Waite reduction (f = x - round(x) is
// exact) and no overflow clamp: 10 vector operations against vexp's 13 (with the Cephes-form vexp
// of 15, the online softmax's exp pass went from 14.4 to 9.7 ms at 12 x 2048^2, D = 64); without
// vscalefps (AVX2 and below), 13 against 18 with scale_by_pow2's split form.
// Degree-6 minimax polynomial of 2^f on [-1/2, 1/2] (relative error 1.9e-9, 0.03 ulp).
// x <= -160 (and -inf) gives exactly 0, NaN stays NaN. Measured maximum error over every float in
// [-150, 0] (tests/softmax/exp_test.cpp): 1 ulp against the correctly rounded value, on every ISA
// variant.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <type_traits>
#include <xsimd/xsimd.hpp>

namespace cpuattn::detail {

// The factor 2^-63 scale_by_pow2<Arch, true> expects in p where it lacks vscalefps.
template <class Arch>
constexpr float kPow2Bias = std::is_base_of_v<xsimd::avx512f, Arch> ? 1.0f : 0x1p-63f;

// p * 2^n for integral n in [-160, 129], one rounding. kSmallN: n in [-160, 64] and p scaled by
// kPow2Bias<Arch>.
template <class Arch, bool kSmallN = false>
inline xsimd::batch<float, Arch> scale_by_pow2(xsimd::batch<float, Arch> p,
                                               xsimd::batch<float, Arch> n) {
  using Vec = xsimd::batch<float, Arch>;
  using IVec = xsimd::batch<int32_t, Arch>;
  const IVec ni = xsimd::nearbyint_as_int(n);
  if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>) {
    // vscalefps: p * 2^n in one rounding, overflow to inf and subnormals handled in hardware.
    return _mm512_scalef_ps(p, n);
  } else if constexpr (kSmallN) {
    // The caller's p carries a factor 2^-63 (kPow2Bias): 2^(n + 63) is a normal power of two,
    // so the one multiply is p * 2^n rounded once, into the subnormal range too. Two integer
    // operations instead of the split's six.
    return p * xsimd::bitwise_cast<Vec>((ni + IVec(127 + 63)) << 23);
  } else {
    // Split n so both factors are normal powers of two.
    const IVec n1 = ni >> 1;
    const IVec n2 = ni - n1;
    const Vec s1 = xsimd::bitwise_cast<Vec>((n1 + IVec(127)) << 23);
    const Vec s2 = xsimd::bitwise_cast<Vec>((n2 + IVec(127)) << 23);
    return p * s1 * s2;
  }
}

// kNonPositive: the caller guarantees x <= 0 or NaN (softmax after its max shift), which drops
// the overflow clamp.
template <class Arch, bool kNonPositive = false>
inline xsimd::batch<float, Arch> vexp(xsimd::batch<float, Arch> x) {
  using Vec = xsimd::batch<float, Arch>;
  // max/min(constant, x) return x when x is NaN (x86 min/max return the second operand).
  x = xsimd::max(Vec(-104.0f), x);
  if constexpr (!kNonPositive) x = xsimd::min(Vec(89.0f), x);
  const Vec n = xsimd::nearbyint(x * Vec(1.44269504088896341f));
  Vec r = xsimd::fnma(n, Vec(0.693359375f), x);
  r = xsimd::fnma(n, Vec(-2.12194440e-4f), r);
  Vec p = Vec(1.3836845991e-3f);
  p = xsimd::fma(p, r, Vec(8.3748158043e-3f));
  p = xsimd::fma(p, r, Vec(4.1668225570e-2f));
  p = xsimd::fma(p, r, Vec(1.6666420170e-1f));
  p = xsimd::fma(p, r, Vec(4.9999992080e-1f));
  p = xsimd::fma(p, r, Vec(1.0f));
  p = xsimd::fma(p, r, Vec(1.0f));
  return scale_by_pow2(p, n);
}

template <class Arch>
inline xsimd::batch<float, Arch> vexp2_nonpositive(xsimd::batch<float, Arch> x) {
  using Vec = xsimd::batch<float, Arch>;
  // Below -160, p * 2^n is under half the smallest subnormal and rounds to 0. NaN passes (x86
  // max returns its second operand).
  x = xsimd::max(Vec(-160.0f), x);
  const Vec n = xsimd::nearbyint(x);
  const Vec f = x - n;
  // The coefficients carry scale_by_pow2's 2^-63: a power of two, so every step rounds as it
  // would unscaled (all normal), and the final multiply by 2^-63 goes (Zen 3: exp2 7.7 -> 6.95
  // cycles a vector, outputs bit-identical).
  constexpr float s = kPow2Bias<Arch>;
  Vec p = Vec(1.5345812004e-4f * s);
  p = xsimd::fma(p, f, Vec(1.3399931219e-3f * s));
  p = xsimd::fma(p, f, Vec(9.6184889571e-3f * s));
  p = xsimd::fma(p, f, Vec(5.5503287770e-2f * s));
  p = xsimd::fma(p, f, Vec(2.4022646891e-1f * s));
  p = xsimd::fma(p, f, Vec(6.9314720574e-1f * s));
  p = xsimd::fma(p, f, Vec(s));
  return scale_by_pow2<Arch, true>(p, n);
}

}  // namespace cpuattn::detail
