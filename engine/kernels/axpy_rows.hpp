// Products of a few rows with B row-major, B read in its memory order (contract: AxpyRowsFn in
// kernel_table.hpp). The microkernel walks B a 32-column strip at a time down its rows, a page or
// more apart in a weight matrix (4096 columns: 16 KiB), so every k step touched a new page and
// the hardware prefetcher had nothing to follow: 1 x 4096 x 4096 read B at 5.8 GB/s on Zen 4.
// Here four rows of B stream front to back at a time and each of its vectors serves every row of
// C, whose accumulators stay in L1 (in L2 past 8 rows).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <xsimd/xsimd.hpp>

#include "dispatch/kernel_table.hpp"

namespace cpuattn::detail {

template <class Arch>
struct AxpyRows {
  using Vec = xsimd::batch<float, Arch>;
  static constexpr int kW = static_cast<int>(Vec::size);
  static constexpr int kStep = 4;  // rows of B a pass
  // Rows of A a pass: up to 8 in one (B's vectors loaded once for all), more in groups of 4,
  // whose kStep broadcasts each stay in registers (16 of AVX-512's 32; 2 rows on AVX2). Zen 4,
  // 32 x 1024^2: groups of 4 1.27x groups of 8 (which spill their 32 broadcasts); 8 x 1024^2 in
  // two groups of 4: 0.9x one pass.
  static constexpr int kOnePass = 8;
  static constexpr int kGroup = std::is_base_of_v<xsimd::avx512f, Arch> ? 4 : 2;

  // One pass of kStep rows of B (b0 = B(p, 0)) into kRows rows of accumulators (a = A(row, p)).
  // kRows fixed: the compiler then holds the broadcasts of A as it can and unrolls the row loop.
  template <int kRows>
  static void step(const float* a, int64_t a_rs, int64_t a_cs, const float* b0, int64_t ldb,
                   int64_t n, float* acc, int64_t ld) {
    const int64_t nv = n / kW * kW;
    Vec s[kRows][kStep];
    float sc[kRows][kStep];
#pragma GCC unroll 8
    for (int r = 0; r < kRows; ++r) {
#pragma GCC unroll 4
      for (int i = 0; i < kStep; ++i) {
        sc[r][i] = a[r * a_rs + i * a_cs];
        s[r][i] = Vec(sc[r][i]);
      }
    }
    for (int64_t j = 0; j < nv; j += kW) {
      Vec v[kStep];
#pragma GCC unroll 4
      for (int i = 0; i < kStep; ++i) v[i] = Vec::load_unaligned(b0 + i * ldb + j);
#pragma GCC unroll 8
      for (int r = 0; r < kRows; ++r) {
        Vec x = Vec::load_unaligned(acc + r * ld + j);
#pragma GCC unroll 4
        for (int i = 0; i < kStep; ++i) x = xsimd::fma(s[r][i], v[i], x);
        x.store_unaligned(acc + r * ld + j);
      }
    }
    for (int64_t j = nv; j < n; ++j) {
      for (int r = 0; r < kRows; ++r) {
        float x = acc[r * ld + j];
        for (int i = 0; i < kStep; ++i) x = std::fma(sc[r][i], b0[i * ldb + j], x);
        acc[r * ld + j] = x;
      }
    }
  }

  // One row of B (the last k % kStep).
  static void single(const float* a, int64_t a_rs, int rows, const float* bp, int64_t n, float* acc,
                     int64_t ld) {
    const int64_t nv = n / kW * kW;
    for (int r = 0; r < rows; ++r) {
      const float ar = a[r * a_rs];
      const Vec s(ar);
      float* x = acc + r * ld;
      for (int64_t j = 0; j < nv; j += kW) {
        xsimd::fma(s, Vec::load_unaligned(bp + j), Vec::load_unaligned(x + j))
            .store_unaligned(x + j);
      }
      for (int64_t j = nv; j < n; ++j) x[j] = std::fma(ar, bp[j], x[j]);
    }
  }

  using StepFn = void (*)(const float*, int64_t, int64_t, const float*, int64_t, int64_t, float*,
                          int64_t);
  static constexpr StepFn kSteps[kOnePass] = {&step<1>, &step<2>, &step<3>, &step<4>,
                                              &step<5>, &step<6>, &step<7>, &step<8>};

  // Every group over the same kStep rows of B while they are in L1: B is read from memory once
  // whatever the rows.
  static void run(const float* a, int64_t a_rs, int64_t a_cs, int rows, const float* b, int64_t ldb,
                  int64_t k, int64_t n, float* acc, int64_t ld) {
    const int group = rows <= kOnePass ? rows : kGroup;
    int64_t p = 0;
    for (; p + kStep <= k; p += kStep) {
      for (int g = 0; g < rows; g += group) {
        kSteps[std::min(group, rows - g) - 1](a + g * a_rs + p * a_cs, a_rs, a_cs, b + p * ldb, ldb,
                                              n, acc + g * ld, ld);
      }
    }
    for (; p < k; ++p) single(a + p * a_cs, a_rs, rows, b + p * ldb, n, acc, ld);
  }
};

}  // namespace cpuattn::detail
