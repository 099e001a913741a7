// Row softmax (contract in kernel_table.hpp): three passes over a row that sits in L1/L2 after the
// first one: max of t = scale*x + bias; exp(t - max) = 2^u and its sum, u from one FMA; normalise,
// which for rows in cache runs inside the next row's pass 2 (see Pending). Pass 2 is bound by the
// FMA pipes (Zen 4: 8 of its ~12 vector ops), so the exponent's FMA count is what matters: folding
// scale and log2(e) into u and taking the max of the raw x took a 2048-column row in L2 from ~17
// to ~13.7 cycles per vector.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <xsimd/xsimd.hpp>

#include "kernels/aligned_row_avx512.hpp"
#include "kernels/softmax_math.hpp"
#include "kernels/stream_store.hpp"

namespace cpuattn::detail {

template <class Arch>
struct SoftmaxRow {
  using Vec = xsimd::batch<float, Arch>;
  static constexpr int64_t kW = static_cast<int64_t>(Vec::size);
  // log2(e) in the unit vexp2_nonpositive_scaled takes (a power of two times log2(e): exact).
  static constexpr float kLog2eScaled = 1.44269504088896341f * kExp2Units<Arch>;
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

  static constexpr bool kAvx512 = std::is_base_of_v<xsimd::avx512f, Arch>;

