// Many application threads calling into one shared context and into their own contexts at once
// (run under ThreadSanitizer in CI). Every result must equal the single-threaded one bit for bit.
#include <atomic>
#include <cstring>
#include <thread>

#include "test_util.hpp"

namespace cpuattn::test {
namespace {

struct Work {
  std::vector<float> q, k, v, a, b;
  Work() {
    std::mt19937_64 rng(test_seed());
    q = random_floats(rng, 2 * 64 * 4 * 32);
    k = random_floats(rng, 2 * 64 * 2 * 32);
    v = random_floats(rng, 2 * 64 * 2 * 32);
    a = random_floats(rng, 96 * 80);
    b = random_floats(rng, 80 * 70);
  }
  // Runs attention, a softmax and a GEMM; returns the concatenated outputs.
  std::vector<float> run(const Context& ctx) const {
    std::vector<float> out(2 * 64 * 4 * 32), sm(96 * 80), c(96 * 70);
    AttentionOptions o;
    o.mask = MaskKind::kCausal;
    EXPECT_TRUE(attention(ctx, TensorView<const float>(q.data(), {2, 64, 4, 32}),
                          TensorView<const float>(k.data(), {2, 64, 2, 32}),
                          TensorView<const float>(v.data(), {2, 64, 2, 32}),
                          TensorView<float>(out.data(), {2, 64, 4, 32}), o)
                    .is_ok());
    EXPECT_TRUE(softmax(ctx, TensorView<const float>(a.data(), {96, 80}),
                        TensorView<float>(sm.data(), {96, 80}))
                    .is_ok());
    GemmArgs g;
    g.m = 96, g.n = 70, g.k = 80, g.a = a.data(), g.lda = 80, g.b = b.data(), g.ldb = 70;
    g.c = c.data(), g.ldc = 70;
    EXPECT_TRUE(sgemm(ctx, g).is_ok());
    out.insert(out.end(), sm.begin(), sm.end());
    out.insert(out.end(), c.begin(), c.end());
    return out;
  }
};

TEST(Concurrency, SharedAndSeparateContextsFromManyThreads) {
  const Work work;
  Context shared = make_test_context(best_isa_here(), 2);
  const std::vector<float> expected = work.run(shared);
  constexpr int kThreads = 8, kRounds = 6;
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ContextOptions o;
      o.threads = 1 + t % 2;
      Context own;
      if (!Context::create(o, &own).is_ok()) {
        ++mismatches;
        return;
      }
      for (int r = 0; r < kRounds; ++r) {
        const Context& ctx = (r + t) % 2 ? shared : own;
        const std::vector<float> got = work.run(ctx);
        if (std::memcmp(got.data(), expected.data(), got.size() * sizeof(float)) != 0) ++mismatches;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(Concurrency, RepeatedCallsAreDeterministic) {
  const Work work;
  Context ctx = make_test_context(best_isa_here(), 2);
  const std::vector<float> first = work.run(ctx);
  for (int i = 0; i < 5; ++i) {
    const std::vector<float> again = work.run(ctx);
    ASSERT_EQ(0, std::memcmp(first.data(), again.data(), first.size() * sizeof(float)));
  }
}

}  // namespace
}  // namespace cpuattn::test
