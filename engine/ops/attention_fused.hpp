// Flash-style attention: per (batch, head, query block), walk the key blocks computing scores with
// the microkernel, the online softmax, and the rescaled P.V accumulation; the seq_q x seq_kv
// matrix never exists. Scores are computed transposed (keys x queries) so the softmax runs down
// columns with plain vector ops (no horizontal reductions). K and V are packed once per (batch,
// kv head): by the task that then runs all of that head's query blocks when these pairs split
// evenly over the threads, else in groups that bound the shared scratch; each query block packs
// its queries (pre-scaled). Causal attention skips key blocks past the diagonal.
#pragma once

#include "api/context_impl.hpp"
#include "ops/attention_problem.hpp"
#include "ops/gemm_driver.hpp"

namespace cpuattn::detail {

// K and V rows must have unit stride along head_dim.
bool attention_fused_supports(const AttentionProblem& p);
struct AttentionScratch {
  std::size_t shared = 0, per_worker = 0;  // floats
};
AttentionScratch attention_fused_scratch(const ContextImpl& ctx, const AttentionProblem& p);
void attention_fused(ContextImpl& ctx, const Workspace& ws, const AttentionProblem& p);

}  // namespace cpuattn::detail
