// Bad input at every public entry point: each row is an argument set, the expected status and a
// word the message must contain. After every rejected call the outputs still hold their sentinel.
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>

#include "cpuattn/cpuattn.h"
#include "test_util.hpp"

namespace cpuattn::test {
namespace {

constexpr float kSentinel = 42.5f;
constexpr int64_t kHuge = int64_t{1} << 62;

struct Buffers {
  std::vector<float> in = std::vector<float>(4096, 0.5f);
  std::vector<float> in2 = std::vector<float>(4096, 0.25f);
  std::vector<float> in3 = std::vector<float>(4096, 0.125f);
  std::vector<float> out = std::vector<float>(4096, kSentinel);
  std::vector<float> out2 = std::vector<float>(4096, kSentinel);
  bool untouched() const {
    for (float x : out)
      if (x != kSentinel) return false;
    for (float x : out2)
      if (x != kSentinel) return false;
    return true;
  }
};

struct Row {
  const char* name;
  std::function<Status(const Context&, Buffers&)> call;
  StatusCode code;
  const char* word;
};

using TV = TensorView<const float>;
using MV = TensorView<float>;

GemmArgs gemm_ok(Buffers& b) {
  GemmArgs g;
  g.m = 8, g.n = 8, g.k = 8, g.a = b.in.data(), g.lda = 8, g.b = b.in2.data(), g.ldb = 8;
  g.c = b.out.data(), g.ldc = 8;
  return g;
}

Status attn(const Context& ctx, Buffers& b,
            std::function<void(TV&, TV&, TV&, MV&, AttentionOptions&)> edit) {
  TV q(b.in.data(), {2, 8, 4, 16}), k(b.in2.data(), {2, 8, 2, 16}), v(b.in3.data(), {2, 8, 2, 16});
  MV out(b.out.data(), {2, 8, 4, 16});
  AttentionOptions o;
  edit(q, k, v, out, o);
  return attention(ctx, q, k, v, out, o);
}

Status smax(const Context& ctx, Buffers& b, std::function<void(TV&, MV&, SoftmaxOptions&)> edit) {
  TV src(b.in.data(), {2, 3, 4, 16});
  MV dst(b.out.data(), {2, 3, 4, 16});
  SoftmaxOptions o;
  edit(src, dst, o);
  return softmax(ctx, src, dst, o);
}

std::vector<Row> rows() {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  static int32_t too_long[2] = {3, 99}, negative[2] = {-1, 2};
  std::vector<Row> r = {
      // sgemm
      {"gemm null a",
       [](auto& c, auto& b) {
         auto g = gemm_ok(b);
         g.a = nullptr;
         return sgemm(c, g);
       },
       StatusCode::kInvalidArgument, "a"},
      {"gemm null b",
       [](auto& c, auto& b) {
         auto g = gemm_ok(b);
         g.b = nullptr;
         return sgemm(c, g);
       },
       StatusCode::kInvalidArgument, "b"},
      {"gemm null c",
       [](auto& c, auto& b) {
         auto g = gemm_ok(b);
         g.c = nullptr;
         return sgemm(c, g);
       },
       StatusCode::kInvalidArgument, "c"},
      {"gemm m = 0",
       [](auto& c, auto& b) {
         auto g = gemm_ok(b);
         g.m = 0;
         return sgemm(c, g);
       },
       StatusCode::kInvalidArgument, "m, n, k"},
      {"gemm n < 0",
       [](auto& c, auto& b) {
         auto g = gemm_ok(b);
         g.n = -3;
         return sgemm(c, g);
       },
       StatusCode::kInvalidArgument, "n=-3"},
      {"gemm k = 0",
       [](auto& c, auto& b) {
         auto g = gemm_ok(b);
         g.k = 0;
         return sgemm(c, g);
       },
       StatusCode::kInvalidArgument, "k=0"},
      {"gemm lda < k",
       [](auto& c, auto& b) {
         auto g = gemm_ok(b);
         g.lda = 7;
         return sgemm(c, g);
       },
       StatusCode::kInvalidArgument, "lda"},
      {"gemm lda < m transposed",
       [](auto& c, auto& b) {
         auto g = gemm_ok(b);
         g.m = 9;
         g.trans_a = Transpose::kYes;
         return sgemm(c, g);
       },
       StatusCode::kInvalidArgument, "lda"},
      {"gemm ldb < n",
       [](auto& c, auto& b) {
         auto g = gemm_ok(b);
         g.ldb = 4;
         return sgemm(c, g);
       },
       StatusCode::kInvalidArgument, "ldb"},
      {"gemm ldc < n",
       [](auto& c, auto& b) {
         auto g = gemm_ok(b);
         g.ldc = 2;
         return sgemm(c, g);
       },
       StatusCode::kInvalidArgument, "ldc"},
      {"gemm bad transpose",
       [](auto& c, auto& b) {
         auto g = gemm_ok(b);
         g.trans_a = static_cast<Transpose>(7);
         return sgemm(c, g);
       },
       StatusCode::kInvalidArgument, "trans"},
      {"gemm size overflow",
       [](auto& c, auto& b) {
         auto g = gemm_ok(b);
         g.m = kHuge;
         g.lda = kHuge;
         return sgemm(c, g);
       },
       StatusCode::kInvalidArgument, "overflow"},
      {"gemm c overlaps a",
       [](auto& c, auto& b) {
         auto g = gemm_ok(b);
         g.c = b.in.data() + 10;
         return sgemm(c, g);
       },
       StatusCode::kInvalidArgument, "overlaps a"},
      {"gemm c overlaps b",
       [](auto& c, auto& b) {
         auto g = gemm_ok(b);
         g.c = b.in2.data();
         return sgemm(c, g);
       },
       StatusCode::kInvalidArgument, "overlaps b"},
      {"gemm batch count 0",
       [](auto& c, auto& b) {
         return sgemm_batched(c, gemm_ok(b), {0, 64, 64, 64});
       },
       StatusCode::kInvalidArgument, "count"},
      {"gemm batch c overlap",
       [](auto& c, auto& b) {
         return sgemm_batched(c, gemm_ok(b), {3, 64, 64, 10});
       },
       StatusCode::kInvalidArgument, "stride_c"},
      {"gemm batch negative stride",
       [](auto& c, auto& b) {
         return sgemm_batched(c, gemm_ok(b), {3, -64, 64, 64});
       },
       StatusCode::kInvalidArgument, "stride"},
      {"gemm batch extent overflow",
       [](auto& c, auto& b) {
         return sgemm_batched(c, gemm_ok(b), {3, kHuge, 64, 64});
       },
       StatusCode::kInvalidArgument, "overflow"},
      // softmax
      {"softmax 5 dims",
       [](auto& c, auto& b) {
         return smax(c, b, [](TV& s, MV& d, auto&) {
           s.ndim = 5;
           d.ndim = 5;
         });
       },
       StatusCode::kInvalidArgument, "dims"},
      {"softmax 0 dims",
       [](auto& c, auto& b) { return smax(c, b, [](TV& s, MV&, auto&) { s.ndim = 0; }); },
       StatusCode::kInvalidArgument, "src"},
      {"softmax ndim mismatch",
       [](auto& c, auto& b) { return smax(c, b, [](TV&, MV& d, auto&) { d.ndim = 3; }); },
       StatusCode::kInvalidArgument, "dst"},
      {"softmax dims mismatch",
       [](auto& c, auto& b) { return smax(c, b, [](TV&, MV& d, auto&) { d.dims[3] = 15; }); },
       StatusCode::kInvalidArgument, "dst.dims[3]"},
      {"softmax null src",
       [](auto& c, auto& b) { return smax(c, b, [](TV& s, MV&, auto&) { s.data = nullptr; }); },
       StatusCode::kInvalidArgument, "src"},
      {"softmax null dst",
       [](auto& c, auto& b) { return smax(c, b, [](TV&, MV& d, auto&) { d.data = nullptr; }); },
       StatusCode::kInvalidArgument, "dst"},
      {"softmax zero dim",
       [](auto& c, auto& b) {
         return smax(c, b, [](TV& s, MV& d, auto&) {
           s.dims[1] = 0;
           d.dims[1] = 0;
         });
       },
       StatusCode::kInvalidArgument, ">= 1"},
      {"softmax negative stride",
       [](auto& c, auto& b) { return smax(c, b, [](TV& s, MV&, auto&) { s.strides[2] = -16; }); },
       StatusCode::kInvalidArgument, ">= 0"},
      {"softmax dst overlaps itself",
       [](auto& c, auto& b) { return smax(c, b, [](TV&, MV& d, auto&) { d.strides[1] = 0; }); },
       StatusCode::kInvalidArgument, "overlap"},
      {"softmax dst overlaps src",
       [&](auto& c, auto& b) {
         return smax(c, b, [&](TV& s, MV& d, auto&) { d.data = const_cast<float*>(s.data) + 3; });
       },
       StatusCode::kInvalidArgument, "overlaps src"},
      {"softmax nan scale",
       [nan](auto& c, auto& b) { return smax(c, b, [nan](TV&, MV&, auto& o) { o.scale = nan; }); },
       StatusCode::kInvalidArgument, "scale"},
      {"softmax inf scale",
       [](auto& c, auto& b) { return smax(c, b, [](TV&, MV&, auto& o) { o.scale = INFINITY; }); },
       StatusCode::kInvalidArgument, "scale"},
      {"softmax bad mask",
       [](auto& c, auto& b) {
         return smax(c, b, [](TV&, MV&, auto& o) { o.mask = static_cast<MaskKind>(9); });
       },
       StatusCode::kInvalidArgument, "mask"},
      {"softmax key length too long",
       [](auto& c, auto& b) {
         return smax(c, b, [](TV&, MV&, auto& o) { o.key_lengths = too_long; });
       },
       StatusCode::kInvalidArgument, "key_lengths[1]"},
      {"softmax key length negative",
       [](auto& c, auto& b) {
         return smax(c, b, [](TV&, MV&, auto& o) { o.key_lengths = negative; });
       },
       StatusCode::kInvalidArgument, "key_lengths[0]"},
      {"softmax bias shape",
       [](auto& c, auto& b) {
         return smax(c, b, [&b](TV&, MV&, auto& o) { o.bias = TV(b.in2.data(), {2, 3, 5, 16}); });
       },
       StatusCode::kInvalidArgument, "bias"},
      {"softmax bias overlaps dst",
       [](auto& c, auto& b) {
         return smax(c, b, [&b](TV&, MV&, auto& o) { o.bias = TV(b.out.data(), {1, 1, 4, 16}); });
       },
       StatusCode::kInvalidArgument, "overlaps bias"},
      {"softmax dims overflow",
       [](auto& c, auto& b) {
         return smax(c, b, [](TV& s, MV& d, auto&) {
           s.dims[0] = d.dims[0] = kHuge;
           s.strides[0] = d.strides[0] = kHuge;
         });
       },
       StatusCode::kInvalidArgument, "overflow"},
      // attention
      {"attention q 3 dims",
       [](auto& c, auto& b) { return attn(c, b, [](TV& q, TV&, TV&, MV&, auto&) { q.ndim = 3; }); },
       StatusCode::kInvalidArgument, "q"},
      {"attention null k",
       [](auto& c, auto& b) {
         return attn(c, b, [](TV&, TV& k, TV&, MV&, auto&) { k.data = nullptr; });
       },
       StatusCode::kInvalidArgument, "k"},
      {"attention batch mismatch",
       [](auto& c, auto& b) {
         return attn(c, b, [](TV&, TV& k, TV&, MV&, auto&) { k.dims[0] = 1; });
       },
       StatusCode::kInvalidArgument, "k.dims[0]"},
      {"attention head_dim mismatch",
       [](auto& c, auto& b) {
         return attn(c, b, [](TV&, TV& k, TV&, MV&, auto&) { k.dims[3] = 8; });
       },
       StatusCode::kInvalidArgument, "k.dims[3]"},
      {"attention v seq mismatch",
       [](auto& c, auto& b) {
         return attn(c, b, [](TV&, TV&, TV& v, MV&, auto&) { v.dims[1] = 7; });
       },
       StatusCode::kInvalidArgument, "v.dims[1]"},
      {"attention v heads mismatch",
       [](auto& c, auto& b) {
         return attn(c, b, [](TV&, TV&, TV& v, MV&, auto&) { v.dims[2] = 1; });
       },
       StatusCode::kInvalidArgument, "v.dims[2]"},
      {"attention heads not divisible",
       [](auto& c, auto& b) {
         return attn(c, b, [](TV&, TV& k, TV& v, MV&, auto&) { k.dims[2] = v.dims[2] = 3; });
       },
       StatusCode::kInvalidArgument, "divide"},
      {"attention out dims",
       [](auto& c, auto& b) {
         return attn(c, b, [](TV&, TV&, TV&, MV& o, auto&) { o.dims[3] = 8; });
       },
       StatusCode::kInvalidArgument, "out.dims[3]"},
      {"attention head_dim too large",
       [](auto& c, auto& b) {
         return attn(c, b, [](TV& q, TV& k, TV&, MV&, auto&) {
           q.dims[3] = k.dims[3] = 5000;
           q.strides[3] = k.strides[3] = 0;
         });
       },
       StatusCode::kInvalidArgument, "head_dim"},
      {"attention out overlaps q",
       [](auto& c, auto& b) {
         return attn(c, b,
                     [](TV& q, TV&, TV&, MV& o, auto&) { o.data = const_cast<float*>(q.data); });
       },
       StatusCode::kInvalidArgument, "overlaps q"},
      {"attention out overlaps itself",
       [](auto& c, auto& b) {
         return attn(c, b, [](TV&, TV&, TV&, MV& o, auto&) { o.strides[2] = 1; });
       },
       StatusCode::kInvalidArgument, "overlap"},
      {"attention nan scale",
       [nan](auto& c, auto& b) {
         return attn(c, b, [nan](TV&, TV&, TV&, MV&, auto& o) { o.scale = nan; });
       },
       StatusCode::kInvalidArgument, "scale"},
      {"attention bad mask",
       [](auto& c, auto& b) {
         return attn(c, b, [](TV&, TV&, TV&, MV&, auto& o) { o.mask = static_cast<MaskKind>(-1); });
       },
       StatusCode::kInvalidArgument, "mask"},
      {"attention bad algorithm",
       [](auto& c, auto& b) {
         return attn(c, b, [](TV&, TV&, TV&, MV&, auto& o) {
           o.algorithm = static_cast<AttentionAlgorithm>(5);
         });
       },
       StatusCode::kInvalidArgument, "algorithm"},
      {"attention q length too long",
       [](auto& c, auto& b) {
         return attn(c, b, [](TV&, TV&, TV&, MV&, auto& o) { o.q_lengths = too_long; });
       },
       StatusCode::kInvalidArgument, "q_lengths[1]"},
      {"attention kv length negative",
       [](auto& c, auto& b) {
         return attn(c, b, [](TV&, TV&, TV&, MV&, auto& o) { o.kv_lengths = negative; });
       },
       StatusCode::kInvalidArgument, "kv_lengths[0]"},
      {"attention bias shape",
       [](auto& c, auto& b) {
         return attn(c, b, [&b](TV&, TV&, TV&, MV&, auto& o) {
           o.bias = TV(b.in3.data(), {2, 3, 8, 8});
         });
       },
       StatusCode::kInvalidArgument, "bias"},
      {"attention weights dims",
       [](auto& c, auto& b) {
         return attn(c, b, [&b](TV&, TV&, TV&, MV&, auto& o) {
           o.weights = MV(b.out2.data(), {2, 4, 8, 9});
         });
       },
       StatusCode::kInvalidArgument, "weights.dims[3]"},
      {"attention fused with weights",
       [](auto& c, auto& b) {
         return attn(c, b, [&b](TV&, TV&, TV&, MV&, auto& o) {
           o.weights = MV(b.out2.data(), {2, 4, 8, 8});
           o.algorithm = AttentionAlgorithm::kFused;
         });
       },
       StatusCode::kInvalidArgument, "kFused"},
      {"attention weights overlap out",
       [](auto& c, auto& b) {
         return attn(c, b, [&b](TV&, TV&, TV&, MV&, auto& o) {
           o.weights = MV(b.out.data() + 100, {2, 4, 8, 8});
         });
       },
       StatusCode::kInvalidArgument, "overlaps out"},
      {"attention scores overlap weights",
       [](auto& c, auto& b) {
         return attn(c, b, [&b](TV&, TV&, TV&, MV&, auto& o) {
           o.weights = MV(b.out2.data(), {2, 4, 8, 8});
           o.scores = MV(b.out2.data() + 8, {2, 4, 8, 8});
         });
       },
       StatusCode::kInvalidArgument, "overlaps weights"},
      {"attention dims overflow",
       [](auto& c, auto& b) {
         return attn(c, b, [](TV& q, TV&, TV&, MV&, auto&) {
           q.dims[1] = kHuge;
           q.strides[1] = 64;
         });
       },
       StatusCode::kInvalidArgument, "overflow"},
  };
  return r;
}

class ApiErrorsTest : public ::testing::TestWithParam<Row> {};

TEST_P(ApiErrorsTest, RejectedWithMessageAndNothingWritten) {
  Context ctx = make_test_context(best_isa_here(), 2);
  Buffers b;
  const Status s = GetParam().call(ctx, b);
  EXPECT_EQ(s.code(), GetParam().code) << s.message();
  EXPECT_NE(s.message().find(GetParam().word), std::string::npos)
      << "message '" << s.message() << "' lacks '" << GetParam().word << "'";
  EXPECT_TRUE(b.untouched());
}

std::string row_name(const ::testing::TestParamInfo<Row>& p) {
  std::string n = p.param.name;
  for (char& ch : n) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return n;
}

INSTANTIATE_TEST_SUITE_P(Table, ApiErrorsTest, ::testing::ValuesIn(rows()), row_name);

TEST(ApiErrors, TableCoversManyDistinctBadInputs) {
  EXPECT_GE(rows().size(), 50u);
}

TEST(ApiErrors, MultiHeadLayerRejectsBadConfigAndInputs) {
  Context ctx = make_test_context(best_isa_here(), 1);
  std::vector<float> w(64 * 64 * 3, 0.01f), wo(64 * 64, 0.01f);
  MultiHeadAttention layer;
  MhaWeights weights;
  weights.in_proj_weight = w.data();
  weights.out_proj_weight = wo.data();
  struct ConfigRow {
    MhaConfig cfg;
    const char* word;
  };
  for (const ConfigRow& r :
       {ConfigRow{{0, 4, 0, 0, 0}, "embed_dim"}, ConfigRow{{64, 5, 0, 0, 0}, "num_heads"},
        ConfigRow{{64, 4, 3, 0, 0}, "kv_heads"}, ConfigRow{{64, 4, 0, 32, 0}, "in_proj_weight"},
        ConfigRow{{64, -4, 0, 0, 0}, "num_heads"}}) {
    const Status s = MultiHeadAttention::create(ctx, r.cfg, weights, &layer);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find(r.word), std::string::npos) << s.message();
  }
  MhaWeights none;
  EXPECT_EQ(MultiHeadAttention::create(ctx, {64, 4, 0, 0, 0}, none, &layer).code(),
            StatusCode::kInvalidArgument);
  MhaWeights both = weights;
  both.q_proj_weight = w.data();
  EXPECT_EQ(MultiHeadAttention::create(ctx, {64, 4, 0, 0, 0}, both, &layer).code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(MultiHeadAttention::create(ctx, {64, 4, 0, 0, 0}, weights, &layer).is_ok());
  std::vector<float> x(2 * 8 * 64, 0.5f), y(2 * 8 * 64, kSentinel);
  const TV xv(x.data(), {2, 8, 64});
  EXPECT_EQ(layer.forward(ctx, xv, xv, xv, MV(y.data(), {2, 8, 32})).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(layer.forward(ctx, xv, xv, TV(x.data(), {2, 7, 64}), MV(y.data(), {2, 8, 64})).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(layer.forward(ctx, xv, xv, xv, MV(x.data(), {2, 8, 64})).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(layer.forward(ctx, xv, xv, xv, MV(y.data(), {2, 8, 64}, {512, 1, 8})).code(),
            StatusCode::kInvalidArgument);
  MultiHeadAttention empty;
  EXPECT_EQ(empty.forward(ctx, xv, xv, xv, MV(y.data(), {2, 8, 64})).code(),
            StatusCode::kInvalidArgument);
  for (float v : y) ASSERT_EQ(v, kSentinel);
}

TEST(ApiErrors, ScratchLimitAndAllocationFailureReturnOutOfMemory) {
  ContextOptions o;
  o.threads = 1;
  o.scratch_limit_bytes = 1024;  // far below what a 300 x 300 composed attention needs
  Context small;
  ASSERT_TRUE(Context::create(o, &small).is_ok());
  std::vector<float> q(300 * 64, 0.1f), out(300 * 64, kSentinel), w(300 * 300, kSentinel);
  AttentionOptions ao;
  ao.weights = MV(w.data(), {1, 1, 300, 300});
  const Status s = attention(small, TV(q.data(), {1, 300, 1, 64}), TV(q.data(), {1, 300, 1, 64}),
                             TV(q.data(), {1, 300, 1, 64}), MV(out.data(), {1, 300, 1, 64}), ao);
  EXPECT_EQ(s.code(), StatusCode::kOutOfMemory) << s.message();
  EXPECT_NE(s.message().find("scratch_limit_bytes"), std::string::npos) << s.message();
  for (float v : out) ASSERT_EQ(v, kSentinel);
  // A limit the machine cannot back: the allocation itself fails and is reported, not thrown.
  o.scratch_limit_bytes = std::numeric_limits<std::size_t>::max();
  Context huge;
  ASSERT_TRUE(Context::create(o, &huge).is_ok());
  // Composed attention over 2^40 keys (inputs broadcast by stride 0) needs terabytes of scores.
  const int64_t Lk = int64_t{1} << 40;
  std::vector<float> one(64, 0.1f), small_out(64, kSentinel);
  AttentionOptions composed;
  composed.algorithm = AttentionAlgorithm::kComposed;
  const TV broadcast(one.data(), {1, Lk, 1, 64}, {0, 0, 0, 1});
  const Status s2 = attention(huge, TV(one.data(), {1, 1, 1, 64}), broadcast, broadcast,
                              MV(small_out.data(), {1, 1, 1, 64}), composed);
  EXPECT_EQ(s2.code(), StatusCode::kOutOfMemory) << s2.message();
  for (float v : small_out) ASSERT_EQ(v, kSentinel);
}

// The C API: every failure is a status and a thread-local message, never an exception or crash.
TEST(ApiErrors, CApiRejectsNullsDestroyedHandlesAndBadEnums) {
  cpuattn_context_t ctx = nullptr;
  EXPECT_EQ(cpuattn_context_create(nullptr, nullptr), CPUATTN_STATUS_INVALID_ARGUMENT);
  cpuattn_context_options o;
  cpuattn_context_options_init(&o);
  o.isa = 17;
  EXPECT_EQ(cpuattn_context_create(&o, &ctx), CPUATTN_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(cpuattn_last_error_message()).find("isa"), std::string::npos);
  o.isa = CPUATTN_ISA_AUTO;
  o.threads = -2;
  EXPECT_EQ(cpuattn_context_create(&o, &ctx), CPUATTN_STATUS_INVALID_ARGUMENT);
  o.threads = 0;
  o.spin_wait_us = 2000000;
  EXPECT_EQ(cpuattn_context_create(&o, &ctx), CPUATTN_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(cpuattn_last_error_message()).find("spin_wait_us"), std::string::npos);
  ASSERT_EQ(cpuattn_context_create(nullptr, &ctx), CPUATTN_STATUS_OK);
  float a[16] = {}, c[16] = {};
  EXPECT_EQ(cpuattn_sgemm(ctx, CPUATTN_TRANSPOSE_NO, static_cast<cpuattn_transpose_t>(3), 4, 4, 4,
                          1, a, 4, a, 4, 0, c, 4),
            CPUATTN_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(cpuattn_softmax(ctx, nullptr, a, nullptr, c, nullptr), CPUATTN_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(cpuattn_last_error_message()).find("src_desc"), std::string::npos);
  cpuattn_tensor_desc d{2, {4, 4}, {4, 1}};
  EXPECT_EQ(cpuattn_softmax(ctx, &d, a, &d, c, nullptr), CPUATTN_STATUS_OK);
  EXPECT_STREQ(cpuattn_last_error_message(), "");
  cpuattn_context_destroy(ctx);
  EXPECT_EQ(cpuattn_softmax(ctx, &d, a, &d, c, nullptr), CPUATTN_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(cpuattn_last_error_message()).find("not a live context"),
            std::string::npos);
  EXPECT_EQ(cpuattn_context_isa(ctx), CPUATTN_ISA_AUTO);
  cpuattn_context_destroy(ctx);  // double destroy is detected and ignored
  cpuattn_mha_destroy(nullptr);
  EXPECT_STREQ(cpuattn_isa_name(static_cast<cpuattn_isa_t>(99)), "unknown");
}

// An exception inside the library (here std::bad_alloc from copying a 2^20 x 2^20 weight, thrown
// before any weight is read) comes out of the C API as a status, never as an exception.
#if defined(__SANITIZE_ADDRESS__)
#define CPUATTN_TEST_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CPUATTN_TEST_UNDER_ASAN 1
#endif
#endif

TEST(ApiErrors, CApiTurnsInternalExceptionsIntoStatuses) {
#ifdef CPUATTN_TEST_UNDER_ASAN
  GTEST_SKIP() << "ASan's operator new aborts on out-of-memory instead of throwing std::bad_alloc";
#endif
  cpuattn_context_t ctx = nullptr;
  ASSERT_EQ(cpuattn_context_create(nullptr, &ctx), CPUATTN_STATUS_OK);
  const int64_t width = int64_t{1} << 20;
  float weight = 0.0f;
  cpuattn_mha_config cfg{width, 1, 0, 0, 0};
  cpuattn_mha_weights w{};
  w.q_proj_weight = w.k_proj_weight = w.v_proj_weight = w.out_proj_weight = &weight;
  cpuattn_mha_t mha = nullptr;
  EXPECT_EQ(cpuattn_mha_create(ctx, &cfg, &w, &mha), CPUATTN_STATUS_OUT_OF_MEMORY);
  EXPECT_EQ(mha, nullptr);
  EXPECT_NE(std::string(cpuattn_last_error_message()).find("weights"), std::string::npos)
      << cpuattn_last_error_message();
  cpuattn_context_destroy(ctx);
}

}  // namespace
}  // namespace cpuattn::test
