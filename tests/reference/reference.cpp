#include "reference.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace cpuattn::ref {

GemmResult gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
                const float* c, int64_t ldc) {
  GemmResult r;
  r.c.resize(static_cast<size_t>(m * n));
  r.magnitude.resize(r.c.size());
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0.0, mag = 0.0;
      for (int64_t p = 0; p < k; ++p) {
        const double x = trans_a ? a[p * lda + i] : a[i * lda + p];
        const double y = trans_b ? b[j * ldb + p] : b[p * ldb + j];
        sum += x * y;
        mag += std::fabs(x * y);
      }
      double out = static_cast<double>(alpha) * sum;
      mag *= std::fabs(static_cast<double>(alpha));
      if (beta != 0.0f) {
        const double c0 = static_cast<double>(beta) * c[i * ldc + j];
        out += c0;
        mag += std::fabs(c0);
      }
      r.c[i * n + j] = out;
      r.magnitude[i * n + j] = mag;
    }
  }
  return r;
}

std::vector<double> softmax_row(const float* x, int64_t x_stride, const float* bias,
                                int64_t bias_stride, int64_t n, int64_t valid, double scale,
                                bool log) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> y(static_cast<size_t>(n), log ? -inf : 0.0);
  std::vector<double> t(static_cast<size_t>(std::max<int64_t>(valid, 0)));
  double mx = -inf;
  bool nan = false;
  for (int64_t j = 0; j < valid; ++j) {
    t[j] = scale * x[j * x_stride] + (bias ? static_cast<double>(bias[j * bias_stride]) : 0.0);
    nan = nan || std::isnan(t[j]);
    mx = std::max(mx, t[j]);
  }
  if (nan) {
    std::fill(y.begin(), y.begin() + valid, std::numeric_limits<double>::quiet_NaN());
    return y;
  }
  if (valid <= 0 || mx == -inf) return y;
  double sum = 0.0;
  for (int64_t j = 0; j < valid; ++j) sum += std::exp(t[j] - mx);
  for (int64_t j = 0; j < valid; ++j) {
    y[j] = log ? t[j] - mx - std::log(sum) : std::exp(t[j] - mx) / sum;
  }
  return y;
}

AttentionResult attention(const AttentionCase& c) {
  AttentionResult r;
  const int64_t B = c.batch, Lq = c.seq_q, Lk = c.seq_kv, Hq = c.heads_q, D = c.head_dim,
                Dv = c.head_dim_v, group = c.heads_q / c.heads_kv;
  r.out.assign(static_cast<size_t>(B * Lq * Hq * Dv), 0.0);
  r.out_magnitude.assign(r.out.size(), 0.0);
  r.weights.assign(static_cast<size_t>(B * Hq * Lq * Lk), 0.0);
  r.scores.assign(r.weights.size(), 0.0);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t q_len = c.q_lengths ? c.q_lengths[b] : Lq;
    const int64_t kv_len = c.kv_lengths ? c.kv_lengths[b] : Lk;
    for (int64_t h = 0; h < Hq; ++h) {
      const int64_t g = h / group;
      for (int64_t i = 0; i < Lq; ++i) {
        for (int64_t j = 0; j < Lk; ++j) {
          double dot = 0.0;
          for (int64_t d = 0; d < D; ++d) {
            dot += static_cast<double>(c.q[b * c.qs[0] + i * c.qs[1] + h * c.qs[2] + d * c.qs[3]]) *
                   c.k[b * c.ks[0] + j * c.ks[1] + g * c.ks[2] + d * c.ks[3]];
          }
          r.scores[((b * Hq + h) * Lq + i) * Lk + j] = dot;
        }
        int64_t valid = i < q_len ? std::min(Lk, kv_len) : 0;
        if (c.causal) valid = std::min(valid, std::max<int64_t>(0, i + (Lk - Lq) + 1));
        const double inf = std::numeric_limits<double>::infinity();
        std::vector<double> t(static_cast<size_t>(std::max<int64_t>(valid, 0)));
        double mx = -inf;
        for (int64_t j = 0; j < valid; ++j) {
          t[j] = c.scale * r.scores[((b * Hq + h) * Lq + i) * Lk + j];
          if (c.bias) t[j] += c.bias[b * c.bs[0] + h * c.bs[1] + i * c.bs[2] + j * c.bs[3]];
          mx = std::max(mx, t[j]);
        }
        double sum = 0.0;
        if (mx != -inf) {
          for (int64_t j = 0; j < valid; ++j) sum += std::exp(t[j] - mx);
        }
        for (int64_t j = 0; j < valid && sum > 0.0; ++j) {
          r.weights[((b * Hq + h) * Lq + i) * Lk + j] = std::exp(t[j] - mx) / sum;
        }
        for (int64_t d = 0; d < Dv; ++d) {
          double acc = 0.0, mag = 0.0;
          for (int64_t j = 0; j < valid; ++j) {
            const double w = r.weights[((b * Hq + h) * Lq + i) * Lk + j];
            const double x = c.v[b * c.vs[0] + j * c.vs[1] + g * c.vs[2] + d * c.vs[3]];
            acc += w * x;
            mag += w * std::fabs(x);
          }
          r.out[((b * Lq + i) * Hq + h) * Dv + d] = acc;
          r.out_magnitude[((b * Lq + i) * Hq + h) * Dv + d] = mag;
        }
      }
    }
  }
  return r;
}

