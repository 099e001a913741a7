// The peers cpuattn is compared with, behind one small interface each. None of them is vendored:
// Debian's OpenBLAS (pthreads), oneDNN 2.6 (OpenMP) and Eigen 3.4.
#pragma once

#include <cstdint>

namespace cpuattn::perf {

// Row-major C = A op(B) (+ beta C) through each library's own GEMM.
void openblas_sgemm(bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                    const float* b, int64_t ldb, float* c, int64_t ldc);
void onednn_sgemm(bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                  const float* b, int64_t ldb, float* c, int64_t ldc);
// oneDNN's matmul primitive (brgemm kernels), created once per shape and cached.
void onednn_matmul(bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                   const float* b, int64_t ldb, float* c, int64_t ldc);
void eigen_sgemm(bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                 const float* b, int64_t ldb, float* c, int64_t ldc);

// oneDNN's softmax primitive over the last axis of a dense [rows, cols] matrix.
void onednn_softmax(int64_t rows, int64_t cols, const float* src, float* dst);

// Attention shapes in BSHD: q [B, Lq, H, D], k/v [B, Lk, H, D], out [B, Lq, H, D].
struct AttentionShape {
  int64_t batch, heads, seq_q, seq_kv, head_dim;
  bool causal;
  int64_t heads_kv;  // grouped-query heads (heads a multiple of it); oneDNN: only with seq_q == 1
};
// oneDNN composed: batched matmul (scale as an output scale), the causal mask as its own step,
// softmax primitive, batched matmul. `scores` holds B*H*Lq*Lk floats.
void onednn_attention(const AttentionShape& s, const float* q, const float* k, const float* v,
                      float* out, float* scores);
// The naive composition: per head, OpenBLAS sgemm, a scalar std::exp softmax, OpenBLAS sgemm,
// heads split across OpenMP threads.
void naive_attention(const AttentionShape& s, const float* q, const float* k, const float* v,
                     float* out, float* scores);

}  // namespace cpuattn::perf
