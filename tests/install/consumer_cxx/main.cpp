// Links the installed package: causal attention over three tokens.
#include <cmath>
#include <cpuattn/cpuattn.hpp>
#include <cstdio>

int main() {
  cpuattn::Context ctx;
  if (!cpuattn::Context::create({}, &ctx).is_ok()) return 1;
  float q[3] = {1, 1, 1}, k[3] = {0, 0, 0}, v[3] = {10, 20, 30}, out[3];
  cpuattn::AttentionOptions o;
  o.mask = cpuattn::MaskKind::kCausal;
  const cpuattn::Status s =
      cpuattn::attention(ctx, cpuattn::TensorView<const float>(q, {1, 3, 1, 1}),
                         cpuattn::TensorView<const float>(k, {1, 3, 1, 1}),
                         cpuattn::TensorView<const float>(v, {1, 3, 1, 1}),
                         cpuattn::TensorView<float>(out, {1, 3, 1, 1}), o);
  std::printf("%s %g %g %g\n", cpuattn::isa_name(ctx.isa()), out[0], out[1], out[2]);
  return s.is_ok() && std::fabs(out[2] - 20.0f) < 1e-4f ? 0 : 1;
}
