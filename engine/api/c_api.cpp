// The C API: thin shells over the C++ API. No exception crosses this file; every failure sets the
// thread-local message.
#include <mutex>
#include <new>
#include <string>
#include <unordered_set>

#include "cpuattn/cpuattn.h"
#include "cpuattn/cpuattn.hpp"

struct cpuattn_context {
  cpuattn::Context ctx;
};
struct cpuattn_mha {
  cpuattn::MultiHeadAttention layer;
};

namespace {

thread_local std::string t_last_error;

// Live handles: a destroyed (or never created) handle is reported, not dereferenced.
template <class T>
class HandleRegistry {
 public:
  void add(T* h) {
    std::lock_guard<std::mutex> lock(mutex_);
    live_.insert(h);
  }
  bool remove(T* h) {
    std::lock_guard<std::mutex> lock(mutex_);
    return live_.erase(h) == 1;
  }
  bool contains(T* h) {
    std::lock_guard<std::mutex> lock(mutex_);
    return live_.count(h) == 1;
  }

 private:
  std::mutex mutex_;
  std::unordered_set<T*> live_;
};

HandleRegistry<cpuattn_context>& contexts() {
  static HandleRegistry<cpuattn_context> r;
  return r;
}
HandleRegistry<cpuattn_mha>& layers() {
  static HandleRegistry<cpuattn_mha> r;
  return r;
}

cpuattn_status_t to_c(const cpuattn::Status& s) {
  if (s.is_ok()) {
    t_last_error.clear();
    return CPUATTN_STATUS_OK;
  }
  t_last_error = s.message();
  switch (s.code()) {
    case cpuattn::StatusCode::kInvalidArgument:
      return CPUATTN_STATUS_INVALID_ARGUMENT;
    case cpuattn::StatusCode::kOutOfMemory:
      return CPUATTN_STATUS_OUT_OF_MEMORY;
    case cpuattn::StatusCode::kUnsupported:
      return CPUATTN_STATUS_UNSUPPORTED;
    default:
      return CPUATTN_STATUS_INTERNAL_ERROR;
  }
}

template <class F>
cpuattn_status_t guarded(F&& f) {
  try {
    return to_c(f());
  } catch (const std::bad_alloc&) {
    t_last_error = "out of memory";
    return CPUATTN_STATUS_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    t_last_error = std::string("internal error: ") + e.what();
    return CPUATTN_STATUS_INTERNAL_ERROR;
  } catch (...) {
    t_last_error = "internal error: unknown exception";
    return CPUATTN_STATUS_INTERNAL_ERROR;
  }
}

cpuattn::Status context_of(cpuattn_context_t ctx, const cpuattn::Context** out) {
  if (ctx == nullptr) return cpuattn::Status::invalid_argument("ctx: null");
  if (!contexts().contains(ctx)) {
    return cpuattn::Status::invalid_argument(
        "ctx: not a live context (destroyed or never created)");
  }
  *out = &ctx->ctx;
  return cpuattn::Status::ok();
}

cpuattn::Status view_of(const char* name, const cpuattn_tensor_desc* d, const float* data,
                        cpuattn::TensorView<const float>* out) {
  if (d == nullptr) return cpuattn::Status::invalid_argument(std::string(name) + "_desc: null");
  if (d->ndim < 1 || d->ndim > 4) {
    return cpuattn::Status::invalid_argument(std::string(name) + "_desc.ndim: expected 1..4, got " +
                                             std::to_string(d->ndim));
  }
  cpuattn::TensorView<const float> v;
  v.data = data;
  v.ndim = d->ndim;
  for (int i = 0; i < d->ndim; ++i) {
    v.dims[i] = d->dims[i];
    v.strides[i] = d->strides[i];
  }
  *out = v;
  return cpuattn::Status::ok();
}

cpuattn::TensorView<float> mutable_view(const cpuattn::TensorView<const float>& v, float* data) {
  cpuattn::TensorView<float> m;
  m.data = data;
  m.ndim = v.ndim;
  m.dims = v.dims;
  m.strides = v.strides;
  return m;
}

cpuattn::Status attention_options_of(const cpuattn_attention_desc* desc,
                                     cpuattn::AttentionOptions* o) {
  if (desc == nullptr) return cpuattn::Status::ok();
  o->scale = desc->scale;
  o->mask = static_cast<cpuattn::MaskKind>(desc->mask);
  o->algorithm = static_cast<cpuattn::AttentionAlgorithm>(desc->algorithm);
  o->q_lengths = desc->q_lengths;
  o->kv_lengths = desc->kv_lengths;
  if (desc->bias_desc != nullptr)
    CPUATTN_RETURN_IF_ERROR(view_of("bias", desc->bias_desc, desc->bias, &o->bias));
  if (desc->weights_desc != nullptr) {
    cpuattn::TensorView<const float> w;
    CPUATTN_RETURN_IF_ERROR(view_of("weights", desc->weights_desc, desc->weights, &w));
    o->weights = mutable_view(w, desc->weights);
  }
  if (desc->scores_desc != nullptr) {
    cpuattn::TensorView<const float> s;
    CPUATTN_RETURN_IF_ERROR(view_of("scores", desc->scores_desc, desc->scores, &s));
    o->scores = mutable_view(s, desc->scores);
  }
  return cpuattn::Status::ok();
}

}  // namespace

