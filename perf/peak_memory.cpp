// Peak resident memory of one attention call, in a fresh process: usage
//   cpuattn_peak_memory {cpuattn|cpuattn_composed|onednn} B H L D
// prints the peak RSS (VmHWM) and the inputs + output size, both in MiB.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "bench_util.hpp"
#include "peers.hpp"

namespace {
double vm_hwm_mib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
  }
  return -1;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s {cpuattn|cpuattn_composed|onednn} B H L D\n", argv[0]);
    return 2;
  }
  using namespace cpuattn;
  const std::string impl = argv[1];
  const int64_t B = std::atoll(argv[2]), H = std::atoll(argv[3]), L = std::atoll(argv[4]),
                D = std::atoll(argv[5]);
  const auto q = perf::random_buffer(B * L * H * D, 1), k = perf::random_buffer(B * L * H * D, 2),
             v = perf::random_buffer(B * L * H * D, 3);
  std::vector<float> out(B * L * H * D, 0.0f);
  const double io_mib = 4.0 * 4 * B * L * H * D / (1 << 20);
  if (impl == "onednn") {
    std::vector<float> scores(B * H * L * L);
    perf::onednn_attention({B, H, L, L, D, false, H}, q.data(), k.data(), v.data(), out.data(),
                           scores.data());
  } else {
    ContextOptions o;
    o.threads = 2;
    Context ctx;
    if (!Context::create(o, &ctx).is_ok()) return 1;
    AttentionOptions ao;
    ao.algorithm = impl == "cpuattn" ? AttentionAlgorithm::kFused : AttentionAlgorithm::kComposed;
    const Status s = attention(ctx, TensorView<const float>(q.data(), {B, L, H, D}),
                               TensorView<const float>(k.data(), {B, L, H, D}),
                               TensorView<const float>(v.data(), {B, L, H, D}),
                               TensorView<float>(out.data(), {B, L, H, D}), ao);
    if (!s.is_ok()) return 1;
  }
  std::printf("%s B=%lld H=%lld L=%lld D=%lld peak_rss_mib=%.1f inputs_output_mib=%.1f\n",
              impl.c_str(), static_cast<long long>(B), static_cast<long long>(H),
              static_cast<long long>(L), static_cast<long long>(D), vm_hwm_mib(), io_mib);
  return 0;
}
