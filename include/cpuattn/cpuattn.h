/* cpuattn C API: plain C, no exception crosses it. Every call returns a status; on failure
 * cpuattn_last_error_message() (thread-local) says which argument was wrong and what was expected.
 * Semantics are those of the C++ API (the cpuattn C++ headers); tensors are described by dims and
 * strides in elements. */
#ifndef CPUATTN_H_
#define CPUATTN_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  CPUATTN_STATUS_OK = 0,
  CPUATTN_STATUS_INVALID_ARGUMENT = 1,
  CPUATTN_STATUS_OUT_OF_MEMORY = 2,
  CPUATTN_STATUS_UNSUPPORTED = 3,
  CPUATTN_STATUS_INTERNAL_ERROR = 4,
  CPUATTN_STATUS_MAX_ENUM = 0x7FFFFFFF
} cpuattn_status_t;

typedef enum {
  CPUATTN_ISA_AUTO = -1,
  CPUATTN_ISA_GENERIC = 0,
  CPUATTN_ISA_SSE42 = 1,
  CPUATTN_ISA_AVX2 = 2,
  CPUATTN_ISA_AVX512 = 3,
  CPUATTN_ISA_MAX_ENUM = 0x7FFFFFFF
} cpuattn_isa_t;

/* Each enum spans every int (MAX_ENUM), so a C caller's out-of-range value is reported as an
 * invalid argument instead of being undefined behaviour in the library. */
typedef enum {
  CPUATTN_TRANSPOSE_NO = 0,
  CPUATTN_TRANSPOSE_YES = 1,
  CPUATTN_TRANSPOSE_MAX_ENUM = 0x7FFFFFFF
} cpuattn_transpose_t;
typedef enum {
  CPUATTN_MASK_NONE = 0,
  CPUATTN_MASK_CAUSAL = 1,
  CPUATTN_MASK_MAX_ENUM = 0x7FFFFFFF
} cpuattn_mask_kind_t;
typedef enum {
  CPUATTN_ALGORITHM_AUTO = 0,
  CPUATTN_ALGORITHM_FUSED = 1,
  CPUATTN_ALGORITHM_COMPOSED = 2,
  CPUATTN_ALGORITHM_MAX_ENUM = 0x7FFFFFFF
} cpuattn_algorithm_t;

typedef struct cpuattn_context* cpuattn_context_t;
typedef struct cpuattn_mha* cpuattn_mha_t;

typedef struct {
  int32_t ndim;
  int64_t dims[4];
  int64_t strides[4];
} cpuattn_tensor_desc;

typedef struct {
  int32_t threads;              /* 0: one per core */
  int32_t isa;                  /* cpuattn_isa_t; CPUATTN_ISA_AUTO: best (capped by CPUATTN_ISA) */
  uint64_t scratch_limit_bytes; /* 0: default (4 GiB) */
  int32_t spin_wait_us; /* 0: default (200 us or CPUATTN_SPIN_US); < 0: workers sleep at once */
} cpuattn_context_options;

/* Fills the defaults: all cores, best ISA, default scratch limit. */
void cpuattn_context_options_init(cpuattn_context_options* options);
/* options may be NULL for the defaults. */
cpuattn_status_t cpuattn_context_create(const cpuattn_context_options* options,
                                        cpuattn_context_t* out);
void cpuattn_context_destroy(cpuattn_context_t ctx);      /* NULL is a no-op */
cpuattn_isa_t cpuattn_context_isa(cpuattn_context_t ctx); /* CPUATTN_ISA_AUTO if ctx is invalid */
int32_t cpuattn_context_threads(cpuattn_context_t ctx);   /* 0 if ctx is invalid */
const char* cpuattn_isa_name(cpuattn_isa_t isa);
const char* cpuattn_last_error_message(void);

cpuattn_status_t cpuattn_sgemm(cpuattn_context_t ctx, cpuattn_transpose_t trans_a,
                               cpuattn_transpose_t trans_b, int64_t m, int64_t n, int64_t k,
                               float alpha, const float* a, int64_t lda, const float* b,
                               int64_t ldb, float beta, float* c, int64_t ldc);

