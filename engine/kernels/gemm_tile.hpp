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

  // Short edge tiles compute 2/3 or 1/3 of the rows: a 4-row tail (64 rows = 5 x 12 + 4) no
  // longer costs a full 12-row tile.
  static constexpr int kMr2 = kMr * 2 / 3;
  static constexpr int kMr1 = kMr / 3;

  // kM rows of accumulators (m <= kM). kRows: A(r, p) = a[r * lda + p]; else a[p * lda + r].
  // kFullM: m == kM (offsets are constants).
  // kPrefetch: the first prefetch_b_lines steps also start a line each on its way to L2 (see
  // TileArgs); a separate instantiation, as the tiles without it ran 2-3% slower with the extra
  // loop in place (128^3 to 512^3, Intel Xeon VM).
  // kCopyB: each k step's B vectors are also stored to t.b_copy (see TileArgs).
  template <bool kRows, int kM, bool kFullM, bool kPrefetch, bool kCopyB = false>
  static inline void accumulate(const TileArgs& t, Vec (&acc)[kM][kNv]) {
    const float* b = t.b;
    float* b_copy = t.b_copy;
    // Steps whose row 8 steps ahead is still one of B's (see below).
    int64_t ahead_rows = kCopyB ? t.k - 8 : 0;
    // Row r of A at base[r / 3] + (r % 3) * lda: four base pointers and one index register
    // (scaled by 4 or 8 in the address) instead of twelve offsets, which spilled out of the
    // general registers in the k loop.
    constexpr int kBases = (kM + 2) / 3;
    const float* base[kBases];
    int64_t off[kM];
#pragma GCC unroll 16
    for (int r = 0; r < kM; ++r) {
      const int64_t row = kFullM ? r : std::min(r, t.m - 1);  // never read rows >= m
      off[r] = kRows ? row * t.lda : row;
    }
#pragma GCC unroll 8
    for (int i = 0; i < kBases; ++i) base[i] = t.a + off[3 * i];
    const int64_t a_step = kRows ? 1 : t.lda;
    auto step = [&]() __attribute__((always_inline)) {
      Vec bv[kNv];
#pragma GCC unroll 4
      for (int v = 0; v < kNv; ++v) bv[v] = Vec::load_unaligned(b + v * kW);
      if constexpr (kCopyB) {
        // B's rows far apart: each step's lines are requested 8 steps ahead, never past B's
        // last row (whatever follows may be lines another core is writing).
        if (ahead_rows-- > 0) {
          const float* ahead = b + 8 * t.ldb;
#pragma GCC unroll 4
          for (int v = 0; v < kNv; ++v) __builtin_prefetch(ahead + v * kW);
          __builtin_prefetch(ahead + kNr - 1);
        }
#pragma GCC unroll 4
        for (int v = 0; v < kNv; ++v) bv[v].store_unaligned(b_copy + v * kW);
        b_copy += kNr;
      }
#pragma GCC unroll 16
      for (int r = 0; r < kM; ++r) {
        const float* row = base[r / 3];
        // Full tiles address rows by the constant multiple; edge tiles repeat row m - 1.
        const Vec av(kRows && kFullM ? row[(r % 3) * t.lda] : row[off[r] - off[r / 3 * 3]]);
#pragma GCC unroll 4
        for (int v = 0; v < kNv; ++v) acc[r][v] = xsimd::fma(av, bv[v], acc[r][v]);
      }
#pragma GCC unroll 8
      for (int i = 0; i < kBases; ++i) base[i] += a_step;
      b += t.ldb;
    };
    int64_t p = 0;
    // Two k steps per iteration: the loop's pointer and counter updates otherwise took issue
    // slots from the FMA ports often enough to cost ~5% on Intel (AVX-512, both operands in L1).
    if constexpr (kPrefetch) {
      const int64_t prefetch_steps = std::min(t.k, t.prefetch_b_lines);
      const char* pf = reinterpret_cast<const char*>(t.prefetch_b);
#pragma GCC unroll 2
      for (; p < prefetch_steps; ++p) {
        __builtin_prefetch(pf + p * 64, 0, 2);
        step();
      }
    }
#pragma GCC unroll 2
    for (; p < t.k; ++p) step();
  }

  // Full tile straight from the registers. The edge path is out of line so the accumulators
  // never go through the stack here (measured: ~10% at k = 64 when they did).
  // kUpdate: C = scale[r] * C + alpha * acc, with scale from row_scale or beta.
  template <bool kUpdate>
  static inline void store_rows(const TileArgs& t, Vec (&acc)[kMr][kNv]) {
    const Vec alpha(t.alpha);
    const bool scaled = t.alpha != 1.0f;
    const float* row_scale = t.row_scale;
    const float beta = t.beta;
    float* c = t.c;
    const int64_t ldc = t.ldc;
#pragma GCC unroll 16
    for (int r = 0; r < kMr; ++r) {
      float* cr = c + r * ldc;
      const Vec s(kUpdate ? (row_scale != nullptr ? row_scale[r] : beta) : 0.0f);
#pragma GCC unroll 4
      for (int v = 0; v < kNv; ++v) {
        Vec x = scaled ? acc[r][v] * alpha : acc[r][v];
        if (kUpdate) x = xsimd::fma(Vec::load_unaligned(cr + v * kW), s, x);
        x.store_unaligned(cr + v * kW);
      }
    }
  }

  // Full tile. The fields are read into locals once: the stores to C may alias t, so reading
  // them inside the loop reloaded and re-tested them for every vector.
  static inline void store_full(const TileArgs& t, Vec (&acc)[kMr][kNv]) {
    if (t.row_scale != nullptr || t.beta != 0.0f) {
      store_rows<true>(t, acc);
    } else {
      store_rows<false>(t, acc);
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

  // One instantiation per (layout, rows, full rows): a shared accumulator array across the row
  // cases made GCC keep it in memory after the loop.
  template <bool kRows, int kM, bool kFullM, bool kPrefetch = false, bool kCopyB = false>
  static void run_tile(const TileArgs& t) {
    if (t.prefetch_c) {
      // Start the C lines' ownership requests now so they overlap the k loop: C rows ldc apart
      // (8 KiB in a 2048-wide product) otherwise miss one by one at the store.
      for (int r = 0; r < t.m; ++r) {
        for (int j = 0; j < kNr; j += 16) __builtin_prefetch(t.c + r * t.ldc + j, 1, 3);
      }
    }
    Vec acc[kM][kNv];
#pragma GCC unroll 16
    for (int r = 0; r < kM; ++r) {
#pragma GCC unroll 4
      for (int v = 0; v < kNv; ++v) acc[r][v] = Vec(0.0f);
    }
    accumulate<kRows, kM, kFullM, kPrefetch, kCopyB>(t, acc);
    if constexpr (kM == kMr && kFullM) {
      if (t.n == kNr) {
        store_full(t, acc);
        return;
      }
    }
    alignas(64) float tile[kM * kNr];
    // Fully unrolled like every loop over acc: a rolled one makes the array addressable, and GCC
    // then keeps all accumulators in memory.
#pragma GCC unroll 16
    for (int r = 0; r < kM; ++r) {
#pragma GCC unroll 4
      for (int v = 0; v < kNv; ++v) acc[r][v].store_aligned(tile + r * kNr + v * kW);
    }
    store_edge(t, tile);
  }

  // One row (a decoding step's P V, a matrix-vector product), where the kMr1-row tile did 4 times
  // the work. Alternate k steps go to two accumulator sets, so two FMA chains per vector are in
  // flight instead of one waiting on its latency.
  template <bool kRows>
  static void run_row(const TileArgs& t) {
    if (t.prefetch_c) {
      for (int j = 0; j < kNr; j += 16) __builtin_prefetch(t.c + j, 1, 3);
    }
    Vec acc0[kNv], acc1[kNv];
#pragma GCC unroll 4
    for (int v = 0; v < kNv; ++v) acc0[v] = acc1[v] = Vec(0.0f);
    const float* a = t.a;
    const float* b = t.b;
    const int64_t a_step = kRows ? 1 : t.lda;
    int64_t p = 0;
    for (; p + 2 <= t.k; p += 2) {
      const Vec a0(a[0]), a1(a[a_step]);
#pragma GCC unroll 4
      for (int v = 0; v < kNv; ++v) {
        acc0[v] = xsimd::fma(a0, Vec::load_unaligned(b + v * kW), acc0[v]);
        acc1[v] = xsimd::fma(a1, Vec::load_unaligned(b + t.ldb + v * kW), acc1[v]);
      }
      a += 2 * a_step;
      b += 2 * t.ldb;
    }
    if (p < t.k) {
      const Vec a0(a[0]);
#pragma GCC unroll 4
      for (int v = 0; v < kNv; ++v)
        acc0[v] = xsimd::fma(a0, Vec::load_unaligned(b + v * kW), acc0[v]);
    }
    alignas(64) float tile[kNr];
#pragma GCC unroll 4
    for (int v = 0; v < kNv; ++v) (acc0[v] + acc1[v]).store_aligned(tile + v * kW);
    store_edge(t, tile);
  }

  // B copied out on its own, for the tiles without a copying instantiation.
  static void copy_b(const TileArgs& t) {
    for (int64_t p = 0; p < t.k; ++p) {
      std::copy(t.b + p * t.ldb, t.b + p * t.ldb + kNr, t.b_copy + p * kNr);
    }
  }

  // run() for a tile that also copies its strip of B to t.b_copy (non-null).
  template <bool kRows>
  static void run_copying_b(const TileArgs& t) {
    if (t.m == kMr && t.n == kNr && t.prefetch_b == nullptr) {
      run_tile<kRows, kMr, true, false, true>(t);
      return;
    }
    copy_b(t);
    run<kRows>(t);
  }

  template <bool kRows>
  static void run(const TileArgs& t) {
    // Only full tiles prefetch: edge tiles are few.
    if (t.m == kMr && t.prefetch_b != nullptr) {
      run_tile<kRows, kMr, true, true>(t);
    } else if (t.m == kMr) {
      run_tile<kRows, kMr, true>(t);
    } else if (t.m > kMr2) {
      run_tile<kRows, kMr, false>(t);
    } else if (t.m > kMr1) {
      run_tile<kRows, kMr2, false>(t);
    } else if (t.m > 1) {
      run_tile<kRows, kMr1, false>(t);
    } else {
      run_row<kRows>(t);
    }
  }
};

}  // namespace cpuattn::detail
