// Unfused attention: per (batch, head), scores = q k^T with the GEMM driver, the masked softmax,
// out = weights v. It materialises seq_q x seq_kv per thread: used when the caller asks for the
// scores or weights, for layouts the fused kernel does not read, and as a benchmark baseline.
#pragma once

#include "api/context_impl.hpp"
#include "ops/attention_problem.hpp"
#include "ops/gemm_driver.hpp"

namespace cpuattn::detail {

std::size_t attention_composed_scratch(const ContextImpl& ctx, const AttentionProblem& p);
void attention_composed(ContextImpl& ctx, const Workspace& ws, const AttentionProblem& p);

}  // namespace cpuattn::detail
