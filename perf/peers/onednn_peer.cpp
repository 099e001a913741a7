// oneDNN 2.6: dnnl_sgemm, and matmul / softmax primitives created once per shape (creation is
// not what is measured) and cached.
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>

#include <cmath>
#include <map>
#include <oneapi/dnnl/dnnl.hpp>
#include <tuple>

#include "peers.hpp"

namespace cpuattn::perf {
namespace {

using dims = dnnl::memory::dims;
using dt = dnnl::memory::data_type;

dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}
dnnl::stream& stream() {
  static dnnl::stream s(engine());
  return s;
}

struct Matmul {
  dnnl::memory::desc a, b, c;
  dnnl::matmul prim;
};

Matmul make_matmul(const dims& ad, const dims& as, const dims& bd, const dims& bs, const dims& cd,
                   const dims& cs, float scale) {
  Matmul m;
  m.a = dnnl::memory::desc(ad, dt::f32, as);
  m.b = dnnl::memory::desc(bd, dt::f32, bs);
  m.c = dnnl::memory::desc(cd, dt::f32, cs);
  dnnl::primitive_attr attr;
  if (scale != 1.0f) attr.set_output_scales(0, {scale});
  dnnl::matmul::desc desc(m.a, m.b, m.c);
  m.prim = dnnl::matmul(dnnl::matmul::primitive_desc(desc, attr, engine()));
  return m;
}

void run_matmul(const Matmul& m, const float* a, const float* b, float* c) {
  dnnl::memory am(m.a, engine(), const_cast<float*>(a)), bm(m.b, engine(), const_cast<float*>(b)),
      cm(m.c, engine(), c);
  m.prim.execute(stream(), {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
  stream().wait();
}

struct Softmax {
  dnnl::memory::desc md;
  dnnl::softmax_forward prim;
};

// oneDNN fixes a primitive's thread count when it is created: every cache key includes the
// current OpenMP thread count, or a 2-thread run would reuse a 1-thread primitive.
int threads_now() {
  return omp_get_max_threads();
}

const Softmax& softmax_for(int64_t rows, int64_t cols) {
  static std::map<std::tuple<int64_t, int64_t, int>, Softmax> cache;
  const auto key = std::tuple{rows, cols, threads_now()};
  auto it = cache.find(key);
  if (it == cache.end()) {
    Softmax s;
    s.md = dnnl::memory::desc({rows, cols}, dt::f32, dnnl::memory::format_tag::ab);
    dnnl::softmax_forward::desc d(dnnl::prop_kind::forward_inference, s.md, 1);
    s.prim = dnnl::softmax_forward(dnnl::softmax_forward::primitive_desc(d, engine()));
    it = cache.emplace(key, std::move(s)).first;
  }
  return it->second;
}

}  // namespace

void onednn_sgemm(bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                  const float* b, int64_t ldb, float* c, int64_t ldc) {
  dnnl_sgemm('N', trans_b ? 'T' : 'N', m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
}

void onednn_matmul(bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                   const float* b, int64_t ldb, float* c, int64_t ldc) {
  static std::map<std::tuple<bool, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int>,
                  Matmul>
      cache;
  const auto key = std::tuple{trans_b, m, n, k, lda, ldb, ldc, threads_now()};
  auto it = cache.find(key);
  if (it == cache.end()) {
    const dims bstrides = trans_b ? dims{1, ldb} : dims{ldb, 1};
    it = cache.emplace(key, make_matmul({m, k}, {lda, 1}, {k, n}, bstrides, {m, n}, {ldc, 1}, 1.0f))
             .first;
  }
  run_matmul(it->second, a, b, c);
}

void onednn_softmax(int64_t rows, int64_t cols, const float* src, float* dst) {
  const Softmax& s = softmax_for(rows, cols);
  dnnl::memory sm(s.md, engine(), const_cast<float*>(src)), dm(s.md, engine(), dst);
  s.prim.execute(stream(), {{DNNL_ARG_SRC, sm}, {DNNL_ARG_DST, dm}});
  stream().wait();
}

void onednn_attention(const AttentionShape& s, const float* q, const float* k, const float* v,
                      float* out, float* scores) {
  // Grouped heads decoding (Lq = 1): the R = H / Hkv query heads of a kv group are the rows of
  // one product, [B, Hkv, R, D] x [B, Hkv, D, Lk], the way such a model runs them composed.
  const int64_t B = s.batch, Lk = s.seq_kv, D = s.head_dim, R = s.heads / s.heads_kv;
  const int64_t H = s.heads_kv, Lq = s.seq_q * R;
  if (R > 1 && s.seq_q != 1) std::abort();
  using Key = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int>;
  static std::map<Key, std::pair<Matmul, Matmul>> cache;
  const Key key{B, H, Lq, Lk, D, threads_now()};
  auto it = cache.find(key);
  if (it == cache.end()) {
    const float scale = 1.0f / std::sqrt(static_cast<float>(D));
    // BSHD storage seen as [B, H, S, D]; K^T as [B, H, D, Lk]. Grouped: Q's rows are the heads.
    const int64_t q_row = R > 1 ? D : H * D;
    Matmul qk = make_matmul({B, H, Lq, D}, {Lq * H * D, R * D, q_row, 1}, {B, H, D, Lk},
                            {Lk * H * D, D, 1, H * D}, {B, H, Lq, Lk},
                            {H * Lq * Lk, Lq * Lk, Lk, 1}, scale);
    Matmul pv =
        make_matmul({B, H, Lq, Lk}, {H * Lq * Lk, Lq * Lk, Lk, 1}, {B, H, Lk, D},
                    {Lk * H * D, D, H * D, 1}, {B, H, Lq, D}, {Lq * H * D, R * D, q_row, 1}, 1.0f);
    it = cache.emplace(key, std::pair{std::move(qk), std::move(pv)}).first;
  }
  run_matmul(it->second.first, q, k, scores);
  if (s.causal && s.seq_q > 1) {  // one query sees every key; a separate step: as a post-op
                                  // oneDNN 2.6 falls back to a reference matmul
#pragma omp parallel for
    for (int64_t row = 0; row < B * H * Lq; ++row) {
      const int64_t i = row % Lq;
      float* r = scores + row * Lk;
      for (int64_t j = std::max<int64_t>(0, i + (Lk - Lq) + 1); j < Lk; ++j) r[j] = -INFINITY;
    }
  }
  onednn_softmax(B * H * Lq, Lk, scores, scores);
  run_matmul(it->second.second, scores, v, out);
}

}  // namespace cpuattn::perf
