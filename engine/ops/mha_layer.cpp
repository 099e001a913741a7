#include "ops/mha_layer.hpp"

#include "ops/gemm_driver.hpp"

namespace cpuattn::detail {

Status project(ContextImpl& ctx, const Projection& proj, const float* x, int64_t rows, int64_t x_rs,
               int64_t x_cs, float* y, int64_t ldy) {
  // Bias first, then accumulate the product onto it (beta = 1): one pass over y.
  for (int64_t i = 0; i < rows; ++i) {
    float* row = y + i * ldy;
    for (int64_t j = 0; j < proj.out; ++j) row[j] = proj.bias.empty() ? 0.0f : proj.bias[j];
  }
  GemmProblem g;
  g.m = rows;
  g.n = proj.out;
  g.k = proj.in;
  g.a = x;
  g.a_rs = x_rs;
  g.a_cs = x_cs;
  g.b = proj.weight_t.data();
  g.b_rs = proj.out;
  g.b_cs = 1;
  g.c = y;
  g.ldc = ldy;
  g.alpha = 1.0f;
  g.beta = 1.0f;
  auto ws = ctx.scratch->acquire();
  CPUATTN_RETURN_IF_ERROR(ws->reserve(0, gemm_parallel_scratch(ctx, g), ctx.scratch_limit_bytes));
  gemm_parallel(ctx, *ws, g);
  return Status::ok();
}

}  // namespace cpuattn::detail
