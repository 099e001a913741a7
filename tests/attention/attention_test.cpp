// Fused and composed attention against the double oracle on every ISA: every kind (bidirectional,
// causal with Lq <, =, > Lk, cross), padded batches, bias, GQA ratios, head dims, BSHD and BHSD,
// weights and scores outputs, fully masked rows, tiny blocks, thread-count independence.
#include <cstring>
#include <sstream>

#include "attention_case.hpp"

namespace cpuattn::test {
namespace {

class AttentionIsaTest : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (!cpu_supports(GetParam())) GTEST_SKIP() << "CPU lacks " << isa_name(GetParam());
  }
  static std::string describe(const AttnShape& s) {
    std::ostringstream o;
    o << "B=" << s.batch << " Lq=" << s.seq_q << " Lk=" << s.seq_kv << " Hq=" << s.heads_q
      << " Hkv=" << s.heads_kv << " D=" << s.head_dim << " Dv=" << s.head_dim_v
      << " bhsd=" << s.bhsd << " causal=" << s.causal << " qlen=" << s.q_lengths
      << " kvlen=" << s.kv_lengths << " bias=" << s.bias
      << " algo=" << static_cast<int>(s.algorithm);
    return o.str();
  }
};

TEST_P(AttentionIsaTest, RandomShapesEveryKind) {
  const uint64_t seed = test_seed();
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937_64 rng(seed);
  Context ctx = make_test_context(GetParam(), 2);
  std::uniform_int_distribution<int64_t> len(1, 150);
  const int64_t dims[] = {1, 8, 63, 64, 80, 128, 256};
  const int64_t ratios[] = {1, 2, 4, 8};
  for (int trial = 0; trial < 28; ++trial) {
    AttnShape s;
    s.batch = 1 + trial % 2;
    s.heads_kv = 1 + trial % 2;
    s.heads_q = s.heads_kv * ratios[trial % 4];
    s.seq_q = len(rng);
    s.seq_kv = trial % 3 == 0 ? s.seq_q : len(rng);
    s.head_dim = dims[trial % 7];
    s.head_dim_v = trial % 5 == 0 ? dims[(trial + 3) % 7] : s.head_dim;
    s.bhsd = trial & 1;
    s.causal = trial & 2;
    s.q_lengths = trial % 6 == 1;
    s.kv_lengths = trial % 4 == 3;
    s.bias = trial % 5 == 2;
    s.algorithm = trial % 7 == 4 ? AttentionAlgorithm::kComposed : AttentionAlgorithm::kAuto;
    SCOPED_TRACE(describe(s));
    check_attention_output(s, run_attention_case(ctx, s, rng));
  }
}

TEST_P(AttentionIsaTest, CausalAlignsBottomRight) {
  std::mt19937_64 rng(test_seed() + 1);
  Context ctx = make_test_context(GetParam(), 2);
  for (auto [lq, lk] : {std::pair{37, 37}, {20, 130}, {130, 20}, {1, 300}, {200, 200}}) {
    AttnShape s;
    s.seq_q = lq, s.seq_kv = lk, s.heads_q = 2, s.heads_kv = 2, s.head_dim = s.head_dim_v = 64;
    s.causal = true;
    SCOPED_TRACE(describe(s));
    const AttnRun r = run_attention_case(ctx, s, rng);
    check_attention_output(s, r);
    // Lq > Lk: the first Lq - Lk queries see no key and give zeros.
    for (int64_t i = 0; i < std::max<int64_t>(0, lq - lk); ++i) {
      for (int64_t d = 0; d < 64; ++d) ASSERT_EQ(out_at(r, 0, i, 0, d), 0.0f) << i;
    }
  }
}

TEST_P(AttentionIsaTest, PaddedBatchesGiveZeroRows) {
  std::mt19937_64 rng(test_seed() + 2);
  Context ctx = make_test_context(GetParam(), 2);
  AttnShape s;
  s.batch = 4, s.seq_q = 70, s.seq_kv = 90, s.heads_q = 4, s.heads_kv = 2, s.head_dim = 32,
  s.head_dim_v = 32, s.q_lengths = true, s.kv_lengths = true;
  for (bool causal : {false, true}) {
    s.causal = causal;
    SCOPED_TRACE(describe(s));
    const AttnRun r = run_attention_case(ctx, s, rng);
    check_attention_output(s, r);
    for (float x : r.out) ASSERT_FALSE(std::isnan(x));
  }
}

