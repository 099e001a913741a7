#include "ops/gemm_skinny.hpp"

#include <algorithm>
#include <cstdint>

namespace cpuattn::detail {
namespace {

// The accumulators of axpy_rows' chunk of columns: in L1 next to the four rows of B it streams,
// in L2 past 8 rows. Zen 4, 1 thread, interleaved: with the line-aligned accumulators (below),
// against 32768 floats and accumulators at B's offset in a line: B 16 bytes off its lines
// 32 x 4096^2 1.27-1.32x (1.07x aligned alone), 32 x 2048^2 1.22x, 16 x 4096^2 1.08-1.26x,
// 12 x 4096^2 1.09x; B on its lines 16 and 20 x 4096^2 0.95x, 32 x 4096^2 1.04x; 2 threads
// 32 x 4096^2 1.16x, 16 x 4096^2 0.94x.
constexpr int64_t kAccFloats = 4096;
constexpr int64_t kAccFloatsMany = 16384;
// Columns of C a dot_rows call computes, its sums (m x chunk) in L1.
constexpr int64_t kDotChunk = 256;

// dot_rows reloads 5-8 rows of A for every pair of B's rows: in k blocks, they stay in half of L1
// (each block's sums added). Zen 4, 1 thread, interleaved: 8 x 1024^2^T 1.11x, 6 x 2048^2^T
// 1.06x, 8 x 4096^2^T 1.04x, 8 x 512^2^T 1.0x; 2 x 4096^2^T lost 7% (4 rows of B a pass), so
// up to 4 rows take k whole.
constexpr int64_t kDotAFloats = 4096;
int64_t dot_k_block(const GemmProblem& p) {
  if (p.m <= 4) return p.k;
  return kDotAFloats / p.m / 16 * 16;
}

bool b_rows_contiguous(const GemmProblem& p) {
  return p.b_cs == 1;
}

int64_t axpy_chunk(const GemmProblem& p) {
  const int64_t floats = p.m <= 8 ? kAccFloats : kAccFloatsMany;
  return std::max(kSkinnySplit, floats / p.m / kSkinnySplit * kSkinnySplit);
}
// Accumulator rows a line more than a chunk apart: chunks of 4096 / m floats (m = 1, 2, 4) would
// put every row at the same offset in its page.
int64_t axpy_ld(int64_t chunk) {
  return chunk + 16;
}
// The accumulators' place in the scratch (a page of slack): half a page from B's rows in the
// page. A store to an accumulator at B's offset in a page holds up the next loads of B (4K
// aliasing: the addresses agree in their low 12 bits); 4 x 1024 x 1024 ran at a third of the
// blocked driver's speed with accumulator and B rows all a page apart. And on a line boundary
// (16 floats of slack past the page), whatever B's: with B 16 bytes off its lines (a std::vector)
// every accumulator load and store split two lines. Zen 4, 1 thread, interleaved, B 16 bytes off:
// 4 x 4096^2 +22%, 8 x 4096^2 +5-16%, 12 to 48 x 4096^2 +7-9%, 1 x 4096^2 unchanged.
constexpr int64_t kPageFloats = 1024;
constexpr int64_t kLineFloats = 16;
float* place_accumulators(float* scratch, const float* b) {
  const auto floats = [](const void* q) {
    return static_cast<int64_t>(reinterpret_cast<std::uintptr_t>(q) / sizeof(float));
  };
  const int64_t off = (floats(b) + kPageFloats / 2 - floats(scratch)) % kPageFloats;
  float* acc = scratch + (off + kPageFloats) % kPageFloats;
  const auto line_offset =
      static_cast<int64_t>(reinterpret_cast<std::uintptr_t>(acc) / sizeof(float) % kLineFloats);
  return acc + (kLineFloats - line_offset) % kLineFloats;
}

// C[r, j] = alpha * s(r, j) + beta * C[r, j] for the chunk's columns; beta = 0 never reads C.
template <class Sum>
void store_c(const GemmProblem& p, int64_t j0, int64_t cols, Sum s) {
  for (int64_t r = 0; r < p.m; ++r) {
    float* c = p.c + r * p.ldc + j0;
    if (p.beta == 0.0f) {
      for (int64_t j = 0; j < cols; ++j) c[j] = p.alpha * s(r, j);
    } else {
      for (int64_t j = 0; j < cols; ++j) c[j] = p.alpha * s(r, j) + p.beta * c[j];
    }
  }
}

}  // namespace

// Zen 4, 1 thread, interleaved against the blocked driver (L2 1 MiB, mc x kc = 480 KiB). B
// row-major, B of at least mc x kc floats: 1 x 4096^2 3.1x, 1 x 512^2 1.8x, 2 x 400^2 1.9x,
// 4 x 4096^2 2.1x, 4 x 1024^2 1.4x; with 5-8 rows from 3 mc x kc: 8 x 2048^2 2.5x, 7 x 2000^2
// 1.24x, 8 x 900^2 1.18x, 8 x 724^2 1.06x, 8 x 4096^2 1.0x, but 8 x 512^2 (B 1 MiB, in L2) 0.9x
// (there eight rows of accumulators in registers win); with 9-48 rows only where B's rows are a
// page apart (the driver's strips then step a page a row, and a B 16 bytes off its lines, as a
// std::vector's, took 3 lines a row where 2 would do): 12 x 1024^2 1.25x, 16 x 1024^2 1.05x,
// 12 x 4096^2 0.97-1.17x, 16 x 4096^2 1.43-1.58x; past 16 rows from 16 mc x kc (past an L3 share):
// 32 x 2048^2 1.57x (1.69x 16 bytes off), 48 x 2048^2 1.36x, 32 x 4096^2 0.88x (1.33x), 48 x
// 4096^2 1.02x (1.29x); 32 x 1024^2 (B in L3) 0.6-1.0x stays with the driver. B of 64^2: 0.6x. B
// transposed, B of at least mc x kc: from memory (4096^2) 1 row 2.4x, 2 to 4 rows 1.5-2.1x, 8 rows
// 0.98x; from L3 (1024^2) 1 row 4.2x, 4 rows 2.0x, 8 rows 1.15x; 8 x 512^2 1.3x.
bool gemm_is_skinny(const GemmBlocking& blocking, const GemmProblem& p) {
  const int64_t l2_block = int64_t{blocking.mc} * blocking.kc;
  const int64_t b_floats = p.k * p.n;
  if (b_rows_contiguous(p)) {
    const bool rows_page_apart = p.b_rs * static_cast<int64_t>(sizeof(float)) >= 4096;
    if (p.m <= 8) return b_floats >= (p.m <= 4 ? 1 : 3) * l2_block;
    return p.m <= kAxpyMaxRows && rows_page_apart && b_floats >= (p.m <= 16 ? 3 : 16) * l2_block;
  }
  return p.m <= kDotMaxRows && p.b_rs == 1 && p.a_cs == 1 && b_floats >= l2_block;
}

std::size_t gemm_skinny_scratch(const GemmProblem& p) {
  if (b_rows_contiguous(p)) {
    return static_cast<std::size_t>(p.m * axpy_ld(axpy_chunk(p)) + kPageFloats + kLineFloats);
  }
  return static_cast<std::size_t>(2 * kDotChunk * p.m);
}

void gemm_skinny(const KernelTable& kt, const GemmProblem& p, int64_t j0, int64_t j1,
                 float* scratch) {
  if (b_rows_contiguous(p)) {
    const int64_t chunk = axpy_chunk(p), ld = axpy_ld(chunk);
    for (int64_t jc = j0; jc < j1; jc += chunk) {
      const int64_t cols = std::min(chunk, j1 - jc);
      float* acc = place_accumulators(scratch, p.b + jc);
      std::fill(acc, acc + p.m * ld, 0.0f);
      kt.axpy_rows(p.a, p.a_rs, p.a_cs, static_cast<int>(p.m), p.b + jc, p.b_rs, p.k, cols, acc,
                   ld);
      store_c(p, jc, cols, [&](int64_t r, int64_t j) { return acc[r * ld + j]; });
    }
    return;
  }
  float* sums = scratch;
  float* part = scratch + kDotChunk * p.m;
  const int64_t kb = dot_k_block(p);
  for (int64_t jc = j0; jc < j1; jc += kDotChunk) {
    const int64_t cols = std::min(kDotChunk, j1 - jc);
    for (int64_t pc = 0; pc < p.k; pc += kb) {
      float* out = pc == 0 ? sums : part;
      kt.dot_rows(p.a + pc, p.a_rs, static_cast<int>(p.m), p.b + jc * p.b_cs + pc, p.b_cs, cols,
                  std::min(kb, p.k - pc), out, kDotChunk);
      if (pc == 0) continue;
      for (int64_t r = 0; r < p.m; ++r) {
        for (int64_t j = 0; j < cols; ++j) sums[r * kDotChunk + j] += part[r * kDotChunk + j];
      }
    }
    store_c(p, jc, cols, [&](int64_t r, int64_t j) { return sums[r * kDotChunk + j]; });
  }
}

}  // namespace cpuattn::detail
