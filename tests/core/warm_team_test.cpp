// The warm team's protocol, on std::threads (so ThreadSanitizer sees all of it): every job's work
// is done exactly once whoever joins, no seat is held by two threads at once, keepers do join,
// keepers that time out are replaced, a keeper on its caller's CPU leaves, a busy team refuses a
// second caller, and destroying the team stops every keeper.
//
// Tests that need a keeper to join pin the caller and the keepers to different CPUs: where the
// scheduler puts a new thread depends on what else runs (ctest runs two tests at once), and a
// keeper it puts on the caller's CPU leaves by design, so unpinned such tests were flaky.
#include "threading/warm_team.hpp"

#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "threading/parallel_for.hpp"

namespace cpuattn::test {
namespace {

using detail::WarmTeam;
using std::chrono::microseconds;

// The CPUs this process may run on.
std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

bool pin_this_thread(int cpu) {
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  return pthread_setaffinity_np(pthread_self(), sizeof(one), &one) == 0;
}

// Pins the calling thread to one CPU for a scope; restores its mask after.
class PinnedScope {
 public:
  explicit PinnedScope(int cpu) {
    CPU_ZERO(&saved_);
    saved_ok_ = pthread_getaffinity_np(pthread_self(), sizeof(saved_), &saved_) == 0;
    pinned_ = pin_this_thread(cpu);
  }
  ~PinnedScope() {
    if (saved_ok_) pthread_setaffinity_np(pthread_self(), sizeof(saved_), &saved_);
  }
  PinnedScope(const PinnedScope&) = delete;
  PinnedScope& operator=(const PinnedScope&) = delete;
  bool pinned() const { return pinned_; }

 private:
  cpu_set_t saved_;
  bool saved_ok_ = false;
  bool pinned_ = false;
};

// Starts each keeper on a thread of its own, pinned to `cpu` if one is given; joins them all once
// the team is gone.
class ThreadLauncher {
 public:
  explicit ThreadLauncher(int cpu = -1) : cpu_(cpu) {}
  WarmTeam::Launch launch() {
    return [this](std::function<void()> task) {
      std::lock_guard<std::mutex> lock(mutex_);
      launched_.fetch_add(1);
      threads_.emplace_back([this, task = std::move(task)] {
        if (cpu_ >= 0 && !pin_this_thread(cpu_)) pin_failed_.store(true);
        task();
        returned_.fetch_add(1);
      });
    };
  }
  int launched() const { return launched_.load(); }
  int returned() const { return returned_.load(); }
  bool pin_failed() const { return pin_failed_.load(); }
  void join_all() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }

 private:
  const int cpu_;
  std::mutex mutex_;
  std::vector<std::thread> threads_;
  std::atomic<int> launched_{0}, returned_{0};
  std::atomic<bool> pin_failed_{false};
};

// The caller pinned to one CPU and its keepers (launcher(keeper_cpu_)) to another.
class WarmTeamOnTwoCpus : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::vector<int> cpus = allowed_cpus();
    if (cpus.size() < 2) GTEST_SKIP() << "needs two CPUs to place the caller and the keeper apart";
    caller_pin_.emplace(cpus[0]);
    ASSERT_TRUE(caller_pin_->pinned());
    keeper_cpu_ = cpus[1];
  }
  std::optional<PinnedScope> caller_pin_;
  int keeper_cpu_ = -1;
};

// One job: items claimed through a counter; records who ran what.
struct JobTally {
  explicit JobTally(int threads, int64_t items)
      : runs(static_cast<std::size_t>(items)), inside(static_cast<std::size_t>(threads)) {}
  std::vector<std::atomic<int>> runs;
  std::vector<std::atomic<bool>> inside;  // seat s is in body now
  std::atomic<int64_t> next{0};
  std::atomic<int> bad_seat{0}, shared_seat{0}, bad_index{0}, helped{0};

  void body(int seat) {
    const int threads = static_cast<int>(inside.size());
    if (seat < 0 || seat >= threads) {
      bad_seat.fetch_add(1);
      return;
    }
    if (inside[static_cast<std::size_t>(seat)].exchange(true)) shared_seat.fetch_add(1);
    // A keeper stays a moment, yielding its CPU, so two threads given one seat would overlap
    // here even on two cores. (One seat may serve twice in a job, one keeper after the other: a
    // keeper that times out during the job's launches is replaced before the job closes.)
    if (seat != 0) {
      const auto until = std::chrono::steady_clock::now() + microseconds(20);
      while (std::chrono::steady_clock::now() < until) std::this_thread::yield();
    }
    if (detail::worker_index() != seat) bad_index.fetch_add(1);
    if (seat != 0) helped.fetch_add(1);
    for (int64_t i; (i = next.fetch_add(1)) < static_cast<int64_t>(runs.size());) {
      runs[static_cast<std::size_t>(i)].fetch_add(1);
    }
    inside[static_cast<std::size_t>(seat)].store(false);
  }
  void expect_done_once() const {
    EXPECT_EQ(bad_seat.load(), 0);
    EXPECT_EQ(shared_seat.load(), 0);
    EXPECT_EQ(bad_index.load(), 0);
    for (std::size_t i = 0; i < runs.size(); ++i) ASSERT_EQ(runs[i].load(), 1) << "item " << i;
  }
};