  template <bool kBias, bool kScaled>
  static float row_max(const float* x, const float* bias, int64_t n, float scale) {
    constexpr float kInf = std::numeric_limits<float>::infinity();
    // The raw max reads aligned vectors: rows 16 bytes off a line, 1 thread (Zen 4, interleaved
    // medians of 10-12 rounds): out of cache 512 columns +3.9%, 2048 +2.2%; in cache 256 +3%,
    // 512 +4%; aligned rows unchanged. Not below 256 columns: 128 lost 3.7% in cache (a head,
    // a masked tail and a longer max chain on 8 vectors).
    if constexpr (!kBias && !kScaled && kAvx512) {
      if (n >= 256) return AlignedRowAvx512<Arch>::max(x, n);
    }
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

  // The exponent of 2 in exp(t - max) = 2^u: u = (t - max) log2(e), here in the unit of
  // vexp2_nonpositive_scaled (kLog2eScaled carries it; all the same below). Folded into one FMA,
  // u = x (scale log2 e) - max log2 e, or with a bias u = t log2 e - max log2 e: the rounding of
  // the product and the shift add about 2 eps A to u (A = the largest |t| near the max), within
  // the 4 eps A that t and t - max carry in the two-step form. But the max's own u is then that
  // noise instead of exactly 0; for |max| <= kFoldedMax it stays under 2^-10, and larger maxima
  // (1e30 would give 2^(+-1e23)) take kTwoStep, which subtracts first.
  struct Shift {
    Vec scale, c, minus_mc, max;  // c = scale log2 e, minus_mc = -max log2 e
  };
  // u for a vector of raw x (no bias).
  template <bool kTwoStep>
  static inline Vec raw_exponent(Vec xv, const Shift& k) {
    if (kTwoStep) return (xv * k.scale - k.max) * Vec(kLog2eScaled);
    return xsimd::fma(xv, k.c, k.minus_mc);
  }
  template <bool kBias, bool kTwoStep>
  static inline Vec exponent(const float* x, const float* bias, int64_t i, const Shift& k) {
    if (!kBias) return raw_exponent<kTwoStep>(Vec::load_unaligned(x + i), k);
    if (kTwoStep) return (logits<true>(x, bias, i, k.scale) - k.max) * Vec(kLog2eScaled);
    return xsimd::fma(logits<true>(x, bias, i, k.scale), Vec(kLog2eScaled), k.minus_mc);
  }

  // The line of the next row at p, prefetched into L2 while this row computes (streaming rows
  // only). Into L1, the rows a few ahead (8 KiB) evicted this row and its staged exps, which at
  // 1024 columns (rows 4 KiB apart) share its sets. Zen 4, 16 Mi floats, interleaved medians:
  // AVX-512 1 thread 512 columns +8%, 1024 +34%; 2 threads 512 +10-17%; AVX2 1 thread 512 +6%,
  // 1024 +16%, 128-256 within the noise (rows from 2048 columns were prefetched so already).
  static inline void prefetch_next_line(const float* p) { __builtin_prefetch(p, 0, 2); }

  // A row whose exponentials (in y or a stage slot) wait for their 1/sum. The next row's exp pass
  // normalises it a vector at a time: that loop is bound by the FMA pipes and leaves the load and
  // store ports idle, so the normalise pass (~3 of ~13 cycles a vector in L1) no longer runs on
  // its own. Zen 4, rows in cache, interleaved medians: 512 columns 32.4 -> 34.6 GB/s, 2048
  // 32.8 -> 36.4, 8192 34.9 -> 38.4 (128: unchanged). Streaming rows keep their own pass: their
  // non-temporal stores, spread under the next row's exps, ran 2048 columns out of cache 23%
  // slower.
  struct Pending {
    const float* e = nullptr;  // the exponentials (in y, or in a stage slot); null: none pending
    float* y;
    float inv;
    int slot;  // the stage slot holding e, or -1
  };

  // Slot s (0 or 1) of the stage, for the exponentials of the row at x: half a page from x modulo
  // 4 KiB, so the slot's stores never share address bits 11:0 with the loads of x just ahead of
  // them. Such 4K aliasing makes a load wait for the store; with a slot that happened to sit just
  // below x, 512-column rows in cache ran 12% slower. The pending row holds the other slot. Fits
  // kSoftmaxStageFloats(n).
  static float* stage_slot(float* stage, int s, int64_t n, const float* x) {
    constexpr std::uintptr_t kPage = 4096;
    const std::uintptr_t bytes = static_cast<std::uintptr_t>(n) * sizeof(float);
    const std::uintptr_t base =
        reinterpret_cast<std::uintptr_t>(stage) +
        static_cast<std::uintptr_t>(s) * ((bytes + kPage - 1) / kPage * kPage + kPage);
    const std::uintptr_t want = (reinterpret_cast<std::uintptr_t>(x) + kPage / 2) % kPage / 64 * 64;
    return reinterpret_cast<float*>(base + (want + kPage - base % kPage) % kPage);
  }

  // The rest of a pending row of n floats from column i.
  static void drain_from(Pending& p, int64_t i, int64_t n) {
    if (p.e == nullptr) return;
    const Vec vinv(p.inv);
    for (; i + kW <= n; i += kW) (Vec::load_unaligned(p.e + i) * vinv).store_unaligned(p.y + i);
    for (; i < n; ++i) p.y[i] = p.e[i] * p.inv;
    p.e = nullptr;
  }

  // Vectors per step of the exp pass, their exponentials computed together
  // (vexp2_nonpositive_scaled of several vectors). Zen 2 (AVX2), rows in cache: 4 ran the degree-6
  // exp 4% faster on rows of 512 columns and more (2% slower at 128), but with the table form's
  // shorter chains 2 is faster (128 columns 13.2 -> 11.9 cycles a vector, 512: 10.5 -> 10.1).
  static constexpr int kExpStep = 2;
  static_assert(kExpStep % 2 == 0, "the exp pass alternates two sums");

  // exp(t - max) into e_out (unless null) and their sum, writing out `pending` on the way. next:
  // the next row, prefetched.
  template <bool kBias, bool kTwoStep, bool kDrain>
  static float exp_pass(const float* x, const float* bias, float* e_out, int64_t n, float scale,
                        float mx, const float* next, Pending& pending) {
    const Vec pinv(kDrain ? pending.inv : 0.0f);
    // In locals: a vector store may alias anything, so the loop reloaded pending's fields from
    // memory at every step.
    const float* pe = pending.e;
    float* py = pending.y;
    const Shift k{Vec(scale), Vec(scale * kLog2eScaled), Vec(-(mx * kLog2eScaled)), Vec(mx)};
    Vec s0(0.0f), s1(0.0f);
    int64_t i = 0;
    for (; i + kExpStep * kW <= n; i += kExpStep * kW) {
      if (next != nullptr) {  // the next row's lines, one per 16 floats
        for (int64_t line = i; line < i + kExpStep * kW; line += 16) {
          prefetch_next_line(next + line);
        }
      }
      Vec e[kExpStep];
      for (int j = 0; j < kExpStep; ++j) e[j] = exponent<kBias, kTwoStep>(x, bias, i + j * kW, k);
      vexp2_nonpositive_scaled<Arch, kExpStep>(e);
      if constexpr (kDrain) {  // the pending row, of the same length
        for (int j = 0; j < kExpStep; ++j) {
          (Vec::load_unaligned(pe + i + j * kW) * pinv).store_unaligned(py + i + j * kW);
        }
      }
      for (int j = 0; j < kExpStep; j += 2) {
        s0 += e[j];
        s1 += e[j + 1];
      }
      if (e_out != nullptr) {
        for (int j = 0; j < kExpStep; ++j) e[j].store_unaligned(e_out + i + j * kW);
      }
    }
    if constexpr (kDrain) drain_from(pending, i, n);
    float sum = xsimd::hadd(s0 + s1);
    if (i < n) {  // the tail through the same vector formula, from zero-padded copies
      alignas(64) float xt[kExpStep * kW] = {}, bt[kExpStep * kW] = {}, et[kExpStep * kW];
      std::copy(x + i, x + n, xt);
      if (kBias) std::copy(bias + i, bias + n, bt);
      for (int64_t j = 0; j < n - i; j += kW) {
        vexp2_nonpositive_scaled<Arch>(exponent<kBias, kTwoStep>(xt, bt, j, k))
            .store_aligned(et + j);
      }
      for (int64_t j = 0; j < n - i; ++j) {
        sum += et[j];
        if (e_out != nullptr) e_out[i + j] = et[j];
      }
    }
    return sum;
  }

  // The exp pass of a streaming row without bias, scale > 0, over aligned vectors of x: the
  // exponentials go to a stage slot at x's lane positions (half a page from x: at the fixed
  // stage, 8192-column rows ran 8% slower on 2 threads), and pass 3 streams them out from there.
  // Rows 16 bytes off a line, 16 Mi floats, 2 threads (Zen 4, interleaved medians of 10 rounds):
  // 512 columns +2.7%, 2048 +3.0%, 8192 +12%; 1 thread within +-2.5%.
  template <bool kTwoStep>
  static float stream_exp_aligned(const float* x, int64_t n, float scale, float mx, float* e,
                                  const float* next) {
    using Row = AlignedRowAvx512<Arch>;
    const Shift k{Vec(scale), Vec(scale * kLog2eScaled), Vec(-(mx * kLog2eScaled)), Vec(mx)};
    auto exp_of = [&](Vec v) {
      return vexp2_nonpositive_scaled<Arch>(raw_exponent<kTwoStep>(v, k));
    };
    const float* next_base = next == nullptr ? nullptr : next - Row::lanes_before(x);
    auto prefetch_next = [&](int64_t i) {
      if (next_base != nullptr) prefetch_next_line(next_base + i);
    };
    // Lanes outside the row enter the exp as the row's max (exp(0), an ordinary value); map_sum
    // zeroes them after it.
    return Row::map_sum(x, n, e, mx / scale, exp_of, prefetch_next);
  }

  // Rows of one group go through each pass together: the max reduction, the sum and the
  // reciprocal of one row are latency chains, which the other rows' passes overlap. At 128
  // columns (8 AVX-512 vectors) groups of 8 rows took a row from ~18 to ~15 cycles per vector.
  static constexpr int kMaxGroup = 8;
  // Group size for rows of n columns: the group's input and output within ~16 KiB of L1.
  // Streaming, AVX-512 groups rows below 256 columns, a group's 4 KiB of exps staged (which with
  // the gathered span fits kSoftmaxStageFloats(n) for any n): one at a time, 128-column rows lost
  // to plain stores; grouped, 16 Mi floats, HEAD vs this (ab.sh, 9 rounds, 3 runs each, a slow
  // hour): 128 columns aligned 1T 1.07-1.60x, 2T 1.52-1.93x; 16 bytes off 1T 1.14-1.37x, 2T
  // 1.09-1.39x; 200 columns 1T 1.30-1.63x, 2T 1.58-1.74x. Groups of 2 at 512 columns lost
  // 0.86-0.93x, of 4 at 256 were even (0.89-1.13x): larger rows keep one at a time.
  static int group_rows(int64_t n, bool stream) {
    if (stream) {
      if (!kAvx512 || n >= 256) return 1;
      return static_cast<int>(std::clamp<int64_t>(1024 / std::max<int64_t>(n, 1), 1, kMaxGroup));
    }
    return static_cast<int>(std::clamp<int64_t>(2048 / std::max<int64_t>(n, 1), 1, kMaxGroup));
  }

  // Where a streamed group's row r keeps its exponentials: 64-byte aligned rows of n + 32 floats
  // from stage slot 0 of the group's first row x.
  static float* stream_exps(float* stage, int r, int64_t n, const float* x) {
    const int64_t row = (n + 31) / 16 * 16;
    return stage_slot(stage, 0, n, x) + r * row;
  }

  // Whether run_rows gathers a streamed group of `rows` rows into one span in pass 3.
  static bool gathers(bool stream, bool bias, bool log, float scale, int rows, int64_t ldy,
                      int64_t n) {
    return kAvx512 && stream && !bias && !log && scale > 0.0f && rows > 1 && ldy == n;
  }

  // exp_pass for this row's max (kTwoStep when folding would lose accuracy) and pending rows.
  template <bool kBias, bool kDrain>
  static float exp_pass(const float* x, const float* bias, float* e_out, int64_t n, float scale,
                        float mx, const float* next, Pending& pending) {
    return std::fabs(mx) <= kFoldedMax
               ? exp_pass<kBias, false, kDrain>(x, bias, e_out, n, scale, mx, next, pending)
               : exp_pass<kBias, true, kDrain>(x, bias, e_out, n, scale, mx, next, pending);
  }

  // rows <= kMaxGroup rows: x + r ldx, bias + r ldbias, y + r ldy. stream: y is written once with
  // non-temporal stores, the exponentials staged in `stage` (n floats, cache-resident). Otherwise
  // they go to a stage slot (or to y without a stage), and the only store to y is the
  // normalise's, inside the next row's exp pass: an unaligned row splits a cache line at every
  // vector store, and this halves those stores (Zen 4, 128 columns out of cache, 16 bytes off
  // alignment: 21.5 -> 23.1 GB/s on 1 thread, 37.6 -> 40.2 on 2; rows in cache unchanged). next
  // (may be null), next_rows: row r's pass 2 prefetches next + r ldx for r < next_rows. pending: a
  // row from before, normalised here; on return the group's last plain row, which the caller passes
  // to the next group or finishes with drain_from.
  using LineCarry = typename StreamStore<Arch>::LineCarry;
  // A streamed row's output: through carry (rows contiguous in y), or on its own.
  static void stream_out(const float* e, float s, float* y, int64_t n, LineCarry* carry) {
    if (carry != nullptr) {
      StreamStore<Arch>::scale_carrying(e, s, y, n, *carry);
    } else {
      StreamStore<Arch>::scale(e, s, y, n);
    }
  }

  template <bool kBias>
  static void run_rows(const float* x, int64_t ldx, const float* bias, int64_t ldbias, float* y,
                       int64_t ldy, int rows, int64_t n, float scale, bool log, float* stage,
                       bool stream, const float* next, int next_rows, Pending& pending,
                       LineCarry* carry = nullptr) {
    constexpr float kInf = std::numeric_limits<float>::infinity();
    float mx[kMaxGroup], sums[kMaxGroup];
    auto bias_row = [&](int r) { return kBias ? bias + r * ldbias : nullptr; };
    const bool gathered = gathers(stream, kBias, log, scale, rows, ldy, n);
    // Pass 1: the max. For a positive scale, max(scale x) = scale max(x) exactly (rounding is
    // monotonic), which saves a multiply per element.
    for (int r = 0; r < rows; ++r) {
      mx[r] = !kBias && scale > 0.0f ? scale * row_max<false, false>(x + r * ldx, nullptr, n, scale)
                                     : row_max<kBias, true>(x + r * ldx, bias_row(r), n, scale);
    }
    // Pass 2: exp and sum, stored unless log-softmax (which recomputes t). Plain rows are then
    // pending, normalised under the next row's pass 2.
    for (int r = 0; r < rows; ++r) {
      if (mx[r] == -kInf) continue;  // every column masked, or NaN among -inf: pass 3 fills
      if constexpr (!kBias && kAvx512) {
        if (stream && !log && scale > 0.0f) {
          float* e = stream_exps(stage, r, n, x);
          const float* xr = x + r * ldx;
          const float* pre = r < next_rows ? next + r * ldx : nullptr;
          const float sum = std::fabs(mx[r]) <= kFoldedMax
                                ? stream_exp_aligned<false>(xr, n, scale, mx[r], e, pre)
                                : stream_exp_aligned<true>(xr, n, scale, mx[r], e, pre);
          if (gathered) {
            sums[r] = sum;
          } else {
            stream_out(e + AlignedRowAvx512<Arch>::lanes_before(xr), 1.0f / sum, y + r * ldy, n,
                       carry);
          }
          continue;
        }
      }
      const float* pre = r < next_rows ? next + r * ldx : nullptr;
      // The stage slot the pending row does not hold (without a stage, e goes to y).
      const int slot = stage == nullptr || stream                  ? -1
                       : pending.e != nullptr && pending.slot == 0 ? 1
                                                                   : 0;
      float* e_out = log         ? nullptr
                     : stream    ? stage
                     : slot >= 0 ? stage_slot(stage, slot, n, x + r * ldx)
                                 : y + r * ldy;
      const float sum = pending.e != nullptr
                            ? exp_pass<kBias, true>(x + r * ldx, bias_row(r), e_out, n, scale,
                                                    mx[r], pre, pending)
                            : exp_pass<kBias, false>(x + r * ldx, bias_row(r), e_out, n, scale,
                                                     mx[r], pre, pending);
      if (log) {
        log_normalise<kBias>(x + r * ldx, bias_row(r), y + r * ldy, n, scale,
                             mx[r] + std::log(sum));
      } else if (stream) {
        stream_out(stage, 1.0f / sum, y + r * ldy, n, carry);
      } else {
        pending = Pending{e_out, y + r * ldy, 1.0f / sum, slot};
      }
    }
    // Pass 3, a gathered group: its rows normalised from the stage into one span there, streamed
    // out as one after the masked rows are filled in.
    float* out = y;
    if constexpr (!kBias && kAvx512) {
      if (gathered) {
        out = stream_exps(stage, rows, n, x) + AlignedRowAvx512<Arch>::lanes_before(y);
        for (int r = 0; r < rows; ++r) {
          if (mx[r] == -kInf) continue;
          const float* e =
              stream_exps(stage, r, n, x) + AlignedRowAvx512<Arch>::lanes_before(x + r * ldx);
          StreamStore<Arch>::scale_plain(e, 1.0f / sums[r], out + r * n, 0, n);
        }
      }
    }
    const int64_t ldo = gathered ? n : ldy;
    // Rows with every column masked.
    for (int r = 0; r < rows; ++r) {
      if (mx[r] == -kInf)
        fill_masked<kBias>(x + r * ldx, bias_row(r), out + r * ldo, n, scale, log);
    }
    if (gathered) stream_out(out, 1.0f, y, rows * n, carry);  // a copy: times 1 is exact
  }

  // A row whose max is -inf: 0 (or -inf for log), NaN if any t is NaN (the vector max skips NaN).
  template <bool kBias>
  static void fill_masked(const float* x, const float* bias, float* y, int64_t n, float scale,
                          bool log) {
    constexpr float kInf = std::numeric_limits<float>::infinity();
    bool nan = false;
    for (int64_t j = 0; j < n; ++j) {
      const float t = logit<kBias>(x, bias, j, scale);
      nan |= t != t;
    }
    const float fill = nan ? std::numeric_limits<float>::quiet_NaN() : log ? -kInf : 0.0f;
    for (int64_t j = 0; j < n; ++j) y[j] = fill;
  }

  // Log-softmax: y = t - shift, shift = max + log(sum).
  template <bool kBias>
  static void log_normalise(const float* x, const float* bias, float* y, int64_t n, float scale,
                            float shift) {
    const Vec vshift(shift), vscale(scale);
    int64_t i = 0;
    for (; i + kW <= n; i += kW)
      (logits<kBias>(x, bias, i, vscale) - vshift).store_unaligned(y + i);
    for (; i < n; ++i) y[i] = logit<kBias>(x, bias, i, scale) - shift;
  }

  static void softmax_row(const float* x, const float* bias, float* y, int64_t n, float scale,
                          bool log, float* stage, const float* next) {
    Pending pending;
    const bool stream = stage != nullptr;
    if (bias != nullptr) {
      run_rows<true>(x, 0, bias, 0, y, 0, 1, n, scale, log, stage, stream, next, 1, pending);
    } else {
      run_rows<false>(x, 0, nullptr, 0, y, 0, 1, n, scale, log, stage, stream, next, 1, pending);
    }
    drain_from(pending, 0, n);
  }

  static void softmax_rows(const float* x, int64_t ldx, const float* bias, int64_t ldbias, float* y,
                           int64_t ldy, int64_t rows, int64_t n, float scale, bool log,
                           float* stage, bool stream, int64_t ahead) {
    const int group = group_rows(n, stream);
    Pending pending;  // carried from group to group
    // Streamed rows contiguous in y hand the line they end in to the next row (LineCarry): of the
    // run, only the last row's last line is written with plain stores.
    LineCarry carry;
    LineCarry* const carrying = stream && ldy == n ? &carry : nullptr;
    // Of a gathered group only the last row ends on a line written with plain stores.
    const bool gathered = gathers(stream, bias != nullptr, log, scale, group, ldy, n);
    for (int64_t r = 0; r < rows; r += group) {
      const int g = static_cast<int>(std::min<int64_t>(group, rows - r));
      // Streaming: each row prefetches the row `ahead` rows on while it computes.
      const int next_rows =
          stream ? static_cast<int>(std::clamp<int64_t>(rows - (r + ahead), 0, g)) : 0;
      const float* next = next_rows > 0 ? x + (r + ahead) * ldx : nullptr;
      for (int j = 0; j < next_rows; ++j) {
        const int64_t q = r + ahead + j;
        const bool plain_tail = carrying != nullptr
                                    ? q + 1 == rows
                                    : !gathered || (q + 1) % group == 0 || q + 1 == rows;
        if (plain_tail) prefetch_plain_tail(y + q * ldy, n);
      }
      if (bias != nullptr) {
        run_rows<true>(x + r * ldx, ldx, bias + r * ldbias, ldbias, y + r * ldy, ldy, g, n, scale,
                       log, stage, stream, next, next_rows, pending, carrying);
      } else {
        run_rows<false>(x + r * ldx, ldx, nullptr, 0, y + r * ldy, ldy, g, n, scale, log, stage,
                        stream, next, next_rows, pending, carrying);
      }
    }
    StreamStore<Arch>::flush(carry);
    drain_from(pending, 0, n);
  }
};

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
      // 2^(score - shift), the exponent in vexp2_nonpositive_scaled's unit: one FMA, as exact as
      // the subtraction (the unit is a power of two); in unit 1 the subtraction itself, which
      // stays off the FMA pipes.
      const Vec scaled_shift = shift * Vec(kExp2Units<Arch>);
      auto exp_at = [&](int row) {
        const Vec score = Vec::load_unaligned(st + row * ld + c);
        const Vec e = vexp2_nonpositive_scaled<Arch>(
            kExp2Units<Arch> == 1.0f ? score - shift
                                     : xsimd::fms(score, Vec(kExp2Units<Arch>), scaled_shift));
        e.store_unaligned(st + row * ld + c);
        return e;
      };
      Vec s0(0.0f), s1(0.0f);
      int r = 0;
      for (; r + 2 <= rows; r += 2) {
        s0 += exp_at(r);
        s1 += exp_at(r + 1);
      }
      if (r < rows) s0 += exp_at(r);
      new_max.store_unaligned(m + c);
      rescale.store_unaligned(alpha + c);
      xsimd::fma(Vec::load_unaligned(l + c), rescale, s0 + s1).store_unaligned(l + c);
    }
  }
};

}  // namespace cpuattn::detail
