// sgemm_vs_peers: cpuattn's sgemm against oneDNN (sgemm, matmul) and OpenBLAS, timed in
// alternation in one process: each round times every implementation over ~30 ms of calls, in an
// order rotated every round, and the figure of merit is the median over rounds of the per-round
// ratio cpuattn / peer, with its quartiles. The suite's random interleaving moves benchmarks
// apart by whole 0.2 s runs, where this host's slow stretches are shorter: these ratios held
// within +-1% where the suite's moved by 5%.
//
// One thread is what it measures well. On two, the libraries' idle workers spin for a while after
// a call (OpenBLAS's for ~0.1 s) and share the cores with whichever library runs next: cpuattn
// on 2 threads measured at its 1-thread speed here, and pausing 200 ms before every slice only
// slowed every library (pools asleep, the VM's idle vCPU taken back).
//
// usage: cpuattn_sgemm_vs_peers [--threads=N] [--rounds=N] M:N:K[:TRANS_B]...
// (default: the suite's shapes). OpenBLAS's kernel is the environment's (OPENBLAS_CORETYPE).
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "peers.hpp"
#include "round_stats.hpp"

namespace {

using cpuattn::perf::quantile;
using cpuattn::perf::seconds_now;

struct Shape {
  int64_t m, n, k;
  bool trans_b;
};

Shape parse_shape(const std::string& spec) {
  Shape s{0, 0, 0, false};
  int trans = 0;
  long long m = 0, n = 0, k = 0;
  const int got = std::sscanf(spec.c_str(), "%lld:%lld:%lld:%d", &m, &n, &k, &trans);
  s.m = m, s.n = n, s.k = k;
  if (got < 3 || s.m <= 0 || s.n <= 0 || s.k <= 0) {
    std::fprintf(stderr, "bad shape '%s' (M:N:K[:TRANS_B])\n", spec.c_str());
    std::exit(2);
  }
  s.trans_b = trans != 0;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace cpuattn;
  int threads = 1, rounds = 21;
  std::vector<Shape> shapes;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--threads=", 0) == 0) {
      threads = std::atoi(arg.c_str() + 10);
    } else if (arg.rfind("--rounds=", 0) == 0) {
      rounds = std::atoi(arg.c_str() + 9);
    } else {
      shapes.push_back(parse_shape(arg));
    }
  }
  if (threads < 1 || rounds < 1) return 2;
  if (shapes.empty()) {
    for (int64_t s : {64, 128, 256, 512, 1024, 2048}) shapes.push_back({s, s, s, false});
    for (int64_t l : {512, 2048}) {
      for (int64_t d : {64, 128}) {
        shapes.push_back({l, l, d, true});
        shapes.push_back({l, d, l, false});
      }
    }
  }
  perf::set_peer_threads(threads);
  const Context& ctx = perf::context_for(threads);
  const char* names[] = {"onednn_sgemm", "onednn_matmul", "openblas"};
  std::printf("%d thread(s), %d rounds; GFLOP/s medians, cpuattn / peer: median [quartiles]\n",
              threads, rounds);
  for (const Shape& s : shapes) {
    const int64_t ldb = s.trans_b ? s.k : s.n;
    const auto a = perf::random_buffer(static_cast<std::size_t>(s.m * s.k), 1);
    const auto b = perf::random_buffer(static_cast<std::size_t>(s.k * s.n), 2);
    std::vector<float> c(static_cast<std::size_t>(s.m * s.n));
    GemmArgs g;
    g.trans_b = s.trans_b ? Transpose::kYes : Transpose::kNo, g.m = s.m, g.n = s.n, g.k = s.k,
    g.a = a.data(), g.lda = s.k;
    g.b = b.data(), g.ldb = ldb, g.c = c.data(), g.ldc = s.n;
    const std::function<void()> impls[] = {
        [&] {
          if (!sgemm(ctx, g).is_ok()) std::abort();
        },
        [&] {
          perf::onednn_sgemm(s.trans_b, s.m, s.n, s.k, a.data(), s.k, b.data(), ldb, c.data(), s.n);
        },
        [&] {
          perf::onednn_matmul(s.trans_b, s.m, s.n, s.k, a.data(), s.k, b.data(), ldb, c.data(),
                              s.n);
        },
        [&] {
          perf::openblas_sgemm(s.trans_b, s.m, s.n, s.k, a.data(), s.k, b.data(), ldb, c.data(),
                               s.n);
        }};
    constexpr int kImpls = 4;
    // Warm-up (first touches, primitive creation), and every peer's C against cpuattn's: inputs in
    // [-1, 1], so |C| <= k and each element is within (k + 2) eps k of the exact product.
    impls[0]();
    const std::vector<float> ours = c;
    for (int v = 1; v < kImpls; ++v) {
      impls[v]();
      for (std::size_t e = 0; e < c.size(); ++e) {
        if (!(std::fabs(c[e] - ours[e]) <= 2.0 * (s.k + 2) * FLT_EPSILON * s.k)) {
          std::fprintf(stderr, "%s differs from cpuattn at %zu: %g vs %g\n", names[v - 1], e, c[e],
                       ours[e]);
          return 1;
        }
      }
    }
    const double t0 = seconds_now();
    impls[0]();
    const int reps = std::max(1, static_cast<int>(0.03 / std::max(seconds_now() - t0, 1e-9)));
    std::vector<double> rate[kImpls], ratio[kImpls];
    for (int r = 0; r < rounds; ++r) {
      double seconds[kImpls];
      for (int i = 0; i < kImpls; ++i) {
        const int v = (i + r) % kImpls;
        impls[v]();
        const double start = seconds_now();
        for (int k = 0; k < reps; ++k) impls[v]();
        seconds[v] = (seconds_now() - start) / reps;
        rate[v].push_back(2.0 * s.m * s.n * s.k / seconds[v] * 1e-9);
      }
      for (int v = 1; v < kImpls; ++v) ratio[v].push_back(seconds[v] / seconds[0]);
    }
    std::printf("%5lld x %5lld x %5lld%s  cpuattn %6.1f", static_cast<long long>(s.m),
                static_cast<long long>(s.n), static_cast<long long>(s.k), s.trans_b ? "^T" : "  ",
                quantile(rate[0], 0.5));
    for (int v = 1; v < kImpls; ++v) {
      std::printf("  %s %6.1f %.3f [%.3f..%.3f]", names[v - 1], quantile(rate[v], 0.5),
                  quantile(ratio[v], 0.5), quantile(ratio[v], 0.25), quantile(ratio[v], 0.75));
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  return 0;
}
