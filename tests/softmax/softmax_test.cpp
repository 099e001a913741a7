// Softmax against the double oracle on every ISA: many row lengths, scale, masks, bias broadcast,
// strided layouts, in place, log-softmax, extreme values, NaN, thread-count independence.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>

#include "dispatch/kernel_table.hpp"
#include "reference.hpp"
#include "test_util.hpp"

namespace cpuattn::test {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

struct Case {
  int64_t batch = 1, heads = 1, rows = 1, cols = 1;
  float scale = 1.0f;
  bool causal = false, log = false, bias = false, key_lengths = false, in_place = false;
  int64_t col_stride = 1;  // > 1: columns interleaved with garbage
  int64_t row_pad = 0;
  int64_t src_offset = 0, dst_offset = 0;  // floats before the tensor: row alignments
  int stage_max_cols = -1;                 // >= 0: the profile's softmax_stage_max_cols
};

// Runs one case on random data (or `fill` when given) and checks every element against the oracle
// with the bound derived in the header comment of check_row.
class SoftmaxIsaTest : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (!cpu_supports(GetParam())) GTEST_SKIP() << "CPU lacks " << isa_name(GetParam());
  }

  // Relative bound for softmax, eps * (12 A + n + 9) with A the largest |scale x| + |bias| of the
  // row: t = scale x + bias and t - max carry 4 eps A absolute error, exp adds 3 eps (exp2 is
  // within 3 ulp, exp_test) to each term and so to the sum, the float sum n eps, the reciprocal 2
  // eps and the final product 1. Log-softmax, absolute: eps * (|y| + 8 A + n + 8), the sum's
  // (n + 3) eps passing through the log as absolute error, the log itself and the subtraction.
  static void check_row(const std::vector<double>& want, const float* got, int64_t stride,
                        int64_t n, double big_a, bool log, const std::string& where) {
    const double eps = FLT_EPSILON;
    int bad = 0;
    for (int64_t j = 0; j < n; ++j) {
      const double w = want[j], g = got[j * stride];
      bool ok;
      if (std::isnan(w)) {
        ok = std::isnan(g);
      } else if (std::isinf(w)) {
        ok = g == w;
      } else if (log) {
        ok = std::fabs(g - w) <= eps * (std::fabs(w) + 8 * big_a + n + 8);
      } else {
        ok = std::fabs(g - w) <= w * eps * (12 * big_a + n + 9) + 1e-37;
      }
      if (!ok && ++bad <= 3)
        ADD_FAILURE() << where << " col " << j << ": got " << g << " want " << w;
    }
    EXPECT_EQ(bad, 0) << where;
  }

  void run_case(const Case& c, std::mt19937_64& rng, const std::vector<float>* fill = nullptr,
                int threads = 2) {
    SCOPED_TRACE(::testing::Message()
                 << "B=" << c.batch << " H=" << c.heads << " R=" << c.rows << " C=" << c.cols
                 << " scale=" << c.scale << " causal=" << c.causal << " log=" << c.log
                 << " bias=" << c.bias << " lengths=" << c.key_lengths << " in_place=" << c.in_place
                 << " col_stride=" << c.col_stride << " offsets=" << c.src_offset << ","
                 << c.dst_offset);
    TuningProfile profile = make_test_context(GetParam(), 1).profile();
    if (c.stage_max_cols >= 0) profile.softmax_stage_max_cols = c.stage_max_cols;
    Context ctx = make_test_context(GetParam(), threads, &profile);
    const int64_t cs = c.col_stride, rs = c.cols * cs + c.row_pad, hs = c.rows * rs,
                  bs = c.heads * hs, total = c.batch * bs;
    std::vector<float> src_buf(static_cast<size_t>(c.src_offset), 0.0f);
    {
      const std::vector<float> data =
          fill ? *fill : random_floats(rng, static_cast<size_t>(total), -8, 8);
      src_buf.insert(src_buf.end(), data.begin(), data.end());
    }
    std::vector<float> dst_buf(static_cast<size_t>(c.dst_offset + total), 12345.0f);
    float* const src = src_buf.data() + c.src_offset;
    float* const dst = dst_buf.data() + c.dst_offset;
    std::vector<float> bias;
    if (c.bias) bias = random_floats(rng, static_cast<size_t>(c.rows * c.cols), -3, 3);
    std::vector<int32_t> lengths(static_cast<size_t>(c.batch));
    for (int64_t b = 0; b < c.batch; ++b) {
      lengths[b] = static_cast<int32_t>(std::uniform_int_distribution<int64_t>(0, c.cols)(rng));
    }
    const std::vector<float> original(src, src + total);
    float* out = c.in_place ? src : dst;
    SoftmaxOptions o;
    o.scale = c.scale;
    o.mask = c.causal ? MaskKind::kCausal : MaskKind::kNone;
    o.log = c.log;
    if (c.key_lengths) o.key_lengths = lengths.data();
    if (c.bias) {  // [rows, cols] shared by batch and heads: stride 0 broadcast
      o.bias = TensorView<const float>(bias.data(), {c.batch, c.heads, c.rows, c.cols},
                                       {0, 0, c.cols, 1});
    }
    const Status s = softmax(
        ctx, TensorView<const float>(src, {c.batch, c.heads, c.rows, c.cols}, {bs, hs, rs, cs}),
        TensorView<float>(out, {c.batch, c.heads, c.rows, c.cols}, {bs, hs, rs, cs}), o);
    ASSERT_TRUE(s.is_ok()) << s.message();
    for (int64_t j = 0; j < c.dst_offset; ++j) ASSERT_EQ(dst_buf[j], 12345.0f) << "before " << j;
    for (int64_t b = 0; b < c.batch; ++b) {
      for (int64_t h = 0; h < c.heads; ++h) {
        for (int64_t r = 0; r < c.rows; ++r) {
          const int64_t off = b * bs + h * hs + r * rs;
          int64_t valid = c.key_lengths ? lengths[b] : c.cols;
          if (c.causal) valid = std::min(valid, std::max<int64_t>(0, r + c.cols - c.rows + 1));
          const float* brow = c.bias ? bias.data() + r * c.cols : nullptr;
          const auto want =
              ref::softmax_row(original.data() + off, cs, brow, 1, c.cols, valid, c.scale, c.log);
          double big_a = 0;  // over finite inputs: -inf columns give exactly 0, adding no error
          for (int64_t j = 0; j < valid; ++j) {
            if (!std::isfinite(original[off + j * cs])) continue;
            big_a = std::max(big_a, std::fabs(double(c.scale) * original[off + j * cs]) +
                                        (brow ? std::fabs(brow[j]) : 0.0));
          }
          check_row(want, out + off, cs, c.cols, big_a, c.log,
                    "row " + std::to_string(b) + "," + std::to_string(h) + "," + std::to_string(r));
          // Gaps between strided columns and row padding are never written.
          if (!c.in_place) {
            for (int64_t j = 0; j < rs; ++j) {
              if (j % cs != 0 || j >= c.cols * cs) {
                ASSERT_EQ(dst[off + j], 12345.0f) << "gap " << j;
              }
            }
          }
        }
      }
    }
  }
};

