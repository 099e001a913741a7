// Single-precision matrix product, row-major with leading dimensions, BLAS semantics:
// C = alpha * op(A) * op(B) + beta * C. beta == 0 never reads C (it may hold NaN).
#pragma once

#include <cstdint>

#include "cpuattn/context.hpp"
#include "cpuattn/status.hpp"

namespace cpuattn {

enum class Transpose : int { kNo = 0, kYes = 1 };

struct GemmArgs {
  Transpose trans_a = Transpose::kNo;
  Transpose trans_b = Transpose::kNo;
  int64_t m = 0, n = 0, k = 0;
  float alpha = 1.0f;
  const float* a = nullptr;
  int64_t lda = 0;  // row stride of A as stored (k when not transposed and dense)
  const float* b = nullptr;
  int64_t ldb = 0;
  float beta = 0.0f;
  float* c = nullptr;
  int64_t ldc = 0;
};

Status sgemm(const Context& ctx, const GemmArgs& args);

// batch products C_i = alpha * op(A_i) * op(B_i) + beta * C_i with A_i = a + i * stride_a, etc.
// A stride may be 0 (shared operand); C blocks must not overlap.
struct StridedBatch {
  int64_t count = 1;
  int64_t stride_a = 0, stride_b = 0, stride_c = 0;
};
Status sgemm_batched(const Context& ctx, const GemmArgs& args, const StridedBatch& batch);

}  // namespace cpuattn
