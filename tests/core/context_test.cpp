// Contexts: ISA choice and its caps, thread counts, profiles.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <vector>

#include "test_util.hpp"

namespace cpuattn::test {
namespace {

class EnvGuard {
 public:
  EnvGuard(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    setenv(name, value, 1);
  }
  ~EnvGuard() {
    if (had_) {
      setenv(name_, old_.c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

TEST(Context, DefaultPicksTheBestSupportedIsa) {
  unsetenv("CPUATTN_ISA");
  Context ctx;
  ASSERT_TRUE(Context::create({}, &ctx).is_ok());
  EXPECT_EQ(ctx.isa(), best_isa_here());
  EXPECT_GE(ctx.threads(), 1);
  EXPECT_GT(ctx.profile().gemm.kc, 0);
}

TEST(Context, EveryVariantIsCompiledAndRunsHere) {
  // All four are built on every x86-64 build; the ones this CPU lacks are skipped visibly by the
  // per-ISA suites (AVX-512 on the project's Zen 3 machines), never dropped from the build.
  const std::vector<Isa> isas = compiled_isas();
  EXPECT_EQ(isas.size(), 4u);
  for (Isa isa : isas) {
    if (!cpu_supports(isa)) continue;
    Context ctx = make_test_context(isa, 1);
    EXPECT_EQ(ctx.isa(), isa);
  }
}

TEST(Context, EnvironmentCapsTheIsa) {
  EnvGuard env("CPUATTN_ISA", "sse42");
  Context ctx;
  ASSERT_TRUE(Context::create({}, &ctx).is_ok());
  EXPECT_EQ(ctx.isa(), Isa::kSse42);
}

TEST(Context, UnknownIsaNameInEnvironmentIsAnError) {
  EnvGuard env("CPUATTN_ISA", "avx9000");
  Context ctx;
  const Status s = Context::create({}, &ctx);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("CPUATTN_ISA"), std::string::npos) << s.message();
}

TEST(Context, OptionIsaOutOfRangeIsAnError) {
  ContextOptions o;
  o.isa = static_cast<Isa>(42);
  Context ctx;
  EXPECT_EQ(Context::create(o, &ctx).code(), StatusCode::kInvalidArgument);
}

TEST(Context, ThreadCountIsHonoured) {
  ContextOptions o;
  o.threads = 3;
  Context ctx;
  ASSERT_TRUE(Context::create(o, &ctx).is_ok());
  EXPECT_EQ(ctx.threads(), 3);
  o.threads = -1;
  EXPECT_EQ(Context::create(o, &ctx).code(), StatusCode::kInvalidArgument);
}

TEST(Context, SpinWaitIsValidated) {
  ContextOptions o;
  o.threads = 2;
  Context ctx;
  for (int us : {-1, 0, 1, 200, 1000000}) {
    o.spin_wait_us = us;
    EXPECT_TRUE(Context::create(o, &ctx).is_ok()) << us;
  }
  o.spin_wait_us = 1000001;
  const Status s = Context::create(o, &ctx);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("spin_wait_us"), std::string::npos) << s.message();
}

TEST(Context, SpinWaitFromEnvironment) {
  ContextOptions o;
  o.threads = 2;
  Context ctx;
  for (const char* ok : {"-5", "0", "50"}) {
    EnvGuard env("CPUATTN_SPIN_US", ok);
    EXPECT_TRUE(Context::create(o, &ctx).is_ok()) << ok;
  }
  for (const char* bad : {"fast", "12us", "2000000"}) {
    EnvGuard env("CPUATTN_SPIN_US", bad);
    const Status s = Context::create(o, &ctx);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("CPUATTN_SPIN_US"), std::string::npos) << s.message();
  }
  // The option, when set, wins over the environment.
  EnvGuard env("CPUATTN_SPIN_US", "fast");
  o.spin_wait_us = -1;
  EXPECT_TRUE(Context::create(o, &ctx).is_ok());
}

TEST(Context, SpinningAndSleepingWorkersGiveTheSameResults) {
  const int64_t n = 96;
  std::mt19937_64 rng(test_seed());
  const auto a = random_floats(rng, n * n), b = random_floats(rng, n * n);
  std::vector<float> c[2];
  for (int v = 0; v < 2; ++v) {
    ContextOptions o;
    o.threads = 2;
    o.spin_wait_us = v == 0 ? -1 : 500;
    Context ctx;
    ASSERT_TRUE(Context::create(o, &ctx).is_ok());
    c[v].assign(n * n, 0.0f);
    GemmArgs g;
    g.m = g.n = g.k = n;
    g.a = a.data(), g.lda = n, g.b = b.data(), g.ldb = n, g.c = c[v].data(), g.ldc = n;
    for (int call = 0; call < 20; ++call) ASSERT_TRUE(sgemm(ctx, g).is_ok());
  }
  EXPECT_EQ(c[0], c[1]);
}

TEST(Context, ProfileFileOverridesDefaults) {
  const std::string path = ::testing::TempDir() + "/cpuattn_profile.txt";
  {
    std::ofstream f(path);
    f << "# measured\ngemm.kc = 128\nattn_kv_block=48\nattn_kv_group_kib = 256\n"
         "gemm.b_in_place_kib = 4096\ngemm.l1_ways = 12\nsoftmax_stage_max_cols = 0\n";
  }
  EnvGuard env("CPUATTN_PROFILE", path.c_str());
  Context ctx;
  ASSERT_TRUE(Context::create({}, &ctx).is_ok());
  EXPECT_EQ(ctx.profile().gemm.kc, 128);
  EXPECT_EQ(ctx.profile().gemm.b_in_place_kib, 4096);
  EXPECT_EQ(ctx.profile().gemm.l1_ways, 12);
  EXPECT_EQ(ctx.profile().softmax_stage_max_cols, 0);
  EXPECT_EQ(ctx.profile().attn_kv_block, 48);
  EXPECT_EQ(ctx.profile().attn_kv_group_kib, 256);
  EXPECT_EQ(ctx.profile().source, path);
  {
    std::ofstream f(path);
    f << "gemm.kc = -3\n";
  }
  EXPECT_EQ(Context::create({}, &ctx).code(), StatusCode::kInvalidArgument);
  {
    std::ofstream f(path);
    f << "gemm.b_in_place_kib = -1\n";
  }
  EXPECT_EQ(Context::create({}, &ctx).code(), StatusCode::kInvalidArgument);
  for (const char* ways : {"0", "65"}) {
    std::ofstream f(path);
    f << "gemm.l1_ways = " << ways << "\n";
    f.close();
    EXPECT_EQ(Context::create({}, &ctx).code(), StatusCode::kInvalidArgument) << ways;
  }
  for (const char* cols : {"-1", "1048577"}) {
    std::ofstream f(path);
    f << "softmax_stage_max_cols = " << cols << "\n";
    f.close();
    EXPECT_EQ(Context::create({}, &ctx).code(), StatusCode::kInvalidArgument) << cols;
  }
  {
    std::ofstream f(path);
    f << "gemm.kcc = 3\n";
  }
  const Status s = Context::create({}, &ctx);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("unknown key"), std::string::npos) << s.message();
  std::remove(path.c_str());
}

TEST(Context, EmptyContextIsRejectedByCalls) {
  Context empty;
  float x[4] = {1, 2, 3, 4}, y[4];
  const Status s = softmax(empty, TensorView<const float>(x, {4}), TensorView<float>(y, {4}));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cpuattn::test
