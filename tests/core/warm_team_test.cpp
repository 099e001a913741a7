// The warm team's protocol, on std::threads (so ThreadSanitizer sees all of it): every job's work
// is done exactly once whoever joins, no seat is held by two threads at once, keepers do join,
// keepers that time out are replaced, a busy team refuses a second caller, and destroying the team
// stops every keeper.
#include "threading/warm_team.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "threading/parallel_for.hpp"

namespace cpuattn::test {
namespace {

using detail::WarmTeam;
using std::chrono::microseconds;

// Starts each keeper on a thread of its own; joins them all once the team is gone.
class ThreadLauncher {
 public:
  WarmTeam::Launch launch() {
    return [this](std::function<void()> task) {
      std::lock_guard<std::mutex> lock(mutex_);
      threads_.emplace_back(std::move(task));
      launched_.fetch_add(1);
    };
  }
  int launched() const { return launched_.load(); }
  void join_all() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }

 private:
  std::mutex mutex_;
  std::vector<std::thread> threads_;
  std::atomic<int> launched_{0};
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

TEST(WarmTeam, KeeperJoinsJobs) {
  // Each job's caller share waits (up to 20 ms) for the keeper to come in, so a team whose keeper
  // never joined fails here rather than passing on the caller's work alone. A keeper that finds
  // itself on the caller's CPU leaves by design (and is launched again for the next job), so it is
  // asked to come in within the first jobs, not in every one.
  ThreadLauncher launcher;
  int joined_jobs = 0;
  int jobs = 0;
  {
    WarmTeam team(2, microseconds(200000), launcher.launch());
    for (; jobs < 200 && joined_jobs < 20; ++jobs) {
      std::atomic<int> seats_in{0};  // bit s: seat s entered this job
      ASSERT_TRUE(team.try_run([&](int seat) {
        seats_in.fetch_or(1 << seat);
        if (seat != 0) return;
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(20);
        while (seats_in.load() == 1 && std::chrono::steady_clock::now() < give_up) {
          std::this_thread::yield();
        }
      }));
      ASSERT_EQ(seats_in.load() & ~0b11, 0);
      if (seats_in.load() == 0b11) ++joined_jobs;
    }
  }
  launcher.join_all();
  EXPECT_EQ(joined_jobs, 20) << "after " << jobs << " jobs";
  EXPECT_LE(launcher.launched(), jobs);  // at most one launch per job
}

TEST(WarmTeam, ExceptionsReachTheCaller) {
  ThreadLauncher launcher;
  {
    WarmTeam team(2, microseconds(200000), launcher.launch());
    EXPECT_THROW(team.try_run([](int seat) {
      if (seat == 0) throw std::runtime_error("caller");
    }),
                 std::runtime_error);
    // A keeper's throw: the caller's share waits (up to 200 ms) for the keeper, then returns.
    bool keeper_threw = false;
    for (int job = 0; job < 50 && !keeper_threw; ++job) {
      std::atomic<bool> in{false};
      try {
        team.try_run([&](int seat) {
          if (seat != 0) {
            in.store(true);
            throw std::logic_error("keeper");
          }
          const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
          while (!in.load() && std::chrono::steady_clock::now() < give_up) {
            std::this_thread::yield();
          }
        });
      } catch (const std::logic_error&) {
        keeper_threw = true;
      }
    }
    EXPECT_TRUE(keeper_threw);
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
