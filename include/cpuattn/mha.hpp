// The multi-head attention layer, with PyTorch nn.MultiheadAttention's weight layout (y = x W^T +
// b, batch-first) so a model's weights load unchanged:
//   Q = xq Wq^T + bq, K = xk Wk^T + bk, V = xv Wv^T + bv, per head attention, heads concatenated,
//   y = concat Wo^T + bo.
// Grouped-query: kv_heads < heads gives Wk, Wv of kv_heads * head_dim rows.
// Weights are copied (and packed) when the layer is created; the caller's buffers may be freed.
#pragma once

#include <cstdint>
#include <memory>

#include "cpuattn/attention.hpp"
#include "cpuattn/context.hpp"
#include "cpuattn/status.hpp"
#include "cpuattn/tensor.hpp"

namespace cpuattn {

struct MhaConfig {
  int64_t embed_dim = 0;  // E: query input width and output width
  int64_t num_heads = 0;  // heads_q; head_dim = embed_dim / num_heads
  int64_t kv_heads = 0;   // 0: num_heads
  int64_t kdim = 0;       // key input width, 0: embed_dim
  int64_t vdim = 0;       // value input width, 0: embed_dim
};

// Either in_proj_weight ([E + 2*kv_heads*head_dim, E], needs kdim == vdim == E) or the three
// separate ones. Biases may be null.
struct MhaWeights {
  const float* in_proj_weight = nullptr;
  const float* in_proj_bias = nullptr;
  const float* q_proj_weight = nullptr;    // [E, E]
  const float* k_proj_weight = nullptr;    // [kv_heads*head_dim, kdim]
  const float* v_proj_weight = nullptr;    // [kv_heads*head_dim, vdim]
  const float* out_proj_weight = nullptr;  // [E, E]
  const float* out_proj_bias = nullptr;    // [E]
};

namespace detail {
struct MhaImpl;
}

class MultiHeadAttention {
 public:
  MultiHeadAttention();
  ~MultiHeadAttention();
  MultiHeadAttention(MultiHeadAttention&&) noexcept;
  MultiHeadAttention& operator=(MultiHeadAttention&&) noexcept;

  static Status create(const Context& ctx, const MhaConfig& config, const MhaWeights& weights,
                       MultiHeadAttention* out);

  // query [B, Lq, E], key [B, Lk, kdim], value [B, Lk, vdim], out [B, Lq, E]; self-attention passes
  // the same tensor three times. options.mask / lengths / bias apply to the attention step.
  Status forward(const Context& ctx, TensorView<const float> query, TensorView<const float> key,
                 TensorView<const float> value, TensorView<float> out,
                 const AttentionOptions& options = {}) const;

  const MhaConfig& config() const;

 private:
  std::unique_ptr<detail::MhaImpl> impl_;
};

}  // namespace cpuattn
