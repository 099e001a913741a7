// The per-ISA kernel table: every SIMD entry point the drivers call, plus the register tile shape.
// Each engine/isa/<name>.cpp builds one table from the templates in engine/kernels/.
#pragma once

#include <cstdint>

#include "cpuattn/context.hpp"

namespace cpuattn::detail {

// One register tile of C: C[0:m, 0:n] = alpha * A * B + beta * C (m <= mr, n <= nr), or with
// row_scale: C[r, :] = row_scale[r] * C[r, :] + alpha * (A * B)[r, :] (the online-softmax rescale).
// A(r, p) is a[p * lda + r] for the column-panel layout (packed A, P^T) and a[r * lda + p] for the
// row layout (A used in place, K rows); rows >= m are never read. B(p, j) is b[p * ldb + j] and
// all nr columns must be readable (packed, padded or interior). beta == 0 never reads C.
struct TileArgs {
  int64_t k;
  const float* a;
  int64_t lda;
  const float* b;
  int64_t ldb;
  // Non-null: B's k x nr floats are also copied here as they are read (b_copy[p * nr + j] =
  // B(p, j)), packing the strip for the tiles after this one.
  float* b_copy;
  float* c;
  int64_t ldc;
  int m;
  int n;
  float alpha;
  float beta;
  const float* row_scale;
  bool prefetch_c;  // C is not cache-resident: prefetch its lines for writing before the k loop
  // Lines from here on to prefetch into L2, one per k step (null: none): the driver's share of
  // the next packed B strip for this tile.
  const float* prefetch_b;
  int64_t prefetch_b_lines;
};
using GemmTileFn = void (*)(const TileArgs& t);

// Packs A(i, p) = src[i * rs + p * cs] * scale, i < m, p < k, into ceil(m / mr) panels of k
// columns of mr floats (rows past m are zero).
using PackAFn = void (*)(const float* src, int64_t rs, int64_t cs, int64_t m, int64_t k,
                         float scale, float* dst);
// Packs B(p, j) = src[p * rs + j * cs] * scale into ceil(n / nr) panels of k rows of nr floats
// (columns past n are zero).
using PackBFn = void (*)(const float* src, int64_t rs, int64_t cs, int64_t k, int64_t n,
                         float scale, float* dst);

// acc[r * ld + j] += sum over p < k of A(r, p) * b[p * ldb + j] for r < rows (1..kAxpyMaxRows),
// j < n, with A(r, p) = a[r * a_rs + p * a_cs]: a few rows times a row-major B, read front to
// back. Column j's sum is the same whatever n (and whatever columns come before it in the call)
// while it is a vector's lane, which callers keep by splitting columns at multiples of 16.
constexpr int kAxpyMaxRows = 48;
using AxpyRowsFn = void (*)(const float* a, int64_t a_rs, int64_t a_cs, int rows, const float* b,
                            int64_t ldb, int64_t k, int64_t n, float* acc, int64_t ld);

// out[r * ld + j] = sum over p < k of a[r * lda + p] * b[j * ldb + p] for r < rows
// (1..kDotMaxRows), j < n: a few rows times a transposed B, each row of B read front to back.
// Column j's sum does not depend on n or on the columns before it.
constexpr int kDotMaxRows = 8;
using DotRowsFn = void (*)(const float* a, int64_t lda, int rows, const float* b, int64_t ldb,
                           int64_t n, int64_t k, float* out, int64_t ld);

// y = softmax(scale * x + bias) over n >= 1 contiguous floats (bias may be null); log-softmax if
// log. A row whose every t is -inf becomes 0 (or -inf for log). y may equal x. With stage
// (kSoftmaxStageFloats(n) floats of scratch, not aliasing x or y) y is written once with
// non-temporal stores: for outputs too large to stay in cache; the caller fences (stream_fence)
// before the results are read.
// next (may be null): the row to be processed after this one, prefetched during the exp pass so
// its first pass does not wait on DRAM.
using SoftmaxRowFn = void (*)(const float* x, const float* bias, float* y, int64_t n, float scale,
                              bool log, float* stage, const float* next);

// Two slots of n floats, each placed half a page from its row of x (see SoftmaxRow::stage_slot);
// a streaming row uses one slot of n + 16 (its exponentials at x's lane positions).
constexpr int64_t kSoftmaxStageFloats(int64_t n) {
  return 2 * (n + 2048);
}

// softmax_row over rows rows: x + r * ldx, bias + r * ldbias (bias may be null), y + r * ldy. One
// call per run of rows, so short rows do not pay a call and the driver's indexing each (a third
// of a 128-column row's instructions did). stage: kSoftmaxStageFloats(n) floats of scratch (not
// aliasing x or y), or null (the exponentials then wait in y). With stream, rows are streamed as in
// softmax_row (stage required) and each prefetches the row `ahead` rows on.
using SoftmaxRowsFn = void (*)(const float* x, int64_t ldx, const float* bias, int64_t ldbias,
                               float* y, int64_t ldy, int64_t rows, int64_t n, float scale,
                               bool log, float* stage, bool stream, int64_t ahead);

// One key block of the online softmax, columns = queries: st[r * ld + c] holds scores for key r
// and query c (c < cols, cols a multiple of the vector width), in log2 units (natural logits times
// log2(e), which the caller folds into its query scale). Updates the running max m[c] and sum
// l[c], writes the rescale factor alpha[c] = 2^(m_old - m_new) and replaces scores by
// p = 2^(s - m_new) = exp(natural logit - natural max). Fully masked columns (-inf so far) keep p =
// 0, alpha = 0. Causal (visible_base != INT64_MIN): column c sees only rows r < c + visible_base;
// for each vector of columns the rows none of its columns sees are skipped and written as p = 0.
using OnlineSoftmaxFn = void (*)(float* st, int64_t ld, int rows, int cols, int64_t visible_base,
                                 float* m, float* l, float* alpha);

// st[j * ld + r] = q_r . k_j for r < rows, j < nk: q_r = q + r * ldq, k_j = k + j * ldk, both d
// contiguous floats; columns rows <= r < cols (cols a multiple of the vector width) are set to 0.
// For a few query rows (decode), where the microkernel's tile would be mostly padding. kcopy:
// scratch of 16 * d floats.
using ScoreRowsFn = void (*)(const float* q, int64_t ldq, int rows, int cols, const float* k,
                             int64_t ldk, int64_t nk, int64_t d, float* st, int64_t ld,
                             float* kcopy);

// y = exp(x) (vexp) or, for exp2, y = 2^x for x <= 0 (vexp2_nonpositive), n contiguous floats.
using ExpFn = void (*)(const float* x, float* y, int64_t n);
using FenceFn = void (*)();
// y[i] = x[i] * s for n contiguous floats.
using ScaleCopyFn = void (*)(const float* x, float s, float* y, int64_t n);
// y[i] = value for n contiguous floats with non-temporal stores (whole lines; the caller fences, as
// for streamed softmax rows).
using StreamFillFn = void (*)(float* y, int64_t n, float value);

struct KernelTable {
  Isa isa;
  const char* name;
  int mr;
  int nr;
  int vector_width;
  GemmTileFn gemm_tile_cols;
  GemmTileFn gemm_tile_rows;
  // The same with t.b_copy set: the tile also packs its strip of B (separate entries, so the
  // tiles without a copy never test for it: a test in run() cost 8% at 96^3, where none copies).
  GemmTileFn gemm_tile_cols_copying_b;
  GemmTileFn gemm_tile_rows_copying_b;
  PackAFn pack_a;
  PackBFn pack_b;
  AxpyRowsFn axpy_rows;
  DotRowsFn dot_rows;
  SoftmaxRowFn softmax_row;
  SoftmaxRowsFn softmax_rows;
  OnlineSoftmaxFn online_softmax;
  ScoreRowsFn score_rows;
  ExpFn exp;
  ExpFn exp2;
  ScaleCopyFn scale_copy;
  FenceFn stream_fence;
  StreamFillFn stream_fill;
  // Softmax outputs too large for cache are streamed (non-temporal stores) in rows of at least
  // this many columns; shorter rows keep plain stores and the grouped passes.
  int64_t softmax_stream_min_columns;
};

// Whether this build has kernels for isa (no ISA code runs to answer).
bool isa_compiled(Isa isa);
// nullptr when this build has no kernels for isa or the CPU cannot run them.
const KernelTable* kernel_table_for(Isa isa);

}  // namespace cpuattn::detail
