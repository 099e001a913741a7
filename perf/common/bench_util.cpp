#include "bench_util.hpp"

#include <cblas.h>
#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace cpuattn::perf {

const Context& context_for(int threads) {
  static std::mutex mutex;
  static std::map<int, std::unique_ptr<Context>> contexts;
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = contexts[threads];
  if (!slot) {
    slot = std::make_unique<Context>();
    ContextOptions o;
    o.threads = threads;
    const Status s = Context::create(o, slot.get());
    if (!s.is_ok()) std::abort();
  }
  return *slot;
}

void set_peer_threads(int threads) {
  openblas_set_num_threads(threads);
  omp_set_num_threads(threads);
  Eigen::setNbThreads(threads);
}

namespace {
// Past the longest spin measured (OpenBLAS, ~120 ms after its last call).
constexpr auto kSettle = std::chrono::milliseconds(150);
// Long enough for a pool that went to sleep, and a vCPU the hypervisor took back, to wake.
constexpr auto kWarmUp = std::chrono::milliseconds(20);
}  // namespace

void warm_up(const char* pool, const std::function<void()>& run) {
  static std::string last_pool;
  if (last_pool == pool) {
    run();
    return;
  }
  last_pool = pool;
  std::this_thread::sleep_for(kSettle);
  const auto start = std::chrono::steady_clock::now();
  do {
    run();
  } while (std::chrono::steady_clock::now() - start < kWarmUp);
}

std::vector<float> random_buffer(std::size_t n, uint64_t seed, float lo, float hi) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

void set_gflops(benchmark::State& state, double flops) {
  state.counters["GFLOPS"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void set_gbps(benchmark::State& state, double bytes) {
  state.counters["GBps"] =
      benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// "AMD EPYC (family 25 model 17)": VMs often hide the model name, and the family/model pair is
// what tells Zen 4 (25/17) from Zen 5 (26/...); results are only comparable within one of them.
std::string cpu_description() {
  std::ifstream f("/proc/cpuinfo");
  std::string line, name = "?", family = "?", model = "?";
  auto value = [](const std::string& l) {
    const auto colon = l.find(':');
    return colon == std::string::npos ? std::string() : l.substr(colon + 2);
  };
  while (std::getline(f, line) && line.find("flags") != 0) {
    if (line.rfind("model name", 0) == 0) name = value(line);
    if (line.rfind("cpu family", 0) == 0) family = value(line);
    if (line.rfind("model\t", 0) == 0) model = value(line);
  }
  return name + " (family " + family + " model " + model + ")";
}

void add_run_context() {
  const Context& ctx = context_for(1);
  benchmark::AddCustomContext("cpu", cpu_description());
  benchmark::AddCustomContext("cpuattn_isa", isa_name(ctx.isa()));
  benchmark::AddCustomContext("cpuattn_profile", ctx.profile().source);
  benchmark::AddCustomContext(
      "cpuattn_blocks",
      "gemm mc/kc/nc " + std::to_string(ctx.profile().gemm.mc) + "/" +
          std::to_string(ctx.profile().gemm.kc) + "/" + std::to_string(ctx.profile().gemm.nc) +
          ", B in place up to " + std::to_string(ctx.profile().gemm.b_in_place_kib) + " KiB, L1 " +
          std::to_string(ctx.profile().gemm.l1_ways) + "-way, attention q/kv " +
          std::to_string(ctx.profile().attn_q_block) + "/" +
          std::to_string(ctx.profile().attn_kv_block) + ", kv group " +
          std::to_string(ctx.profile().attn_kv_group_kib) + " KiB, softmax staged up to " +
          std::to_string(ctx.profile().softmax_stage_max_cols) + " columns");
  const char* core = std::getenv("OPENBLAS_CORETYPE");
  benchmark::AddCustomContext("OPENBLAS_CORETYPE", core ? core : "(unset)");
  benchmark::AddCustomContext("openblas_corename", openblas_get_corename());
}

bool check_close(benchmark::State& state, const float* got, const float* want, std::size_t n,
                 double rel_tol, const char* what) {
  double scale = 0.0, err = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    scale = std::max(scale, std::fabs(static_cast<double>(want[i])));
    const double d = std::fabs(static_cast<double>(got[i]) - want[i]);
    err = std::isnan(d) ? INFINITY : std::max(err, d);
  }
  if (err > rel_tol * std::max(scale, 1e-30)) {
    state.SkipWithError((std::string(what) + ": result differs from the reference").c_str());
    return false;
  }
  return true;
}

}  // namespace cpuattn::perf
