#include <cblas.h>

#include <algorithm>
#include <cmath>

#include "peers.hpp"

namespace cpuattn::perf {

void openblas_sgemm(bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                    const float* b, int64_t ldb, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), 1.0f, a, static_cast<int>(lda), b,
              static_cast<int>(ldb), 0.0f, c, static_cast<int>(ldc));
}

void naive_attention(const AttentionShape& s, const float* q, const float* k, const float* v,
                     float* out, float* scores) {
  const int64_t H = s.heads, Hkv = s.heads_kv, D = s.head_dim, Lq = s.seq_q, Lk = s.seq_kv;
  const float scale = 1.0f / std::sqrt(static_cast<float>(D));
  for (int64_t b = 0; b < s.batch; ++b) {
    for (int64_t h = 0; h < H; ++h) {
      const float* qh = q + b * Lq * H * D + h * D;
      const float* kh = k + b * Lk * Hkv * D + h / (H / Hkv) * D;
      const float* vh = v + b * Lk * Hkv * D + h / (H / Hkv) * D;
      float* oh = out + b * Lq * H * D + h * D;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(Lq),
                  static_cast<int>(Lk), static_cast<int>(D), scale, qh, static_cast<int>(H * D), kh,
                  static_cast<int>(Hkv * D), 0.0f, scores, static_cast<int>(Lk));
      for (int64_t i = 0; i < Lq; ++i) {
        float* row = scores + i * Lk;
        const int64_t valid = s.causal ? std::min(Lk, i + (Lk - Lq) + 1) : Lk;
        float mx = -INFINITY;
        for (int64_t j = 0; j < valid; ++j) mx = std::max(mx, row[j]);
        float sum = 0.0f;
        for (int64_t j = 0; j < valid; ++j) sum += row[j] = std::exp(row[j] - mx);
        for (int64_t j = 0; j < valid; ++j) row[j] /= sum;
        for (int64_t j = valid; j < Lk; ++j) row[j] = 0.0f;
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(Lq),
                  static_cast<int>(D), static_cast<int>(Lk), 1.0f, scores, static_cast<int>(Lk), vh,
                  static_cast<int>(Hkv * D), 0.0f, oh, static_cast<int>(H * D));
    }
  }
}

}  // namespace cpuattn::perf
