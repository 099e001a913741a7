// The oracle: plain strided loops accumulating in double, no SIMD, no threads, short enough to
// check by eye. Tests and the perf suite's correctness checks compare cpuattn against these.
#pragma once

#include <cstdint>
#include <vector>

namespace cpuattn::ref {

// C = alpha * op(A) op(B) + beta * C, row-major. Returns, per C element, the bound's magnitude
// |alpha| * sum_p |a||b| + |beta * c0| (for error tolerances). beta == 0 ignores C's contents.
struct GemmResult {
  std::vector<double> c;
  std::vector<double> magnitude;
};
GemmResult gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
                const float* c, int64_t ldc);

// softmax(scale * x + bias) over the first `valid` of n columns (the rest 0, or -inf for log);
// all-masked rows are 0 (or -inf). bias may be null; strides in elements.
std::vector<double> softmax_row(const float* x, int64_t x_stride, const float* bias,
                                int64_t bias_stride, int64_t n, int64_t valid, double scale,
                                bool log);

// Attention as documented in cpuattn/attention.hpp. Strides in elements: q/k/v/out as
// [batch, seq, head, dim], bias as [batch, head, query, key] (0 on broadcast dims).
struct AttentionCase {
  int64_t batch = 1, seq_q = 1, seq_kv = 1, heads_q = 1, heads_kv = 1, head_dim = 1, head_dim_v = 1;
  const float* q = nullptr;
  int64_t qs[4] = {};
  const float* k = nullptr;
  int64_t ks[4] = {};
  const float* v = nullptr;
  int64_t vs[4] = {};
  double scale = 1.0;
  bool causal = false;
  const int32_t* q_lengths = nullptr;
  const int32_t* kv_lengths = nullptr;
  const float* bias = nullptr;
  int64_t bs[4] = {};
};
struct AttentionResult {
  // Dense: out [batch, seq_q, heads_q, head_dim_v]; weights and scores [batch, heads_q, seq_q,
  // seq_kv]; out_magnitude = sum_j w_ij |v_jd| per output element (for tolerances).
  std::vector<double> out, out_magnitude, weights, scores;
};
AttentionResult attention(const AttentionCase& c);

// Multi-head layer, PyTorch layout: projections y = x W^T + b, dense [B, L, width] inputs.
struct MhaCase {
  int64_t batch = 1, seq_q = 1, seq_kv = 1, embed_dim = 1, num_heads = 1, kv_heads = 1, kdim = 1,
          vdim = 1;
  const float *query = nullptr, *key = nullptr, *value = nullptr;
  const float *wq = nullptr, *wk = nullptr, *wv = nullptr, *wo = nullptr;
  const float *bq = nullptr, *bk = nullptr, *bv = nullptr, *bo = nullptr;  // may be null
  bool causal = false;
};
std::vector<double> mha(const MhaCase& c);

}  // namespace cpuattn::ref