TEST_P(SoftmaxIsaTest, ManyRowLengths) {
  const uint64_t seed = test_seed();
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937_64 rng(seed);
  for (int64_t cols : {1, 2, 3, 4, 7, 8, 15, 16, 17, 31, 33, 64, 65, 100, 257, 1000, 2053}) {
    Case c;
    c.batch = 2, c.heads = 2, c.rows = 3, c.cols = cols, c.scale = 0.7f;
    run_case(c, rng);
  }
}

// A case of `cols` columns whose options vary with the trial number: odd row strides (the rows of
// one call start at different alignments), log-softmax, a bias, in place; the source `offset`
// floats past a vector boundary, the destination at another offset (spread by dst_step).
Case varied_case(int trial, int64_t cols, int64_t offset, int64_t dst_step) {
  Case c;
  c.cols = cols;
  c.row_pad = trial % 2;
  c.log = trial % 3 == 1;
  c.bias = trial % 5 == 2;
  c.in_place = trial % 4 == 3;
  c.src_offset = offset;
  c.dst_offset = c.in_place ? offset : (offset * dst_step + trial) % 16;
  return c;
}

// Every offset of source and destination from a vector boundary (row ends and tails fall at every
// lane), in place too, rows just over a vector and longer, groups of rows normalised under the
// next row's exp pass.
TEST_P(SoftmaxIsaTest, EveryRowAlignment) {
  const uint64_t seed = test_seed() + 11;
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937_64 rng(seed);
  int trial = 0;
  for (int64_t cols : {16, 17, 20, 31, 33, 47, 128, 131, 259}) {
    for (int64_t offset = 0; offset < 16; ++offset, ++trial) {
      Case c = varied_case(trial, cols, offset, 7);
      c.rows = 9, c.scale = 0.9f;
      run_case(c, rng);
    }
  }
}

