#include <string>

#include "api/attention_call.hpp"
#include "api/validate.hpp"
#include "cpuattn/mha.hpp"
#include "ops/mha_layer.hpp"

namespace cpuattn {

MultiHeadAttention::MultiHeadAttention() = default;
MultiHeadAttention::~MultiHeadAttention() = default;
MultiHeadAttention::MultiHeadAttention(MultiHeadAttention&&) noexcept = default;
MultiHeadAttention& MultiHeadAttention::operator=(MultiHeadAttention&&) noexcept = default;

const MhaConfig& MultiHeadAttention::config() const {
  static const MhaConfig empty;
  return impl_ ? impl_->config : empty;
}

namespace {

constexpr int64_t kMaxWidth = int64_t{1} << 20;

// Stores W [out, in] transposed.
detail::Projection make_projection(const float* w, const float* bias, int64_t out, int64_t in) {
  detail::Projection p;
  p.in = in;
  p.out = out;
  p.weight_t.resize(static_cast<std::size_t>(in * out));
  for (int64_t r = 0; r < out; ++r) {
    for (int64_t c = 0; c < in; ++c) p.weight_t[c * out + r] = w[r * in + c];
  }
  if (bias != nullptr) p.bias.assign(bias, bias + out);
  return p;
}

Status check_width(const char* name, int64_t v) {
  if (v < 1 || v > kMaxWidth) {
    return Status::invalid_argument(std::string(name) + ": expected 1.." +
                                    std::to_string(kMaxWidth) + ", got " + std::to_string(v));
  }
  return Status::ok();
}

}  // namespace

Status MultiHeadAttention::create(const Context& ctx, const MhaConfig& config, const MhaWeights& w,
                                  MultiHeadAttention* out) {
  detail::ContextImpl* impl = nullptr;
  CPUATTN_RETURN_IF_ERROR(detail::check_context(ctx, &impl));
  if (out == nullptr) return Status::invalid_argument("out: must not be null");
  MhaConfig c = config;
  if (c.kv_heads == 0) c.kv_heads = c.num_heads;
  if (c.kdim == 0) c.kdim = c.embed_dim;
  if (c.vdim == 0) c.vdim = c.embed_dim;
  CPUATTN_RETURN_IF_ERROR(check_width("config.embed_dim", c.embed_dim));
  CPUATTN_RETURN_IF_ERROR(check_width("config.num_heads", c.num_heads));
  CPUATTN_RETURN_IF_ERROR(check_width("config.kv_heads", c.kv_heads));
  CPUATTN_RETURN_IF_ERROR(check_width("config.kdim", c.kdim));
  CPUATTN_RETURN_IF_ERROR(check_width("config.vdim", c.vdim));
  if (c.embed_dim % c.num_heads != 0) {
    return Status::invalid_argument("config.num_heads: must divide embed_dim (" +
                                    std::to_string(c.embed_dim) + "), got " +
                                    std::to_string(c.num_heads));
  }
  if (c.num_heads % c.kv_heads != 0) {
    return Status::invalid_argument("config.kv_heads: must divide num_heads (" +
                                    std::to_string(c.num_heads) + "), got " +
                                    std::to_string(c.kv_heads));
  }
  const int64_t E = c.embed_dim, hd = E / c.num_heads, kvw = c.kv_heads * hd;
  if (w.out_proj_weight == nullptr)
    return Status::invalid_argument("weights.out_proj_weight: null");
  const float *wq = w.q_proj_weight, *wk = w.k_proj_weight, *wv = w.v_proj_weight;
  const float *bq = nullptr, *bk = nullptr, *bv = nullptr;
  if (w.in_proj_weight != nullptr) {
    if (c.kdim != E || c.vdim != E) {
      return Status::invalid_argument(
          "weights.in_proj_weight: the packed form needs kdim == vdim == embed_dim; pass "
          "q/k/v_proj_weight instead");
    }
    if (wq != nullptr || wk != nullptr || wv != nullptr) {
      return Status::invalid_argument(
          "weights: give in_proj_weight or q/k/v_proj_weight, not both");
    }
    wq = w.in_proj_weight;
    wk = wq + E * E;
    wv = wk + kvw * E;
  } else if (wq == nullptr || wk == nullptr || wv == nullptr) {
    return Status::invalid_argument(
        "weights: in_proj_weight or all of q_proj_weight, k_proj_weight, v_proj_weight needed");
  }
  if (w.in_proj_bias != nullptr) {
    bq = w.in_proj_bias;
    bk = bq + E;
    bv = bk + kvw;
  }
  try {
    auto m = std::make_unique<detail::MhaImpl>();
    m->config = c;
    m->head_dim = hd;
    m->q = make_projection(wq, bq, E, E);
    m->k = make_projection(wk, bk, kvw, c.kdim);
    m->v = make_projection(wv, bv, kvw, c.vdim);
    m->o = make_projection(w.out_proj_weight, w.out_proj_bias, E, E);
    out->impl_ = std::move(m);
  } catch (const std::bad_alloc&) {
    return Status::out_of_memory("mha: copying the weights failed");
  }
  return Status::ok();
}

Status MultiHeadAttention::forward(const Context& ctx, TensorView<const float> query,
                                   TensorView<const float> key, TensorView<const float> value,
                                   TensorView<float> out, const AttentionOptions& options) const {
  detail::ContextImpl* impl = nullptr;
  CPUATTN_RETURN_IF_ERROR(detail::check_context(ctx, &impl));
  if (!impl_) return Status::invalid_argument("mha: not a created layer");
  const MhaConfig& c = impl_->config;
  detail::Extent eq, ek, ev, eo;
  CPUATTN_RETURN_IF_ERROR(detail::check_tensor("query", query, 3, &eq));
  CPUATTN_RETURN_IF_ERROR(detail::check_tensor("key", key, 3, &ek));
  CPUATTN_RETURN_IF_ERROR(detail::check_tensor("value", value, 3, &ev));
  CPUATTN_RETURN_IF_ERROR(detail::check_tensor("out", TensorView<const float>(out), 3, &eo));
  const int64_t B = query.dims[0], Lq = query.dims[1], Lk = key.dims[1];
  CPUATTN_RETURN_IF_ERROR(
      detail::check_dims_equal("query.dims[2] (embed_dim)", query.dims[2], c.embed_dim));
  CPUATTN_RETURN_IF_ERROR(detail::check_dims_equal("key.dims[0] (batch)", key.dims[0], B));
  CPUATTN_RETURN_IF_ERROR(detail::check_dims_equal("key.dims[2] (kdim)", key.dims[2], c.kdim));
  CPUATTN_RETURN_IF_ERROR(detail::check_dims_equal("value.dims[0] (batch)", value.dims[0], B));
  CPUATTN_RETURN_IF_ERROR(
      detail::check_dims_equal("value.dims[1] (seq_kv, as key)", value.dims[1], Lk));
  CPUATTN_RETURN_IF_ERROR(detail::check_dims_equal("value.dims[2] (vdim)", value.dims[2], c.vdim));
  CPUATTN_RETURN_IF_ERROR(detail::check_dims_equal("out.dims[0] (batch)", out.dims[0], B));
  CPUATTN_RETURN_IF_ERROR(detail::check_dims_equal("out.dims[1] (seq_q)", out.dims[1], Lq));
  CPUATTN_RETURN_IF_ERROR(
      detail::check_dims_equal("out.dims[2] (embed_dim)", out.dims[2], c.embed_dim));
  CPUATTN_RETURN_IF_ERROR(detail::check_no_self_overlap("out", TensorView<const float>(out)));
  if (out.strides[2] != 1) {
    return Status::invalid_argument(
        "out.strides[2]: the embedding axis must be contiguous (1), got " +
        std::to_string(out.strides[2]));
  }
  for (auto [e, name] : {std::pair{eq, "query"}, std::pair{ek, "key"}, std::pair{ev, "value"}}) {
    if (detail::overlaps(eo, e)) {
      return Status::invalid_argument(std::string("out: overlaps ") + name + ", which is read");
    }
  }
  const int64_t E = c.embed_dim, hd = impl_->head_dim, Hq = c.num_heads, Hkv = c.kv_heads;
  const int64_t kvw = Hkv * hd;
  int64_t total = 0;
  if (__builtin_mul_overflow(B, 2 * Lq * E + 2 * Lk * kvw, &total)) {
    return Status::invalid_argument("query/key: activations too large");
  }
  try {
    auto ws = impl->scratch->acquire();
    CPUATTN_RETURN_IF_ERROR(
        ws->reserve(static_cast<std::size_t>(total), 0, impl->scratch_limit_bytes));
    float* qp = ws->shared();
    float* kp = qp + B * Lq * E;
    float* vp = kp + B * Lk * kvw;
    float* heads = vp + B * Lk * kvw;
    for (int64_t b = 0; b < B; ++b) {
      CPUATTN_RETURN_IF_ERROR(detail::project(*impl, impl_->q, query.data + b * query.strides[0],
                                              Lq, query.strides[1], query.strides[2],
                                              qp + b * Lq * E, E));
      CPUATTN_RETURN_IF_ERROR(detail::project(*impl, impl_->k, key.data + b * key.strides[0], Lk,
                                              key.strides[1], key.strides[2], kp + b * Lk * kvw,
                                              kvw));
      CPUATTN_RETURN_IF_ERROR(detail::project(*impl, impl_->v, value.data + b * value.strides[0],
                                              Lk, value.strides[1], value.strides[2],
                                              vp + b * Lk * kvw, kvw));
    }
    // Per-head attention straight on the projections' BSHD layout; heads land concatenated.
    detail::AttentionProblem p;
    CPUATTN_RETURN_IF_ERROR(detail::make_attention_problem(
        TensorView<const float>(qp, {B, Lq, Hq, hd}), TensorView<const float>(kp, {B, Lk, Hkv, hd}),
        TensorView<const float>(vp, {B, Lk, Hkv, hd}), TensorView<float>(heads, {B, Lq, Hq, hd}),
        options, &p));
    CPUATTN_RETURN_IF_ERROR(detail::run_attention(*impl, p, options.algorithm));
    for (int64_t b = 0; b < B; ++b) {
      CPUATTN_RETURN_IF_ERROR(detail::project(*impl, impl_->o, heads + b * Lq * E, Lq, E, 1,
                                              out.data + b * out.strides[0], out.strides[1]));
    }
  } catch (const std::bad_alloc&) {
    return Status::out_of_memory("mha: allocation failed");
  }
  return Status::ok();
}

}  // namespace cpuattn
