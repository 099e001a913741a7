#include <cmath>
#include <string>
#include <vector>

#include "api/attention_call.hpp"
#include "api/validate.hpp"
#include "cpuattn/attention.hpp"
#include "ops/attention_composed.hpp"
#include "ops/attention_fused.hpp"

namespace cpuattn {
namespace detail {

// Largest head_dim / head_dim_v: the fused kernel keeps a query block of this width per thread.
constexpr int64_t kMaxHeadDim = 4096;

namespace {

struct NamedExtent {
  const char* name;
  Extent extent;
};

Status check_optional_output(const char* name, const TensorView<float>& t, int64_t batch,
                             int64_t heads, int64_t rows, int64_t cols, Extent* extent) {
  const TensorView<const float> c(t);
  CPUATTN_RETURN_IF_ERROR(check_tensor(name, c, 4, extent));
  const int64_t want[4] = {batch, heads, rows, cols};
  for (int i = 0; i < 4; ++i) {
    CPUATTN_RETURN_IF_ERROR(check_dims_equal(
        std::string(name) + ".dims[" + std::to_string(i) + "] ([batch, heads_q, seq_q, seq_kv])",
        t.dims[i], want[i]));
  }
  return check_no_self_overlap(name, c);
}

}  // namespace

// Validates everything and fills the driver's view of the call; touches no output.
Status make_attention_problem(TensorView<const float> q, TensorView<const float> k,
                              TensorView<const float> v, TensorView<float> out,
                              const AttentionOptions& o, AttentionProblem* p) {
  Extent eq, ek, ev, eo;
  CPUATTN_RETURN_IF_ERROR(check_tensor("q", q, 4, &eq));
  CPUATTN_RETURN_IF_ERROR(check_tensor("k", k, 4, &ek));
  CPUATTN_RETURN_IF_ERROR(check_tensor("v", v, 4, &ev));
  CPUATTN_RETURN_IF_ERROR(check_tensor("out", TensorView<const float>(out), 4, &eo));
  const int64_t B = q.dims[0], Lq = q.dims[1], Hq = q.dims[2], D = q.dims[3];
  const int64_t Lk = k.dims[1], Hkv = k.dims[2], Dv = v.dims[3];
  CPUATTN_RETURN_IF_ERROR(check_dims_equal("k.dims[0] (batch, as q)", k.dims[0], B));
  CPUATTN_RETURN_IF_ERROR(check_dims_equal("k.dims[3] (head_dim, as q)", k.dims[3], D));
  CPUATTN_RETURN_IF_ERROR(check_dims_equal("v.dims[0] (batch, as q)", v.dims[0], B));
  CPUATTN_RETURN_IF_ERROR(check_dims_equal("v.dims[1] (seq_kv, as k)", v.dims[1], Lk));
  CPUATTN_RETURN_IF_ERROR(check_dims_equal("v.dims[2] (heads_kv, as k)", v.dims[2], Hkv));
  CPUATTN_RETURN_IF_ERROR(check_dims_equal("out.dims[0] (batch, as q)", out.dims[0], B));
  CPUATTN_RETURN_IF_ERROR(check_dims_equal("out.dims[1] (seq_q, as q)", out.dims[1], Lq));
  CPUATTN_RETURN_IF_ERROR(check_dims_equal("out.dims[2] (heads_q, as q)", out.dims[2], Hq));
  CPUATTN_RETURN_IF_ERROR(check_dims_equal("out.dims[3] (head_dim_v, as v)", out.dims[3], Dv));
  if (Hq % Hkv != 0) {
    return Status::invalid_argument("k.dims[2]: heads_kv (" + std::to_string(Hkv) +
                                    ") must divide heads_q (" + std::to_string(Hq) + ")");
  }
  if (D > kMaxHeadDim || Dv > kMaxHeadDim) {
    return Status::invalid_argument(
        "q.dims[3]/v.dims[3]: head_dim must be <= " + std::to_string(kMaxHeadDim) + ", got " +
        std::to_string(D) + " / " + std::to_string(Dv));
  }
  CPUATTN_RETURN_IF_ERROR(check_no_self_overlap("out", TensorView<const float>(out)));
  if (std::isnan(o.scale) || std::isinf(o.scale)) {
    return Status::invalid_argument("options.scale: must be finite (0 for 1/sqrt(head_dim)), got " +
                                    std::to_string(o.scale));
  }
  if (o.mask != MaskKind::kNone && o.mask != MaskKind::kCausal) {
    return Status::invalid_argument("options.mask: unknown mask kind " +
                                    std::to_string(static_cast<int>(o.mask)));
  }
  if (o.algorithm != AttentionAlgorithm::kAuto && o.algorithm != AttentionAlgorithm::kFused &&
      o.algorithm != AttentionAlgorithm::kComposed) {
    return Status::invalid_argument("options.algorithm: unknown algorithm " +
                                    std::to_string(static_cast<int>(o.algorithm)));
  }
  CPUATTN_RETURN_IF_ERROR(check_lengths("options.q_lengths", o.q_lengths, B, Lq));
  CPUATTN_RETURN_IF_ERROR(check_lengths("options.kv_lengths", o.kv_lengths, B, Lk));

  std::vector<NamedExtent> inputs{{"q", eq}, {"k", ek}, {"v", ev}};
  if (o.bias.data != nullptr || o.bias.ndim != 0) {
    CPUATTN_RETURN_IF_ERROR(check_bias(o.bias, B, Hq, Lq, Lk));
    Extent eb;
    CPUATTN_RETURN_IF_ERROR(check_tensor("bias", o.bias, 4, &eb));
    inputs.push_back({"bias", eb});
    p->bias = o.bias.data;
    bias_strides_4d(o.bias, p->bs);
  }
  std::vector<NamedExtent> outputs{{"out", eo}};
  const bool want_weights = o.weights.data != nullptr || o.weights.ndim != 0;
  const bool want_scores = o.scores.data != nullptr || o.scores.ndim != 0;
  if (want_weights) {
    Extent e;
    CPUATTN_RETURN_IF_ERROR(check_optional_output("weights", o.weights, B, Hq, Lq, Lk, &e));
    outputs.push_back({"weights", e});
  }
  if (want_scores) {
    Extent e;
    CPUATTN_RETURN_IF_ERROR(check_optional_output("scores", o.scores, B, Hq, Lq, Lk, &e));
    outputs.push_back({"scores", e});
  }
  if ((want_weights || want_scores) && o.algorithm == AttentionAlgorithm::kFused) {
    return Status::invalid_argument(
        "options.algorithm: kFused never materialises weights or scores; use kAuto or kComposed");
  }
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    for (const NamedExtent& in : inputs) {
      if (overlaps(outputs[i].extent, in.extent)) {
        return Status::invalid_argument(std::string(outputs[i].name) + ": overlaps " + in.name +
                                        ", which is read");
      }
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (overlaps(outputs[i].extent, outputs[j].extent)) {
        return Status::invalid_argument(std::string(outputs[i].name) + ": overlaps " +
                                        outputs[j].name);
      }
    }
  }

