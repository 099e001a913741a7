// The attention entry point's two halves, shared with the multi-head layer.
#pragma once

#include "api/context_impl.hpp"
#include "cpuattn/attention.hpp"
#include "ops/attention_problem.hpp"

namespace cpuattn::detail {

Status make_attention_problem(TensorView<const float> q, TensorView<const float> k,
                              TensorView<const float> v, TensorView<float> out,
                              const AttentionOptions& options, AttentionProblem* p);
Status run_attention(ContextImpl& impl, const AttentionProblem& p, AttentionAlgorithm algorithm);

}  // namespace cpuattn::detail
