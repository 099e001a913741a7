// The SIMD exp against the correctly rounded value (std::exp in double, rounded once), on every
// ISA. CI sweeps every 16th float of [-88, 88] (~130 M values); CPUATTN_EXP_FULL_SWEEP=1 checks
// every float (about 2.1 G values per ISA).
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "dispatch/kernel_table.hpp"
#include "test_util.hpp"

namespace cpuattn::test {
namespace {

int64_t ulp_distance(float a, float b) {
  int32_t ia, ib;
  std::memcpy(&ia, &a, 4);
  std::memcpy(&ib, &b, 4);
  // Map sign-magnitude to a monotonic integer line.
  const int64_t la = ia < 0 ? -static_cast<int64_t>(ia & 0x7fffffff) : ia;
  const int64_t lb = ib < 0 ? -static_cast<int64_t>(ib & 0x7fffffff) : ib;
  return std::llabs(la - lb);
}

class ExpIsaTest : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (!cpu_supports(GetParam())) GTEST_SKIP() << "CPU lacks " << isa_name(GetParam());
    kt_ = detail::kernel_table_for(GetParam());
    ASSERT_NE(kt_, nullptr);
  }
  const detail::KernelTable* kt_ = nullptr;
};

double exp_exact(double x) {
  return std::exp(x);
}
double exp2_exact(double x) {
  return std::exp2(x);
}

// Sweeps the floats of [lo, hi] (lo <= 0 <= hi) with the given bit stride through fn; returns the
// largest ulp error against exact(x) rounded once.
int64_t sweep(detail::ExpFn fn, double (*exact)(double), float lo, float hi, uint32_t stride,
              float* worst_x) {
  constexpr int kBatch = 4096;
  float xs[kBatch], ys[kBatch];
  int64_t worst = 0;
  int n = 0;
  auto flush = [&] {
    fn(xs, ys, n);
    for (int i = 0; i < n; ++i) {
      const float want = static_cast<float>(exact(static_cast<double>(xs[i])));
      const int64_t d = ulp_distance(ys[i], want);
      if (d > worst) worst = d, *worst_x = xs[i];
    }
    n = 0;
  };
  // Positive and negative halves separately: bit patterns are monotonic within each.
  for (int sign = 0; sign < 2; ++sign) {
    const float end = sign ? -lo : hi;
    uint32_t bits = 0;
    uint32_t last;
    std::memcpy(&last, &end, 4);
    for (; bits <= last; bits += stride) {
      float x;
      std::memcpy(&x, &bits, 4);
      xs[n++] = sign ? -x : x;
      if (n == kBatch) flush();
    }
  }
  flush();
  return worst;
}

// Sweeps [lo, hi] (every float with CPUATTN_EXP_FULL_SWEEP, else every 16th) and expects at most
// 4 ulp; prints the largest error.
void expect_within_four_ulp(Isa isa, detail::ExpFn fn, double (*exact)(double), float lo, float hi,
                            const char* name) {
  const bool full = std::getenv("CPUATTN_EXP_FULL_SWEEP") != nullptr;
  float worst_x = 0.0f;
  const int64_t worst = sweep(fn, exact, lo, hi, full ? 1 : 16, &worst_x);
  ::testing::Test::RecordProperty("max_ulp", static_cast<int>(worst));
  std::printf("[ %s ] %s max error %lld ulp (at x = %.9g)%s\n", isa_name(isa), name,
              static_cast<long long>(worst), worst_x, full ? " over every float" : "");
  EXPECT_LE(worst, 4) << "at x = " << worst_x;
}

TEST_P(ExpIsaTest, WithinFourUlpOverMinus88To88) {
  expect_within_four_ulp(GetParam(), kt_->exp, exp_exact, -88.0f, 88.0f, "exp");
}

TEST_P(ExpIsaTest, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  const float xs[] = {-inf,   inf,   std::numeric_limits<float>::quiet_NaN(),
                      -1e30f, 1e30f, -104.0f,
                      -87.5f, 88.7f, 89.0f,
                      0.0f,   -0.0f};
  float ys[std::size(xs)];
  kt_->exp(xs, ys, static_cast<int64_t>(std::size(xs)));
  EXPECT_EQ(ys[0], 0.0f);
  EXPECT_EQ(ys[1], inf);
  EXPECT_TRUE(std::isnan(ys[2]));
  EXPECT_EQ(ys[3], 0.0f);
  EXPECT_EQ(ys[4], inf);
  EXPECT_EQ(ys[5], 0.0f);
  EXPECT_LE(ulp_distance(ys[6], static_cast<float>(std::exp(static_cast<double>(xs[6])))),
            4);  // subnormal side
  EXPECT_LE(ulp_distance(ys[7], static_cast<float>(std::exp(static_cast<double>(xs[7])))), 4);
  EXPECT_EQ(ys[8], inf);
  EXPECT_EQ(ys[9], 1.0f);
  EXPECT_EQ(ys[10], 1.0f);
}

// The fused attention's exp2, over its whole domain: everything in [-150, 0] (below, the result
// rounds to 0).
TEST_P(ExpIsaTest, Exp2WithinFourUlpOverMinus150To0) {
  expect_within_four_ulp(GetParam(), kt_->exp2, exp2_exact, -150.0f, 0.0f, "exp2");
}

TEST_P(ExpIsaTest, Exp2SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  const float xs[] = {-inf,    std::numeric_limits<float>::quiet_NaN(),
                      -1e30f,  -160.0f,
                      -149.5f, -149.0f,
                      -126.0f, -0.5f,
                      0.0f,    -0.0f,
                      1.0f,    64.0f,  // positive x below 64.5 (the power-of-two step's range)
                      0.3f};
  float ys[std::size(xs)];
  kt_->exp2(xs, ys, static_cast<int64_t>(std::size(xs)));
  EXPECT_EQ(ys[0], 0.0f);  // masked scores must weigh exactly nothing
  EXPECT_TRUE(std::isnan(ys[1]));
  EXPECT_EQ(ys[2], 0.0f);
  EXPECT_EQ(ys[3], 0.0f);
  EXPECT_EQ(ys[4], std::ldexp(1.0f, -149));  // above 2^-150, so rounds up to the smallest subnormal
  EXPECT_EQ(ys[5], std::ldexp(1.0f, -149));
  EXPECT_EQ(ys[6], std::ldexp(1.0f, -126));
  EXPECT_LE(ulp_distance(ys[7], static_cast<float>(std::exp2(-0.5))), 4);
  EXPECT_EQ(ys[8], 1.0f);
  EXPECT_EQ(ys[9], 1.0f);
  EXPECT_EQ(ys[10], 2.0f);
  EXPECT_EQ(ys[11], std::ldexp(1.0f, 64));
  EXPECT_LE(ulp_distance(ys[12], static_cast<float>(std::exp2(0.3))), 4);
}

INSTANTIATE_TEST_SUITE_P(AllIsas, ExpIsaTest, ::testing::ValuesIn(testable_isas()), isa_param_name);

}  // namespace
}  // namespace cpuattn::test
