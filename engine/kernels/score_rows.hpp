// Scores of a few queries against keys read in place (contract: ScoreRowsFn in kernel_table.hpp),
// for query blocks too small for the microkernel. Its 12 x 32 tile of S^T = K Q^T computes 32
// query columns, so a decoding step (one query) paid 32 times its multiply-adds and ran
// compute-bound at a quarter of memory speed. Here each key row is read once per query row from
// L1 and every multiply-add is useful.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <xsimd/xsimd.hpp>

namespace cpuattn::detail {

// Lane i of the result: the sum of rows[i]'s lanes. xsimd 8.1's AVX-512 haddp permutes its lanes
// (2-3 and 4-5 of each 256-bit half come swapped; its SSE and AVX ones are right), so on AVX-512
// each row is folded to 256 bits and summed by the AVX one.
template <class Arch>
inline xsimd::batch<float, Arch> lane_sums(const xsimd::batch<float, Arch>* rows) {
  if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>) {
    // Dependent on Arch, so ISAs without AVX never instantiate the 256-bit type (clang checks
    // non-dependent types in discarded branches).
    using Half = xsimd::batch<float, std::conditional_t<sizeof(Arch) != 0, xsimd::avx, Arch>>;
    auto fold = [](auto v) {
      const __m256 high = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
      return Half(_mm256_add_ps(_mm512_castps512_ps256(v), high));
    };
    Half low_rows[8], high_rows[8];
    for (int i = 0; i < 8; ++i) {
      low_rows[i] = fold(rows[i]);
      high_rows[i] = fold(rows[i + 8]);
    }
    const Half low = xsimd::haddp(low_rows), high = xsimd::haddp(high_rows);
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(low)),
                                               _mm256_castps_pd(high), 1));
  } else {
    return xsimd::haddp(rows);
  }
}

template <class Arch>
struct ScoreRows {
  using Vec = xsimd::batch<float, Arch>;
  static constexpr int kW = static_cast<int>(Vec::size);

  // Keys kW at a time: a query row accumulates kW dot products in kW vectors, then lane_sums
  // sums each across its lanes into one vector of kW scores.
  static void run(const float* q, int64_t ldq, int rows, int cols, const float* k, int64_t ldk,
                  int64_t nk, int64_t d, float* st, int64_t ld, float* kcopy) {
    const int64_t dv = d / kW * kW;
    int64_t j = 0;
    for (; j + kW <= nk; j += kW) {
      const float* kj = k + j * ldk;
      int64_t ldkj = ldk;
      if (rows > 1 && ldk != d) {
        // Every query row re-reads the group's keys: from a contiguous copy, as rows ldk apart
        // can share L1 sets (ldk = 1024 floats: all 16 in one set of an 8-way L1) and evict each
        // other between the query rows (grouped decoding, 4 heads a group: 6.5 -> 7.6 GB/s).
        for (int i = 0; i < kW; ++i) std::copy(kj + i * ldk, kj + i * ldk + d, kcopy + i * d);
        kj = kcopy;
        ldkj = d;
      }
      for (int r = 0; r < rows; ++r) {
        const float* qr = q + r * ldq;
        Vec acc[kW];
#pragma GCC unroll 16
        for (int i = 0; i < kW; ++i) acc[i] = Vec(0.0f);
        for (int64_t p = 0; p < dv; p += kW) {
          const Vec qv = Vec::load_unaligned(qr + p);
#pragma GCC unroll 16
          for (int i = 0; i < kW; ++i) {
            acc[i] = xsimd::fma(Vec::load_unaligned(kj + i * ldkj + p), qv, acc[i]);
          }
        }
        alignas(64) float sums[kW];
        lane_sums<Arch>(acc).store_aligned(sums);
        for (int i = 0; i < kW; ++i) {
          float s = sums[i];
          for (int64_t p = dv; p < d; ++p) s += qr[p] * kj[i * ldkj + p];
          if (r == 0) clear_row(st + (j + i) * ld, cols);
          st[(j + i) * ld + r] = s;
        }
      }
    }
    for (; j < nk; ++j) {  // the last keys one at a time
      const float* kj = k + j * ldk;
      for (int r = 0; r < rows; ++r) {
        const float* qr = q + r * ldq;
        Vec acc(0.0f);
        for (int64_t p = 0; p < dv; p += kW) {
          acc = xsimd::fma(Vec::load_unaligned(kj + p), Vec::load_unaligned(qr + p), acc);
        }
        float s = xsimd::hadd(acc);
        for (int64_t p = dv; p < d; ++p) s += qr[p] * kj[p];
        if (r == 0) clear_row(st + j * ld, cols);
        st[j * ld + r] = s;
      }
    }
  }

  // Zeros the score row's columns (rows of them filled next): whole vectors, cols is a multiple
  // of kW. One store, where zeroing only the padding columns took 15 scalar stores a key.
  static void clear_row(float* row, int cols) {
    for (int c = 0; c < cols; c += kW) Vec(0.0f).store_unaligned(row + c);
  }
};

}  // namespace cpuattn::detail
