// sgemm against the double oracle on every compiled ISA: sizes around the register tile, random
// sizes, all transposes, alpha/beta, padded leading dimensions, tiny blocking, batches, NaN.
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "dispatch/kernel_table.hpp"
#include "reference.hpp"
#include "test_util.hpp"

namespace cpuattn::test {
namespace {

struct Shape {
  int64_t m, n, k;
  bool ta, tb;
  float alpha, beta;
  int64_t pad;  // extra leading-dimension elements
};

// C as computed by cpuattn, and a check against the oracle with the GEMM bound
// |c - ref| <= (k + 2) eps (|alpha| sum |a||b| + |beta c0|).
void check_gemm(const Context& ctx, const Shape& s, std::mt19937_64& rng) {
  SCOPED_TRACE(::testing::Message()
               << "m=" << s.m << " n=" << s.n << " k=" << s.k << " ta=" << s.ta << " tb=" << s.tb
               << " alpha=" << s.alpha << " beta=" << s.beta << " pad=" << s.pad);
  const int64_t lda = (s.ta ? s.m : s.k) + s.pad, ldb = (s.tb ? s.k : s.n) + s.pad,
                ldc = s.n + s.pad;
  const auto a = random_floats(rng, static_cast<size_t>((s.ta ? s.k : s.m) * lda));
  const auto b = random_floats(rng, static_cast<size_t>((s.tb ? s.n : s.k) * ldb));
  std::vector<float> c = random_floats(rng, static_cast<size_t>(s.m * ldc));
  if (s.beta == 0.0f) std::fill(c.begin(), c.end(), std::numeric_limits<float>::quiet_NaN());
  const auto ref = ref::gemm(s.ta, s.tb, s.m, s.n, s.k, s.alpha, a.data(), lda, b.data(), ldb,
                             s.beta, c.data(), ldc);
  GemmArgs g;
  g.trans_a = s.ta ? Transpose::kYes : Transpose::kNo;
  g.trans_b = s.tb ? Transpose::kYes : Transpose::kNo;
  g.m = s.m;
  g.n = s.n;
  g.k = s.k;
  g.alpha = s.alpha;
  g.a = a.data();
  g.lda = lda;
  g.b = b.data();
  g.ldb = ldb;
  g.beta = s.beta;
  g.c = c.data();
  g.ldc = ldc;
  const std::vector<float> before = c;
  ASSERT_TRUE(sgemm(ctx, g).is_ok());
  int bad = 0;
  for (int64_t i = 0; i < s.m; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      const float got = c[i * ldc + j];
      if (j >= s.n) {  // padding columns are never written
        if (!(std::isnan(before[i * ldc + j]) && std::isnan(got))) {
          EXPECT_EQ(got, before[i * ldc + j]) << "wrote padding at " << i << "," << j;
        }
        continue;
      }
      const double want = ref.c[i * s.n + j];
      const double tol = (s.k + 2) * static_cast<double>(FLT_EPSILON) * ref.magnitude[i * s.n + j];
      if (!(std::fabs(got - want) <= tol) && ++bad < 5) {
        ADD_FAILURE() << "C[" << i << "," << j << "] = " << got << ", want " << want << " (tol "
                      << tol << ")";
      }
    }
  }
  EXPECT_EQ(bad, 0);
}

class GemmIsaTest : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (!cpu_supports(GetParam())) GTEST_SKIP() << "CPU lacks " << isa_name(GetParam());
  }
  // The register tile of the ISA under test.
  int mr() const { return detail::kernel_table_for(GetParam())->mr; }
  int nr() const { return detail::kernel_table_for(GetParam())->nr; }
};

