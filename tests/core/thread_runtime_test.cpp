// The threading layer's two schedules: every item runs exactly once, on a worker index inside the
// runtime's range, for thread counts that do and do not divide the item count.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "threading/parallel_for.hpp"

namespace cpuattn::test {
namespace {

struct Tally {
  explicit Tally(int64_t n) : runs(static_cast<std::size_t>(n)) {}
  std::vector<std::atomic<int>> runs;
  std::atomic<int> bad_worker{0};
  std::atomic<int> bad_range{0};
};

void record(Tally& tally, int threads, int64_t begin, int64_t end) {
  const int w = detail::worker_index();
  if (w < 0 || w >= threads) tally.bad_worker.fetch_add(1);
  if (begin < 0 || end > static_cast<int64_t>(tally.runs.size()) || begin >= end) {
    tally.bad_range.fetch_add(1);
    return;
  }
  for (int64_t i = begin; i < end; ++i) tally.runs[static_cast<std::size_t>(i)].fetch_add(1);
}

void expect_each_once(const Tally& tally) {
  EXPECT_EQ(tally.bad_worker.load(), 0);
  EXPECT_EQ(tally.bad_range.load(), 0);
  for (std::size_t i = 0; i < tally.runs.size(); ++i) {
    ASSERT_EQ(tally.runs[i].load(), 1) << "item " << i;
  }
}

const int kThreads[] = {1, 2, 3, 4, 7};
// With workers kept awake between calls (the default) and without.
const std::chrono::microseconds kSpins[] = {std::chrono::microseconds(200),
                                            std::chrono::microseconds(0)};
const int64_t kCounts[] = {1, 2, 3, 5, 8, 63, 1000};

TEST(ThreadRuntime, StaticRunsEveryItemOnce) {
  for (auto spin : kSpins) {
    for (int threads : kThreads) {
      const std::unique_ptr<detail::ThreadRuntime> rt = detail::make_thread_runtime(threads, spin);
      for (int64_t n : kCounts) {
        SCOPED_TRACE(::testing::Message()
                     << "threads " << threads << " items " << n << " spin " << spin.count());
        // Repeated calls on one runtime, as a GEMM loop makes them.
        for (int call = 0; call < 3; ++call) {
          Tally tally(n);
          rt->parallel_for_static(n, [&](int64_t b, int64_t e) { record(tally, threads, b, e); });
          expect_each_once(tally);
        }
      }
    }
  }
}

// With a grain the static schedule hands out whole chunks: [i grain, (i + 1) grain), the last one
// cut at n (one thread: everything in one call).
TEST(ThreadRuntime, StaticRunsEveryItemOnceInChunksOfGrain) {
  for (int threads : kThreads) {
    const std::unique_ptr<detail::ThreadRuntime> rt =
        detail::make_thread_runtime(threads, kSpins[0]);
    for (int64_t n : kCounts) {
      for (int64_t grain : {1, 3, 64}) {
        SCOPED_TRACE(::testing::Message()
                     << "threads " << threads << " items " << n << " grain " << grain);
        Tally tally(n);
        std::atomic<int> misaligned{0};
        rt->parallel_for_static(n, grain, [&](int64_t b, int64_t e) {
          const bool whole = b == 0 && e == n;
          if (!whole && (b % grain != 0 || e != std::min(n, b + grain))) misaligned.fetch_add(1);
          record(tally, threads, b, e);
        });
        expect_each_once(tally);
        EXPECT_EQ(misaligned.load(), 0);
      }
    }
  }
}

TEST(ThreadRuntime, DynamicRunsEveryItemOnceInChunksOfGrain) {
  for (auto spin : kSpins) {
    for (int threads : kThreads) {
      const std::unique_ptr<detail::ThreadRuntime> rt = detail::make_thread_runtime(threads, spin);
      for (int64_t n : kCounts) {
        for (int64_t grain : {1, 3, 64}) {
          SCOPED_TRACE(::testing::Message() << "threads " << threads << " items " << n << " grain "
                                            << grain << " spin " << spin.count());
          Tally tally(n);
          std::atomic<int> oversized{0};
          rt->parallel_for(n, grain, [&](int64_t b, int64_t e) {
            if (e - b > grain && !(threads == 1 || n <= grain)) oversized.fetch_add(1);
            record(tally, threads, b, e);
          });
          expect_each_once(tally);
          EXPECT_EQ(oversized.load(), 0);
        }
      }
    }
  }
}

TEST(ThreadRuntime, NothingToDoRunsNothing) {
  const std::unique_ptr<detail::ThreadRuntime> rt =
      detail::make_thread_runtime(2, std::chrono::microseconds(200));
  int calls = 0;
  rt->parallel_for_static(0, [&](int64_t, int64_t) { ++calls; });
  rt->parallel_for(0, 1, [&](int64_t, int64_t) { ++calls; });
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace cpuattn::test
