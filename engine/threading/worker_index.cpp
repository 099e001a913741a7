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

}  // namespace cpuattn::detail