namespace {
// y[rows, out] = x[rows, in] W^T + bias, in double.
std::vector<double> linear(const std::vector<double>& x, int64_t rows, int64_t in, const float* w,
                           const float* bias, int64_t out) {
  std::vector<double> y(static_cast<size_t>(rows * out));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t o = 0; o < out; ++o) {
      double acc = bias ? bias[o] : 0.0;
      for (int64_t i = 0; i < in; ++i) acc += x[r * in + i] * w[o * in + i];
      y[r * out + o] = acc;
    }
  }
  return y;
}
std::vector<double> widen(const float* x, int64_t n) {
  return std::vector<double>(x, x + n);
}
std::vector<float> narrow(const std::vector<double>& x) {
  return std::vector<float>(x.begin(), x.end());
}
}  // namespace

std::vector<double> mha(const MhaCase& c) {
  const int64_t B = c.batch, Lq = c.seq_q, Lk = c.seq_kv, E = c.embed_dim, hd = E / c.num_heads,
                kvw = c.kv_heads * hd;
  const auto q = linear(widen(c.query, B * Lq * E), B * Lq, E, c.wq, c.bq, E);
  const auto k = linear(widen(c.key, B * Lk * c.kdim), B * Lk, c.kdim, c.wk, c.bk, kvw);
  const auto v = linear(widen(c.value, B * Lk * c.vdim), B * Lk, c.vdim, c.wv, c.bv, kvw);
  // The attention oracle reads floats; the projections are rounded once, as cpuattn stores them.
  const auto qf = narrow(q), kf = narrow(k), vf = narrow(v);
  AttentionCase a;
  a.batch = B;
  a.seq_q = Lq;
  a.seq_kv = Lk;
  a.heads_q = c.num_heads;
  a.heads_kv = c.kv_heads;
  a.head_dim = a.head_dim_v = hd;
  a.q = qf.data();
  a.k = kf.data();
  a.v = vf.data();
  const int64_t qs[4] = {Lq * E, E, hd, 1}, kvs[4] = {Lk * kvw, kvw, hd, 1};
  std::copy(qs, qs + 4, a.qs);
  std::copy(kvs, kvs + 4, a.ks);
  std::copy(kvs, kvs + 4, a.vs);
  a.scale = 1.0 / std::sqrt(static_cast<double>(hd));
  a.causal = c.causal;
  const AttentionResult att = attention(a);
  return linear(att.out, B * Lq, E, c.wo, c.bo, E);
}

}  // namespace cpuattn::ref