// Rows past the profile's softmax_stage_max_cols keep their exponentials in the output and are
// normalised there (in place of the input too): forced for every row (0) and a few columns (20)
// at every alignment, and rows past this CPU's default limit.
TEST_P(SoftmaxIsaTest, RowsBeyondTheStageNormaliseInTheOutput) {
  const uint64_t seed = test_seed() + 13;
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937_64 rng(seed);
  const int limit = make_test_context(GetParam(), 1).profile().softmax_stage_max_cols;
  int trial = 0;
  for (int stage_max : {0, 20}) {
    for (int64_t cols : {1, 17, 20, 21, 33, 131, 259}) {
      for (int64_t offset = 0; offset < 16; offset += 3, ++trial) {
        Case c = varied_case(trial, cols, offset, 5);
        c.rows = 7, c.scale = 0.8f, c.stage_max_cols = stage_max;
        run_case(c, rng);
      }
    }
  }
  for (int64_t cols : {int64_t{limit}, int64_t{limit} + 1, 2 * int64_t{limit} + 3}) {
    for (int64_t offset : {0, 4}) {
      Case c;
      c.heads = 2, c.rows = 3, c.cols = cols, c.scale = 0.6f;
      c.in_place = offset == 4;
      c.bias = offset == 0;
      c.src_offset = c.dst_offset = offset;
      run_case(c, rng);
    }
  }
}

// The streaming row kernel on its own, at every alignment of x and y and lengths around the
// vector: AVX-512 reads x in aligned vectors masked at both ends and stages the exponentials at
// x's lane positions. The stage is a heap block of exactly kSoftmaxStageFloats(n) floats, so
// AddressSanitizer sees any write past it; the floats around y must stay untouched. Maxima beyond
// the folded exponent's range (1e4) and -inf columns included.
TEST_P(SoftmaxIsaTest, StreamingRowKernelEveryAlignment) {
  const detail::KernelTable& kt = *detail::kernel_table_for(GetParam());
  const uint64_t seed = test_seed() + 12;
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937_64 rng(seed);
  int trial = 0;
  for (int64_t n : {1, 2, 3, 15, 16, 17, 31, 32, 33, 47, 100, 515}) {
    for (int64_t x_off = 0; x_off < 16; ++x_off, ++trial) {
      const int64_t y_off = (x_off * 5 + trial) % 16;
      const float scale = trial % 3 == 0 ? 2.5f : 0.375f;
      const float spread = trial % 7 == 3 ? 1e4f : 6.0f;
      std::vector<float> xb = random_floats(rng, static_cast<size_t>(n + 32), -spread, spread);
      if (trial % 5 == 1 && n > 2) xb[static_cast<size_t>(x_off + n / 2)] = -kInf;
      std::vector<float> yb(static_cast<size_t>(n + 32), 7.0f);
      std::vector<float> stage(static_cast<size_t>(detail::kSoftmaxStageFloats(n)));
      const float* x = xb.data() + x_off;
      float* y = yb.data() + y_off;
      // `next` is the row itself: any readable row will do for the prefetches.
      kt.softmax_row(x, nullptr, y, n, scale, false, stage.data(), x);
      kt.stream_fence();
      const auto want = ref::softmax_row(x, 1, nullptr, 1, n, n, scale, false);
      double big_a = 0;
      for (int64_t j = 0; j < n; ++j) {
        if (std::isfinite(x[j])) big_a = std::max(big_a, std::fabs(double{scale} * x[j]));
      }
      const std::string where = "n " + std::to_string(n) + " x_off " + std::to_string(x_off) +
                                " y_off " + std::to_string(y_off);
      check_row(want, y, 1, n, big_a, false, where);
      for (int64_t j = 0; j < static_cast<int64_t>(yb.size()); ++j) {
        if (j < y_off || j >= y_off + n) {
          ASSERT_EQ(yb[static_cast<size_t>(j)], 7.0f) << where << " wrote outside y at " << j;
        }
      }
    }
  }
}

