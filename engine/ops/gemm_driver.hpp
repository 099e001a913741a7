// The GEMM driver: BLIS loop order jc (nc) -> pc (kc, pack B) -> ic (mc, pack A) -> jr -> ir ->
// microkernel, on general strides (A(i,p) = a[i*a_rs + p*a_cs], B(p,j) = b[p*b_rs + j*b_cs]).
// Every C element is summed over k in the same kc blocks in the same order whatever the thread
// count, so results are bit-identical for any number of threads.
#pragma once

#include <cstddef>
#include <cstdint>

#include "api/context_impl.hpp"

namespace cpuattn::detail {

struct GemmProblem {
  int64_t m = 0, n = 0, k = 0;
  const float* a = nullptr;
  int64_t a_rs = 0, a_cs = 0;
  const float* b = nullptr;
  int64_t b_rs = 0, b_cs = 0;
  float* c = nullptr;
  int64_t ldc = 0;
  float alpha = 1.0f, beta = 0.0f;
};

// Scratch per worker thread, in floats, for gemm_parallel (every driver's scratch is per worker:
// each task packs its own B columns).
std::size_t gemm_parallel_scratch(const ContextImpl& ctx, const GemmProblem& p);
// Scratch one worker needs for gemm_serial.
std::size_t gemm_serial_scratch(const ContextImpl& ctx, const GemmProblem& p);

// Splits the product over the context's threads (or runs inline when it is small).
void gemm_parallel(ContextImpl& ctx, const Workspace& ws, const GemmProblem& p);
// One thread, scratch of gemm_serial_scratch floats (64-byte aligned).
void gemm_serial(const ContextImpl& ctx, const GemmProblem& p, float* scratch);

}  // namespace cpuattn::detail
