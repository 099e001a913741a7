// Builds the kernel table for one xsimd architecture. Included only by engine/isa/*.cpp, each
// compiled with its own -m flags; every function here is a template on Arch, so the ISA variants
// never share a weak symbol.
#pragma once

#include <xsimd/xsimd.hpp>

#include "dispatch/kernel_table.hpp"
#include "kernels/elementwise.hpp"
#include "kernels/gemm_tile.hpp"
#include "kernels/pack.hpp"
#include "kernels/score_rows.hpp"
#include "kernels/softmax_row.hpp"
#include "kernels/stream_store.hpp"
#include "kernels/tile_shape.hpp"

namespace cpuattn::detail {

template <class Arch>
KernelTable make_kernel_table(Isa isa, const char* name) {
  KernelTable t{};
  t.isa = isa;
  t.name = name;
  t.mr = TileShape<Arch>::kMr;
  t.nr = TileShape<Arch>::kNr;
  t.vector_width = static_cast<int>(xsimd::batch<float, Arch>::size);
  t.gemm_tile_cols = &GemmTile<Arch>::template run<false>;
  t.gemm_tile_rows = &GemmTile<Arch>::template run<true>;
  t.pack_a = &Pack<Arch>::pack_a;
  t.pack_b = &Pack<Arch>::pack_b;
  t.softmax_row = &SoftmaxRow<Arch>::softmax_row;
  t.softmax_rows = &SoftmaxRow<Arch>::softmax_rows;
  t.online_softmax = &OnlineSoftmax<Arch>::run;
  t.score_rows = &ScoreRows<Arch>::run;
  t.exp = &Elementwise<Arch>::exp;
  t.exp2 = &Elementwise<Arch>::exp2;
  t.scale_copy = &Elementwise<Arch>::scale_copy;
  t.stream_fence = &StreamStore<Arch>::fence;
  return t;
}

}  // namespace cpuattn::detail
