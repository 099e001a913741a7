// Packing into the panel layouts the microkernel streams (contract in kernel_table.hpp). The
// unit-stride cases copy vectors; the transposing ones gather, and run once per block.
#pragma once

#include <algorithm>
#include <cstdint>
#include <xsimd/xsimd.hpp>

#include "kernels/tile_shape.hpp"
#include "kernels/transpose_block.hpp"

namespace cpuattn::detail {

template <class Arch>
struct Pack {
  using Vec = xsimd::batch<float, Arch>;
  static constexpr int kW = static_cast<int>(Vec::size);
  static constexpr int kMr = TileShape<Arch>::kMr;
  static constexpr int kNr = TileShape<Arch>::kNr;
  // How many lanes ahead the transposing gather prefetches.
  static constexpr int64_t kPrefetchLanes = 8;

  // Panels of `width` lanes: dst[panel][p][lane] = src[(panel*width + lane) * lane_stride +
  // p * depth_stride] * scale, zero past `lanes`.
  template <int kWidth>
  static void panels(const float* src, int64_t lane_stride, int64_t depth_stride, int64_t lanes,
                     int64_t depth, float scale, float* dst) {
    int64_t l_begin = 0;
    if constexpr (kWidth % kW == 0) {
      if (lane_stride == 1) {
        whole_panels_by_depth<kWidth>(src, depth_stride, lanes / kWidth, depth, Vec(scale), dst);
        l_begin = lanes / kWidth * kWidth;
        dst += (lanes / kWidth) * depth * kWidth;
      }
    }
    for (int64_t l0 = l_begin; l0 < lanes; l0 += kWidth) {
      const int64_t nl = std::min<int64_t>(kWidth, lanes - l0);
      const float* s = src + l0 * lane_stride;
      if (lane_stride == 1) {
        for (int64_t p = 0; p < depth; ++p) {
          const float* sp = s + p * depth_stride;
          float* d = dst + p * kWidth;
          for (int64_t l = 0; l < nl; ++l) d[l] = sp[l] * scale;
          for (int64_t l = nl; l < kWidth; ++l) d[l] = 0.0f;
        }
      } else if (depth_stride == 1 && Block::kSize > 0) {
        transpose_panel(s, lane_stride, nl, depth, lanes - l0 - nl, scale, dst, kWidth);
        for (int64_t p = 0; p < depth; ++p) {
          for (int64_t l = nl; l < kWidth; ++l) dst[p * kWidth + l] = 0.0f;
        }
      } else {
        // Transposing gather: walk each lane's source run (contiguous when depth_stride == 1),
        // 64 depths at a time so the kWidth x 64 destination block stays in L1 across lanes
        // (unblocked, a 1024-deep panel of 128 KiB went through L2 once per lane).
        constexpr int64_t kDepthBlock = 64;
        for (int64_t p0 = 0; p0 < depth; p0 += kDepthBlock) {
          const int64_t p1 = std::min(depth, p0 + kDepthBlock);
          for (int64_t l = 0; l < nl; ++l) {
            const float* sl = s + l * lane_stride;
            if (depth_stride == 1 && l0 + l + kPrefetchLanes < lanes) {
              // Lanes far apart (Q or K rows of one head, 3 KiB apart in BSHD) defeat the
              // hardware prefetcher: each row's lines missed in turn, ~6x slower than from L1.
              const float* ahead = sl + kPrefetchLanes * lane_stride;
              for (int64_t p = p0; p < p1; p += 16) __builtin_prefetch(ahead + p);
            }
            for (int64_t p = p0; p < p1; ++p) dst[p * kWidth + l] = sl[p * depth_stride] * scale;
          }
        }
        for (int64_t p = 0; p < depth; ++p) {
          for (int64_t l = nl; l < kWidth; ++l) dst[p * kWidth + l] = 0.0f;
        }
      }
      dst += depth * kWidth;
    }
  }

  // How many depths whole_panels_by_depth takes across every panel before the next ones.
  static constexpr int64_t kDepthRun = 8;

  // `count` whole panels of contiguous lanes: a few depths (source rows) across every panel,
  // then the next few. Panel by panel, the kc rows of one panel's strip (4 KiB apart for a
  // 1024-wide B) fell into a few cache sets and were evicted before the next panel's strip,
  // which then read the same lines again from L3.
  template <int kWidth>
  static void whole_panels_by_depth(const float* src, int64_t depth_stride, int64_t count,
                                    int64_t depth, Vec vscale, float* dst) {
    for (int64_t p0 = 0; p0 < depth; p0 += kDepthRun) {
      const int64_t p1 = std::min(depth, p0 + kDepthRun);
      for (int64_t panel = 0; panel < count; ++panel) {
        const float* s = src + panel * kWidth;
        float* d = dst + panel * depth * kWidth;
        for (int64_t p = p0; p < p1; ++p) {
          for (int v = 0; v < kWidth; v += kW) {
            (Vec::load_unaligned(s + p * depth_stride + v) * vscale)
                .store_unaligned(d + p * kWidth + v);
          }
        }
      }
    }
  }

  using Block = TransposeBlock<Arch>;

  // Lanes [0, nl) of one panel (width floats a depth) from nl rows of contiguous depths at src +
  // l * lane_stride, in kSize x kSize register transposes; depths past the last whole block go
  // one float at a time. Rows of the next kSize lanes (`after` of them follow this panel's) are
  // prefetched a line per block: rows far apart (Q or K rows of one head, 3 KiB apart in BSHD)
  // each miss in turn otherwise, which the hardware prefetcher does not foresee.
  static void transpose_panel(const float* src, int64_t lane_stride, int64_t nl, int64_t depth,
                              int64_t after, float scale, float* dst, int64_t width) {
    // Never called without a vector transpose (kSize 0); 1 keeps the division defined there.
    constexpr int kT = Block::kSize > 0 ? Block::kSize : 1;
    const int64_t whole = depth / kT * kT;
    for (int64_t l0 = 0; l0 < nl; l0 += kT) {
      const int lanes = static_cast<int>(std::min<int64_t>(kT, nl - l0));
      const float* rows = src + l0 * lane_stride;
      const int64_t ahead = std::min<int64_t>(kT, nl - l0 - lanes + after);
      for (int64_t p = 0; p < whole; p += kT) {
        for (int64_t l = 0; l < ahead; ++l)
          __builtin_prefetch(rows + (lanes + l) * lane_stride + p);
        Block::block(rows + p, lane_stride, lanes, dst + p * width + l0, width, scale);
      }
      for (int64_t l = 0; l < lanes; ++l) {
        for (int64_t p = whole; p < depth; ++p) {
          dst[p * width + l0 + l] = rows[l * lane_stride + p] * scale;
        }
      }
    }
  }

  static void pack_a(const float* src, int64_t rs, int64_t cs, int64_t m, int64_t k, float scale,
                     float* dst) {
    panels<kMr>(src, rs, cs, m, k, scale, dst);
  }
  static void pack_b(const float* src, int64_t rs, int64_t cs, int64_t k, int64_t n, float scale,
                     float* dst) {
    panels<kNr>(src, cs, rs, n, k, scale, dst);
  }
};

}  // namespace cpuattn::detail
