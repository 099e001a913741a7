// Scaled dot-product attention over batches and heads:
//   out[b, i, h, :] = sum_j softmax_j(scale * q[b,i,h,:] . k[b,j,g,:] + bias[b,h,i,j]) v[b,j,g,:]
// with g = h / (heads_q / heads_kv) (grouped-query / multi-query attention).
//
// q: [batch, seq_q, heads_q, head_dim]; k: [batch, seq_kv, heads_kv, head_dim];
// v: [batch, seq_kv, heads_kv, head_dim_v]; out: [batch, seq_q, heads_q, head_dim_v]. All strided,
// so BSHD and BHSD storage both work (pass the BHSD strides in BSHD dimension order).
//
// Masks: causal keeps keys j <= i + (seq_kv - seq_q), i.e. aligned bottom-right when seq_q !=
// seq_kv (a chunk of new queries at the end of a longer cache). q_lengths[b] / kv_lengths[b] mark
// padding: padded query rows of out are written as zeros; padded keys are ignored. A query row
// whose keys are all masked gets zeros, never NaN.
//
// Optional outputs [batch, heads_q, seq_q, seq_kv]: scores (raw alignment q . k^T, unscaled and
// unmasked) and weights (the softmax). Asking for either runs the unfused path.
#pragma once

#include <cstdint>

#include "cpuattn/context.hpp"
#include "cpuattn/softmax.hpp"
#include "cpuattn/status.hpp"
#include "cpuattn/tensor.hpp"

namespace cpuattn {

enum class AttentionAlgorithm : int {
  kAuto = 0,      // fused unless weights or scores are requested
  kFused = 1,     // flash-style, never materialises seq_q x seq_kv
  kComposed = 2,  // scores = q k^T (sgemm), softmax, out = weights v (sgemm)
};

struct AttentionOptions {
  float scale = 0.0f;  // 0: 1 / sqrt(head_dim)
  MaskKind mask = MaskKind::kNone;
  const int32_t* q_lengths = nullptr;   // [batch] or null
  const int32_t* kv_lengths = nullptr;  // [batch] or null
  TensorView<const float> bias;         // [batch, heads_q, seq_q, seq_kv], broadcast by stride 0
  TensorView<float> weights;            // optional output
  TensorView<float> scores;             // optional output
  AttentionAlgorithm algorithm = AttentionAlgorithm::kAuto;
};

Status attention(const Context& ctx, TensorView<const float> q, TensorView<const float> k,
                 TensorView<const float> v, TensorView<float> out,
                 const AttentionOptions& options = {});

}  // namespace cpuattn