TEST_P(GemmIsaTest, EdgeSizesAroundTheTileAllTransposes) {
  Context ctx = make_test_context(GetParam(), 1);
  const uint64_t seed = test_seed();
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937_64 rng(seed);
  const int mr = this->mr(), nr = this->nr();
  const std::vector<int64_t> sizes = {1,      2,      7,  mr - 1, mr,         mr + 1,
                                      2 * mr, nr - 1, nr, nr + 1, 2 * nr + 3, 67};
  std::uniform_int_distribution<size_t> pick(0, sizes.size() - 1);
  for (int trial = 0; trial < 40; ++trial) {
    Shape s{sizes[pick(rng)],
            sizes[pick(rng)],
            sizes[pick(rng)],
            (trial & 1) != 0,
            (trial & 2) != 0,
            1.0f,
            0.0f,
            trial % 3};
    check_gemm(ctx, s, rng);
  }
}

// Every row count of an edge tile (the microkernel computes 1/3, 2/3 or all of mr rows), with A
// read in place by rows or columns and packed, beta 0 and not.
TEST_P(GemmIsaTest, EveryEdgeTileRowCount) {
  Context ctx = make_test_context(GetParam(), 1);
  const uint64_t seed = test_seed();
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937_64 rng(seed);
  const int mr = this->mr(), nr = this->nr();
  for (int64_t m = 1; m <= 2 * mr; ++m) {
    for (int layout = 0; layout < 4; ++layout) {
      // 0, 1: A rows in place (1: B transposed, beta 0.5); 2: A transposed and n <= 2 nr,
      // columns in place; 3: A transposed and wide, packed.
      const int64_t n = layout == 3 ? 4 * nr + 5 : nr + 3;
      check_gemm(ctx, Shape{m, n, 9, layout >= 2, layout == 1, 1.0f, layout == 1 ? 0.5f : 0.0f, 0},
                 rng);
    }
  }
}

// Row strides of 1024 and 2048 floats put every A row in one L1 set: with an 8-way L1, wide
// products pack A instead of reading it in place and narrow ones read it 2/3 mr rows at a time;
// with a 12-way L1 both read it in place, mr rows at a time.
TEST_P(GemmIsaTest, SetConflictingRowStrides) {
  const uint64_t seed = test_seed();
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937_64 rng(seed);
  for (int ways : {8, 12}) {
    SCOPED_TRACE(::testing::Message() << "L1 " << ways << "-way");
    TuningProfile profile = make_test_context(GetParam(), 1).profile();
    profile.gemm.l1_ways = ways;
    const Context ctx = make_test_context(GetParam(), 2, &profile);
    for (int64_t lda : {1024, 2048}) {
      for (int64_t n : {40, 301}) {
        const int64_t k = 70;
        check_gemm(ctx, Shape{53, n, k, false, false, 1.0f, 0.0f, lda - k}, rng);
      }
    }
  }
}

// Blocks of B that fit in L2 are packed by the first row tile of each strip as it reads B
// (gemm_driver's packs_b_in_tiles), the later tiles and row blocks reading the packed strip:
// row panels outer and strips outer, a partial last strip (packed beforehand), two row blocks,
// two k blocks; A read a column at a time (A transposed, narrow C); and first tiles of 2/3 mr
// rows (AVX-512's 12-row tiles with rows of A in one L1 set of an 8-way L1), which copy B before
// they compute.
TEST_P(GemmIsaTest, FirstRowTilesPackBAsTheyRead) {
  const uint64_t seed = test_seed() + 9;
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937_64 rng(seed);
  TuningProfile eight_way = make_test_context(GetParam(), 1).profile();
  eight_way.gemm.l1_ways = 8;
  for (int threads : {1, 2}) {
    SCOPED_TRACE(::testing::Message() << threads << " threads");
    const Context ctx = make_test_context(GetParam(), threads);
    check_gemm(ctx, Shape{301, 517, 64, false, false, 1.0f, 0.0f, 0}, rng);
    check_gemm(ctx, Shape{200, 150, 300, false, false, -0.5f, 0.75f, 3}, rng);
    check_gemm(ctx, Shape{100, 70, 1100, false, false, 1.0f, 1.0f, 1}, rng);
    check_gemm(ctx, Shape{200, 50, 300, true, false, 2.0f, 0.0f, 0}, rng);
    const Context conflicting = make_test_context(GetParam(), threads, &eight_way);
    check_gemm(conflicting, Shape{60, 100, 300, false, false, 1.0f, 0.0f, 1024 - 300}, rng);
  }
}

