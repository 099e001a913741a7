// Fork-join on helper threads that stay awake between calls, for the oneTBB runtime.
//
// oneTBB 2021.8 (Debian 12) moves a worker back to its sleeping pool as soon as an arena runs out
// of work (the "delayed leave" that keeps it there came with 2021.13). Back-to-back calls then race
// the worker's leaving: on the 2-vCPU VMs of this project the worker missed 33-58% of
// back-to-back 2-part calls of 5 us each (the caller ran both parts), and 128^3 sgemm on 2 threads
// ran at 240 instead of 390 GFLOP/s in such stretches. A WarmTeam keeps up to threads - 1 helper
// tasks (keepers) running in the arena, each spinning for `linger` after its last job for the
// next one, like OpenMP's default wait policy; an idle team holds no thread.
//
// The caller publishes a job and runs body(0); each keeper that sees the job open runs body(seat)
// with its own seat in [1, threads). body must share out its work itself (atomic claims) and be
// complete when run by the caller alone: keepers only speed it up, and correctness never waits on
// one. One job at a time: try_run returns false while another thread's job runs, and that caller
// takes the runtime's ordinary path.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>

#include "threading/function_ref.hpp"

namespace cpuattn::detail {

class WarmTeam {
 public:
  // launch(task) runs task once on some other thread (the TBB arena's enqueue).
  using Launch = std::function<void(std::function<void()>)>;

  WarmTeam(int threads, std::chrono::microseconds linger, Launch launch);
  ~WarmTeam();  // stops the keepers and waits until every launched one has returned
  WarmTeam(const WarmTeam&) = delete;
  WarmTeam& operator=(const WarmTeam&) = delete;

  // Runs the job as above and returns true once every seat that joined has left body; false
  // (nothing run) if another job is in flight. An exception from body, the caller's or a
  // keeper's, is rethrown here once the job is closed.
  bool try_run(FunctionRef<void(int seat)> body);

  // Marks the calling thread as a caller waiting on its own call (try_run sets it; the runtime's
  // ordinary path too): a keeper task that such a thread picks up inside the arena returns at
  // once instead of spinning there and holding that call up.
  class CallerScope {
   public:
    CallerScope();
    ~CallerScope();
    CallerScope(const CallerScope&) = delete;
    CallerScope& operator=(const CallerScope&) = delete;
  };

 private:
  struct Shared;
  static bool in_caller();
  static void keep(Shared& s, int seat);

  std::unique_ptr<Shared> shared_;
  Launch launch_;
};

}  // namespace cpuattn::detail
