// The one door to threads. The runtime (oneTBB or OpenMP) is chosen at build time
// (CPUATTN_THREADING); each context owns one ThreadRuntime sized to its thread count.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "threading/function_ref.hpp"

namespace cpuattn::detail {

class ThreadRuntime {
 public:
  explicit ThreadRuntime(int threads) : threads_(threads) {}
  virtual ~ThreadRuntime() = default;
  int threads() const { return threads_; }

  // Splits [0, n) into chunks of at most grain items, handed out dynamically; fn(begin, end) runs
  // once per chunk. Callers make each output element depend on one chunk only, so results do not
  // depend on the thread count or the schedule. One thread or one chunk runs inline.
  void parallel_for(int64_t n, int64_t grain, FunctionRef<void(int64_t, int64_t)> fn);

  // Runs fn(i * grain, min(n, (i + 1) * grain)) for every chunk i of [0, n) (or fn(0, n) on one
  // thread). The chunks are cut into min(chunks, threads()) contiguous parts of equal size (+-1);
  // worker t takes part t's chunks in order, the same part in every call as far as the runtime
  // allows, and then helps finish the other parts. For work cut into equal pieces whose data
  // each core should keep in its own cache from one call to the next, as GEMM blocks: under the
  // dynamic schedule, 128^3 on 2 threads spent a third more thread time than on 1 thread,
  // fetching blocks of A, B and C last held by the other core.
  void parallel_for_static(int64_t n, int64_t grain, FunctionRef<void(int64_t, int64_t)> fn);
  void parallel_for_static(int64_t n, FunctionRef<void(int64_t, int64_t)> fn) {
    parallel_for_static(n, 1, fn);
  }

 protected:
  // n > grain >= 1 and threads() > 1.
  virtual void run_chunks(int64_t n, int64_t grain, FunctionRef<void(int64_t, int64_t)> fn) = 0;
  // fn(t) for every part t in [0, parts), part t on worker t; 1 < parts <= threads().
  virtual void run_parts(int parts, FunctionRef<void(int)> fn) = 0;

 private:
  int threads_;
};

// spin: how long idle workers wait awake for the next call (zero or less: not at all); the oneTBB
// runtime's WarmTeam, ignored by the others.
std::unique_ptr<ThreadRuntime> make_thread_runtime(int threads, std::chrono::microseconds spin);
int default_thread_count();
const char* threading_runtime_name();  // "tbb", "omp" or "std"

// Index of the calling worker inside parallel_for, in [0, threads); 0 outside. Scratch memory is
// indexed by it.
int worker_index();

// Sets worker_index() for the current scope (used by the runtimes).
class WorkerIndexScope {
 public:
  explicit WorkerIndexScope(int index);
  ~WorkerIndexScope();
  WorkerIndexScope(const WorkerIndexScope&) = delete;
  WorkerIndexScope& operator=(const WorkerIndexScope&) = delete;

 private:
  int saved_;
};

}  // namespace cpuattn::detail
