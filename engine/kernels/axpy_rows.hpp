// Products of a few rows with B row-major, B read in its memory order (contract: AxpyRowsFn in
// kernel_table.hpp). The microkernel walks B a 32-column strip at a time down its rows, a page or
// more apart in a weight matrix (4096 columns: 16 KiB), so every k step touched a new page and
// the hardware prefetcher had nothing to follow: 1 x 4096 x 4096 read B at 5.8 GB/s on Zen 4.
// Here four rows of B stream front to back at a time and each of its vectors serves every row of
// C, whose accumulators stay in L1.
#pragma once

#include <cmath>
#include <cstdint>
#include <xsimd/xsimd.hpp>

#include "dispatch/kernel_table.hpp"

namespace cpuattn::detail {

template <class Arch>
struct AxpyRows {
  using Vec = xsimd::batch<float, Arch>;
  static constexpr int kW = static_cast<int>(Vec::size);
  static_assert(kAxpyMaxRows == 8, "run() dispatches 1..8 rows");
  static constexpr int kStep = 4;  // rows of B a pass

  // kRows rows: the compiler then holds the broadcasts of A as it can and unrolls the row loop.
  template <int kRows>
  static void run_fixed(const float* a, int64_t a_rs, int64_t a_cs, const float* b, int64_t ldb,
                        int64_t k, int64_t n, float* acc, int64_t ld) {
    const int64_t nv = n / kW * kW;
    int64_t p = 0;
    for (; p + kStep <= k; p += kStep) {
      const float* b0 = b + p * ldb;
      Vec s[kRows][kStep];
      float sc[kRows][kStep];
#pragma GCC unroll 8
      for (int r = 0; r < kRows; ++r) {
#pragma GCC unroll 4
        for (int i = 0; i < kStep; ++i) {
          sc[r][i] = a[r * a_rs + (p + i) * a_cs];
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
    for (; p < k; ++p) {
      const float* bp = b + p * ldb;
      for (int r = 0; r < kRows; ++r) {
        const float ar = a[r * a_rs + p * a_cs];
        const Vec s(ar);
        for (int64_t j = 0; j < nv; j += kW) {
          xsimd::fma(s, Vec::load_unaligned(bp + j), Vec::load_unaligned(acc + r * ld + j))
              .store_unaligned(acc + r * ld + j);
        }
        for (int64_t j = nv; j < n; ++j) acc[r * ld + j] = std::fma(ar, bp[j], acc[r * ld + j]);
      }
    }
  }

  static void run(const float* a, int64_t a_rs, int64_t a_cs, int rows, const float* b, int64_t ldb,
                  int64_t k, int64_t n, float* acc, int64_t ld) {
    switch (rows) {
      case 1:
        return run_fixed<1>(a, a_rs, a_cs, b, ldb, k, n, acc, ld);
      case 2:
        return run_fixed<2>(a, a_rs, a_cs, b, ldb, k, n, acc, ld);
      case 3:
        return run_fixed<3>(a, a_rs, a_cs, b, ldb, k, n, acc, ld);
      case 4:
        return run_fixed<4>(a, a_rs, a_cs, b, ldb, k, n, acc, ld);
      case 5:
        return run_fixed<5>(a, a_rs, a_cs, b, ldb, k, n, acc, ld);
      case 6:
        return run_fixed<6>(a, a_rs, a_cs, b, ldb, k, n, acc, ld);
      case 7:
        return run_fixed<7>(a, a_rs, a_cs, b, ldb, k, n, acc, ld);
      default:
        return run_fixed<8>(a, a_rs, a_cs, b, ldb, k, n, acc, ld);
    }
  }
};

}  // namespace cpuattn::detail
