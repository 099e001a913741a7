// The microkernel: one mr x nr tile of C, accumulators in registers (contract in kernel_table.hpp).
#pragma once

#include <algorithm>
#include <cstdint>
#include <xsimd/xsimd.hpp>

#include "dispatch/kernel_table.hpp"
#include "kernels/tile_shape.hpp"

namespace cpuattn::detail {

template <class Arch>
struct GemmTile {
  using Vec = xsimd::batch<float, Arch>;
  static constexpr int kW = static_cast<int>(Vec::size);
  static constexpr int kMr = TileShape<Arch>::kMr;
  static constexpr int kNv = TileShape<Arch>::kNv;
  static constexpr int kNr = TileShape<Arch>::kNr;

  // kRows: A(r, p) = a[r * lda + p]; else a[p * lda + r]. kFullM: m == kMr (offsets are constants).
  template <bool kRows, bool kFullM>
  static inline void accumulate(const TileArgs& t, Vec (&acc)[kMr][kNv]) {
    const float* a = t.a;
    const float* b = t.b;
    int64_t off[kMr];
#pragma GCC unroll 16
    for (int r = 0; r < kMr; ++r) {
      const int64_t row = kFullM ? r : std::min(r, t.m - 1);  // never read rows >= m
      off[r] = kRows ? row * t.lda : row;
    }
    const int64_t a_step = kRows ? 1 : t.lda;
    for (int64_t p = 0; p < t.k; ++p) {
      Vec bv[kNv];
#pragma GCC unroll 4
      for (int v = 0; v < kNv; ++v) bv[v] = Vec::load_unaligned(b + v * kW);
#pragma GCC unroll 16
      for (int r = 0; r < kMr; ++r) {
        const Vec av(a[off[r]]);
#pragma GCC unroll 4
        for (int v = 0; v < kNv; ++v) acc[r][v] = xsimd::fma(av, bv[v], acc[r][v]);
      }
      a += a_step;
      b += t.ldb;
    }
  }

  static inline void store(const TileArgs& t, Vec (&acc)[kMr][kNv]) {
    const Vec alpha(t.alpha);
    if (t.m == kMr && t.n == kNr) {
#pragma GCC unroll 16
      for (int r = 0; r < kMr; ++r) {
        float* c = t.c + r * t.ldc;
#pragma GCC unroll 4
        for (int v = 0; v < kNv; ++v) {
          Vec x = acc[r][v] * alpha;
          if (t.row_scale != nullptr) {
            x = xsimd::fma(Vec::load_unaligned(c + v * kW), Vec(t.row_scale[r]), x);
          } else if (t.beta != 0.0f) {
            x = xsimd::fma(Vec::load_unaligned(c + v * kW), Vec(t.beta), x);
          }
          x.store_unaligned(c + v * kW);
        }
      }
      return;
    }
    // Edge tile: spill to a local tile and copy out only the valid part.
    alignas(64) float buf[kMr * kNr];
    for (int r = 0; r < kMr; ++r) {
      for (int v = 0; v < kNv; ++v) (acc[r][v] * alpha).store_aligned(buf + r * kNr + v * kW);
    }
    for (int r = 0; r < t.m; ++r) {
      float* c = t.c + r * t.ldc;
      const float* x = buf + r * kNr;
      if (t.row_scale != nullptr) {
        const float s = t.row_scale[r];
        for (int j = 0; j < t.n; ++j) c[j] = s * c[j] + x[j];
      } else if (t.beta != 0.0f) {
        for (int j = 0; j < t.n; ++j) c[j] = t.beta * c[j] + x[j];
      } else {
        for (int j = 0; j < t.n; ++j) c[j] = x[j];
      }
    }
  }

  template <bool kRows>
  static void run(const TileArgs& t) {
    Vec acc[kMr][kNv];
#pragma GCC unroll 16
    for (int r = 0; r < kMr; ++r) {
#pragma GCC unroll 4
      for (int v = 0; v < kNv; ++v) acc[r][v] = Vec(0.0f);
    }
    if (t.m == kMr) {
      accumulate<kRows, true>(t, acc);
    } else {
      accumulate<kRows, false>(t, acc);
    }
    store(t, acc);
  }
};

}  // namespace cpuattn::detail
