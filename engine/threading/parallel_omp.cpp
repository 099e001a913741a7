// OpenMP runtime (-DCPUATTN_THREADING=OMP): one parallel region per call, dynamic schedule.
#include <omp.h>

#include <algorithm>

#include "threading/parallel_for.hpp"

namespace cpuattn::detail {
namespace {

class OmpRuntime final : public ThreadRuntime {
 public:
  explicit OmpRuntime(int threads) : threads_(threads) {}
  int threads() const override { return threads_; }

  void parallel_for(int64_t n, int64_t grain, FunctionRef<void(int64_t, int64_t)> fn) override {
    if (n <= 0) return;
    grain = std::max<int64_t>(grain, 1);
    if (threads_ == 1 || n <= grain) {
      WorkerIndexScope scope(0);
      fn(0, n);
      return;
    }
    const int64_t chunks = (n + grain - 1) / grain;
    const int team = static_cast<int>(std::min<int64_t>(threads_, chunks));
#pragma omp parallel num_threads(team)
    {
      WorkerIndexScope scope(std::min(omp_get_thread_num(), threads_ - 1));
#pragma omp for schedule(dynamic, 1)
      for (int64_t c = 0; c < chunks; ++c) {
        const int64_t begin = c * grain;
        fn(begin, std::min(n, begin + grain));
      }
    }
  }

 private:
  int threads_;
};

}  // namespace

std::unique_ptr<ThreadRuntime> make_thread_runtime(int threads) {
  return std::make_unique<OmpRuntime>(threads);
}
int default_thread_count() {
  return std::max(1, omp_get_num_procs());
}
const char* threading_runtime_name() {
  return "omp";
}

}  // namespace cpuattn::detail
