// Row softmax (contract in kernel_table.hpp): three passes over a row that sits in L1/L2 after the
// first one: max of t = scale*x + bias; exp(t - max) = 2^u and its sum, u from one FMA; normalise.
// Pass 2 is bound by the FMA pipes (Zen 4: 8 of its ~12 vector ops), so the exponent's FMA count
// is what matters: folding scale and log2(e) into u and taking the max of the raw x took a
// 2048-column row in L2 from ~17 to ~13.7 cycles per vector.
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
  static constexpr float kLog2e = 1.44269504088896341f;
  static constexpr float kFoldedMax = 4096.0f;

  // t = scale x + bias, or x alone (kScaled false) for the max of a positive scale.
  template <bool kBias, bool kScaled = true>
  static inline Vec logits(const float* x, const float* bias, int64_t i, Vec vscale) {
    const Vec xv = Vec::load_unaligned(x + i);
    if (kBias) return xsimd::fma(xv, vscale, Vec::load_unaligned(bias + i));
    return kScaled ? xv * vscale : xv;
  }
  template <bool kBias, bool kScaled = true>
  static inline float logit(const float* x, const float* bias, int64_t i, float scale) {
    if (kBias) return x[i] * scale + bias[i];
    return kScaled ? x[i] * scale : x[i];
  }

  template <bool kBias, bool kScaled>
  static float row_max(const float* x, const float* bias, int64_t n, float scale) {
    constexpr float kInf = std::numeric_limits<float>::infinity();
    const Vec vscale(scale);
    // Four accumulators hide the max latency.
    Vec m0(-kInf), m1(-kInf), m2(-kInf), m3(-kInf);
    int64_t i = 0;
    for (; i + 4 * kW <= n; i += 4 * kW) {
      m0 = xsimd::max(logits<kBias, kScaled>(x, bias, i, vscale), m0);
      m1 = xsimd::max(logits<kBias, kScaled>(x, bias, i + kW, vscale), m1);
      m2 = xsimd::max(logits<kBias, kScaled>(x, bias, i + 2 * kW, vscale), m2);
      m3 = xsimd::max(logits<kBias, kScaled>(x, bias, i + 3 * kW, vscale), m3);
    }
    for (; i + kW <= n; i += kW) m0 = xsimd::max(logits<kBias, kScaled>(x, bias, i, vscale), m0);
    float mx = reduce_max(xsimd::max(xsimd::max(m0, m1), xsimd::max(m2, m3)));
    for (; i < n; ++i) {
      const float t = logit<kBias, kScaled>(x, bias, i, scale);
      mx = (t > mx || t != t) ? t : mx;
    }
    return mx;
  }

  // The exponent of 2 in exp(t - max) = 2^u: u = (t - max) log2(e). Folded into one FMA,
  // u = x (scale log2 e) - max log2 e, or with a bias u = t log2 e - max log2 e: the rounding of
  // the product and the shift add about 2 eps A to u (A = the largest |t| near the max), within
  // the 4 eps A that t and t - max carry in the two-step form. But the max's own u is then that
  // noise instead of exactly 0; for |max| <= kFoldedMax it stays under 2^-10, and larger maxima
  // (1e30 would give 2^(+-1e23)) take kTwoStep, which subtracts first.
  struct Shift {
    Vec scale, c, minus_mc, max;  // c = scale log2 e, minus_mc = -max log2 e
  };
  template <bool kBias, bool kTwoStep>
  static inline Vec exponent(const float* x, const float* bias, int64_t i, const Shift& k) {
    if (kTwoStep) return (logits<kBias>(x, bias, i, k.scale) - k.max) * Vec(kLog2e);
    if (kBias) return xsimd::fma(logits<true>(x, bias, i, k.scale), Vec(kLog2e), k.minus_mc);
    return xsimd::fma(Vec::load_unaligned(x + i), k.c, k.minus_mc);
  }

  // exp(t - max) into e_out (unless null) and their sum. next: the next row, prefetched.
  template <bool kBias, bool kTwoStep>
  static float exp_pass(const float* x, const float* bias, float* e_out, int64_t n, float scale,
                        float mx, const float* next) {
    const Shift k{Vec(scale), Vec(scale * kLog2e), Vec(-(mx * kLog2e)), Vec(mx)};
    Vec s0(0.0f), s1(0.0f);
    int64_t i = 0;
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
      const Vec e0 = vexp2_nonpositive(exponent<kBias, kTwoStep>(x, bias, i, k));
      const Vec e1 = vexp2_nonpositive(exponent<kBias, kTwoStep>(x, bias, i + kW, k));
      s0 += e0;
      s1 += e1;
      if (e_out != nullptr) {
        e0.store_unaligned(e_out + i);
        e1.store_unaligned(e_out + i + kW);
      }
    }
    float sum = xsimd::hadd(s0 + s1);
    if (i < n) {  // the tail through the same vector formula, from zero-padded copies
      alignas(64) float xt[2 * kW] = {}, bt[2 * kW] = {}, et[2 * kW];
      std::copy(x + i, x + n, xt);
      if (kBias) std::copy(bias + i, bias + n, bt);
      for (int64_t j = 0; j < n - i; j += kW) {
        vexp2_nonpositive(exponent<kBias, kTwoStep>(xt, bt, j, k)).store_aligned(et + j);
      }
      for (int64_t j = 0; j < n - i; ++j) {
        sum += et[j];
        if (e_out != nullptr) e_out[i + j] = et[j];
      }
    }
    return sum;
  }

  // stream: y is written once with non-temporal stores, the exponentials staged in `stage`
  // (n floats, cache-resident) instead of in y.
  template <bool kBias>
  static void run(const float* x, const float* bias, float* y, int64_t n, float scale, bool log,
                  float* stage, const float* next) {
    constexpr float kInf = std::numeric_limits<float>::infinity();
    // Pass 1: the max. For a positive scale, max(scale x) = scale max(x) exactly (rounding is
    // monotonic), which saves a multiply per element.
    const float mx = !kBias && scale > 0.0f ? scale * row_max<false, false>(x, nullptr, n, scale)
                                            : row_max<kBias, true>(x, bias, n, scale);
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
    float* e_out = log ? nullptr : stage != nullptr ? stage : y;
    const float sum = std::fabs(mx) <= kFoldedMax
                          ? exp_pass<kBias, false>(x, bias, e_out, n, scale, mx, next)
                          : exp_pass<kBias, true>(x, bias, e_out, n, scale, mx, next);
    // Pass 3.
    if (log) {
      const float shift = mx + std::log(sum);
      const Vec vshift(shift), vscale(scale);
      int64_t i = 0;
      for (; i + kW <= n; i += kW)
        (logits<kBias>(x, bias, i, vscale) - vshift).store_unaligned(y + i);
      for (; i < n; ++i) y[i] = logit<kBias>(x, bias, i, scale) - shift;
    } else if (e_out != y) {
      StreamStore<Arch>::scale(e_out, 1.0f / sum, y, n);
    } else {
      const float inv = 1.0f / sum;
      const Vec vinv(inv);
      int64_t i = 0;
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
