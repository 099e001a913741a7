// std::thread runtime (-DCPUATTN_THREADING=STD): a fixed pool per context, chunks handed out by
// an atomic counter (or part t to worker t). It exists for ThreadSanitizer builds: TSan cannot see
// the synchronisation inside Debian's uninstrumented libtbb and libgomp and reports false races
// there, while mutexes and condition variables are fully visible to it. Calls on one context run
// one at a time.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "threading/parallel_for.hpp"

namespace cpuattn::detail {
namespace {

class StdRuntime final : public ThreadRuntime {
 public:
  explicit StdRuntime(int threads) : ThreadRuntime(threads) {
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
  }
  ~StdRuntime() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (std::thread& t : workers_) t.join();
  }
  void run_chunks(int64_t n, int64_t grain, FunctionRef<void(int64_t, int64_t)> fn) override {
    run(Job{n, grain, &fn, 0, nullptr});
  }
  void run_parts(int parts, FunctionRef<void(int)> fn) override {
    run(Job{0, 1, nullptr, parts, &fn});
  }

 private:
  struct Job {
    int64_t n = 0, grain = 1;
    FunctionRef<void(int64_t, int64_t)>* fn = nullptr;
    int parts = 0;  // run_parts: worker t runs part t
    FunctionRef<void(int)>* part_fn = nullptr;
  };

  void run(const Job& job) {
    std::lock_guard<std::mutex> call(call_mutex_);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = job;
      next_.store(0, std::memory_order_relaxed);
      active_ = static_cast<int>(workers_.size());
      ++generation_;
    }
    work_cv_.notify_all();
    work(0);
    std::unique_lock<std::mutex> lock(mutex_);
    done_cv_.wait(lock, [this] { return active_ == 0; });
  }

  void work(int index) {
    WorkerIndexScope scope(index);
    Job job;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job = job_;
    }
    if (job.part_fn != nullptr) {
      if (index < job.parts) (*job.part_fn)(index);
      return;
    }
    for (;;) {
      const int64_t begin = next_.fetch_add(1, std::memory_order_relaxed) * job.grain;
      if (begin >= job.n) break;
      (*job.fn)(begin, std::min(job.n, begin + job.grain));
    }
  }

  void worker_loop(int index) {
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        work_cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
      }
      work(index);
      std::lock_guard<std::mutex> lock(mutex_);
      if (--active_ == 0) done_cv_.notify_one();
    }
  }

  std::vector<std::thread> workers_;
  std::mutex call_mutex_;
  std::mutex mutex_;
  std::condition_variable work_cv_, done_cv_;
  Job job_;
  std::atomic<int64_t> next_{0};
  int active_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
};

}  // namespace

std::unique_ptr<ThreadRuntime> make_thread_runtime(int threads, std::chrono::microseconds) {
  return std::make_unique<StdRuntime>(threads);
}
int default_thread_count() {
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}
const char* threading_runtime_name() {
  return "std";
}

}  // namespace cpuattn::detail