// The streamed fill of masked columns (whole lines non-temporal, partial lines plain) at every
// offset of y in its line and lengths around the line: every float of y set, none around it.
TEST_P(SoftmaxIsaTest, StreamFillEveryAlignment) {
  const detail::KernelTable& kt = *detail::kernel_table_for(GetParam());
  for (int64_t n : {0, 1, 2, 7, 15, 16, 17, 31, 32, 33, 47, 100, 515}) {
    for (int64_t off = 0; off < 16; ++off) {
      std::vector<float> yb(static_cast<size_t>(n + 48), 7.0f);
      // 64-byte aligned base, so off walks every position in a line.
      const auto misalignment = reinterpret_cast<std::uintptr_t>(yb.data()) % 64 / sizeof(float);
      const int64_t base = static_cast<int64_t>((16 - misalignment) % 16);
      float* y = yb.data() + base + off;
      kt.stream_fill(y, n, -kInf);
      kt.stream_fence();
      for (int64_t j = 0; j < static_cast<int64_t>(yb.size()); ++j) {
        const bool inside = j >= base + off && j < base + off + n;
        ASSERT_EQ(yb[static_cast<size_t>(j)], inside ? -kInf : 7.0f)
            << "n " << n << " offset " << off << " at " << j;
      }
    }
  }
}

TEST_P(SoftmaxIsaTest, MasksBiasLogStridesInPlace) {
  const uint64_t seed = test_seed() + 1;
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> dim(1, 90);
  for (int trial = 0; trial < 48; ++trial) {
    Case c;
    c.batch = 1 + trial % 3, c.heads = 1 + trial % 2, c.rows = dim(rng), c.cols = dim(rng);
    c.scale = trial % 4 == 0 ? -0.5f : 0.125f * (1 + trial % 5);
    c.causal = trial & 1;
    c.log = trial & 2;
    c.bias = trial & 4;
    c.key_lengths = trial & 8;
    c.col_stride = trial & 16 ? 3 : 1;
    c.in_place = (trial & 32) && c.col_stride == 1;
    c.row_pad = trial % 3;
    run_case(c, rng);
  }
}

TEST_P(SoftmaxIsaTest, FullyMaskedRowsAreZerosNeverNan) {
  std::mt19937_64 rng(test_seed() + 2);
  Case c;
  c.batch = 2, c.rows = 5, c.cols = 40, c.key_lengths = true;
  Context ctx = make_test_context(GetParam(), 1);
  std::vector<float> x = random_floats(rng, 2 * 5 * 40), y(x.size(), 7.0f);
  const int32_t lengths[] = {0, 40};
  for (bool log : {false, true}) {
    SoftmaxOptions o;
    o.key_lengths = lengths;
    o.log = log;
    o.mask = MaskKind::kCausal;  // with rows < cols nothing else is fully masked
    ASSERT_TRUE(softmax(ctx, TensorView<const float>(x.data(), {2, 1, 5, 40}),
                        TensorView<float>(y.data(), {2, 1, 5, 40}), o)
                    .is_ok());
    for (int i = 0; i < 5 * 40; ++i) ASSERT_EQ(y[i], log ? -kInf : 0.0f) << i;
    for (int i = 5 * 40; i < 10 * 40; ++i) ASSERT_FALSE(std::isnan(y[i])) << i;
  }
  // Rows made of -inf (an additive mask that hides everything) are zeros too.
  std::vector<float> neg(64, -kInf), out(64, 7.0f);
  ASSERT_TRUE(softmax(ctx, TensorView<const float>(neg.data(), {2, 32}),
                      TensorView<float>(out.data(), {2, 32}))
                  .is_ok());
  for (float v : out) ASSERT_EQ(v, 0.0f);
}