  p->batch = B;
  p->seq_q = Lq;
  p->seq_kv = Lk;
  p->heads_q = Hq;
  p->heads_kv = Hkv;
  p->head_dim = D;
  p->head_dim_v = Dv;
  p->q = q.data;
  p->k = k.data;
  p->v = v.data;
  p->out = out.data;
  for (int i = 0; i < 4; ++i) {
    p->qs[i] = q.strides[i];
    p->ks[i] = k.strides[i];
    p->vs[i] = v.strides[i];
    p->os[i] = out.strides[i];
    p->wts[i] = o.weights.strides[i];
    p->scs[i] = o.scores.strides[i];
  }
  p->scale = o.scale != 0.0f ? o.scale : 1.0f / std::sqrt(static_cast<float>(D));
  p->causal = o.mask == MaskKind::kCausal;
  p->q_lengths = o.q_lengths;
  p->kv_lengths = o.kv_lengths;
  p->weights = want_weights ? o.weights.data : nullptr;
  p->scores = want_scores ? o.scores.data : nullptr;
  return Status::ok();
}

Status run_attention(ContextImpl& impl, const AttentionProblem& p, AttentionAlgorithm algorithm) {
  const bool composed = algorithm == AttentionAlgorithm::kComposed || p.weights != nullptr ||
                        p.scores != nullptr || !attention_fused_supports(p);
  try {
    auto ws = impl.scratch->acquire();
    const AttentionScratch need = composed
                                      ? AttentionScratch{0, attention_composed_scratch(impl, p)}
                                      : attention_fused_scratch(impl, p);
    CPUATTN_RETURN_IF_ERROR(ws->reserve(need.shared, need.per_worker, impl.scratch_limit_bytes));
    if (composed) {
      attention_composed(impl, *ws, p);
    } else {
      attention_fused(impl, *ws, p);
    }
  } catch (const std::bad_alloc&) {
    return Status::out_of_memory("attention: allocation failed");
  }
  return Status::ok();
}

}  // namespace detail

Status attention(const Context& ctx, TensorView<const float> q, TensorView<const float> k,
                 TensorView<const float> v, TensorView<float> out,
                 const AttentionOptions& options) {
  detail::ContextImpl* impl = nullptr;
  CPUATTN_RETURN_IF_ERROR(detail::check_context(ctx, &impl));
  detail::AttentionProblem p;
  CPUATTN_RETURN_IF_ERROR(detail::make_attention_problem(q, k, v, out, options, &p));
  return detail::run_attention(*impl, p, options.algorithm);
}

}  // namespace cpuattn
