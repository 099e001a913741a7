// The multi-head attention layer's state: projection weights stored transposed ([in, out]
// row-major) once at creation, so every forward streams them as the GEMM's B operand with unit
// column stride (a vector copy when packed) instead of transposing them per call.
#pragma once

#include <cstdint>
#include <vector>

#include "api/context_impl.hpp"
#include "cpuattn/mha.hpp"

namespace cpuattn::detail {

struct Projection {
  int64_t in = 0, out = 0;
  std::vector<float> weight_t;  // [in, out]
  std::vector<float> bias;      // [out] or empty
};

struct MhaImpl {
  MhaConfig config;  // kv_heads, kdim, vdim resolved
  int64_t head_dim = 0;
  Projection q, k, v, o;
};

// y[rows, out] = x[rows, in] (rows with stride x_rs, columns x_cs) W^T + b.
Status project(ContextImpl& ctx, const Projection& proj, const float* x, int64_t rows, int64_t x_rs,
               int64_t x_cs, float* y, int64_t ldy);

}  // namespace cpuattn::detail