TEST_P(SoftmaxIsaTest, HugeValuesAndInfinityDoNotOverflow) {
  Context ctx = make_test_context(GetParam(), 1);
  const int64_t n = 37;
  std::vector<float> x(n, -1e30f), y(n);
  x[5] = 1e30f;
  x[20] = 1e30f;
  x[30] = -kInf;
  ASSERT_TRUE(softmax(ctx, TensorView<const float>(x.data(), {n}), TensorView<float>(y.data(), {n}))
                  .is_ok());
  for (int64_t j = 0; j < n; ++j) EXPECT_EQ(y[j], (j == 5 || j == 20) ? 0.5f : 0.0f) << j;
  std::mt19937_64 rng(test_seed() + 3);
  Case c;
  c.rows = 4, c.cols = 50;
  std::vector<float> fill = random_floats(rng, 200, -1e30f, 1e30f);
  run_case(c, rng, &fill);
}

// Row maxima from 0.1 to 1e5 cross the kernel's switch between the folded exponent (one FMA) and
// the two-step one (|max| > 4096), with and without bias, for positive and negative scales.
TEST_P(SoftmaxIsaTest, LargeLogitsAndNegativeScale) {
  std::mt19937_64 rng(test_seed() + 7);
  for (float scale : {1.0f, -0.5f, 0.03f}) {
    for (bool bias : {false, true}) {
      for (bool log : {false, true}) {
        Case c;
        c.rows = 7, c.cols = 77, c.scale = scale, c.bias = bias, c.log = log;
        std::vector<float> fill;
        for (int64_t r = 0; r < c.rows; ++r) {
          const float magnitude = 0.1f * std::pow(10.0f, static_cast<float>(r));
          const auto row = random_floats(rng, static_cast<size_t>(c.cols), -magnitude, magnitude);
          fill.insert(fill.end(), row.begin(), row.end());
        }
        run_case(c, rng, &fill);
      }
    }
  }
}

// Short rows go through the passes in groups (up to 8 rows of <= 256 columns): a fully masked
// row, a NaN row and a row past the folded exponent's range sit among ordinary ones, and the
// last group is partial.
TEST_P(SoftmaxIsaTest, RowGroupsWithSpecialRows) {
  std::mt19937_64 rng(test_seed() + 9);
  for (int64_t cols : {5, 64, 128, 200, 600}) {
    for (bool bias : {false, true}) {
      for (bool log : {false, true}) {
        Case c;
        c.heads = 2, c.rows = 11, c.cols = cols, c.scale = 0.6f, c.bias = bias, c.log = log;
        std::vector<float> fill = random_floats(rng, static_cast<size_t>(2 * 11 * cols), -6, 6);
        std::fill(fill.begin() + 1 * cols, fill.begin() + 2 * cols, -kInf);  // masked row
        fill[static_cast<size_t>(4 * cols + cols / 2)] = std::numeric_limits<float>::quiet_NaN();
        fill[static_cast<size_t>(6 * cols + cols - 1)] = 1e5f;  // beyond the folded exponent
        run_case(c, rng, &fill);
      }
    }
  }
}

TEST_P(SoftmaxIsaTest, NanStaysInItsRow) {
  Context ctx = make_test_context(GetParam(), 2);
  std::mt19937_64 rng(test_seed() + 4);
  const int64_t rows = 6, cols = 45;
  std::vector<float> x = random_floats(rng, rows * cols), y(rows * cols);
  x[2 * cols + 17] = std::numeric_limits<float>::quiet_NaN();
  ASSERT_TRUE(softmax(ctx, TensorView<const float>(x.data(), {rows, cols}),
                      TensorView<float>(y.data(), {rows, cols}))
                  .is_ok());
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < cols; ++j) {
      EXPECT_EQ(std::isnan(y[r * cols + j]), r == 2) << r << "," << j;
    }
  }
}

