// Builds an attention problem in BSHD or BHSD storage with random data, runs cpuattn and the
// oracle, and checks outputs with a bound derived from the arithmetic (see check()).
#pragma once

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <vector>

#include "reference.hpp"
#include "test_util.hpp"

namespace cpuattn::test {

struct AttnShape {
  int64_t batch = 1, seq_q = 1, seq_kv = 1, heads_q = 1, heads_kv = 1, head_dim = 1, head_dim_v = 1;
  bool bhsd = false;  // storage [B, H, S, D] instead of [B, S, H, D]
  bool causal = false, q_lengths = false, kv_lengths = false, bias = false;
  bool want_weights = false, want_scores = false;
  AttentionAlgorithm algorithm = AttentionAlgorithm::kAuto;
  float scale = 0.0f;
};

// A [B, S, H, D] tensor stored as BSHD or BHSD, with its logical strides.
struct Stored {
  std::vector<float> data;
  int64_t strides[4];
  Stored(std::mt19937_64& rng, int64_t b, int64_t s, int64_t h, int64_t d, bool bhsd,
         float fill_nan = 0)
      : data(random_floats(rng, static_cast<size_t>(b * s * h * d))) {
    if (fill_nan != 0) std::fill(data.begin(), data.end(), fill_nan);
    if (bhsd) {
      strides[0] = h * s * d, strides[1] = d, strides[2] = s * d, strides[3] = 1;
    } else {
      strides[0] = s * h * d, strides[1] = h * d, strides[2] = d, strides[3] = 1;
    }
  }
  template <class T>
  TensorView<T> view(int64_t b, int64_t s, int64_t h, int64_t d) {
    return TensorView<T>(const_cast<T*>(data.data()), {b, s, h, d},
                         {strides[0], strides[1], strides[2], strides[3]});
  }
};

struct AttnRun {
  std::vector<float> out, weights, scores;
  int64_t out_strides[4];
  ref::AttentionResult ref;
  std::vector<double> tolerance;  // per output element
};

// Runs the case; expects success. The output bound per element is
//   mag * (2 T + (3 Lk + 16) eps),  mag = sum_j w_j |v_j| (oracle),
// with T the largest logit error of the row: scale (D + 2) eps sum_d |q_d k_d| + 2 eps (|t| +
// |bias|) (float dot products, the pre-scaled query; the fused kernel's logits in log2 units round
// the folded scale * log2(e) and bias * log2(e) once more), exp and reciprocal a few eps, sums Lk
// eps.
inline AttnRun run_attention_case(const Context& ctx, const AttnShape& s, std::mt19937_64& rng) {
  AttnRun run;
  const int64_t B = s.batch, Lq = s.seq_q, Lk = s.seq_kv, Hq = s.heads_q, Hkv = s.heads_kv,
                D = s.head_dim, Dv = s.head_dim_v;
  Stored q(rng, B, Lq, Hq, D, s.bhsd), k(rng, B, Lk, Hkv, D, s.bhsd),
      v(rng, B, Lk, Hkv, Dv, s.bhsd);
  Stored out(rng, B, Lq, Hq, Dv, s.bhsd, std::numeric_limits<float>::quiet_NaN());
  std::vector<int32_t> ql(static_cast<size_t>(B)), kl(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    ql[b] = static_cast<int32_t>(std::uniform_int_distribution<int64_t>(0, Lq)(rng));
    kl[b] = static_cast<int32_t>(std::uniform_int_distribution<int64_t>(0, Lk)(rng));
  }
  std::vector<float> bias;
  AttentionOptions o;
  o.scale = s.scale;
  o.mask = s.causal ? MaskKind::kCausal : MaskKind::kNone;
  o.algorithm = s.algorithm;
  if (s.q_lengths) o.q_lengths = ql.data();
  if (s.kv_lengths) o.kv_lengths = kl.data();
  if (s.bias) {  // [1, Hq, Lq, Lk] broadcast over the batch
    bias = random_floats(rng, static_cast<size_t>(Hq * Lq * Lk), -2, 2);
    o.bias = TensorView<const float>(bias.data(), {B, Hq, Lq, Lk}, {0, Lq * Lk, Lk, 1});
  }
  if (s.want_weights) {
    run.weights.assign(static_cast<size_t>(B * Hq * Lq * Lk), -7.0f);
    o.weights = TensorView<float>(run.weights.data(), {B, Hq, Lq, Lk});
  }
  if (s.want_scores) {
    run.scores.assign(static_cast<size_t>(B * Hq * Lq * Lk), -7.0f);
    o.scores = TensorView<float>(run.scores.data(), {B, Hq, Lq, Lk});
  }
  const Status st =
      attention(ctx, q.view<const float>(B, Lq, Hq, D), k.view<const float>(B, Lk, Hkv, D),
                v.view<const float>(B, Lk, Hkv, Dv), out.view<float>(B, Lq, Hq, Dv), o);
  EXPECT_TRUE(st.is_ok()) << st.message();
  run.out = out.data;
  std::copy(out.strides, out.strides + 4, run.out_strides);

  ref::AttentionCase c;
  c.batch = B, c.seq_q = Lq, c.seq_kv = Lk, c.heads_q = Hq, c.heads_kv = Hkv, c.head_dim = D,
  c.head_dim_v = Dv;
  c.q = q.data.data(), c.k = k.data.data(), c.v = v.data.data();
  std::copy(q.strides, q.strides + 4, c.qs);
  std::copy(k.strides, k.strides + 4, c.ks);
  std::copy(v.strides, v.strides + 4, c.vs);
  c.scale = s.scale != 0.0f ? s.scale : 1.0 / std::sqrt(static_cast<double>(D));
  c.causal = s.causal;
  c.q_lengths = o.q_lengths;
  c.kv_lengths = o.kv_lengths;
  if (s.bias) {
    c.bias = bias.data();
    c.bs[0] = 0, c.bs[1] = Lq * Lk, c.bs[2] = Lk, c.bs[3] = 1;
  }
  run.ref = ref::attention(c);

  const double eps = FLT_EPSILON;
  run.tolerance.assign(run.ref.out.size(), 0.0);
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t h = 0; h < Hq; ++h) {
      const int64_t g = h / (Hq / Hkv);
      for (int64_t i = 0; i < Lq; ++i) {
        double t_err = 0.0;
        for (int64_t j = 0; j < Lk; ++j) {
          double mag = 0.0;
          for (int64_t d = 0; d < D; ++d) {
            mag += std::fabs(
                double(q.data[b * q.strides[0] + i * q.strides[1] + h * q.strides[2] + d]) *
                k.data[b * k.strides[0] + j * k.strides[1] + g * k.strides[2] + d]);
          }
          const double bias_ij = s.bias ? std::fabs(bias[(h * Lq + i) * Lk + j]) : 0.0;
          t_err =
              std::max(t_err, c.scale * (D + 2) * eps * mag + 2 * eps * (c.scale * mag + bias_ij));
        }
        for (int64_t d = 0; d < Dv; ++d) {
          const size_t e = static_cast<size_t>(((b * Lq + i) * Hq + h) * Dv + d);
          run.tolerance[e] = run.ref.out_magnitude[e] * (2 * t_err + (3 * Lk + 16) * eps) + 1e-30;
        }
      }
    }
  }
  return run;
}

inline float out_at(const AttnRun& r, int64_t b, int64_t i, int64_t h, int64_t d) {
  return r.out[b * r.out_strides[0] + i * r.out_strides[1] + h * r.out_strides[2] +
               d * r.out_strides[3]];
}

inline void check_attention_output(const AttnShape& s, const AttnRun& r) {
  int bad = 0;
  for (int64_t b = 0; b < s.batch; ++b) {
    for (int64_t i = 0; i < s.seq_q; ++i) {
      for (int64_t h = 0; h < s.heads_q; ++h) {
        for (int64_t d = 0; d < s.head_dim_v; ++d) {
          const size_t e =
              static_cast<size_t>(((b * s.seq_q + i) * s.heads_q + h) * s.head_dim_v + d);
          const double want = r.ref.out[e], got = out_at(r, b, i, h, d);
          if (!(std::fabs(got - want) <= r.tolerance[e]) && ++bad <= 3) {
            ADD_FAILURE() << "out[" << b << "," << i << "," << h << "," << d << "] = " << got
                          << ", want " << want << " (tol " << r.tolerance[e] << ")";
          }
        }
      }
    }
  }
  EXPECT_EQ(bad, 0);
}

}  // namespace cpuattn::test
