// The multi-head layer against a composition of the reference pieces (double projections, the
// attention oracle, double output projection), PyTorch weight layout.
#include <cfloat>
#include <cmath>

#include "reference.hpp"
#include "test_util.hpp"

namespace cpuattn::test {
namespace {

struct MhaShape {
  int64_t batch, seq_q, seq_kv, embed, heads, kv_heads, kdim, vdim;
  bool packed, biases, causal, self;
};

class MhaIsaTest : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (!cpu_supports(GetParam())) GTEST_SKIP() << "CPU lacks " << isa_name(GetParam());
  }

  void run(const MhaShape& s, uint64_t seed) {
    SCOPED_TRACE(::testing::Message()
                 << "seed " << seed << " E=" << s.embed << " H=" << s.heads << " Hkv=" << s.kv_heads
                 << " kdim=" << s.kdim << " vdim=" << s.vdim << " packed=" << s.packed
                 << " causal=" << s.causal);
    std::mt19937_64 rng(seed);
    Context ctx = make_test_context(GetParam(), 2);
    const int64_t E = s.embed, hd = E / s.heads, kvw = s.kv_heads * hd;
    const float w_scale = 1.0f / std::sqrt(static_cast<float>(E));
    auto wq = random_floats(rng, E * E, -w_scale, w_scale);
    auto wk = random_floats(rng, kvw * s.kdim, -w_scale, w_scale);
    auto wv = random_floats(rng, kvw * s.vdim, -w_scale, w_scale);
    auto wo = random_floats(rng, E * E, -w_scale, w_scale);
    auto bin = random_floats(rng, E + 2 * kvw), bo = random_floats(rng, E);
    auto query = random_floats(rng, s.batch * s.seq_q * E);
    auto key = s.self ? query : random_floats(rng, s.batch * s.seq_kv * s.kdim);
    auto value = s.self ? query : random_floats(rng, s.batch * s.seq_kv * s.vdim);

    std::vector<float> packed;
    MhaWeights w;
    if (s.packed) {
      packed = wq;
      packed.insert(packed.end(), wk.begin(), wk.end());
      packed.insert(packed.end(), wv.begin(), wv.end());
      w.in_proj_weight = packed.data();
    } else {
      w.q_proj_weight = wq.data(), w.k_proj_weight = wk.data(), w.v_proj_weight = wv.data();
    }
    if (s.biases) w.in_proj_bias = bin.data(), w.out_proj_bias = bo.data();
    w.out_proj_weight = wo.data();
    MultiHeadAttention layer;
    const MhaConfig cfg{E, s.heads, s.kv_heads, s.kdim, s.vdim};
    ASSERT_TRUE(MultiHeadAttention::create(ctx, cfg, w, &layer).is_ok());
    packed.assign(packed.size(), std::nanf(""));  // weights are copied at creation

    std::vector<float> out(s.batch * s.seq_q * E, std::nanf(""));
    AttentionOptions o;
    o.mask = s.causal ? MaskKind::kCausal : MaskKind::kNone;
    const Status st =
        layer.forward(ctx, TensorView<const float>(query.data(), {s.batch, s.seq_q, E}),
                      TensorView<const float>(key.data(), {s.batch, s.seq_kv, s.kdim}),
                      TensorView<const float>(value.data(), {s.batch, s.seq_kv, s.vdim}),
                      TensorView<float>(out.data(), {s.batch, s.seq_q, E}), o);
    ASSERT_TRUE(st.is_ok()) << st.message();

    ref::MhaCase c;
    c.batch = s.batch, c.seq_q = s.seq_q, c.seq_kv = s.seq_kv, c.embed_dim = E,
    c.num_heads = s.heads, c.kv_heads = s.kv_heads, c.kdim = s.kdim, c.vdim = s.vdim;
    c.query = query.data(), c.key = key.data(), c.value = value.data();
    c.wq = wq.data(), c.wk = wk.data(), c.wv = wv.data(), c.wo = wo.data();
    if (s.biases)
      c.bq = bin.data(), c.bk = bin.data() + E, c.bv = bin.data() + E + kvw, c.bo = bo.data();
    c.causal = s.causal;
    const std::vector<double> want = ref::mha(c);
    // Bound: every stage (V projection, attention, output projection) is a float sum of at most
    // E + Lk + hd terms whose magnitudes are bounded by S = sum_e |Wo| * max|V proj| + |bo|, with
    // a few roundings per stage: 8 (E + Lk + hd) eps S.
    double max_v = 0;
    for (int64_t i = 0; i < s.batch * s.seq_kv; ++i) {
      for (int64_t o2 = 0; o2 < kvw; ++o2) {
        double acc = s.biases ? std::fabs(bin[E + kvw + o2]) : 0.0;
        for (int64_t e = 0; e < s.vdim; ++e)
          acc += std::fabs(value[i * s.vdim + e] * wv[o2 * s.vdim + e]);
        max_v = std::max(max_v, acc);
      }
    }
    int bad = 0;
    for (int64_t i = 0; i < s.batch * s.seq_q; ++i) {
      for (int64_t o2 = 0; o2 < E; ++o2) {
        double mag = s.biases ? std::fabs(bo[o2]) : 0.0;
        for (int64_t e = 0; e < E; ++e) mag += std::fabs(wo[o2 * E + e]) * max_v;
        const double tol = 8.0 * (E + s.seq_kv + hd) * FLT_EPSILON * mag;
        const double got = out[i * E + o2], ref_v = want[i * E + o2];
        if (!(std::fabs(got - ref_v) <= tol) && ++bad <= 3) {
          ADD_FAILURE() << "y[" << i << "," << o2 << "] = " << got << " want " << ref_v << " tol "
                        << tol;
        }
      }
    }
    EXPECT_EQ(bad, 0);
  }
};

TEST_P(MhaIsaTest, SelfAttentionPackedWeightsCausal) {
  run({2, 37, 37, 64, 4, 4, 64, 64, true, true, true, true}, test_seed());
}
TEST_P(MhaIsaTest, CrossAttentionSeparateWeightsKdimVdim) {
  run({2, 20, 33, 48, 6, 6, 40, 24, false, true, false, false}, test_seed() + 1);
}
TEST_P(MhaIsaTest, GroupedQueryNoBias) {
  run({1, 29, 29, 64, 8, 2, 64, 64, true, false, true, true}, test_seed() + 2);
}

INSTANTIATE_TEST_SUITE_P(AllIsas, MhaIsaTest, ::testing::ValuesIn(testable_isas()), isa_param_name);

}  // namespace
}  // namespace cpuattn::test