extern "C" {

void cpuattn_context_options_init(cpuattn_context_options* options) {
  if (options == nullptr) return;
  options->threads = 0;
  options->isa = CPUATTN_ISA_AUTO;
  options->scratch_limit_bytes = 0;
  options->spin_wait_us = 0;
}

cpuattn_status_t cpuattn_context_create(const cpuattn_context_options* options,
                                        cpuattn_context_t* out) {
  return guarded([&]() -> cpuattn::Status {
    if (out == nullptr) return cpuattn::Status::invalid_argument("out: null");
    *out = nullptr;
    cpuattn::ContextOptions o;
    if (options != nullptr) {
      o.threads = options->threads;
      if (options->isa != CPUATTN_ISA_AUTO) {
        if (options->isa < CPUATTN_ISA_GENERIC || options->isa > CPUATTN_ISA_AVX512) {
          return cpuattn::Status::invalid_argument("options.isa: unknown value " +
                                                   std::to_string(options->isa));
        }
        o.isa = static_cast<cpuattn::Isa>(options->isa);
      }
      if (options->scratch_limit_bytes != 0) o.scratch_limit_bytes = options->scratch_limit_bytes;
      o.spin_wait_us = options->spin_wait_us;
    }
    auto handle = std::make_unique<cpuattn_context>();
    CPUATTN_RETURN_IF_ERROR(cpuattn::Context::create(o, &handle->ctx));
    contexts().add(handle.get());
    *out = handle.release();
    return cpuattn::Status::ok();
  });
}

void cpuattn_context_destroy(cpuattn_context_t ctx) {
  if (ctx != nullptr && contexts().remove(ctx)) delete ctx;
}

cpuattn_isa_t cpuattn_context_isa(cpuattn_context_t ctx) {
  if (ctx == nullptr || !contexts().contains(ctx)) return CPUATTN_ISA_AUTO;
  return static_cast<cpuattn_isa_t>(ctx->ctx.isa());
}

int32_t cpuattn_context_threads(cpuattn_context_t ctx) {
  if (ctx == nullptr || !contexts().contains(ctx)) return 0;
  return ctx->ctx.threads();
}

const char* cpuattn_isa_name(cpuattn_isa_t isa) {
  if (isa < CPUATTN_ISA_GENERIC || isa > CPUATTN_ISA_AVX512) return "unknown";
  return cpuattn::isa_name(static_cast<cpuattn::Isa>(isa));
}

const char* cpuattn_last_error_message(void) {
  return t_last_error.c_str();
}

cpuattn_status_t cpuattn_sgemm(cpuattn_context_t ctx, cpuattn_transpose_t trans_a,
                               cpuattn_transpose_t trans_b, int64_t m, int64_t n, int64_t k,
                               float alpha, const float* a, int64_t lda, const float* b,
                               int64_t ldb, float beta, float* c, int64_t ldc) {
  return cpuattn_sgemm_strided_batched(ctx, trans_a, trans_b, m, n, k, alpha, a, lda, 0, b, ldb, 0,
                                       beta, c, ldc, 0, 1);
}

cpuattn_status_t cpuattn_sgemm_strided_batched(cpuattn_context_t ctx, cpuattn_transpose_t trans_a,
                                               cpuattn_transpose_t trans_b, int64_t m, int64_t n,
                                               int64_t k, float alpha, const float* a, int64_t lda,
                                               int64_t stride_a, const float* b, int64_t ldb,
                                               int64_t stride_b, float beta, float* c, int64_t ldc,
                                               int64_t stride_c, int64_t batch_count) {
  return guarded([&]() -> cpuattn::Status {
    const cpuattn::Context* cx = nullptr;
    CPUATTN_RETURN_IF_ERROR(context_of(ctx, &cx));
    cpuattn::GemmArgs g;
    g.trans_a = static_cast<cpuattn::Transpose>(trans_a);
    g.trans_b = static_cast<cpuattn::Transpose>(trans_b);
    g.m = m;
    g.n = n;
    g.k = k;
    g.alpha = alpha;
    g.a = a;
    g.lda = lda;
    g.b = b;
    g.ldb = ldb;
    g.beta = beta;
    g.c = c;
    g.ldc = ldc;
    cpuattn::StridedBatch batch{batch_count, stride_a, stride_b, stride_c};
    return cpuattn::sgemm_batched(*cx, g, batch);
  });
}

void cpuattn_softmax_desc_init(cpuattn_softmax_desc* desc) {
  if (desc == nullptr) return;
  *desc = cpuattn_softmax_desc{};
  desc->scale = 1.0f;
}

cpuattn_status_t cpuattn_softmax(cpuattn_context_t ctx, const cpuattn_tensor_desc* src_desc,
                                 const float* src, const cpuattn_tensor_desc* dst_desc, float* dst,
                                 const cpuattn_softmax_desc* desc) {
  return guarded([&]() -> cpuattn::Status {
    const cpuattn::Context* cx = nullptr;
    CPUATTN_RETURN_IF_ERROR(context_of(ctx, &cx));
    cpuattn::TensorView<const float> s, d;
    CPUATTN_RETURN_IF_ERROR(view_of("src", src_desc, src, &s));
    CPUATTN_RETURN_IF_ERROR(view_of("dst", dst_desc, dst, &d));
    cpuattn::SoftmaxOptions o;
    if (desc != nullptr) {
      o.scale = desc->scale;
      o.mask = static_cast<cpuattn::MaskKind>(desc->mask);
      o.log = desc->log != 0;
      o.key_lengths = desc->key_lengths;
      if (desc->bias_desc != nullptr) {
        CPUATTN_RETURN_IF_ERROR(view_of("bias", desc->bias_desc, desc->bias, &o.bias));
      }
    }
    return cpuattn::softmax(*cx, s, mutable_view(d, dst), o);
  });
}

void cpuattn_attention_desc_init(cpuattn_attention_desc* desc) {
  if (desc == nullptr) return;
  *desc = cpuattn_attention_desc{};
}

cpuattn_status_t cpuattn_attention(cpuattn_context_t ctx, const cpuattn_tensor_desc* q_desc,
                                   const float* q, const cpuattn_tensor_desc* k_desc,
                                   const float* k, const cpuattn_tensor_desc* v_desc,
                                   const float* v, const cpuattn_tensor_desc* out_desc, float* out,
                                   const cpuattn_attention_desc* desc) {
  return guarded([&]() -> cpuattn::Status {
    const cpuattn::Context* cx = nullptr;
    CPUATTN_RETURN_IF_ERROR(context_of(ctx, &cx));
    cpuattn::TensorView<const float> qv, kv, vv, ov;
    CPUATTN_RETURN_IF_ERROR(view_of("q", q_desc, q, &qv));
    CPUATTN_RETURN_IF_ERROR(view_of("k", k_desc, k, &kv));
    CPUATTN_RETURN_IF_ERROR(view_of("v", v_desc, v, &vv));
    CPUATTN_RETURN_IF_ERROR(view_of("out", out_desc, out, &ov));
    cpuattn::AttentionOptions o;
    CPUATTN_RETURN_IF_ERROR(attention_options_of(desc, &o));
    return cpuattn::attention(*cx, qv, kv, vv, mutable_view(ov, out), o);
  });
}

cpuattn_status_t cpuattn_mha_create(cpuattn_context_t ctx, const cpuattn_mha_config* config,
                                    const cpuattn_mha_weights* weights, cpuattn_mha_t* out) {
  return guarded([&]() -> cpuattn::Status {
    if (out == nullptr) return cpuattn::Status::invalid_argument("out: null");
    *out = nullptr;
    const cpuattn::Context* cx = nullptr;
    CPUATTN_RETURN_IF_ERROR(context_of(ctx, &cx));
    if (config == nullptr) return cpuattn::Status::invalid_argument("config: null");
    if (weights == nullptr) return cpuattn::Status::invalid_argument("weights: null");
    cpuattn::MhaConfig c{config->embed_dim, config->num_heads, config->kv_heads, config->kdim,
                         config->vdim};
    cpuattn::MhaWeights w{weights->in_proj_weight, weights->in_proj_bias,  weights->q_proj_weight,
                          weights->k_proj_weight,  weights->v_proj_weight, weights->out_proj_weight,
                          weights->out_proj_bias};
    auto handle = std::make_unique<cpuattn_mha>();
    CPUATTN_RETURN_IF_ERROR(cpuattn::MultiHeadAttention::create(*cx, c, w, &handle->layer));
    layers().add(handle.get());
    *out = handle.release();
    return cpuattn::Status::ok();
  });
}

cpuattn_status_t cpuattn_mha_forward(cpuattn_context_t ctx, cpuattn_mha_t mha,
                                     const cpuattn_tensor_desc* query_desc, const float* query,
                                     const cpuattn_tensor_desc* key_desc, const float* key,
                                     const cpuattn_tensor_desc* value_desc, const float* value,
                                     const cpuattn_tensor_desc* out_desc, float* out,
                                     const cpuattn_attention_desc* desc) {
  return guarded([&]() -> cpuattn::Status {
    const cpuattn::Context* cx = nullptr;
    CPUATTN_RETURN_IF_ERROR(context_of(ctx, &cx));
    if (mha == nullptr || !layers().contains(mha)) {
      return cpuattn::Status::invalid_argument(
          "mha: not a live layer (destroyed or never created)");
    }
    if (desc != nullptr && (desc->weights_desc != nullptr || desc->scores_desc != nullptr)) {
      return cpuattn::Status::invalid_argument(
          "desc.weights_desc/scores_desc: not returned by the multi-head layer; must be NULL");
    }
    cpuattn::TensorView<const float> qv, kv, vv, ov;
    CPUATTN_RETURN_IF_ERROR(view_of("query", query_desc, query, &qv));
    CPUATTN_RETURN_IF_ERROR(view_of("key", key_desc, key, &kv));
    CPUATTN_RETURN_IF_ERROR(view_of("value", value_desc, value, &vv));
    CPUATTN_RETURN_IF_ERROR(view_of("out", out_desc, out, &ov));
    cpuattn::AttentionOptions o;
    CPUATTN_RETURN_IF_ERROR(attention_options_of(desc, &o));
    return mha->layer.forward(*cx, qv, kv, vv, mutable_view(ov, out), o);
  });
}

void cpuattn_mha_destroy(cpuattn_mha_t mha) {
  if (mha != nullptr && layers().remove(mha)) delete mha;
}

}  // extern "C"
