// Row softmax (contract in kernel_table.hpp): three passes over a row that sits in L1/L2 after the
// first one: max of t = scale*x + bias; exp(t - max) and its sum; normalise.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <xsimd/xsimd.hpp>

#include "kernels/softmax_math.hpp"
#include "kernels/stream_store.hpp"

namespace cpuattn::detail {

template <class Arch>
struct SoftmaxRow {
  using Vec = xsimd::batch<float, Arch>;
  static constexpr int64_t kW = static_cast<int64_t>(Vec::size);

  template <bool kBias>
  static inline Vec logits(const float* x, const float* bias, int64_t i, Vec vscale) {
    Vec t = Vec::load_unaligned(x + i) * vscale;
    if (kBias) t += Vec::load_unaligned(bias + i);
    return t;
  }
  template <bool kBias>
  static inline float logit(const float* x, const float* bias, int64_t i, float scale) {
    return kBias ? x[i] * scale + bias[i] : x[i] * scale;
  }

  // stream: y is written once with non-temporal stores, the exponentials staged in `stage`
  // (n floats, cache-resident) instead of in y.
  template <bool kBias>
  static void run(const float* x, const float* bias, float* y, int64_t n, float scale, bool log,
                  float* stage, const float* next) {
    constexpr float kInf = std::numeric_limits<float>::infinity();
    const Vec vscale(scale);
    // Pass 1: the max. Four accumulators hide the max latency.
    Vec m0(-kInf), m1(-kInf), m2(-kInf), m3(-kInf);
    int64_t i = 0;
    for (; i + 4 * kW <= n; i += 4 * kW) {
      m0 = xsimd::max(logits<kBias>(x, bias, i, vscale), m0);
      m1 = xsimd::max(logits<kBias>(x, bias, i + kW, vscale), m1);
      m2 = xsimd::max(logits<kBias>(x, bias, i + 2 * kW, vscale), m2);
      m3 = xsimd::max(logits<kBias>(x, bias, i + 3 * kW, vscale), m3);
    }
    for (; i + kW <= n; i += kW) m0 = xsimd::max(logits<kBias>(x, bias, i, vscale), m0);
    float mx = reduce_max(xsimd::max(xsimd::max(m0, m1), xsimd::max(m2, m3)));
    for (; i < n; ++i) {
      const float t = logit<kBias>(x, bias, i, scale);
      mx = (t > mx || t != t) ? t : mx;
    }
    if (mx == -kInf) {  // every column masked, or NaN among -inf (the vector max skips NaN)
      bool nan = false;
      for (int64_t j = 0; j < n; ++j) {
        const float t = logit<kBias>(x, bias, j, scale);
        nan |= t != t;
      }
      const float fill = nan ? std::numeric_limits<float>::quiet_NaN() : log ? -kInf : 0.0f;
      for (int64_t j = 0; j < n; ++j) y[j] = fill;
      return;
    }
    // Pass 2: exp and sum (stored unless log-softmax, which recomputes t in pass 3).
    float* e_out = stage != nullptr && !log ? stage : y;
    const Vec vmax(mx);
    Vec s0(0.0f), s1(0.0f);
    i = 0;
    for (; i + 2 * kW <= n; i += 2 * kW) {
      if (next != nullptr) {  // the next row's lines, one per 16 floats, while this one computes
        // Long rows into L2 only: a whole next row in L1 evicted this row and its staged exps
        // (8192 columns: +12%; 2048: +6%; short rows lost 4% and stay on L1).
        for (int64_t line = i; line < i + 2 * kW; line += 16) {
          if (n >= 2048) {
            __builtin_prefetch(next + line, 0, 2);
          } else {
            __builtin_prefetch(next + line, 0, 3);
          }
        }
      }
      const Vec e0 = vexp<Arch, true>(logits<kBias>(x, bias, i, vscale) - vmax);
      const Vec e1 = vexp<Arch, true>(logits<kBias>(x, bias, i + kW, vscale) - vmax);
      s0 += e0;
      s1 += e1;
      if (!log) {
        e0.store_unaligned(e_out + i);
        e1.store_unaligned(e_out + i + kW);
      }
    }
    float sum = xsimd::hadd(s0 + s1);
    for (; i < n; ++i) {
      alignas(64) float lane[kW] = {};
      lane[0] = logit<kBias>(x, bias, i, scale) - mx;
      const float e = vexp(Vec::load_aligned(lane)).get(0);
      sum += e;
      if (!log) e_out[i] = e;
    }
    // Pass 3.
    if (log) {
      const float shift = mx + std::log(sum);
      const Vec vshift(shift);
      i = 0;
      for (; i + kW <= n; i += kW)
        (logits<kBias>(x, bias, i, vscale) - vshift).store_unaligned(y + i);
      for (; i < n; ++i) y[i] = logit<kBias>(x, bias, i, scale) - shift;
    } else if (e_out != y) {
      StreamStore<Arch>::scale(e_out, 1.0f / sum, y, n);
    } else {
      const float inv = 1.0f / sum;
      const Vec vinv(inv);
      i = 0;
      for (; i + kW <= n; i += kW) (Vec::load_unaligned(y + i) * vinv).store_unaligned(y + i);
      for (; i < n; ++i) y[i] *= inv;
    }
  }

