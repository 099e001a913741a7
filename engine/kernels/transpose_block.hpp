// In-register transpose of a square block of floats, for the packing routines that turn rows into
// lanes (B^T into B panels, A rows into A panels, Q rows into query panels). The scalar gather it
// replaces spent a load and a store per float; a 16 x 16 block takes 16 loads, 64 shuffles and 16
// stores.
//
// block(src, ld, lanes, dst, ldd, scale): for lanes <= kSize source rows (src + l * ld, kSize
// contiguous floats each), dst[p * ldd + l] = src[l * ld + p] * scale for p < kSize, l < lanes.
// Only those lanes are read and written. kSize == 0: no vector transpose for this ISA.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <type_traits>
#include <xsimd/xsimd.hpp>

namespace cpuattn::detail {

template <class Arch, class Enable = void>
struct TransposeBlock {
  static constexpr int kSize = 0;
  static void block(const float*, int64_t, int, float*, int64_t, float) {}
};

template <class Arch>
struct TransposeBlock<Arch, std::enable_if_t<std::is_base_of_v<xsimd::avx512f, Arch>>> {
  static constexpr int kSize = 16;

  static void block(const float* src, int64_t ld, int lanes, float* dst, int64_t ldd, float scale) {
    __m512 r[16];
#pragma GCC unroll 16
    for (int l = 0; l < 16; ++l)
      r[l] = l < lanes ? _mm512_loadu_ps(src + l * ld) : _mm512_setzero_ps();
    // Pairs of rows interleaved by 32 bits, then by 64: r[4g + c] holds, in 128-bit lane j,
    // column 4j + c of rows 4g .. 4g + 3.
    __m512 t[16];
#pragma GCC unroll 4
    for (int g = 0; g < 4; ++g) {
      t[4 * g + 0] = _mm512_unpacklo_ps(r[4 * g + 0], r[4 * g + 1]);
      t[4 * g + 1] = _mm512_unpackhi_ps(r[4 * g + 0], r[4 * g + 1]);
      t[4 * g + 2] = _mm512_unpacklo_ps(r[4 * g + 2], r[4 * g + 3]);
      t[4 * g + 3] = _mm512_unpackhi_ps(r[4 * g + 2], r[4 * g + 3]);
    }
#pragma GCC unroll 4
    for (int g = 0; g < 4; ++g) {
      const __m512d a = _mm512_castps_pd(t[4 * g + 0]), b = _mm512_castps_pd(t[4 * g + 1]);
      const __m512d c = _mm512_castps_pd(t[4 * g + 2]), d = _mm512_castps_pd(t[4 * g + 3]);
      r[4 * g + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
      r[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
      r[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
      r[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    // 128-bit lanes: t[c] (c < 4) holds columns c and c + 8 of row groups 0 and 1; t[4 + c]
    // columns c + 4 and c + 12; t[8..15] the same for row groups 2 and 3.
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
      t[c] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88);
      t[4 + c] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xdd);
      t[8 + c] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88);
      t[12 + c] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xdd);
    }
    const __m512 vscale = _mm512_set1_ps(scale);
    const __mmask16 mask = static_cast<__mmask16>((1u << lanes) - 1);
    auto put = [&](int column, __m512 v) {
      _mm512_mask_storeu_ps(dst + column * ldd, mask, _mm512_mul_ps(v, vscale));
    };
#pragma GCC unroll 8
    for (int c = 0; c < 8; ++c) {
      put(c, _mm512_shuffle_f32x4(t[c], t[8 + c], 0x88));
      put(c + 8, _mm512_shuffle_f32x4(t[c], t[8 + c], 0xdd));
    }
  }
};

template <class Arch>
struct TransposeBlock<Arch, std::enable_if_t<std::is_base_of_v<xsimd::avx2, Arch> &&
                                             !std::is_base_of_v<xsimd::avx512f, Arch>>> {
  static constexpr int kSize = 8;

  static void block(const float* src, int64_t ld, int lanes, float* dst, int64_t ldd, float scale) {
    __m256 r[8];
#pragma GCC unroll 8
    for (int l = 0; l < 8; ++l)
      r[l] = l < lanes ? _mm256_loadu_ps(src + l * ld) : _mm256_setzero_ps();
    __m256 t[8];
#pragma GCC unroll 4
    for (int g = 0; g < 4; ++g) {
      t[2 * g] = _mm256_unpacklo_ps(r[2 * g], r[2 * g + 1]);
      t[2 * g + 1] = _mm256_unpackhi_ps(r[2 * g], r[2 * g + 1]);
    }
    // s[4h + c]: in each 128-bit half j, column 4j + c of rows 4h .. 4h + 3.
    __m256 s[8];
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      s[4 * h + 0] = _mm256_shuffle_ps(t[4 * h + 0], t[4 * h + 2], 0x44);
      s[4 * h + 1] = _mm256_shuffle_ps(t[4 * h + 0], t[4 * h + 2], 0xEE);
      s[4 * h + 2] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0x44);
      s[4 * h + 3] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0xEE);
    }
    const __m256 vscale = _mm256_set1_ps(scale);
    alignas(32) static constexpr int kLaneIds[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    const __m256i mask = _mm256_cmpgt_epi32(
        _mm256_set1_epi32(lanes), _mm256_load_si256(reinterpret_cast<const __m256i*>(kLaneIds)));
    auto put = [&](int column, __m256 v) {
      _mm256_maskstore_ps(dst + column * ldd, mask, _mm256_mul_ps(v, vscale));
    };
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
      put(c, _mm256_permute2f128_ps(s[c], s[4 + c], 0x20));
      put(c + 4, _mm256_permute2f128_ps(s[c], s[4 + c], 0x31));
    }
  }
};

}  // namespace cpuattn::detail
