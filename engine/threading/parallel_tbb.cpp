// oneTBB runtime: each context owns a task_arena, so the caller's thread cap holds even when the
// application runs its own TBB or thread pools.
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>

#include "threading/parallel_for.hpp"

namespace cpuattn::detail {
namespace {

class TbbRuntime final : public ThreadRuntime {
 public:
  explicit TbbRuntime(int threads) : ThreadRuntime(threads), arena_(threads) {}
  void run_chunks(int64_t n, int64_t grain, FunctionRef<void(int64_t, int64_t)> fn) override {
    arena_.execute([&] {
      tbb::parallel_for(
          tbb::blocked_range<int64_t>(0, n, grain),
          [&](const tbb::blocked_range<int64_t>& r) {
            WorkerIndexScope scope(
                std::clamp(tbb::this_task_arena::current_thread_index(), 0, threads() - 1));
            fn(r.begin(), r.end());
          },
          tbb::simple_partitioner());
    });
  }
  void run_parts(int parts, FunctionRef<void(int)> fn) override {
    // The static partitioner hands part t to the same arena slot in every call.
    arena_.execute([&] {
      tbb::parallel_for(
          tbb::blocked_range<int>(0, parts, 1),
          [&](const tbb::blocked_range<int>& r) {
            WorkerIndexScope scope(
                std::clamp(tbb::this_task_arena::current_thread_index(), 0, threads() - 1));
            for (int t = r.begin(); t < r.end(); ++t) fn(t);
          },
          tbb::static_partitioner());
    });
  }

 private:
  tbb::task_arena arena_;
};

}  // namespace

std::unique_ptr<ThreadRuntime> make_thread_runtime(int threads) {
  return std::make_unique<TbbRuntime>(threads);
}
int default_thread_count() {
  return std::max(1, tbb::info::default_concurrency());
}
const char* threading_runtime_name() {
  return "tbb";
}

}  // namespace cpuattn::detail