// k <= 128 with B packed runs row panels outer, B strips inner (gemm_driver's kShortK).
TEST_P(GemmIsaTest, ShortKRowPanelsOuter) {
  Context ctx = make_test_context(GetParam(), 2);
  const uint64_t seed = test_seed() + 7;
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937_64 rng(seed);
  for (int64_t k : {1, 17, 64, 128, 129}) {
    for (bool trans_b : {false, true}) {
      check_gemm(ctx, Shape{301, 517, k, false, trans_b, 0.5f, 0.0f, 3}, rng);
      check_gemm(ctx, Shape{53, 301, k, true, trans_b, 1.0f, 0.75f, 0}, rng);
    }
  }
}

TEST_P(GemmIsaTest, RandomSizesAlphaBeta) {
  Context ctx = make_test_context(GetParam(), 2);
  const uint64_t seed = test_seed() + 1;
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> size(1, 300);
  const float alphas[] = {1.0f, -0.5f, 2.0f}, betas[] = {0.0f, 1.0f, 0.75f};
  for (int trial = 0; trial < 12; ++trial) {
    Shape s{size(rng),
            size(rng),
            size(rng),
            (trial & 1) != 0,
            (trial & 2) != 0,
            alphas[trial % 3],
            betas[(trial / 3) % 3],
            trial % 2 ? 5 : 0};
    check_gemm(ctx, s, rng);
  }
}

TEST_P(GemmIsaTest, TinyBlocksCrossEveryBlockEdge) {
  const int mr = GetParam() == Isa::kAvx512 ? 12 : 6;
  const int nr = GetParam() == Isa::kAvx512 ? 32 : GetParam() == Isa::kAvx2 ? 16 : 8;
  const TuningProfile tiny = tiny_profile(mr, nr);
  Context ctx = make_test_context(GetParam(), 2, &tiny);
  const uint64_t seed = test_seed() + 2;
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 8; ++trial) {
    Shape s{40 + trial,
            40 - trial,
            33 + trial,
            (trial & 1) != 0,
            (trial & 2) != 0,
            1.0f,
            trial % 2 ? 1.0f : 0.0f,
            1};
    check_gemm(ctx, s, rng);
  }
}

// B read in place or packed (the profile's b_in_place_kib; the default packs on most CPUs and
// reads in place on Zen 4's AVX-512): both match the oracle and each other bit for bit, since the
// microkernel sums the same products in the same order either way. Shapes where packing would
// otherwise happen: many row tiles, B larger than one micro-panel or strips that thrash L1.
TEST_P(GemmIsaTest, BInPlaceAndPackedAgree) {
  Context packed, in_place;
  {
    TuningProfile p = make_test_context(GetParam(), 2).profile();
    p.gemm.b_in_place_kib = 0;
    packed = make_test_context(GetParam(), 2, &p);
    p.gemm.b_in_place_kib = 1 << 20;
    in_place = make_test_context(GetParam(), 2, &p);
  }
  std::mt19937_64 rng(test_seed() + 7);
  const int64_t shapes[][3] = {{200, 150, 130}, {128, 128, 128}, {301, 64, 517}, {97, 256, 33}};
  for (const auto& shape : shapes) {
    const int64_t m = shape[0], n = shape[1], k = shape[2];
    SCOPED_TRACE(::testing::Message() << m << " x " << n << " x " << k);
    const auto a = random_floats(rng, m * k), b = random_floats(rng, k * n);
    std::vector<float> c[2];
    int which = 0;
    for (const Context* ctx : {&packed, &in_place}) {
      c[which].assign(m * n, std::numeric_limits<float>::quiet_NaN());  // beta = 0 never reads C
      GemmArgs g;
      g.m = m, g.n = n, g.k = k, g.a = a.data(), g.lda = k, g.b = b.data(), g.ldb = n;
      g.c = c[which].data(), g.ldc = n;
      ASSERT_TRUE(sgemm(*ctx, g).is_ok());
      ++which;
    }
    const auto ref =
        ref::gemm(false, false, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, nullptr, n);
    for (int64_t e = 0; e < m * n; ++e) {
      ASSERT_NEAR(c[0][e], ref.c[e], (k + 2) * FLT_EPSILON * ref.magnitude[e]) << e;
    }
    EXPECT_EQ(0, std::memcmp(c[0].data(), c[1].data(), c[0].size() * sizeof(float)));
  }
}

