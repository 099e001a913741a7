// Register tile per ISA: mr rows x (kNv vectors) columns of accumulators.
//  - AVX-512 (32 zmm): 12 x 32 = 24 accumulators + 2 B vectors + 1 broadcast. 12 broadcasts and
//    2 loads feed 24 FMAs (12 cycles on two FMA pipes), well within two loads per cycle.
//  - AVX2 / SSE (16 registers): 6 x 2 vectors = 12 accumulators + 2 + 1.
// 96 (the default flash block) is a multiple of every mr and nr here.
#pragma once

#include <type_traits>
#include <xsimd/xsimd.hpp>

namespace cpuattn::detail {

template <class Arch>
struct TileShape {
  static constexpr int kMr = std::is_base_of_v<xsimd::avx512f, Arch> ? 12 : 6;
  static constexpr int kNv = 2;
  static constexpr int kNr = kNv * static_cast<int>(xsimd::batch<float, Arch>::size);
};

}  // namespace cpuattn::detail