  static void softmax_row(const float* x, const float* bias, float* y, int64_t n, float scale,
                          bool log, float* stage, const float* next) {
    if (bias != nullptr) {
      run<true>(x, bias, y, n, scale, log, stage, next);
    } else {
      run<false>(x, nullptr, y, n, scale, log, stage, next);
    }
  }

  static void softmax_rows(const float* x, int64_t ldx, const float* bias, int64_t ldbias, float* y,
                           int64_t ldy, int64_t rows, int64_t n, float scale, bool log,
                           float* stage, int64_t ahead);
};

template <class Arch>
void SoftmaxRow<Arch>::softmax_rows(const float* x, int64_t ldx, const float* bias, int64_t ldbias,
                                    float* y, int64_t ldy, int64_t rows, int64_t n, float scale,
                                    bool log, float* stage, int64_t ahead) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* next = stage != nullptr && r + ahead < rows ? x + (r + ahead) * ldx : nullptr;
    softmax_row(x + r * ldx, bias != nullptr ? bias + r * ldbias : nullptr, y + r * ldy, n, scale,
                log, stage, next);
  }
}

// The fused attention's block step (contract: OnlineSoftmaxFn in kernel_table.hpp).
template <class Arch>
struct OnlineSoftmax {
  using Vec = xsimd::batch<float, Arch>;
  static constexpr int kW = static_cast<int>(Vec::size);

  static void run(float* st, int64_t ld, int all_rows, int cols, int64_t visible_base, float* m,
                  float* l, float* alpha) {
    constexpr float kInf = std::numeric_limits<float>::infinity();
    for (int c = 0; c < cols; c += kW) {
      int rows = all_rows;
      if (visible_base != std::numeric_limits<int64_t>::min()) {
        rows = static_cast<int>(std::clamp<int64_t>(c + kW - 1 + visible_base, 0, all_rows));
        for (int r = rows; r < all_rows; ++r) Vec(0.0f).store_unaligned(st + r * ld + c);
      }
      Vec bm(-kInf);
      for (int r = 0; r < rows; ++r) bm = xsimd::max(Vec::load_unaligned(st + r * ld + c), bm);
      Vec rescale;
      const Vec new_max = online_max_update(Vec::load_unaligned(m + c), bm, &rescale);
      const Vec shift = softmax_shift(new_max);
      Vec s0(0.0f), s1(0.0f);
      int r = 0;
      for (; r + 2 <= rows; r += 2) {
        const Vec e0 = vexp2_nonpositive(Vec::load_unaligned(st + r * ld + c) - shift);
        const Vec e1 = vexp2_nonpositive(Vec::load_unaligned(st + (r + 1) * ld + c) - shift);
        e0.store_unaligned(st + r * ld + c);
        e1.store_unaligned(st + (r + 1) * ld + c);
        s0 += e0;
        s1 += e1;
      }
      if (r < rows) {
        const Vec e0 = vexp2_nonpositive(Vec::load_unaligned(st + r * ld + c) - shift);
        e0.store_unaligned(st + r * ld + c);
        s0 += e0;
      }
      new_max.store_unaligned(m + c);
      rescale.store_unaligned(alpha + c);
      xsimd::fma(Vec::load_unaligned(l + c), rescale, s0 + s1).store_unaligned(l + c);
    }
  }
};

}  // namespace cpuattn::detail
