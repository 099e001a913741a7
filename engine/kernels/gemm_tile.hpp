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

  // Full tile straight from the registers. The edge path is out of line so the accumulators
  // never go through the stack here (measured: ~10% at k = 64 when they did).
  static inline void store_full(const TileArgs& t, Vec (&acc)[kMr][kNv]) {
    const Vec alpha(t.alpha);
    const bool scaled = t.alpha != 1.0f;
#pragma GCC unroll 16
    for (int r = 0; r < kMr; ++r) {
      float* c = t.c + r * t.ldc;
#pragma GCC unroll 4
      for (int v = 0; v < kNv; ++v) {
        Vec x = scaled ? acc[r][v] * alpha : acc[r][v];
        if (t.row_scale != nullptr) {
          x = xsimd::fma(Vec::load_unaligned(c + v * kW), Vec(t.row_scale[r]), x);
        } else if (t.beta != 0.0f) {
          x = xsimd::fma(Vec::load_unaligned(c + v * kW), Vec(t.beta), x);
        }
        x.store_unaligned(c + v * kW);
      }
    }
  }

  // Edge tile: the valid m x n part of alpha * acc, from a local copy.
  [[gnu::noinline]] static void store_edge(const TileArgs& t, const float* tile) {
    for (int r = 0; r < t.m; ++r) {
      float* c = t.c + r * t.ldc;
      const float* x = tile + r * kNr;
      if (t.row_scale != nullptr) {
        const float s = t.row_scale[r];
        for (int j = 0; j < t.n; ++j) c[j] = s * c[j] + t.alpha * x[j];
      } else if (t.beta != 0.0f) {
        for (int j = 0; j < t.n; ++j) c[j] = t.beta * c[j] + t.alpha * x[j];
      } else {
        for (int j = 0; j < t.n; ++j) c[j] = t.alpha * x[j];
      }
    }
  }

  // One instantiation per (layout, full rows): a shared accumulator array across the two row
  // cases made GCC keep it in memory after the loop.
  template <bool kRows, bool kFullM>
  static void run_tile(const TileArgs& t) {
    Vec acc[kMr][kNv];
#pragma GCC unroll 16
    for (int r = 0; r < kMr; ++r) {
#pragma GCC unroll 4
      for (int v = 0; v < kNv; ++v) acc[r][v] = Vec(0.0f);
    }
    accumulate<kRows, kFullM>(t, acc);
    if (kFullM && t.n == kNr) {
      store_full(t, acc);
      return;
    }
    alignas(64) float tile[kMr * kNr];
    // Fully unrolled like every loop over acc: a rolled one makes the array addressable, and GCC
    // then keeps all accumulators in memory.
#pragma GCC unroll 16
    for (int r = 0; r < kMr; ++r) {
#pragma GCC unroll 4
      for (int v = 0; v < kNv; ++v) acc[r][v].store_aligned(tile + r * kNr + v * kW);
    }
    store_edge(t, tile);
  }

  template <bool kRows>
  static void run(const TileArgs& t) {
    if (t.m == kMr) {
      run_tile<kRows, true>(t);
    } else {
      run_tile<kRows, false>(t);
    }
  }
};

}  // namespace cpuattn::detail