// A NaN whose row is otherwise -inf (masked) still makes the row NaN, at a vector lane and in
// the scalar tail, for softmax and log-softmax.
TEST_P(SoftmaxIsaTest, NanAmongMaskedColumnsIsNan) {
  Context ctx = make_test_context(GetParam(), 1);
  const float inf = std::numeric_limits<float>::infinity();
  const int64_t rows = 3, cols = 37;
  std::vector<float> x(rows * cols, -inf), y(rows * cols);
  x[0 * cols + 3] = std::numeric_limits<float>::quiet_NaN();
  x[1 * cols + 36] = std::numeric_limits<float>::quiet_NaN();
  for (bool log : {false, true}) {
    SoftmaxOptions o;
    o.log = log;
    ASSERT_TRUE(softmax(ctx, TensorView<const float>(x.data(), {rows, cols}),
                        TensorView<float>(y.data(), {rows, cols}), o)
                    .is_ok());
    for (int64_t j = 0; j < cols; ++j) {
      EXPECT_TRUE(std::isnan(y[0 * cols + j])) << j;
      EXPECT_TRUE(std::isnan(y[1 * cols + j])) << j;
      EXPECT_EQ(y[2 * cols + j], log ? -inf : 0.0f) << j;  // fully masked
    }
  }
}

TEST_P(SoftmaxIsaTest, OneAndTwoThreadsAreBitIdentical) {
  std::mt19937_64 rng(test_seed() + 5);
  Context one = make_test_context(GetParam(), 1), two = make_test_context(GetParam(), 2);
  const int64_t b = 3, h = 5, r = 17, c = 300;
  std::vector<float> x = random_floats(rng, b * h * r * c), y1(x.size()), y2(x.size());
  SoftmaxOptions o;
  o.mask = MaskKind::kCausal;
  o.scale = 0.3f;
  ASSERT_TRUE(softmax(one, TensorView<const float>(x.data(), {b, h, r, c}),
                      TensorView<float>(y1.data(), {b, h, r, c}), o)
                  .is_ok());
  ASSERT_TRUE(softmax(two, TensorView<const float>(x.data(), {b, h, r, c}),
                      TensorView<float>(y2.data(), {b, h, r, c}), o)
                  .is_ok());
  EXPECT_EQ(0, std::memcmp(y1.data(), y2.data(), y1.size() * sizeof(float)));
}

TEST_P(SoftmaxIsaTest, OutputEndingAtGuardPage) {
  Context ctx = make_test_context(GetParam(), 2);
  std::mt19937_64 rng(test_seed() + 6);
  for (int64_t cols : {1, 5, 17, 33, 100}) {
    const int64_t rows = 7;
    std::vector<float> x = random_floats(rng, rows * cols);
    GuardedBuffer y(static_cast<size_t>(rows * cols));
    SoftmaxOptions o;
    o.mask = MaskKind::kCausal;
    ASSERT_TRUE(softmax(ctx, TensorView<const float>(x.data(), {rows, cols}),
                        TensorView<float>(y.data(), {rows, cols}), o)
                    .is_ok());
    for (int64_t r = 0; r < rows; ++r) {
      double sum = 0;
      for (int64_t j = 0; j < cols; ++j) sum += y.data()[r * cols + j];
      const bool any = std::max<int64_t>(0, r + cols - rows + 1) > 0;
      EXPECT_NEAR(sum, any ? 1.0 : 0.0, 1e-5);
    }
  }
}

TEST_P(SoftmaxIsaTest, LargeOutputsTakeTheStreamingPath) {
  // >= 16 MiB of output switches to non-temporal stores; dst is offset by one float so every row
  // starts unaligned and exercises the aligned-store prologue.
  std::mt19937_64 rng(test_seed() + 7);
  Context ctx = make_test_context(GetParam(), 2);
  const int64_t rows = 2100, cols = 2053;
  std::vector<float> x = random_floats(rng, rows * cols, -5, 5), y(rows * cols + 1);
  SoftmaxOptions o;
  o.scale = 0.5f;
  o.mask = MaskKind::kCausal;
  ASSERT_TRUE(softmax(ctx, TensorView<const float>(x.data(), {rows, cols}),
                      TensorView<float>(y.data() + 1, {rows, cols}), o)
                  .is_ok());
  for (int64_t r = 0; r < rows; r += 37) {
    const int64_t valid = std::max<int64_t>(0, r + cols - rows + 1);
    const auto want = ref::softmax_row(x.data() + r * cols, 1, nullptr, 1, cols, valid, 0.5, false);
    double big_a = 0;
    for (int64_t j = 0; j < valid; ++j) big_a = std::max(big_a, std::fabs(0.5 * x[r * cols + j]));
    check_row(want, y.data() + 1 + r * cols, 1, cols, big_a, false, "row " + std::to_string(r));
  }
}

