#include "threading/warm_team.hpp"

#include <sched.h>

#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>

#include "threading/parallel_for.hpp"

namespace cpuattn::detail {
namespace {

thread_local int t_caller_depth = 0;

// The CPU the calling thread runs on, or -1 where that cannot be told.
inline int current_cpu() {
#if defined(__linux__)
  return sched_getcpu();
#else
  return -1;
#endif
}

inline void spin_pause() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

}  // namespace

WarmTeam::CallerScope::CallerScope() {
  ++t_caller_depth;
}
WarmTeam::CallerScope::~CallerScope() {
  --t_caller_depth;
}

// gen is odd while a job is open. Two store-then-load handshakes, both seq_cst:
//  - joining: a keeper counts itself in `joined`, then re-reads gen; the caller closes gen, then
//    waits for `joined` to drain. A keeper that still sees the job open is waited for; one that
//    counted itself in too late sees it closed and never touches body.
//  - leaving: a keeper that times out clears alive[seat], then re-reads gen; the caller opens gen,
//    then takes alive[seat] (launching a keeper where it was clear). Either the caller launches a
//    new keeper or the old one sees the job and takes its seat back: a job that a keeper could
//    still join never finds its seat empty, and no seat is held by two keepers at once. (A seat
//    may serve a job twice, one keeper after the other, when its keeper times out during the
//    job's launches; a keeper that leaves for the caller's CPU, or is picked up by a caller,
//    leaves its seat empty until the next job.)
struct WarmTeam::Shared {
  Shared(int n, std::chrono::microseconds l)
      : threads(n), linger(l), alive(std::make_unique<std::atomic<bool>[]>(n)) {
    for (int i = 0; i < n; ++i) alive[i].store(false, std::memory_order_relaxed);
  }
  const int threads;
  const std::chrono::microseconds linger;
  std::unique_ptr<std::atomic<bool>[]> alive;  // seat s has a keeper (seat 0: the caller)
  // The caller writes this line once per job, the keepers spinning on it read it; the keepers'
  // counters each have a line of their own (sharing one, an empty 2-thread call took 0.95 us on
  // the Intel Xeon VM, 0.71 apart; 0.63 with the claims in parallel_for_static read first).
  alignas(64) std::atomic<uint64_t> gen{0};
  std::atomic<int> caller_cpu{-1};         // where the last job's caller ran (published by gen)
  FunctionRef<void(int)>* body = nullptr;  // published by opening gen
  std::atomic<bool> stop{false};
  // Written by the keepers, read by the caller at the close.
  alignas(64) std::atomic<int> joined{0};
  alignas(64) std::atomic<int> live{0};  // keeper tasks launched and not yet returned
  std::mutex call;
  std::mutex error_mutex;
  std::exception_ptr error;  // the first exception a keeper's body threw in this job
};

WarmTeam::WarmTeam(int threads, std::chrono::microseconds linger, Launch launch)
    : shared_(std::make_unique<Shared>(threads, linger)), launch_(std::move(launch)) {}

WarmTeam::~WarmTeam() {
  // Keepers see stop at their next look; one still queued returns as soon as the arena runs it.
  // Their state must outlive them.
  shared_->stop.store(true, std::memory_order_release);
  while (shared_->live.load() != 0) std::this_thread::yield();
}

bool WarmTeam::in_caller() {
  return t_caller_depth > 0;
}

bool WarmTeam::try_run(FunctionRef<void(int seat)> body) {
  Shared& s = *shared_;
  std::unique_lock<std::mutex> lock(s.call, std::try_to_lock);
  if (!lock.owns_lock()) return false;
  CallerScope caller;
  s.body = &body;
  s.error = nullptr;  // no keeper is in a body between jobs
  s.caller_cpu.store(current_cpu(), std::memory_order_relaxed);
  s.gen.fetch_add(1);  // open
  for (int seat = 1; seat < s.threads; ++seat) {
    if (!s.alive[seat].exchange(true)) {
      s.live.fetch_add(1);
      Shared* team = &s;
      launch_([team, seat] {
        keep(*team, seat);
        team->live.fetch_sub(1);  // the last touch: the destructor waits for it
      });
    }
  }
  // Closes the job however body(0) leaves: no keeper enters body from then on, and the ones
  // inside have left when try_run returns or throws.
  struct Close {
    Shared& s;
    ~Close() {
      s.gen.fetch_add(1);
      while (s.joined.load() != 0) spin_pause();
    }
  };
  {
    Close close{s};
    WorkerIndexScope scope(0);
    body(0);
  }
  if (s.error) std::rethrow_exception(std::exchange(s.error, nullptr));
  return true;
}

void WarmTeam::keep(Shared& s, int seat) {
  if (in_caller()) {
    // A caller waiting inside the arena picked this task up: spinning here would hold its own
    // call up. The seat stays free for the next job to launch again.
    s.alive[seat].store(false);
    return;
  }
  // A keeper on the caller's CPU only takes time from it: the thread was placed there when it
  // started, and stays until the scheduler migrates it (~20 ms on the project's VMs, during which
  // 2 x 30 us parts ran slower than on one thread). It leaves; the next job launches a keeper
  // again, which the scheduler wakes on an idle CPU.
  auto on_callers_cpu = [&s] {
    const int cpu = current_cpu();
    return cpu >= 0 && cpu == s.caller_cpu.load(std::memory_order_relaxed);
  };
  using Clock = std::chrono::steady_clock;
  uint64_t seen = 0;
  Clock::time_point deadline = Clock::now() + s.linger;
  for (uint32_t spins = 0;; ++spins) {  // unsigned: a keeper busy for hours wraps, harmlessly
    if (s.stop.load(std::memory_order_acquire)) {
      s.alive[seat].store(false);
      return;
    }
    const uint64_t g = s.gen.load();
    if ((g & 1) != 0 && g != seen) {
      if (on_callers_cpu()) {
        s.alive[seat].store(false);
        return;
      }
      s.joined.fetch_add(1);
      if (s.gen.load() == g) {
        WorkerIndexScope scope(seat);
        try {
          (*s.body)(seat);
        } catch (...) {  // for the caller to rethrow, as tbb::parallel_for would
          std::lock_guard<std::mutex> lock(s.error_mutex);
          if (!s.error) s.error = std::current_exception();
        }
      }
      s.joined.fetch_sub(1);
      seen = g;
      deadline = Clock::now() + s.linger;
      continue;
    }
    spin_pause();
    if (spins % 64 != 0) continue;
    if (on_callers_cpu()) {
      s.alive[seat].store(false);
      return;
    }
    if (Clock::now() < deadline) continue;
    s.alive[seat].store(false);
    const uint64_t late = s.gen.load();
    if ((late & 1) != 0 && late != seen && !s.alive[seat].exchange(true)) {
      deadline = Clock::now() + s.linger;  // a job opened as we left, and relied on us
      continue;
    }
    return;
  }
}

}  // namespace cpuattn::detail
