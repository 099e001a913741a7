// A validated attention call, as the drivers see it. Strides are in elements, in the logical
// order [batch, seq, head, dim] for q/k/v/out and [batch, head, query, key] for
// bias/weights/scores.
#pragma once

#include <cstdint>

namespace cpuattn::detail {

struct AttentionProblem {
  int64_t batch = 0, seq_q = 0, seq_kv = 0, heads_q = 0, heads_kv = 0, head_dim = 0, head_dim_v = 0;
  const float* q = nullptr;
  int64_t qs[4] = {};
  const float* k = nullptr;
  int64_t ks[4] = {};
  const float* v = nullptr;
  int64_t vs[4] = {};
  float* out = nullptr;
  int64_t os[4] = {};
  float scale = 1.0f;
  bool causal = false;
  const int32_t* q_lengths = nullptr;
  const int32_t* kv_lengths = nullptr;
  const float* bias = nullptr;  // 0 strides on broadcast dims
  int64_t bs[4] = {};
  float* weights = nullptr;
  int64_t wts[4] = {};
  float* scores = nullptr;
  int64_t scs[4] = {};

  int64_t q_length(int64_t b) const { return q_lengths != nullptr ? q_lengths[b] : seq_q; }
  int64_t kv_length(int64_t b) const { return kv_lengths != nullptr ? kv_lengths[b] : seq_kv; }
  int64_t kv_head(int64_t h) const { return h / (heads_q / heads_kv); }
  // Causal: query i sees keys j <= i + causal_offset() (aligned bottom-right).
  int64_t causal_offset() const { return seq_kv - seq_q; }
};

}  // namespace cpuattn::detail
