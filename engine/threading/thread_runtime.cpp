// What every runtime shares: the inline path and the worker index scratch memory is keyed by.
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

}  // namespace cpuattn::detail
