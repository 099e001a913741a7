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
// vscalefps (SSE), 13 against 18 with scale_by_pow2's split form. 2^f is a degree-6 minimax
// polynomial on [-1/2, 1/2] (relative error 1.9e-9, 0.03 ulp), except on AVX2 and AVX-512, which
// take the table form (kExp2Table: 2^(j/8) from one register and a degree-3 polynomial on AVX2,
// 11 operations; 2^(j/32) from two registers and degree 2 on AVX-512, 10). x <= -160 (and -inf)
// gives exactly 0, NaN stays NaN. Measured maximum error over every float in [-150, 0]
// (tests/softmax/exp_test.cpp) against the correctly rounded value: 1 ulp on generic and SSE4.2
// (degree 6), 2 ulp on AVX2 and 3 ulp on AVX-512 (table form: the table entry's rounding adds to
// the polynomial's, 0.2 and 0.45 ulp).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <type_traits>
#include <xsimd/xsimd.hpp>

namespace cpuattn::detail {

// The factor 2^-63 that p carries for scale_by_pow2<Arch, true> and the table form of exp2: with
// it, 2^(n + 63) is a normal power of two for every n they take.
constexpr float kPow2Bias = 0x1p-63f;

// p * 2^n for integral n in [-160, 129], one rounding. kSmallN: n in [-160, 64] and p scaled by
// kPow2Bias.
template <class Arch, bool kSmallN = false>
inline xsimd::batch<float, Arch> scale_by_pow2(xsimd::batch<float, Arch> p,
                                               xsimd::batch<float, Arch> n) {
  using Vec = xsimd::batch<float, Arch>;
  using IVec = xsimd::batch<int32_t, Arch>;
  const IVec ni = xsimd::nearbyint_as_int(n);
  if constexpr (kSmallN) {
    // The caller's p carries a factor 2^-63 (kPow2Bias): 2^(n + 63) is a normal power of two,
    // so the one multiply is p * 2^n rounded once, into the subnormal range too. Two integer
    // operations instead of the split's six.
    return p * xsimd::bitwise_cast<Vec>((ni + IVec(127 + 63)) << 23);
  } else if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>) {
    // vscalefps: p * 2^n in one rounding, overflow to inf and subnormals handled in hardware.
    return _mm512_scalef_ps(p, n);
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

// Whether vexp2_nonpositive uses the table form: 2^x = 2^n * 2^(j/E) * 2^g with x = n + j/E + g,
// |g| <= 1/(2E), the E values 2^(j/E) held in registers and picked by a lane permute, and a
// low-degree polynomial for 2^g. Against the degree-6 polynomial, Zen 2 (AVX2, E = 8, degree 3):
// 4 operations on the FMA pipes instead of 8, a dependency chain of ~30 cycles instead of ~45, an
// L1-resident exp2 loop 8.4 -> 6.35 cycles a vector. AVX-512, Zen 4, rows in cache, C API: E = 16
// and degree 3 +3-7% (the row kernel alone +7-8%); E = 32 and degree 2 another +4.7-6.5% (128-8192
// columns, scripts/ab.sh, 31 rounds), the L1-resident loop 7.1 -> 6.6 cycles a vector; the fused
// attention unchanged by either (within +-1%). The loop runs ~1.6 zmm operations a cycle on Zen 4
// where 22 independent ones of the same kinds ran at 2 (what holds it back was not found), so
// every operation dropped counts. SSE has no 8-lane permute.
template <class Arch>
constexpr bool kExp2Table =
    std::is_base_of_v<xsimd::avx2, Arch> || std::is_base_of_v<xsimd::avx512f, Arch>;

// The table form's constants: E = 2^kLogEntries = 8 entries on AVX2 (one register), 32 on AVX-512
// (two). Entry j holds the bits of 2^(j/E) (rounded to float) with the bias 2^63 in its
// exponent, less j << kShift, which k << kShift adds back with e << 23 for k = E e + j. The
// polynomial is 2^(f/E) for f in [-1/2, 1/2], minimax in relative error with constant term 1
// (exact at f = 0), its coefficients times the bias 2^-63 (fitted by the Remez exchange at 40
// digits, then rounded to float; the errors below are of the rounded coefficients).
template <class Arch>
struct Exp2Table;

template <>
struct Exp2Table<xsimd::avx2> {
  static constexpr int kLogEntries = 3;
  // Degree 3, highest coefficient first; relative error 2.5e-8 (0.2 ulp).
  static constexpr int kDegree = 3;
  static constexpr float kCoefficients[kDegree] = {1.0839114117e-4f, 3.7540231548e-3f,
                                                   8.6643401742e-2f};
  static __m256i lookup(__m256i k) {
    const __m256i table = _mm256_setr_epi32(0x5f000000, 0x5efb95c2, 0x5ef837f0, 0x5ef5fed7,
                                            0x5ef504f3, 0x5ef5672a, 0x5ef744fd, 0x5efac0c7);
    return _mm256_permutevar8x32_epi32(table, k);
  }
};

// 32 entries in two registers (vpermt2d picks from both by the index's fifth bit), so the
// polynomial drops to degree 2: one FMA fewer, the permute costing what vpermd did (both one a
// cycle on Zen 4, measured).
template <>
struct Exp2Table<xsimd::avx512f> {
  static constexpr int kLogEntries = 5;
  // Degree 2, highest coefficient first; relative error 5.4e-8 (0.45 ulp).
  static constexpr int kDegree = 2;
  static constexpr float kCoefficients[kDegree] = {2.3460137891e-4f, 2.1661167964e-2f};
  static __m512i lookup(__m512i k) {
    const __m512i low =
        _mm512_setr_epi32(0x5f000000, 0x5efecd87, 0x5efdaac3, 0x5efc980f, 0x5efb95c2, 0x5efaa43a,
                          0x5ef9c3d3, 0x5ef8f4f0, 0x5ef837f0, 0x5ef78d3a, 0x5ef6f532, 0x5ef67043,
                          0x5ef5fed7, 0x5ef5a15b, 0x5ef5583f, 0x5ef523f6);
    const __m512i high =
        _mm512_setr_epi32(0x5ef504f3, 0x5ef4fbaf, 0x5ef508a4, 0x5ef52c4d, 0x5ef5672a, 0x5ef5b9be,
                          0x5ef6248c, 0x5ef6a81e, 0x5ef744fd, 0x5ef7fbb8, 0x5ef8ccdf, 0x5ef9b907,
                          0x5efac0c7, 0x5efbe4ba, 0x5efd257d, 0x5efe83b3);
    return _mm512_permutex2var_epi32(low, k, high);
  }
};

// The ISA's table: the base whose specialisation exists (avx512bw and the like derive from it).
template <class Arch>
using Exp2TableOf = Exp2Table<
    std::conditional_t<std::is_base_of_v<xsimd::avx512f, Arch>, xsimd::avx512f, xsimd::avx2>>;

// The unit of vexp2_nonpositive_scaled's input, which returns 2^(x / kExp2Units): the table form
// takes E x (8 or 32), whose rounding gives n and j at once. Callers that compute x with an FMA
// fold the factor into its constants (exactly: it is a power of two).
template <class Arch>
constexpr float kExp2Units = kExp2Table<Arch>
                                 ? static_cast<float>(1 << Exp2TableOf<Arch>::kLogEntries)
                                 : 1.0f;

// 2^(x / kExp2Units<Arch>) of U vectors in place, each step over all U before the next: the U
// dependency chains then sit side by side in program order. One vector after another, an
// out-of-order window that holds two or three vectors' operations waits on their chains (Zen 2,
// degree-6 form: 8.5 cycles a vector that way, 7.4 with U = 4).
//
// Both forms multiply p by a power of two once, which rounds once into the subnormal range too:
// p's coefficients carry a factor 2^-63 (kPow2Bias) that the power of two makes up for. Being a
// power of two, it leaves every step of the polynomial rounding as it would unscaled (all
// normal), and it saves a separate multiply (degree-6 form, Zen 3: 7.7 -> 6.95 cycles a vector).
template <class Arch, int U>
inline void vexp2_nonpositive_scaled(xsimd::batch<float, Arch> (&x)[U]) {
  using Vec = xsimd::batch<float, Arch>;
  using IVec = xsimd::batch<int32_t, Arch>;
  constexpr float kUnits = kExp2Units<Arch>;
  constexpr float s = kPow2Bias;
  Vec n[U], f[U];
  for (int j = 0; j < U; ++j) {
    // Below -160, p * 2^n is under half the smallest subnormal and rounds to 0. NaN passes (x86
    // max returns its second operand).
    x[j] = xsimd::max(Vec(-160.0f * kUnits), x[j]);
  }
  for (int j = 0; j < U; ++j) n[j] = xsimd::nearbyint(x[j]);
  for (int j = 0; j < U; ++j) f[j] = x[j] - n[j];
  if constexpr (kExp2Table<Arch>) {
    // n = E e + j: 2^(n/E) = 2^e 2^(j/E), the table entry plus k << kShift (see Exp2Table).
    using Table = Exp2TableOf<Arch>;
    constexpr int kShift = 23 - Table::kLogEntries;
    constexpr const float* c = Table::kCoefficients;
    for (int j = 0; j < U; ++j) x[j] = xsimd::fma(Vec(c[0] * s), f[j], Vec(c[1] * s));
    for (int d = 2; d < Table::kDegree; ++d) {
      for (int j = 0; j < U; ++j) x[j] = xsimd::fma(x[j], f[j], Vec(c[d] * s));
    }
    for (int j = 0; j < U; ++j) x[j] = xsimd::fma(x[j], f[j], Vec(s));
    for (int j = 0; j < U; ++j) {
      const IVec k = xsimd::nearbyint_as_int(n[j]);  // exact: n is integral
      const IVec bits = IVec(Table::lookup(k)) + (k << kShift);
      x[j] = x[j] * xsimd::bitwise_cast<Vec>(bits);
    }
  } else {
    // 2^f for f in [-1/2, 1/2]: degree-6 minimax, relative error 1.9e-9 (0.03 ulp).
    constexpr float kCoefficients[] = {1.3399931219e-3f * s, 9.6184889571e-3f * s,
                                       5.5503287770e-2f * s, 2.4022646891e-1f * s,
                                       6.9314720574e-1f * s, s};
    for (int j = 0; j < U; ++j) {
      x[j] = xsimd::fma(Vec(1.5345812004e-4f * s), f[j], Vec(kCoefficients[0]));
    }
    for (int c = 1; c < 6; ++c) {
      for (int j = 0; j < U; ++j) x[j] = xsimd::fma(x[j], f[j], Vec(kCoefficients[c]));
    }
    for (int j = 0; j < U; ++j) x[j] = scale_by_pow2<Arch, true>(x[j], n[j]);
  }
}

// One vector: 2^(x / kExp2Units<Arch>).
template <class Arch>
inline xsimd::batch<float, Arch> vexp2_nonpositive_scaled(xsimd::batch<float, Arch> x) {
  xsimd::batch<float, Arch> v[1] = {x};
  vexp2_nonpositive_scaled<Arch, 1>(v);
  return v[0];
}

// 2^x.
template <class Arch>
inline xsimd::batch<float, Arch> vexp2_nonpositive(xsimd::batch<float, Arch> x) {
  if constexpr (kExp2Units<Arch> != 1.0f) x *= xsimd::batch<float, Arch>(kExp2Units<Arch>);
  return vexp2_nonpositive_scaled<Arch>(x);
}

}  // namespace cpuattn::detail
