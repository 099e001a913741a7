// Row softmax: cpuattn against oneDNN's softmax primitive and a scalar std::exp loop. GBps counts
// the bytes read and written (8 per element); "in cache" totals 64 K floats (in + out in L2),
// "out of cache" 16 Mi floats in and 16 Mi out (128 MiB, far beyond the L3).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

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

// A float buffer of n at a 64-byte boundary (aligned) or where a std::vector of that size lands:
// glibc puts large blocks 16 bytes past a page, so every row of 16-float multiples starts 4
// floats off a vector boundary and each vector load and store splits a cache line. Runtimes
// allocate tensors 64-byte aligned; both cases are measured.
struct Buffer {
  Buffer(std::vector<float> data, bool aligned) {
    if (!aligned) {
      storage = std::move(data);  // keeps the vector's own placement
      p = storage.data();
      return;
    }
    storage.resize(data.size() + 64 / sizeof(float));
    const auto addr = reinterpret_cast<std::uintptr_t>(storage.data());
    p = storage.data() + (64 - addr % 64) % 64 / sizeof(float);
    std::copy(data.begin(), data.end(), p);
  }
  std::vector<float> storage;
  float* p;
};

// args: cols, total floats, threads, aligned (0: std::vector's placement, 1: 64-byte aligned)
void bm_softmax(benchmark::State& state, Impl impl) {
  const int64_t cols = state.range(0), total = state.range(1), rows = total / cols;
  const int threads = static_cast<int>(state.range(2));
  const bool aligned = state.range(3) != 0;
  const Buffer xb(random_buffer(total, 3, -10, 10), aligned);
  Buffer yb(std::vector<float>(total), aligned);
  const float* x = xb.p;
  float* y = yb.p;
  std::vector<float> check(total);
  set_peer_threads(threads);
  const Context& ctx = context_for(threads);
  auto run = [&](float* out) {
    switch (impl) {
      case kCpuattn:
        if (!softmax(ctx, TensorView<const float>(x, {rows, cols}),
                     TensorView<float>(out, {rows, cols}))
                 .is_ok()) {
          std::abort();
        }
        break;
      case kOnednn:
        onednn_softmax(rows, cols, x, out);
        break;
      case kScalar:
        scalar_softmax(rows, cols, x, out);
        break;
    }
  };
  const char* pools[] = {"cpuattn", "openmp", "scalar"};
  warm_up(pools[impl], [&] { run(y); });
  scalar_softmax(std::min<int64_t>(rows, 64), cols, x, check.data());
  if (!check_close(state, y, check.data(), std::min<int64_t>(rows, 64) * cols, 1e-5, "softmax"))
    return;
  for (auto _ : state) {
    run(y);
    benchmark::ClobberMemory();
  }
  set_gbps(state, 8.0 * total);
  state.counters["rows_per_s"] =
      benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsIterationInvariantRate);
}

void shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"cols", "total", "threads", "aligned"});
  for (int threads : {1, 2}) {
    for (int64_t cols : {128, 512, 2048, 8192}) {
      b->Args({cols, 64 * 1024, threads, 0});
      b->Args({cols, 16 * 1024 * 1024, threads, 0});
      b->Args({cols, 16 * 1024 * 1024, threads, 1});
    }
  }
  b->UseRealTime();
}

BENCHMARK_CAPTURE(bm_softmax, cpuattn, kCpuattn)->Apply(shapes);
BENCHMARK_CAPTURE(bm_softmax, onednn, kOnednn)->Apply(shapes);
BENCHMARK_CAPTURE(bm_softmax, scalar_exp, kScalar)->Apply(shapes);

}  // namespace
}  // namespace cpuattn::perf
