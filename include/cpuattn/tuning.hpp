// Block sizes are data: chosen per CPU from its cache sizes (or a measured profile file) and
// handed down to the drivers, never read from globals, so tests can force tiny blocks.
#pragma once

#include <string>

namespace cpuattn {

struct GemmBlocking {
  int mc = 0;  // rows of A packed per block: mc x kc floats should sit in L2
  int kc = 0;  // depth of one rank-kc update: kc x nr (B) + mr x kc (A) should sit in L1
  int nc = 0;  // columns of B packed per block: kc x nc floats should sit in L3 (or half of L2)
  // B (unit column stride, k <= kc) of at most this many KiB is read in place, not packed, even
  // where every row tile re-reads it; 0: packed whenever it is reused.
  int b_in_place_kib = 0;
  // Ways of the L1 data cache: rows of A read in place may share one L1 set up to this many
  // (12 rows 16 KiB apart then stay in a 12-way L1), beyond it A is packed.
  int l1_ways = 8;
};

struct TuningProfile {
  GemmBlocking gemm;
  int attn_q_block = 0;       // queries per flash block (rounded to the kernel's tile)
  int attn_kv_block = 0;      // keys per flash block (rounded to the kernel's tile)
  int attn_kv_group_kib = 0;  // K and V packed per group of heads, KiB (one head at least)
  int parallel_grain = 1;     // minimum tasks per chunk handed to one thread
  // Softmax rows (in cache) of up to this many columns keep their exponentials in a staging
  // buffer until the row's sum is known; longer rows keep them in the output and normalise it in
  // place (a row, its exponentials, and the previous row's would no longer fit in L1). The
  // default profile takes it from the L1 size (L1 / 16 bytes); 2048 suits a 32 KiB L1.
  int softmax_stage_max_cols = 2048;
  std::string source;  // "defaults from caches: L1 48K L2 1024K ..." or the file it came from
};

}  // namespace cpuattn