TEST_P(GemmIsaTest, LargeSquareMatchesOracle) {
  Context ctx = make_test_context(GetParam(), 2);
  std::mt19937_64 rng(test_seed() + 3);
  check_gemm(ctx, Shape{520, 530, 600, false, false, 1.0f, 0.0f, 0}, rng);
}

// A packed B block larger than twice the A block: every row tile of a strip also prefetches a
// share of the next strip (the last strip the first), in a kernel instantiation of its own. 100
// rows: row blocks of two tiles, the last one ending in an edge tile; 300 columns: blocks of 256
// (prefetching) and 44 (fits, none); k: three blocks.
TEST_P(GemmIsaTest, BlocksLargerThanL2PrefetchTheNextStrip) {
  TuningProfile small = tiny_profile(mr(), nr());
  small.gemm.mc = 2 * mr();
  small.gemm.kc = 64;
  small.gemm.nc = 256;
  small.source = "small blocks";
  std::mt19937_64 rng(test_seed() + 8);
  for (int threads : {1, 2}) {
    const Context ctx = make_test_context(GetParam(), threads, &small);
    check_gemm(ctx, Shape{100, 300, 150, false, false, 1.0f, 0.0f, 0}, rng);
    check_gemm(ctx, Shape{100, 300, 150, true, false, -0.5f, 2.0f, 3}, rng);
  }
}

// Rows of A read in place further apart than kc floats come in row blocks of fewer rows than mc
// (kc / lda of it): k 29 against kc 16 gives blocks of 2 mr rows, the last one partial, and a
// padded lda of 69 blocks of one tile; two k blocks each.
TEST_P(GemmIsaTest, FarApartRowsOfAGetSmallerRowBlocks) {
  TuningProfile small = tiny_profile(mr(), nr());
  small.gemm.mc = 4 * mr();
  small.gemm.kc = 16;
  small.gemm.nc = 4 * nr();
  small.source = "small blocks";
  const uint64_t seed = test_seed() + 10;
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937_64 rng(seed);
  const int64_t m = 9 * mr() + 5, n = 2 * nr() + 7;
  for (int threads : {1, 2}) {
    SCOPED_TRACE(::testing::Message() << threads << " threads");
    const Context ctx = make_test_context(GetParam(), threads, &small);
    check_gemm(ctx, Shape{m, n, 29, false, false, 1.0f, 0.0f, 0}, rng);
    check_gemm(ctx, Shape{m, n, 29, false, true, -0.5f, 0.75f, 40}, rng);
  }
}

TEST_P(GemmIsaTest, SmallIntegersAreExact) {
  Context ctx = make_test_context(GetParam(), 2);
  std::mt19937_64 rng(test_seed() + 4);
  const int64_t m = 77, n = 93, k = 130;
  const auto a = random_small_ints(rng, m * k), b = random_small_ints(rng, k * n);
  std::vector<float> c(m * n);
  GemmArgs g;
  g.m = m, g.n = n, g.k = k, g.a = a.data(), g.lda = k, g.b = b.data(), g.ldb = n;
  g.c = c.data(), g.ldc = n;
  ASSERT_TRUE(sgemm(ctx, g).is_ok());
  const auto ref =
      ref::gemm(false, false, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, nullptr, n);
  for (int64_t i = 0; i < m * n; ++i) ASSERT_EQ(c[i], ref.c[i]) << "at " << i;
}

