// What every runtime shares: the inline path and the worker index scratch memory is keyed by.
#include <algorithm>
#include <atomic>
#include <memory>

#include "threading/parallel_for.hpp"

namespace cpuattn::detail {
namespace {
thread_local int t_worker_index = 0;
}

int worker_index() {
  return t_worker_index;
}

WorkerIndexScope::WorkerIndexScope(int index) : saved_(t_worker_index) {
  t_worker_index = index;
}
WorkerIndexScope::~WorkerIndexScope() {
  t_worker_index = saved_;
}

void ThreadRuntime::parallel_for(int64_t n, int64_t grain, FunctionRef<void(int64_t, int64_t)> fn) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  if (threads_ == 1 || n <= grain) {
    WorkerIndexScope scope(0);
    fn(0, n);
    return;
  }
  run_chunks(n, grain, fn);
}

void ThreadRuntime::parallel_for_static(int64_t n, int64_t grain,
                                        FunctionRef<void(int64_t, int64_t)> fn) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  const int64_t chunks = (n + grain - 1) / grain;
  const int parts = static_cast<int>(std::min<int64_t>(chunks, threads_));
  if (parts == 1) {
    WorkerIndexScope scope(0);
    fn(0, n);
    return;
  }
  // Part t: the chunks from part_begin(t), taken one at a time through its cursor, by its own
  // worker first and then by any worker that has finished its own part. The first
  // chunks % parts parts take one chunk more.
  struct alignas(64) Cursor {
    std::atomic<int64_t> next;
    int64_t end;
  };
  constexpr int kOnStack = 16;
  Cursor on_stack[kOnStack];
  std::unique_ptr<Cursor[]> on_heap;
  Cursor* cursors = on_stack;
  if (parts > kOnStack) {
    on_heap = std::make_unique<Cursor[]>(static_cast<std::size_t>(parts));
    cursors = on_heap.get();
  }
  const int64_t base = chunks / parts, extra = chunks % parts;
  auto part_begin = [&](int64_t t) { return t * base + std::min(t, extra); };
  for (int t = 0; t < parts; ++t) {
    cursors[t].next.store(part_begin(t), std::memory_order_relaxed);
    cursors[t].end = part_begin(t + 1);
  }
  run_parts(parts, [&](int t) {
    for (int k = 0; k < parts; ++k) {
      Cursor& c = cursors[(t + k) % parts];
      // A spent cursor is only read: claiming from it would move its line here for nothing.
      while (c.next.load(std::memory_order_relaxed) < c.end) {
        const int64_t i = c.next.fetch_add(1, std::memory_order_relaxed);
        if (i >= c.end) break;
        fn(i * grain, std::min(n, (i + 1) * grain));
      }
    }
  });
}

}  // namespace cpuattn::detail
