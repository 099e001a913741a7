// Products of a few rows with B transposed (a weight matrix stored out x in, as linear layers
// keep it), B read in its memory order (contract: DotRowsFn in kernel_table.hpp): every row of B
// a dot product with each row of A, front to back, a few rows of B side by side.
#pragma once

#include <cstdint>
#include <xsimd/xsimd.hpp>

#include "dispatch/kernel_table.hpp"

namespace cpuattn::detail {

template <class Arch>
struct DotRows {
  using Vec = xsimd::batch<float, Arch>;
  static constexpr int kW = static_cast<int>(Vec::size);
  static_assert(kDotMaxRows == 8, "run() dispatches 1..8 rows");

  // kAcc partial sums per (row, key): with kKeys keys a pass, enough FMA chains in flight. A
  // key's sum is the same in a group as alone.
  template <int kRows>
  static constexpr int kAcc = kRows == 1   ? 4
                              : kRows <= 4 ? 2
                                           : 1;
  // Keys read side by side, each prefetching the key a group on at its position (a group's keys
  // are as far ahead in memory as it spans): few rows of A otherwise left one or two streams of B,
  // which the hardware prefetcher ran too few lines ahead of. Zen 4, B from memory (4096^2)
  // against score_rows' 16 keys a pass: 1 row, 1 key with a 4 KiB prefetch 0.73x, 4 keys 0.86x,
  // 8 keys 0.79x (and 0.97x in L3, where 4 keys ran 1.47x); 4 keys with the group prefetch 0.99x,
  // 2 rows 1.17x. 5-8 rows: 2 keys with 1 partial sum each (16 chains for 8 rows, the rows of A
  // loaded once for both keys) against 1 key with 2: 5 x 2048^2 1.38x, 8 x 4096^2 1.3x, 8 x 512^2
  // 1.1-1.17x.
  template <int kRows>
  static constexpr int kKeys = kRows <= 2 ? 4 : 2;

  template <int kRows, int kGroup>
  static void keys(const float* a, int64_t lda, const float* b, int64_t ldb, int64_t k, float* out,
                   int64_t ld) {
    constexpr int kU = kAcc<kRows>;
    constexpr int64_t kBlock = kU * kW;
    const int64_t kb = k / kBlock * kBlock, kv = k / kW * kW;
    Vec acc[kRows][kGroup][kU];
#pragma GCC unroll 8
    for (int r = 0; r < kRows; ++r) {
#pragma GCC unroll 4
      for (int g = 0; g < kGroup; ++g) {
#pragma GCC unroll 4
        for (int u = 0; u < kU; ++u) acc[r][g][u] = Vec(0.0f);
      }
    }
    int64_t p = 0;
    for (; p < kb; p += kBlock) {
#pragma GCC unroll 4
      for (int u = 0; u < kU; ++u) {
        Vec av[kRows];
#pragma GCC unroll 8
        for (int r = 0; r < kRows; ++r) av[r] = Vec::load_unaligned(a + r * lda + p + u * kW);
#pragma GCC unroll 4
        for (int g = 0; g < kGroup; ++g) {
          const float* bg = b + g * ldb + p + u * kW;
          __builtin_prefetch(bg + kGroup * ldb);
          const Vec bv = Vec::load_unaligned(bg);
#pragma GCC unroll 8
          for (int r = 0; r < kRows; ++r) acc[r][g][u] = xsimd::fma(av[r], bv, acc[r][g][u]);
        }
      }
    }
    for (; p < kv; p += kW) {
#pragma GCC unroll 4
      for (int g = 0; g < kGroup; ++g) {
        const Vec bv = Vec::load_unaligned(b + g * ldb + p);
#pragma GCC unroll 8
        for (int r = 0; r < kRows; ++r) {
          acc[r][g][0] = xsimd::fma(Vec::load_unaligned(a + r * lda + p), bv, acc[r][g][0]);
        }
      }
    }
#pragma GCC unroll 8
    for (int r = 0; r < kRows; ++r) {
#pragma GCC unroll 4
      for (int g = 0; g < kGroup; ++g) {
        Vec s = acc[r][g][0];
#pragma GCC unroll 4
        for (int u = 1; u < kU; ++u) s += acc[r][g][u];
        float t = xsimd::hadd(s);
        for (int64_t q = kv; q < k; ++q) t += a[r * lda + q] * b[g * ldb + q];
        out[r * ld + g] = t;
      }
    }
  }

  template <int kRows>
  static void run_fixed(const float* a, int64_t lda, const float* b, int64_t ldb, int64_t n,
                        int64_t k, float* out, int64_t ld) {
    constexpr int kG = kKeys<kRows>;
    int64_t j = 0;
    for (; j + kG <= n; j += kG) keys<kRows, kG>(a, lda, b + j * ldb, ldb, k, out + j, ld);
    for (; j < n; ++j) keys<kRows, 1>(a, lda, b + j * ldb, ldb, k, out + j, ld);
  }

  using FixedFn = void (*)(const float*, int64_t, const float*, int64_t, int64_t, int64_t, float*,
                           int64_t);
  static constexpr FixedFn kFixed[kDotMaxRows] = {&run_fixed<1>, &run_fixed<2>, &run_fixed<3>,
                                                  &run_fixed<4>, &run_fixed<5>, &run_fixed<6>,
                                                  &run_fixed<7>, &run_fixed<8>};

  static void run(const float* a, int64_t lda, int rows, const float* b, int64_t ldb, int64_t n,
                  int64_t k, float* out, int64_t ld) {
    kFixed[rows - 1](a, lda, b, ldb, n, k, out, ld);
  }
};

}  // namespace cpuattn::detail