// Every thread count cuts C into different blocks (rows, columns, both, pieces stolen by a
// worker done early), and every cut must sum each element in the same order.
TEST_P(GemmIsaTest, ResultsDoNotDependOnThreadCount) {
  const TuningProfile tiny = tiny_profile(mr(), nr());
  struct Case {
    int64_t m, n, k, lda;  // lda 0: k
    bool tiny_blocks;
    bool c_aligned;  // C's rows on 64-byte lines (else column boundaries split lines)
  };
  const Case cases[] = {
      {301, 257, 700, 0, false, false},     // odd square-ish
      {40, 1024, 64, 0, false, true},       // wide: column parts, pieces of them
      {40, 1000, 64, 0, false, false},      // wide, short k, C's lines split: row parts
      {1000, 40, 70, 0, false, false},      // tall: row parts
      {200, 300, 100, 1024, false, false},  // rows sharing L1 sets: A packed per part
      {97, 211, 45, 0, true, false},        // parts wider than nc and taller than mc
  };
  std::mt19937_64 rng(test_seed() + 5);
  const Context one = make_test_context(GetParam(), 1),
                one_tiny = make_test_context(GetParam(), 1, &tiny);
  for (const Case& c : cases) {
    const int64_t lda = c.lda != 0 ? c.lda : c.k;
    const auto a = random_floats(rng, c.m * lda), b = random_floats(rng, c.k * c.n);
    GemmArgs g;
    g.m = c.m, g.n = c.n, g.k = c.k, g.a = a.data(), g.lda = lda, g.b = b.data(), g.ldb = c.n;
    g.ldc = c.n;
    // 16 floats of slack, to start C on a line or 4 floats past one (as a std::vector's data).
    auto c_start = [&](std::vector<float>& v) {
      const auto line = reinterpret_cast<std::uintptr_t>(v.data()) / sizeof(float) % 16;
      return v.data() + (16 - line) % 16 + (c.c_aligned ? 0 : 4);
    };
    std::vector<float> want_buffer(c.m * c.n + 32);
    float* const want = c_start(want_buffer);
    g.c = want;
    ASSERT_TRUE(sgemm(c.tiny_blocks ? one_tiny : one, g).is_ok());
    for (int threads : {2, 3, 4, 5}) {
      SCOPED_TRACE(::testing::Message() << "m=" << c.m << " n=" << c.n << " k=" << c.k
                                        << " lda=" << lda << " threads=" << threads);
      const Context ctx = make_test_context(GetParam(), threads, c.tiny_blocks ? &tiny : nullptr);
      std::vector<float> got_buffer(c.m * c.n + 32, std::numeric_limits<float>::quiet_NaN());
      g.c = c_start(got_buffer);
      ASSERT_TRUE(sgemm(ctx, g).is_ok());
      EXPECT_EQ(0, std::memcmp(want, g.c, c.m * c.n * sizeof(float)));
    }
  }
}