// The streaming path for runs of rows (no causal mask): key padding per batch, unaligned dst.
TEST_P(SoftmaxIsaTest, LargeOutputsStreamRunsOfRows) {
  std::mt19937_64 rng(test_seed() + 8);
  Context ctx = make_test_context(GetParam(), 2);
  const int64_t batch = 2, rows = 1050, cols = 2053;
  std::vector<float> x = random_floats(rng, batch * rows * cols, -5, 5), y(batch * rows * cols + 1);
  const int32_t lengths[batch] = {2000, static_cast<int32_t>(cols)};
  SoftmaxOptions o;
  o.scale = 0.5f;
  o.key_lengths = lengths;
  ASSERT_TRUE(softmax(ctx, TensorView<const float>(x.data(), {batch, 1, rows, cols}),
                      TensorView<float>(y.data() + 1, {batch, 1, rows, cols}), o)
                  .is_ok());
  for (int64_t r = 0; r < batch * rows; r += 37) {
    const int64_t valid = lengths[r / rows];
    const auto want = ref::softmax_row(x.data() + r * cols, 1, nullptr, 1, cols, valid, 0.5, false);
    double big_a = 0;
    for (int64_t j = 0; j < valid; ++j) big_a = std::max(big_a, std::fabs(0.5 * x[r * cols + j]));
    check_row(want, y.data() + 1 + r * cols, 1, cols, big_a, false, "row " + std::to_string(r));
  }
}

// Streamed short rows (128 to 255 columns on AVX-512 go through in groups, a group contiguous in
// the output gathered into one span): every element checked, with groups holding fully masked
// rows, a NaN row and a max beyond the folded exponent, at row lengths and offsets that split
// lines between rows, padded rows (not gathered), key padding and in place.
TEST_P(SoftmaxIsaTest, LargeOutputsStreamGroupsOfShortRows) {
  std::mt19937_64 rng(test_seed() + 11);
  struct Layout {
    int64_t cols, src_offset, dst_offset, row_pad;
    bool key_lengths, in_place;
  };
  for (const Layout& l : {Layout{128, 0, 0, 0, false, false}, Layout{131, 1, 3, 0, false, false},
                          Layout{200, 4, 4, 0, true, false}, Layout{128, 0, 5, 16, false, false},
                          Layout{255, 2, 0, 0, false, true}}) {
    Case c;
    c.batch = 2;
    c.cols = l.cols;
    c.rows = ((int64_t{16} << 20) / (4 * c.cols) + 2 * 7) / 2;  // >= 16 MiB out, a partial group
    c.scale = 0.75f;
    c.src_offset = l.src_offset;
    c.dst_offset = l.dst_offset;
    c.row_pad = l.row_pad;
    c.key_lengths = l.key_lengths;
    c.in_place = l.in_place;
    const int64_t rs = c.cols + c.row_pad;
    std::vector<float> fill = random_floats(rng, static_cast<size_t>(c.batch * c.rows * rs), -6, 6);
    auto row = [&](int64_t r) { return fill.begin() + r * rs; };
    std::fill(row(3), row(3) + c.cols, -kInf);    // masked rows: one alone, a whole group
    std::fill(row(16), row(24) + c.cols, -kInf);  // (and the padding between them)
    row(21)[c.cols / 2] = std::numeric_limits<float>::quiet_NaN();
    row(40)[c.cols - 1] = 1e5f;
    run_case(c, rng, &fill);
  }
}

