// oneTBB runtime: each context owns a task_arena, so the caller's thread cap holds even when the
// application runs its own TBB or thread pools. Calls go through a WarmTeam of keeper tasks in
// that arena (see warm_team.hpp for why), unless the context's spin is zero; a call made while
// another is in the team takes tbb::parallel_for in the same arena.
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <memory>

#include "threading/parallel_for.hpp"
#include "threading/warm_team.hpp"

namespace cpuattn::detail {
namespace {

class TbbRuntime final : public ThreadRuntime {
 public:
  TbbRuntime(int threads, std::chrono::microseconds spin)
      : ThreadRuntime(threads), arena_(threads) {
    if (spin.count() > 0 && threads > 1) {
      team_ = std::make_unique<WarmTeam>(
          threads, spin, [this](std::function<void()> task) { arena_.enqueue(std::move(task)); });
    }
  }

  void run_chunks(int64_t n, int64_t grain, FunctionRef<void(int64_t, int64_t)> fn) override {
    std::atomic<int64_t> next{0};
    const bool ran = team_ != nullptr && team_->try_run([&](int) {
      for (int64_t begin; (begin = next.fetch_add(grain, std::memory_order_relaxed)) < n;) {
        fn(begin, std::min(n, begin + grain));
      }
    });
    if (ran) return;
    WarmTeam::CallerScope caller;
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
    // Seat s takes part s first (keeper s stays on its thread from call to call), then any part
    // not yet taken.
    constexpr int kOnStack = 64;
    std::atomic<bool> on_stack[kOnStack];
    std::unique_ptr<std::atomic<bool>[]> on_heap;
    std::atomic<bool>* taken = on_stack;
    if (parts > kOnStack) {
      on_heap = std::make_unique<std::atomic<bool>[]>(static_cast<std::size_t>(parts));
      taken = on_heap.get();
    }
    for (int t = 0; t < parts; ++t) taken[t].store(false, std::memory_order_relaxed);
    const bool ran = team_ != nullptr && team_->try_run([&](int seat) {
      if (seat < parts && !taken[seat].exchange(true)) fn(seat);
      // Reading before claiming keeps the flags' line shared between the cores once every part
      // is taken, instead of moving it to each claimant in turn.
      for (int t = 0; t < parts; ++t) {
        if (!taken[t].load(std::memory_order_relaxed) && !taken[t].exchange(true)) fn(t);
      }
    });
    if (ran) return;
    WarmTeam::CallerScope caller;
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
  tbb::task_arena arena_;           // before team_, whose keepers it runs
  std::unique_ptr<WarmTeam> team_;  // null: no spinning
};

}  // namespace

std::unique_ptr<ThreadRuntime> make_thread_runtime(int threads, std::chrono::microseconds spin) {
  return std::make_unique<TbbRuntime>(threads, spin);
}
int default_thread_count() {
  return std::max(1, tbb::info::default_concurrency());
}
const char* threading_runtime_name() {
  return "tbb";
}

}  // namespace cpuattn::detail