TEST_P(AttentionIsaTest, WeightsAndScoresOutputs) {
  std::mt19937_64 rng(test_seed() + 3);
  Context ctx = make_test_context(GetParam(), 2);
  AttnShape s;
  s.batch = 2, s.seq_q = 33, s.seq_kv = 47, s.heads_q = 4, s.heads_kv = 2, s.head_dim = 24,
  s.head_dim_v = 16, s.causal = true, s.kv_lengths = true, s.bias = true;
  s.want_weights = s.want_scores = true;
  const AttnRun r = run_attention_case(ctx, s, rng);
  check_attention_output(s, r);
  const double eps = FLT_EPSILON;
  for (size_t e = 0; e < r.weights.size(); ++e) {
    ASSERT_NEAR(r.scores[e], r.ref.scores[e], (s.head_dim + 2) * eps * 8.0 + 1e-6) << e;
    ASSERT_NEAR(r.weights[e], r.ref.weights[e], 1e-5 * (1 + r.ref.weights[e])) << e;
  }
  for (int64_t row = 0; row < s.batch * s.heads_q * s.seq_q; ++row) {
    double sum = 0, want = 0;
    for (int64_t j = 0; j < s.seq_kv; ++j) {
      sum += r.weights[row * s.seq_kv + j];
      want += r.ref.weights[row * s.seq_kv + j];
    }
    ASSERT_NEAR(sum, want, s.seq_kv * eps * 4) << "row " << row;  // 1, or 0 when fully masked
  }
}

TEST_P(AttentionIsaTest, TinyBlocksCrossEveryBlockEdge) {
  const int mr = GetParam() == Isa::kAvx512 ? 12 : 6;
  const int nr = GetParam() == Isa::kAvx512 ? 32 : GetParam() == Isa::kAvx2 ? 16 : 8;
  const TuningProfile tiny = tiny_profile(mr, nr);
  Context ctx = make_test_context(GetParam(), 2, &tiny);
  std::mt19937_64 rng(test_seed() + 4);
  for (bool causal : {false, true}) {
    AttnShape s;
    s.seq_q = 101, s.seq_kv = 77, s.heads_q = 2, s.heads_kv = 1, s.head_dim = 40,
    s.head_dim_v = 40 + nr / 2, s.causal = causal, s.bias = true, s.kv_lengths = true;
    SCOPED_TRACE(describe(s));
    check_attention_output(s, run_attention_case(ctx, s, rng));
  }
}

// Query blocks of at most 8 rows take their scores from score_rows (keys kW at a time, the rest
// one by one) and, with one tile row of queries and whole V strips, read V in place. With one
// query and grouped heads, a task's columns are the heads of one kv group (8 or fewer: score_rows;
// 16: the microkernel).
TEST_P(AttentionIsaTest, FewQueriesDecodeSteps) {
  std::mt19937_64 rng(test_seed() + 6);
  Context ctx = make_test_context(GetParam(), 2);
  const int64_t dims[][2] = {{128, 128}, {64, 64}, {17, 40}, {1, 1}};
  const int64_t ratios[] = {1, 4, 16};
  int trial = 0;
  for (int64_t lq : {1, 3, 8, 9}) {
    for (int64_t lk : {1, 23, 300}) {
      for (const auto& dim : dims) {
        AttnShape s;
        s.batch = 3, s.seq_q = lq, s.seq_kv = lk, s.heads_kv = 2;
        s.heads_q = s.heads_kv * ratios[trial % 3];
        s.head_dim = dim[0], s.head_dim_v = dim[1];
        s.bhsd = trial % 4 == 1;
        s.causal = trial % 4 < 2;
        s.q_lengths = trial % 5 == 0;
        s.kv_lengths = trial % 5 == 2;
        s.bias = trial % 7 < 3;
        ++trial;
        SCOPED_TRACE(describe(s));
        check_attention_output(s, run_attention_case(ctx, s, rng));
      }
    }
  }
}