// Streamed rows contiguous in the output hand the partial line they end in to the next row, which
// completes it (StreamStore::LineCarry): every element checked at row lengths and offsets that
// split lines between rows, with fully masked rows (one alone, several together), a NaN row, a
// max beyond the folded exponent, a bias (the generic row path), in place, and rows a whole
// number of lines long (nothing carried).
TEST_P(SoftmaxIsaTest, LargeOutputsCarryLinesBetweenRows) {
  std::mt19937_64 rng(test_seed() + 12);
  struct Layout {
    int64_t cols, src_offset, dst_offset;
    bool bias, in_place;
  };
  for (const Layout& l : {Layout{300, 1, 1, false, false}, Layout{513, 0, 4, false, false},
                          Layout{257, 4, 4, false, true}, Layout{1000, 2, 7, true, false},
                          Layout{512, 0, 3, false, false}, Layout{512, 0, 0, false, false}}) {
    Case c;
    c.cols = l.cols;
    c.rows = (int64_t{16} << 20) / (4 * c.cols) + 5;  // >= 16 MiB out
    c.scale = 0.75f;
    c.src_offset = l.src_offset;
    c.dst_offset = l.in_place ? l.src_offset : l.dst_offset;
    c.bias = l.bias;
    c.in_place = l.in_place;
    std::vector<float> fill = random_floats(rng, static_cast<size_t>(c.rows * c.cols), -6, 6);
    auto row = [&](int64_t r) { return fill.begin() + r * c.cols; };
    std::fill(row(3), row(3) + c.cols, -kInf);
    std::fill(row(16), row(19) + c.cols, -kInf);
    row(21)[c.cols / 2] = std::numeric_limits<float>::quiet_NaN();
    row(40)[c.cols - 1] = 1e5f;
    std::fill(row(c.rows - 1), row(c.rows - 1) + c.cols, -kInf);  // the run ends masked
    run_case(c, rng, &fill);
  }
}

// The streaming path (>= 16 MiB of output, rows of at least softmax_stream_min_columns: 128) to a
// vector-aligned and to an unaligned destination, rows of a whole number of lines and not (130,
// 257, 513: every row starts at another offset in its line), on both sides of AVX-512's grouping
// threshold (256), and as large an output of short rows (64), which keeps plain stores.
TEST_P(SoftmaxIsaTest, LargeOutputsAlignedAndUnaligned) {
  std::mt19937_64 rng(test_seed() + 10);
  Context ctx = make_test_context(GetParam(), 2);
  for (int64_t cols : {int64_t{512}, int64_t{513}, int64_t{256}, int64_t{257}, int64_t{128},
                       int64_t{130}, int64_t{64}}) {
    const int64_t rows = (int64_t{16} << 20) / (4 * cols) + 3;
    const std::vector<float> x = random_floats(rng, rows * cols, -5, 5);
    std::vector<float> y(rows * cols + 16);
    const auto misalignment = reinterpret_cast<std::uintptr_t>(y.data()) % 64 / sizeof(float);
    const int64_t aligned = static_cast<int64_t>((16 - misalignment) % 16);
    for (int64_t offset : {aligned, aligned + 1}) {
      SoftmaxOptions o;
      o.scale = 0.5f;
      ASSERT_TRUE(softmax(ctx, TensorView<const float>(x.data(), {rows, cols}),
                          TensorView<float>(y.data() + offset, {rows, cols}), o)
                      .is_ok());
      for (int64_t r = 0; r < rows; r += 37) {
        const auto want =
            ref::softmax_row(x.data() + r * cols, 1, nullptr, 1, cols, cols, 0.5, false);
        double big_a = 0;
        for (int64_t j = 0; j < cols; ++j) {
          big_a = std::max(big_a, std::fabs(0.5 * x[r * cols + j]));
        }
        check_row(want, y.data() + offset + r * cols, 1, cols, big_a, false,
                  "cols " + std::to_string(cols) + " offset " + std::to_string(offset) + " row " +
                      std::to_string(r));
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, SoftmaxIsaTest, ::testing::ValuesIn(testable_isas()),
                         isa_param_name);

}  // namespace
}  // namespace cpuattn::test
