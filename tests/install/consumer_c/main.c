/* Links the installed package through pkg-config: a 2 x 2 sgemm. */
#include <cpuattn/cpuattn.h>
#include <stdio.h>

int main(void) {
  cpuattn_context_t ctx;
  if (cpuattn_context_create(NULL, &ctx) != CPUATTN_STATUS_OK) return 1;
  float a[4] = {1, 2, 3, 4}, b[4] = {1, 0, 0, 1}, c[4];
  cpuattn_status_t s = cpuattn_sgemm(ctx, CPUATTN_TRANSPOSE_NO, CPUATTN_TRANSPOSE_NO, 2, 2, 2, 1.0f,
                                     a, 2, b, 2, 0.0f, c, 2);
  printf("%s %g %g %g %g\n", cpuattn_isa_name(cpuattn_context_isa(ctx)), c[0], c[1], c[2], c[3]);
  cpuattn_context_destroy(ctx);
  return s == CPUATTN_STATUS_OK && c[3] == 4.0f ? 0 : 1;
}