cpuattn_status_t cpuattn_sgemm_strided_batched(cpuattn_context_t ctx, cpuattn_transpose_t trans_a,
                                               cpuattn_transpose_t trans_b, int64_t m, int64_t n,
                                               int64_t k, float alpha, const float* a, int64_t lda,
                                               int64_t stride_a, const float* b, int64_t ldb,
                                               int64_t stride_b, float beta, float* c, int64_t ldc,
                                               int64_t stride_c, int64_t batch_count);

typedef struct {
  float scale;                          /* multiplies the input before the softmax */
  int32_t mask;                         /* cpuattn_mask_kind_t */
  int32_t log;                          /* nonzero: log-softmax */
  const int32_t* key_lengths;           /* [batch] or NULL */
  const cpuattn_tensor_desc* bias_desc; /* NULL: no bias */
  const float* bias;
} cpuattn_softmax_desc;

void cpuattn_softmax_desc_init(cpuattn_softmax_desc* desc); /* scale 1, no mask, no bias */
/* desc may be NULL for the defaults. */
cpuattn_status_t cpuattn_softmax(cpuattn_context_t ctx, const cpuattn_tensor_desc* src_desc,
                                 const float* src, const cpuattn_tensor_desc* dst_desc, float* dst,
                                 const cpuattn_softmax_desc* desc);

typedef struct {
  float scale;                          /* 0: 1 / sqrt(head_dim) */
  int32_t mask;                         /* cpuattn_mask_kind_t */
  int32_t algorithm;                    /* cpuattn_algorithm_t */
  const int32_t* q_lengths;             /* [batch] or NULL */
  const int32_t* kv_lengths;            /* [batch] or NULL */
  const cpuattn_tensor_desc* bias_desc; /* NULL: no bias */
  const float* bias;
  const cpuattn_tensor_desc* weights_desc; /* NULL: weights not returned */
  float* weights;
  const cpuattn_tensor_desc* scores_desc; /* NULL: scores not returned */
  float* scores;
} cpuattn_attention_desc;

void cpuattn_attention_desc_init(cpuattn_attention_desc* desc);
/* q [B, Lq, Hq, D], k [B, Lk, Hkv, D], v [B, Lk, Hkv, Dv], out [B, Lq, Hq, Dv]; desc may be NULL.
 */
cpuattn_status_t cpuattn_attention(cpuattn_context_t ctx, const cpuattn_tensor_desc* q_desc,
                                   const float* q, const cpuattn_tensor_desc* k_desc,
                                   const float* k, const cpuattn_tensor_desc* v_desc,
                                   const float* v, const cpuattn_tensor_desc* out_desc, float* out,
                                   const cpuattn_attention_desc* desc);

typedef struct {
  int64_t embed_dim;
  int64_t num_heads;
  int64_t kv_heads; /* 0: num_heads */
  int64_t kdim;     /* 0: embed_dim */
  int64_t vdim;     /* 0: embed_dim */
} cpuattn_mha_config;

typedef struct {
  const float* in_proj_weight; /* packed [E + 2*kv_heads*head_dim, E], or NULL and the next three */
  const float* in_proj_bias;
  const float* q_proj_weight;
  const float* k_proj_weight;
  const float* v_proj_weight;
  const float* out_proj_weight;
  const float* out_proj_bias;
} cpuattn_mha_weights;

cpuattn_status_t cpuattn_mha_create(cpuattn_context_t ctx, const cpuattn_mha_config* config,
                                    const cpuattn_mha_weights* weights, cpuattn_mha_t* out);
/* query [B, Lq, E], key [B, Lk, kdim], value [B, Lk, vdim], out [B, Lq, E]; desc may be NULL
 * (its weights/scores outputs must be NULL here). */
cpuattn_status_t cpuattn_mha_forward(cpuattn_context_t ctx, cpuattn_mha_t mha,
                                     const cpuattn_tensor_desc* query_desc, const float* query,
                                     const cpuattn_tensor_desc* key_desc, const float* key,
                                     const cpuattn_tensor_desc* value_desc, const float* value,
                                     const cpuattn_tensor_desc* out_desc, float* out,
                                     const cpuattn_attention_desc* desc);
void cpuattn_mha_destroy(cpuattn_mha_t mha); /* NULL is a no-op */

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CPUATTN_H_ */
