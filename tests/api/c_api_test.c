/* The C API from C: a context, sgemm, softmax, attention and the multi-head layer, each checked
 * against a value computed here. Prints "N passed, N failed". */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cpuattn/cpuattn.h"

static int passed = 0, failed = 0;

#define CHECK(cond)                                                                       \
  do {                                                                                    \
    if (cond) {                                                                           \
      ++passed;                                                                           \
    } else {                                                                              \
      ++failed;                                                                           \
      printf("FAILED line %d: %s (%s)\n", __LINE__, #cond, cpuattn_last_error_message()); \
    }                                                                                     \
  } while (0)

static cpuattn_tensor_desc dense4(int64_t a, int64_t b, int64_t c, int64_t d) {
  cpuattn_tensor_desc t = {4, {a, b, c, d}, {b * c * d, c * d, d, 1}};
  return t;
}

int main(void) {
  cpuattn_context_t ctx = NULL;
  cpuattn_context_options opts;
  cpuattn_context_options_init(&opts);
  opts.threads = 2;
  CHECK(cpuattn_context_create(&opts, &ctx) == CPUATTN_STATUS_OK);
  CHECK(cpuattn_context_threads(ctx) == 2);
  printf("isa: %s\n", cpuattn_isa_name(cpuattn_context_isa(ctx)));

  /* sgemm: C = A B with A = [[1,2],[3,4]], B = identity * 2. */
  float a[4] = {1, 2, 3, 4}, b[4] = {2, 0, 0, 2}, c[4];
  CHECK(cpuattn_sgemm(ctx, CPUATTN_TRANSPOSE_NO, CPUATTN_TRANSPOSE_NO, 2, 2, 2, 1.0f, a, 2, b, 2,
                      0.0f, c, 2) == CPUATTN_STATUS_OK);
  CHECK(c[0] == 2 && c[1] == 4 && c[2] == 6 && c[3] == 8);

  /* softmax of [0, ln 3] = [0.25, 0.75]. */
  float x[2] = {0.0f, logf(3.0f)}, y[2];
  cpuattn_tensor_desc row = {1, {2}, {1}};
  cpuattn_softmax_desc sd;
  cpuattn_softmax_desc_init(&sd);
  CHECK(cpuattn_softmax(ctx, &row, x, &row, y, &sd) == CPUATTN_STATUS_OK);
  CHECK(fabsf(y[0] - 0.25f) < 1e-6f && fabsf(y[1] - 0.75f) < 1e-6f);

  /* causal attention, 3 tokens, head_dim 1: token 0 sees only value 0. */
  float q[3] = {1, 1, 1}, k[3] = {0, 0, 0}, v[3] = {10, 20, 30}, out[3];
  cpuattn_tensor_desc t3 = dense4(1, 3, 1, 1);
  cpuattn_attention_desc ad;
  cpuattn_attention_desc_init(&ad);
  ad.mask = CPUATTN_MASK_CAUSAL;
  CHECK(cpuattn_attention(ctx, &t3, q, &t3, k, &t3, v, &t3, out, &ad) == CPUATTN_STATUS_OK);
  CHECK(fabsf(out[0] - 10) < 1e-4f && fabsf(out[1] - 15) < 1e-4f && fabsf(out[2] - 20) < 1e-4f);

  /* weights returned: equal scores, so uniform over the visible keys. */
  float w[9];
  cpuattn_tensor_desc wd = dense4(1, 1, 3, 3);
  ad.weights_desc = &wd;
  ad.weights = w;
  CHECK(cpuattn_attention(ctx, &t3, q, &t3, k, &t3, v, &t3, out, &ad) == CPUATTN_STATUS_OK);
  CHECK(w[0] == 1.0f && w[1] == 0.0f && fabsf(w[4] - 0.5f) < 1e-6f &&
        fabsf(w[8] - 1.0f / 3) < 1e-6f);

  /* The multi-head layer with identity projections reproduces single-head attention. */
  float ident[4] = {1, 0, 0, 1}, in_proj[12] = {1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1};
  cpuattn_mha_config cfg = {2, 1, 0, 0, 0};
  cpuattn_mha_weights mw;
  memset(&mw, 0, sizeof mw);
  mw.in_proj_weight = in_proj;
  mw.out_proj_weight = ident;
  cpuattn_mha_t mha = NULL;
  CHECK(cpuattn_mha_create(ctx, &cfg, &mw, &mha) == CPUATTN_STATUS_OK);
  float xs[4] = {0, 0, 1, 2}, ys[4];
  cpuattn_tensor_desc seq = {3, {1, 2, 2}, {4, 2, 1}};
  cpuattn_attention_desc causal;
  cpuattn_attention_desc_init(&causal);
  causal.mask = CPUATTN_MASK_CAUSAL;
  CHECK(cpuattn_mha_forward(ctx, mha, &seq, xs, &seq, xs, &seq, xs, &seq, ys, &causal) ==
        CPUATTN_STATUS_OK);
  CHECK(ys[0] == 0 && ys[1] == 0); /* token 0 attends to itself: value (0, 0) */
  CHECK(ys[2] > 0 && ys[2] < 1 && ys[3] > 0 && ys[3] < 2);
  cpuattn_mha_destroy(mha);
  CHECK(cpuattn_mha_forward(ctx, mha, &seq, xs, &seq, xs, &seq, xs, &seq, ys, NULL) ==
        CPUATTN_STATUS_INVALID_ARGUMENT);

  /* Errors are statuses with a message. */
  CHECK(cpuattn_sgemm(ctx, CPUATTN_TRANSPOSE_NO, CPUATTN_TRANSPOSE_NO, 0, 2, 2, 1, a, 2, b, 2, 0, c,
                      2) == CPUATTN_STATUS_INVALID_ARGUMENT);
  CHECK(strlen(cpuattn_last_error_message()) > 0);

  cpuattn_context_destroy(ctx);
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
