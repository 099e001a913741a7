// Row softmax: cpuattn against oneDNN's softmax primitive and a scalar std::exp loop. GBps counts
// the bytes read and written (8 per element); "in cache" totals 64 K floats (in + out in L2),
// "out of cache" 16 Mi floats in and 16 Mi out (128 MiB, far beyond the L3).
#include <cmath>

#include "bench_util.hpp"
#include "peers.hpp"

namespace cpuattn::perf {
namespace {

enum Impl { kCpuattn, kOnednn, kScalar };

void scalar_softmax(int64_t rows, int64_t cols, const float* x, float* y) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    float mx = -INFINITY;
    for (int64_t j = 0; j < cols; ++j) mx = std::max(mx, xr[j]);
    float sum = 0.0f;
    for (int64_t j = 0; j < cols; ++j) sum += yr[j] = std::exp(xr[j] - mx);
    const float inv = 1.0f / sum;
    for (int64_t j = 0; j < cols; ++j) yr[j] *= inv;
  }
}

// args: cols, total floats, threads
void bm_softmax(benchmark::State& state, Impl impl) {
  const int64_t cols = state.range(0), total = state.range(1), rows = total / cols;
  const int threads = static_cast<int>(state.range(2));
  const auto x = random_buffer(total, 3, -10, 10);
  std::vector<float> y(total), check(total);
  set_peer_threads(threads);
  const Context& ctx = context_for(threads);
  auto run = [&](float* out) {
    switch (impl) {
      case kCpuattn:
        if (!softmax(ctx, TensorView<const float>(x.data(), {rows, cols}),
                     TensorView<float>(out, {rows, cols}))
                 .is_ok()) {
          std::abort();
        }
        break;
      case kOnednn:
        onednn_softmax(rows, cols, x.data(), out);
        break;
      case kScalar:
        scalar_softmax(rows, cols, x.data(), out);
        break;
    }
  };
  run(y.data());
  scalar_softmax(std::min<int64_t>(rows, 64), cols, x.data(), check.data());
  if (!check_close(state, y.data(), check.data(), std::min<int64_t>(rows, 64) * cols, 1e-5,
                   "softmax"))
    return;
  for (auto _ : state) {
    run(y.data());
    benchmark::ClobberMemory();
  }
  set_gbps(state, 8.0 * total);
  state.counters["rows_per_s"] =
      benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsIterationInvariantRate);
}

void shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"cols", "total", "threads"});
  for (int threads : {1, 2}) {
    for (int64_t cols : {128, 512, 2048, 8192}) {
      b->Args({cols, 64 * 1024, threads});
      b->Args({cols, 16 * 1024 * 1024, threads});
    }
  }
  b->UseRealTime();
}

BENCHMARK_CAPTURE(bm_softmax, cpuattn, kCpuattn)->Apply(shapes);
BENCHMARK_CAPTURE(bm_softmax, onednn, kOnednn)->Apply(shapes);
BENCHMARK_CAPTURE(bm_softmax, scalar_exp, kScalar)->Apply(shapes);

}  // namespace
}  // namespace cpuattn::perf
