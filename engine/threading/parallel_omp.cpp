// OpenMP runtime (-DCPUATTN_THREADING=OMP): one parallel region per call, dynamic schedule (or
// one part per thread for parallel_for_static).
#include <omp.h>

#include <algorithm>

#include "threading/parallel_for.hpp"

namespace cpuattn::detail {
namespace {

class OmpRuntime final : public ThreadRuntime {
 public:
  explicit OmpRuntime(int threads) : ThreadRuntime(threads) {}
  void run_chunks(int64_t n, int64_t grain, FunctionRef<void(int64_t, int64_t)> fn) override {
    const int64_t chunks = (n + grain - 1) / grain;
    const int team = static_cast<int>(std::min<int64_t>(threads(), chunks));
#pragma omp parallel num_threads(team)
    {
      WorkerIndexScope scope(std::min(omp_get_thread_num(), threads() - 1));
#pragma omp for schedule(dynamic, 1)
      for (int64_t c = 0; c < chunks; ++c) {
        const int64_t begin = c * grain;
        fn(begin, std::min(n, begin + grain));
      }
    }
  }
  void run_parts(int parts, FunctionRef<void(int)> fn) override {
#pragma omp parallel num_threads(parts)
    {
      WorkerIndexScope scope(std::min(omp_get_thread_num(), threads() - 1));
      // A team smaller than asked for (nested regions, OMP_DYNAMIC) still runs every part.
      for (int t = omp_get_thread_num(); t < parts; t += omp_get_num_threads()) fn(t);
    }
  }
};

}  // namespace

std::unique_ptr<ThreadRuntime> make_thread_runtime(int threads, std::chrono::microseconds) {
  return std::make_unique<OmpRuntime>(threads);
}
int default_thread_count() {
  return std::max(1, omp_get_num_procs());
}
const char* threading_runtime_name() {
  return "omp";
}

}  // namespace cpuattn::detail