TEST(WarmTeam, EveryJobDoneOnceWithDistinctSeats) {
  for (int threads : {2, 3, 5}) {
    for (int linger_us : {0, 5, 20000}) {  // 0 and 5: keepers leave and are relaunched all along
      SCOPED_TRACE(::testing::Message() << "threads " << threads << " linger " << linger_us);
      ThreadLauncher launcher;
      {
        WarmTeam team(threads, microseconds(linger_us), launcher.launch());
        for (int job = 0; job < 300; ++job) {
          JobTally tally(threads, 1 + job % 97);
          ASSERT_TRUE(team.try_run([&](int seat) { tally.body(seat); }));
          tally.expect_done_once();
        }
      }
      launcher.join_all();  // returns only if every keeper stopped
    }
  }
}

TEST_F(WarmTeamOnTwoCpus, KeeperJoinsEveryJob) {
  // The keeper lingers far longer than the test runs, so it never times out, and each job's caller
  // share waits for it: a keeper that failed to come in would hold the job for 10 s and fail.
  ThreadLauncher launcher(keeper_cpu_);
  constexpr int kJobs = 50;
  int joined_jobs = 0;
  {
    WarmTeam team(2, std::chrono::seconds(60), launcher.launch());
    for (int job = 0; job < kJobs; ++job) {
      std::atomic<int> seats_in{0};  // bit s: seat s entered this job
      ASSERT_TRUE(team.try_run([&](int seat) {
        seats_in.fetch_or(1 << seat);
        if (seat != 0) return;
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (seats_in.load() == 1 && std::chrono::steady_clock::now() < give_up) {
          std::this_thread::yield();
        }
      }));
      ASSERT_EQ(seats_in.load() & ~0b11, 0);
      if (seats_in.load() == 0b11) ++joined_jobs;
    }
  }
  launcher.join_all();
  EXPECT_FALSE(launcher.pin_failed());
  EXPECT_EQ(joined_jobs, kJobs);
  EXPECT_EQ(launcher.launched(), 1);  // one keeper served them all
}

TEST(WarmTeam, KeeperOnTheCallersCpuLeavesAndIsLaunchedAgain) {
  // Sharing the caller's CPU, a keeper would only take time from it: it leaves without entering a
  // body, the caller does the job alone, and the next job launches a keeper again.
  const std::vector<int> cpus = allowed_cpus();
  ASSERT_FALSE(cpus.empty());
  PinnedScope caller_cpu(cpus[0]);
  ASSERT_TRUE(caller_cpu.pinned());
  ThreadLauncher launcher(cpus[0]);
  constexpr int kJobs = 5;
  {
    WarmTeam team(2, std::chrono::seconds(60), launcher.launch());
    for (int job = 0; job < kJobs; ++job) {
      JobTally tally(2, 100);
      ASSERT_TRUE(team.try_run([&](int seat) { tally.body(seat); }));
      tally.expect_done_once();
      EXPECT_EQ(tally.helped.load(), 0) << "job " << job;
      // The keeper runs once the caller's CPU is free, and must return rather than linger.
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (launcher.returned() != launcher.launched() &&
             std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(microseconds(100));
      }
      ASSERT_EQ(launcher.returned(), launcher.launched()) << "job " << job;
    }
  }
  launcher.join_all();
  EXPECT_FALSE(launcher.pin_failed());
  EXPECT_EQ(launcher.launched(), kJobs);
}

TEST_F(WarmTeamOnTwoCpus, ExceptionsReachTheCaller) {
  ThreadLauncher launcher(keeper_cpu_);
  {
    WarmTeam team(2, std::chrono::seconds(60), launcher.launch());
    EXPECT_THROW(team.try_run([](int seat) {
      if (seat == 0) throw std::runtime_error("caller");
    }),
                 std::runtime_error);
    // A keeper's throw: the caller's share waits (up to 10 s) for the pinned keeper to come in.
    std::atomic<bool> in{false};
    EXPECT_THROW(team.try_run([&](int seat) {
      if (seat != 0) {
        in.store(true);
        throw std::logic_error("keeper");
      }
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (!in.load() && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
    }),
                 std::logic_error);
    JobTally tally(2, 10);  // and the team still works, with no stale error
    EXPECT_TRUE(team.try_run([&](int seat) { tally.body(seat); }));
    tally.expect_done_once();
  }
  launcher.join_all();
}

TEST(WarmTeam, BusyTeamRefusesASecondCaller) {
  ThreadLauncher launcher;
  {
    WarmTeam team(2, microseconds(1000), launcher.launch());
    std::atomic<int> second{-1};  // -1: not tried yet, 0: refused, 1: ran
    ASSERT_TRUE(team.try_run([&](int seat) {
      if (seat != 0) return;
      std::thread other([&] { second.store(team.try_run([](int) {}) ? 1 : 0); });
      other.join();
    }));
    EXPECT_EQ(second.load(), 0);
    EXPECT_TRUE(team.try_run([](int) {}));  // free again
  }
  launcher.join_all();
}

TEST(WarmTeam, KeeperPickedUpByItsCallerReturnsAtOnce) {
  // A launcher that runs the keeper inline, on the caller inside try_run: the keeper must return
  // rather than spin, leave its seat free, and the job must still be done by the caller.
  std::atomic<int> launched{0};
  WarmTeam team(2, microseconds(1000000), [&](std::function<void()> task) {
    launched.fetch_add(1);
    task();
  });
  for (int job = 0; job < 3; ++job) {
    JobTally tally(2, 10);
    ASSERT_TRUE(team.try_run([&](int seat) { tally.body(seat); }));
    tally.expect_done_once();
    EXPECT_EQ(tally.helped.load(), 0);
  }
  EXPECT_EQ(launched.load(), 3);  // the free seat is launched again for every job
}

}  // namespace
}  // namespace cpuattn::test
