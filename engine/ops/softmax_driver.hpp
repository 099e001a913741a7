// Masked, scaled softmax over the last axis of [batch, heads, rows, cols], parallel over rows.
// Every mask cpuattn supports keeps a prefix of each row (causal: j <= i + cols - rows; padding:
// j < key_length), so a row is the kernel on its first `valid` columns plus a constant fill.
#pragma once

#include <cstdint>

#include "api/context_impl.hpp"
#include "ops/gemm_driver.hpp"

namespace cpuattn::detail {

struct StridedRow {
  const float* data = nullptr;
  int64_t stride = 1;  // between columns
};

struct SoftmaxProblem {
  int64_t dims[4] = {1, 1, 1, 1};  // batch, heads, rows, cols
  const float* src = nullptr;
  int64_t src_strides[4] = {};
  float* dst = nullptr;
  int64_t dst_strides[4] = {};
  float scale = 1.0f;
  bool causal = false;
  bool log = false;
  const int32_t* key_lengths = nullptr;
  const float* bias = nullptr;  // strides already 0 on broadcast dims
  int64_t bias_strides[4] = {};
};

// Columns of row `row` (of `rows`) that survive the masks.
int64_t softmax_valid_columns(bool causal, int64_t row, int64_t rows, int64_t cols,
                              int64_t key_length);

// One row: y = softmax(scale * x + bias) over the first `valid` columns, fill after. Non-unit
// strides go through `scratch` (3 * cols floats, and with stream kSoftmaxStageFloats(cols) more
// for the stage). stream: write y with non-temporal stores (the caller fences before the results
// are read) and prefetch `next`, the following row's input.
void masked_softmax_row(const KernelTable& kt, StridedRow x, StridedRow bias, float* y,
                        int64_t y_stride, int64_t cols, int64_t valid, float scale, bool log,
                        bool stream, const float* next, float* scratch);

// Per-worker scratch, floats.
std::size_t softmax_scratch(const SoftmaxProblem& p);
void softmax_run(ContextImpl& ctx, const Workspace& ws, const SoftmaxProblem& p);

}  // namespace cpuattn::detail
