// Builds the kernel table for one xsimd architecture. Included only by engine/isa/*.cpp, each
// compiled with its own -m flags; every function here is a template on Arch, so the ISA variants
// never share a weak symbol.
#pragma once

#include <xsimd/xsimd.hpp>

#include "dispatch/kernel_table.hpp"
#include "kernels/axpy_rows.hpp"
#include "kernels/dot_rows.hpp"
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
  t.gemm_tile_cols_copying_b = &GemmTile<Arch>::template run_copying_b<false>;
  t.gemm_tile_rows_copying_b = &GemmTile<Arch>::template run_copying_b<true>;
  t.pack_a = &Pack<Arch>::pack_a;
  t.pack_b = &Pack<Arch>::pack_b;
  t.axpy_rows = &AxpyRows<Arch>::run;
  t.dot_rows = &DotRows<Arch>::run;
  t.softmax_row = &SoftmaxRow<Arch>::softmax_row;
  t.softmax_rows = &SoftmaxRow<Arch>::softmax_rows;
  t.online_softmax = &OnlineSoftmax<Arch>::run;
  t.score_rows = &ScoreRows<Arch>::run;
  t.exp = &Elementwise<Arch>::exp;
  t.exp2 = &Elementwise<Arch>::exp2;
  t.scale_copy = &Elementwise<Arch>::scale_copy;
  t.stream_fence = &StreamStore<Arch>::fence;
  t.stream_fill = &StreamStore<Arch>::fill;
  // 16 Mi floats in and out. AVX2 (Zen 3), whose streaming rows take the same exp pass as the
  // others, with whole lines streamed (StreamStore::scale): 128 columns 10.6-11.0 -> 12.8-14.5
  // GB/s on 1 thread at every offset of the rows in their lines, 120 columns +20%, 100 even; 64
  // lost 15-40%. SSE4.2 and generic, compute-bound at ~5 GB/s, within +-3% either way. AVX-512
  // (Zen 4): streamed one at a time, rows of 128 columns lost to plain stores (aligned 0.67x on 1
  // thread); streamed in groups (SoftmaxRow::group_rows) they win, numbers there; 64 columns
  // still lost on rows 16 bytes off a line (0.66-0.84x on 1 thread).
  t.softmax_stream_min_columns = 128;
  return t;
}

}  // namespace cpuattn::detail