// Products of a few rows whose B streams (gemm_skinny: axpy_rows for B row-major, dot_rows for B
// transposed with A's rows contiguous) and their neighbours on the blocked path (9 rows and more
// with B's rows close, 17 rows, A transposed with B transposed). Tiny blocks make every B here
// count as streaming; k around the kernel's 4-row step, n around the vector width and the 16-column
// split.
TEST_P(GemmIsaTest, SkinnyProductsMatchOracle) {
  const TuningProfile tiny = tiny_profile(mr(), nr());
  const Context ctx = make_test_context(GetParam(), 1, &tiny);
  const uint64_t seed = test_seed();
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937_64 rng(seed);
  const int64_t ns[] = {1, 7, 15, 16, 17, 50, 333};
  const int64_t ks[] = {1, 3, 4, 5, 8, 37, 129};
  const float alphas[] = {1.0f, -0.75f}, betas[] = {0.0f, 1.0f, 0.5f};
  std::uniform_int_distribution<int> pick(0, 6);
  for (int64_t m = 1; m <= 9; ++m) {
    for (int trial = 0; trial < 16; ++trial) {
      Shape s{m,
              ns[pick(rng)],
              ks[pick(rng)],
              (trial & 4) != 0,
              (trial & 1) != 0,
              alphas[trial % 2],
              betas[trial % 3],
              (trial & 8) != 0 ? 3 : 0};
      check_gemm(ctx, s, rng);
    }
  }
  // 9-48 rows take it where B's rows are a page apart (1024 floats and more), in groups of rows.
  for (int64_t m : {9, 12, 13, 16, 17, 30, 48, 49}) {
    for (int64_t k : {5, 37}) {
      check_gemm(ctx, Shape{m, 1030, k, false, false, 1.0f, 0.0f, 0}, rng);
      check_gemm(ctx, Shape{m, 1000, k, m % 2 == 1, false, -0.75f, 0.5f, 40}, rng);
    }
  }
  // With the default blocks: a decoding step's projection, B past L2 on every CPU we target.
  const Context plain = make_test_context(GetParam(), 1);
  for (bool tb : {false, true}) {
    for (int64_t m : {1, 3, 5, 8}) {
      check_gemm(plain, Shape{m, 2500, 1100, false, tb, 1.0f, 0.5f, 5}, rng);
    }
  }
  // B transposed with 5-8 rows: k in blocks (512 at 8 rows), the last one short.
  for (int64_t m : {5, 6, 8}) {
    for (int64_t k : {513, 1037}) {
      check_gemm(ctx, Shape{m, 50, k, false, true, -0.75f, 0.0f, 3}, rng);
    }
  }
}

// Threads split skinny products by columns, on 16-column boundaries: bit-identical results.
TEST_P(GemmIsaTest, SkinnyResultsDoNotDependOnThreadCount) {
  const TuningProfile tiny = tiny_profile(mr(), nr());
  std::mt19937_64 rng(test_seed() + 11);
  const Context one = make_test_context(GetParam(), 1, &tiny);
  for (int64_t m : {1, 3, 4, 8, 12, 40}) {
    for (bool tb : {false, true}) {
      const int64_t n = m >= 12 ? 1100 : 1001, k = 301;  // 12, 40 rows: B's rows a page apart
      const auto a = random_floats(rng, m * k), b = random_floats(rng, k * n);
      GemmArgs g;
      g.trans_b = tb ? Transpose::kYes : Transpose::kNo;
      g.m = m, g.n = n, g.k = k, g.a = a.data(), g.lda = k, g.b = b.data(), g.ldb = tb ? k : n;
      g.ldc = n;
      std::vector<float> want(m * n);
      g.c = want.data();
      ASSERT_TRUE(sgemm(one, g).is_ok());
      for (int threads : {2, 3, 5}) {
        SCOPED_TRACE(::testing::Message() << "m=" << m << " tb=" << tb << " threads=" << threads);
        const Context ctx = make_test_context(GetParam(), threads, &tiny);
        std::vector<float> got(m * n, std::numeric_limits<float>::quiet_NaN());
        g.c = got.data();
        ASSERT_TRUE(sgemm(ctx, g).is_ok());
        EXPECT_EQ(0, std::memcmp(want.data(), got.data(), want.size() * sizeof(float)));
      }
    }
  }
}

