#include "ops/attention_composed.hpp"

#include <algorithm>

#include "ops/softmax_driver.hpp"

namespace cpuattn::detail {
namespace {

struct Layout {
  int64_t scores, out, row, gemm, total;  // per-worker offsets, floats
};

int64_t round16(int64_t n) {
  return (n + 15) / 16 * 16;
}

GemmProblem scores_gemm(const AttentionProblem& p, int64_t b, int64_t h, float* s) {
  GemmProblem g;
  g.m = p.seq_q;
  g.n = p.seq_kv;
  g.k = p.head_dim;
  g.a = p.q + b * p.qs[0] + h * p.qs[2];
  g.a_rs = p.qs[1];
  g.a_cs = p.qs[3];
  g.b = p.k + b * p.ks[0] + p.kv_head(h) * p.ks[2];
  g.b_rs = p.ks[3];
  g.b_cs = p.ks[1];
  g.c = s;
  g.ldc = p.seq_kv;
  return g;
}

GemmProblem output_gemm(const AttentionProblem& p, int64_t b, int64_t h, const float* w, float* o) {
  GemmProblem g;
  g.m = p.seq_q;
  g.n = p.head_dim_v;
  g.k = p.seq_kv;
  g.a = w;
  g.a_rs = p.seq_kv;
  g.a_cs = 1;
  g.b = p.v + b * p.vs[0] + p.kv_head(h) * p.vs[2];
  g.b_rs = p.vs[1];
  g.b_cs = p.vs[3];
  g.c = o;
  g.ldc = p.head_dim_v;
  return g;
}

Layout layout_for(const ContextImpl& ctx, const AttentionProblem& p) {
  Layout l{};
  l.scores = 0;
  l.out = round16(p.seq_q * p.seq_kv);
  l.row = l.out + round16(p.seq_q * p.head_dim_v);
  l.gemm = l.row + round16(4 * p.seq_kv);
  const std::size_t g = std::max(gemm_serial_scratch(ctx, scores_gemm(p, 0, 0, nullptr)),
                                 gemm_serial_scratch(ctx, output_gemm(p, 0, 0, nullptr, nullptr)));
  l.total = l.gemm + static_cast<int64_t>(g);
  return l;
}

void copy_matrix(const float* src, int64_t rows, int64_t cols, float* dst, int64_t rs, int64_t cs) {
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < cols; ++j) dst[i * rs + j * cs] = src[i * cols + j];
  }
}

void run_head(const ContextImpl& ctx, const Layout& lay, const AttentionProblem& p, int64_t b,
              int64_t h, float* work) {
  float* s = work + lay.scores;
  float* o = work + lay.out;
  float* gemm_scratch = work + lay.gemm;
  gemm_serial(ctx, scores_gemm(p, b, h, s), gemm_scratch);
  if (p.scores != nullptr) {
    copy_matrix(s, p.seq_q, p.seq_kv, p.scores + b * p.scs[0] + h * p.scs[1], p.scs[2], p.scs[3]);
  }
  const int64_t q_len = p.q_length(b), kv_len = p.kv_length(b);
  for (int64_t i = 0; i < p.seq_q; ++i) {
    const int64_t valid =
        i < q_len ? softmax_valid_columns(p.causal, i, p.seq_q, p.seq_kv, kv_len) : 0;
    StridedRow bias{};
    if (p.bias != nullptr) {
      bias = {p.bias + b * p.bs[0] + h * p.bs[1] + i * p.bs[2], p.bs[3]};
    }
    float* row = s + i * p.seq_kv;
    masked_softmax_row(*ctx.kernels, {row, 1}, bias, row, 1, p.seq_kv, valid, p.scale, false, false,
                       nullptr, work + lay.row);
  }
  if (p.weights != nullptr) {
    copy_matrix(s, p.seq_q, p.seq_kv, p.weights + b * p.wts[0] + h * p.wts[1], p.wts[2], p.wts[3]);
  }
  gemm_serial(ctx, output_gemm(p, b, h, s, o), gemm_scratch);
  copy_matrix(o, p.seq_q, p.head_dim_v, p.out + b * p.os[0] + h * p.os[2], p.os[1], p.os[3]);
}

}  // namespace

std::size_t attention_composed_scratch(const ContextImpl& ctx, const AttentionProblem& p) {
  return static_cast<std::size_t>(layout_for(ctx, p).total);
}

void attention_composed(ContextImpl& ctx, const Workspace& ws, const AttentionProblem& p) {
  const Layout lay = layout_for(ctx, p);
  ctx.runtime->parallel_for(p.batch * p.heads_q, 1, [&](int64_t begin, int64_t end) {
    float* work = ws.worker(worker_index());
    for (int64_t t = begin; t < end; ++t) run_head(ctx, lay, p, t / p.heads_q, t % p.heads_q, work);
  });
}

}  // namespace cpuattn::detail