// One query per head (decoding), K and V in place: grouped and plain heads, batches of 1-3 over
// 4 or 6 kv heads (a task per (batch, kv head) or per head group), keys from 1 to several key
// blocks, with every option; against the oracle and bit-identical for 1 and 2 threads.
TEST_P(AttentionIsaTest, DecodeStepsOneAndTwoThreads) {
  int trial = 0;
  for (int64_t batch : {1, 2, 3}) {
    for (int64_t heads_kv : {4, 6}) {
      for (int64_t ratio : {1, 4}) {
        for (int64_t lk : {1, 37, 700}) {
          AttnShape s;
          s.batch = batch, s.seq_q = 1, s.seq_kv = lk, s.heads_kv = heads_kv;
          s.heads_q = heads_kv * ratio;
          s.head_dim = trial % 2 == 0 ? 128 : 24, s.head_dim_v = trial % 3 == 0 ? 40 : 64;
          s.bhsd = trial % 4 == 3;
          s.causal = trial % 3 == 1;
          s.q_lengths = trial % 5 == 1;
          s.kv_lengths = trial % 5 == 3;
          s.bias = trial % 6 == 2;
          ++trial;
          SCOPED_TRACE(describe(s));
          std::vector<float> outs[2];
          for (int threads : {1, 2}) {
            std::mt19937_64 rng(test_seed() + 7 + trial);  // same data both times
            Context ctx = make_test_context(GetParam(), threads);
            const AttnRun r = run_attention_case(ctx, s, rng);
            check_attention_output(s, r);
            outs[threads - 1] = r.out;
          }
          EXPECT_EQ(0, std::memcmp(outs[0].data(), outs[1].data(), outs[0].size() * sizeof(float)));
        }
      }
    }
  }
}

TEST_P(AttentionIsaTest, OneAndTwoThreadsAreBitIdentical) {
  // 6 (batch, head) units split evenly over 2 threads (a task per unit); 3 do not (groups of
  // units packed together, their query blocks shared between the threads).
  for (int64_t batch : {2, 1}) {
    for (auto algo : {AttentionAlgorithm::kFused, AttentionAlgorithm::kComposed}) {
      std::vector<float> outs[2];
      for (int threads : {1, 2}) {
        std::mt19937_64 rng(test_seed() + 5);  // same data both times
        Context ctx = make_test_context(GetParam(), threads);
        AttnShape s;
        s.batch = batch, s.seq_q = 150, s.seq_kv = 150, s.heads_q = 3, s.heads_kv = 3,
        s.head_dim = 64, s.head_dim_v = 64, s.causal = true, s.algorithm = algo;
        outs[threads - 1] = run_attention_case(ctx, s, rng).out;
      }
      EXPECT_EQ(0, std::memcmp(outs[0].data(), outs[1].data(), outs[0].size() * sizeof(float)))
          << "batch " << batch;
    }
  }
}

TEST_P(AttentionIsaTest, OutputEndingAtGuardPage) {
  Context ctx = make_test_context(GetParam(), 2);
  std::mt19937_64 rng(test_seed() + 6);
  for (int64_t dv : {1, 7, 33}) {
    const int64_t L = 29, D = 16;
    const auto q = random_floats(rng, L * D), k = random_floats(rng, L * D),
               v = random_floats(rng, L * dv);
    GuardedBuffer out(static_cast<size_t>(L * dv));
    AttentionOptions o;
    o.mask = MaskKind::kCausal;
    ASSERT_TRUE(attention(ctx, TensorView<const float>(q.data(), {1, L, 1, D}),
                          TensorView<const float>(k.data(), {1, L, 1, D}),
                          TensorView<const float>(v.data(), {1, L, 1, dv}),
                          TensorView<float>(out.data(), {1, L, 1, dv}), o)
                    .is_ok());
    // Row 0 attends to key 0 only.
    for (int64_t d = 0; d < dv; ++d) EXPECT_FLOAT_EQ(out.data()[d], v[d]);
  }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, AttentionIsaTest, ::testing::ValuesIn(testable_isas()),
                         isa_param_name);

}  // namespace
}  // namespace cpuattn::test