TEST_P(GemmIsaTest, NanAndInfPropagateLikeBlas) {
  Context ctx = make_test_context(GetParam(), 1);
  const int64_t m = 20, n = 40, k = 9;
  std::vector<float> a(m * k, 1.0f), b(k * n, 1.0f), c(m * n, 0.0f);
  a[3 * k + 2] = std::numeric_limits<float>::quiet_NaN();  // row 3 of C becomes NaN
  b[4 * n + 7] = std::numeric_limits<float>::infinity();   // column 7 becomes +inf (elsewhere)
  GemmArgs g;
  g.m = m, g.n = n, g.k = k, g.a = a.data(), g.lda = k, g.b = b.data(), g.ldb = n;
  g.c = c.data(), g.ldc = n;
  ASSERT_TRUE(sgemm(ctx, g).is_ok());
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      const float x = c[i * n + j];
      if (i == 3) {
        EXPECT_TRUE(std::isnan(x)) << i << "," << j;
      } else if (j == 7) {
        EXPECT_EQ(x, std::numeric_limits<float>::infinity()) << i << "," << j;
      } else {
        EXPECT_EQ(x, 9.0f) << i << "," << j;
      }
    }
  }
  // alpha == 0: A and B are not read (BLAS quick return), C = beta * C.
  std::fill(c.begin(), c.end(), 2.0f);
  g.alpha = 0.0f;
  g.beta = 0.5f;
  ASSERT_TRUE(sgemm(ctx, g).is_ok());
  for (float x : c) ASSERT_EQ(x, 1.0f);
}

TEST_P(GemmIsaTest, StridedBatchWithSharedOperand) {
  Context ctx = make_test_context(GetParam(), 2);
  std::mt19937_64 rng(test_seed() + 6);
  const int64_t m = 33, n = 45, k = 64, count = 5;
  const auto a = random_floats(rng, m * k);  // shared: stride_a = 0
  const auto b = random_floats(rng, count * k * n);
  std::vector<float> c(count * m * n);
  GemmArgs g;
  g.m = m, g.n = n, g.k = k, g.a = a.data(), g.lda = k, g.b = b.data(), g.ldb = n;
  g.c = c.data(), g.ldc = n;
  ASSERT_TRUE(sgemm_batched(ctx, g, StridedBatch{count, 0, k * n, m * n}).is_ok());
  for (int64_t i = 0; i < count; ++i) {
    const auto ref = ref::gemm(false, false, m, n, k, 1.0f, a.data(), k, b.data() + i * k * n, n,
                               0.0f, nullptr, n);
    for (int64_t e = 0; e < m * n; ++e) {
      ASSERT_NEAR(c[i * m * n + e], ref.c[e], (k + 2) * FLT_EPSILON * ref.magnitude[e]);
    }
  }
}

TEST_P(GemmIsaTest, OutputEndingAtGuardPage) {
  Context ctx = make_test_context(GetParam(), 2);
  std::mt19937_64 rng(test_seed() + 7);
  for (int64_t m : {1, 13, 37}) {
    for (int64_t n : {1, 17, 33, 50}) {
      const int64_t k = 19;
      const auto a = random_floats(rng, m * k), b = random_floats(rng, k * n);
      GuardedBuffer c(static_cast<size_t>(m * n));
      GemmArgs g;
      g.m = m, g.n = n, g.k = k, g.a = a.data(), g.lda = k, g.b = b.data(), g.ldb = n;
      g.c = c.data(), g.ldc = n;
      ASSERT_TRUE(sgemm(ctx, g).is_ok());
      const auto ref =
          ref::gemm(false, false, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, nullptr, n);
      for (int64_t e = 0; e < m * n; ++e) {
        ASSERT_NEAR(c.data()[e], ref.c[e], (k + 2) * FLT_EPSILON * ref.magnitude[e]);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, GemmIsaTest, ::testing::ValuesIn(testable_isas()),
                         isa_param_name);

}  // namespace
}  // namespace cpuattn::test
