// Machine peak per ISA and thread count: every other result is quoted as a fraction of these.
// GFLOPS = 2 flops x chains x lanes per round; each thread runs its own chains, so the rate is
// the per-thread work (averaged over threads) times all iterations over the wall time.
// peak/copy: memcpy bandwidth over the softmax suite's out-of-cache volume (16 Mi floats in, 16 Mi
// out, split between the threads), GBps counting bytes read and written like the softmax rows;
// peak/copy_stream: the same with non-temporal stores (peak/copy_stream.cpp), the softmax rows'
// roofline in the report.
#include <cstdint>
#include <cstring>
#include <vector>

#include "bench_util.hpp"

namespace cpuattn::perf {
float fma_peak_avx512(int64_t iters);
float fma_peak_avx2(int64_t iters);
void copy_stream_avx2(const float* src, float* dst, int64_t n);

namespace {

// A peak the CPU cannot run is reported as skipped (report.py leaves it out), not executed: the
// suite also runs on machines without AVX-512.
template <float (*Fn)(int64_t), Isa kIsa, int kLanes, int kChains>
void bm_fma_peak(benchmark::State& state) {
  if (!cpu_supports(kIsa)) {
    state.SkipWithError("this CPU lacks the instruction set");
    return;
  }
  constexpr int64_t kIters = 1 << 20;
  float sink = 0.0f;
  // The other threads wait at the timing loop's start for this one.
  if (state.thread_index() == 0) warm_up("peak", [] {});
  for (auto _ : state) {
    sink += Fn(kIters);
    benchmark::DoNotOptimize(sink);
  }
  state.counters["GFLOPS"] = benchmark::Counter(
      2.0 * kChains * kLanes * kIters * 1e-9,
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kAvgThreads);
}

BENCHMARK_TEMPLATE(bm_fma_peak, fma_peak_avx512, Isa::kAvx512, 16, 16)
    ->Name("peak/fma/avx512")
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();
BENCHMARK_TEMPLATE(bm_fma_peak, fma_peak_avx2, Isa::kAvx2, 8, 12)
    ->Name("peak/fma/avx2")
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

void memcpy_floats(const float* src, float* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<std::size_t>(n) * sizeof(float));
}

template <void (*Copy)(const float*, float*, int64_t), Isa kIsa>
void bm_copy_bandwidth(benchmark::State& state) {
  if (!cpu_supports(kIsa)) {
    state.SkipWithError("this CPU lacks the instruction set");
    return;
  }
  constexpr int64_t kFloats = int64_t{16} << 20;
  static std::vector<float> src(kFloats, 1.0f), dst(kFloats, 0.0f);  // touched once, reused
  const int64_t part = kFloats / state.threads();
  const int64_t begin = part * state.thread_index();
  if (state.thread_index() == 0) warm_up("peak", [] {});
  for (auto _ : state) {
    Copy(src.data() + begin, dst.data() + begin, part);
    benchmark::ClobberMemory();
  }
  // Averaged over the threads, then times all threads' iterations: without kAvgThreads the
  // 2-thread figure counted each thread's bytes twice (before session 17 it read 2x too high).
  state.counters["GBps"] = benchmark::Counter(
      8.0 * static_cast<double>(part) * 1e-9,
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kAvgThreads);
}
BENCHMARK_TEMPLATE(bm_copy_bandwidth, memcpy_floats, Isa::kGeneric)
    ->Name("peak/copy")
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();
BENCHMARK_TEMPLATE(bm_copy_bandwidth, copy_stream_avx2, Isa::kAvx2)
    ->Name("peak/copy_stream")
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

}  // namespace
}  // namespace cpuattn::perf
