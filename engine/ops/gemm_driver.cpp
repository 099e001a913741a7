#include "ops/gemm_driver.hpp"

#include <algorithm>
#include <cstdint>
#include <numeric>

#include "ops/gemm_skinny.hpp"

namespace cpuattn::detail {
namespace {

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}
int64_t round_up(int64_t a, int64_t b) {
  return ceil_div(a, b) * b;
}

// Below this many multiply-adds a second thread costs more to wake than it saves. 64^3 (2^18)
// split over 2 threads: 107 -> 150 GFLOP/s (Zen 4), so the bound sits one step below it.
constexpr int64_t kParallelMinFlops = int64_t{1} << 17;
// Products with k up to this run row panels outer (see make_plan).
constexpr int64_t kShortK = 128;

enum class ASource { kPacked, kRows, kCols };

struct Plan {
  const KernelTable* kt;
  int64_t mr, nr, mc, kc, nc;
  int64_t row_block;  // rows per A block: mc, or fewer for rows of A read in place far apart
  ASource a_source;
  int64_t tile_rows;  // rows per microkernel call: mr, or fewer for rows crowding one L1 set
  bool pack_b;
  bool prefetch_c;
  bool rows_outer;  // row panels outer, B strips inner
};

// The most cache lines that `rows` rows, `stride` floats apart, each `row_floats` wide from a line
// start, put into one L1 set: an L1 way is 4 KiB on every x86 core we target (64 sets of 64 B),
// so rows a power of two apart crowd into a few sets and evict each other between uses. Rows
// whose stride is not a whole number of lines drift across all the sets.
int64_t l1_lines_per_set(int64_t stride, int64_t rows, int64_t row_floats) {
  constexpr int64_t kSets = 64, kLine = 64;
  const int64_t bytes = stride * static_cast<int64_t>(sizeof(float));
  const int64_t row_lines = ceil_div(row_floats * static_cast<int64_t>(sizeof(float)), kLine);
  int64_t sets = kSets;
  if (bytes % kLine == 0) {
    const int64_t stride_lines = bytes / kLine % kSets;
    const int64_t distinct = kSets / std::gcd(stride_lines == 0 ? kSets : stride_lines, kSets);
    sets = std::min(kSets, distinct * row_lines);
  }
  return ceil_div(rows * row_lines, sets);
}

// Whether the mr rows of A read in place (a float of each per k step) evict each other: at
// lda = 1024 or 2048 all 12 rows share one set, beyond an 8-way L1 (Zen 4: 1024^3 and 2048^3 ran
// 10% faster packed). Six rows per set (lda = 512) still ran best in place. A 12-way L1 holds
// the 12 rows (Intel Xeon VM, 1 thread, against packing or 8-row tiles: 2048 x 64 x 2048 and
// 2048 x 128 x 2048 +10%, 1024^3 +1%, 2048^3 -0.5%).
bool rows_share_l1_sets(int64_t lda, int64_t mr, int l1_ways) {
  return l1_lines_per_set(lda, mr, 1) > l1_ways;
}

// Whether a kc x nr strip of B read in place, re-read by every row tile, stays in L1 with room
// for A and C: at most half of an 8-way L1's lines in any set. At 128^3 (ldb 512 bytes: 8 sets
// hold the strip's 128 lines) packing B took Zen 3 (AVX2) from 81 to 88 GFLOP/s on 1 thread and
// 147 to 158 on 2 (interleaved medians); 64^3 (4 lines a set) stays in place: packing cost 7%.
bool b_strip_thrashes_l1(int64_t ldb, int64_t k, int64_t nr) {
  return l1_lines_per_set(ldb, k, nr) > 4;
}

Plan make_plan(const ContextImpl& ctx, const GemmProblem& p) {
  Plan plan{};
  plan.kt = ctx.kernels;
  plan.mr = ctx.kernels->mr;
  plan.nr = ctx.kernels->nr;
  const GemmBlocking& blk = ctx.profile.gemm;
  plan.kc = blk.kc;
  plan.mc = std::max<int64_t>(plan.mr, blk.mc / plan.mr * plan.mr);
  plan.nc = std::max<int64_t>(plan.nr, blk.nc / plan.nr * plan.nr);
  // A in place when its rows are contiguous: the microkernel broadcasts from mr row streams,
  // and a scalar transposing pack cost ~10% at 512^3 (measured: 176 -> 193 GFLOP/s without it).
  // Rows that thrash one L1 set are packed, unless the product is too narrow for the packed
  // block to be reused (2048 x 64 x 2048 lost 25% packed). Contiguous columns (A transposed)
  // are read in place for narrow products only, where packing cannot be amortised.
  if (p.a_cs == 1 && (p.n <= 4 * plan.nr || !rows_share_l1_sets(p.a_rs, plan.mr, blk.l1_ways))) {
    plan.a_source = ASource::kRows;
  } else if (p.n <= 2 * plan.nr && p.a_rs == 1) {
    plan.a_source = ASource::kCols;
  } else {
    plan.a_source = ASource::kPacked;
  }
  // A block read in place whose rows are further apart than kc floats takes mc x lda floats
  // worth of L2's sets, not mc x kc: at 2048^3 (kc 1024) the half rows of A fill every way of
  // half the sets, and the B strips and C lines that map there evict them. Such blocks get
  // fewer rows, kc / lda of mc. Intel Xeon VM (2 MiB L2, mc 252), 1 thread, interleaved:
  // 2048^3 with mc 60 / 84 / 120 / 168 / 204 +2.0 / +2.7 / +2.1 / +1.1 / +1.0%.
  plan.row_block = plan.mc;
  if (plan.a_source == ASource::kRows && p.a_rs > plan.kc) {
    plan.row_block = std::max(plan.mr, plan.mc * plan.kc / p.a_rs / plan.mr * plan.mr);
  }
  // In-place rows that share one L1 set go 2/3 mr at a time (8 of 12 on AVX-512, no more than
  // the L1's ways): twelve evicted each other at every k step. Zen 4, 2048 x {64, 128} x 2048:
  // +5-6% on 1 thread, +14% at N = 64 on 2; 4-row tiles were slower than 8.
  plan.tile_rows =
      plan.a_source == ASource::kRows && rows_share_l1_sets(p.a_rs, plan.mr, blk.l1_ways)
          ? plan.mr * 2 / 3
          : plan.mr;
  // B in place needs unit column stride; pack it when many row tiles reuse it and it is larger
  // than one packed micro-panel (kc x nr) or its strips thrash L1: others stay in L1 as they are.
  // Or in place after all when the profile says B of this size reads well as it is
  // (b_in_place_kib).
  // Not when B's rows are a page or more apart: every k step then reads a new page, and rows a
  // whole number of pages apart fall into a few L1 and L2 sets besides (4 KiB: 32 of L2's 2048).
  // Zen 4, 1 thread, interleaved, packed against in place: 1024 x 1024 x 256 +8-12%, x 512 +4%,
  // 2048 x 2048 x 256 +8.5%, 512 x 1024 x 512 +30%, 384 x 1024 x 384 +39%, 2048 x 1024 x 128
  // +11%, rows 4.25-6 KiB apart (1024 x {1088, 1280, 1536} x 256) +5-8%; 2 threads +1.5-3.6%; a
  // loss only where few rows share the packing, k = 256 with 256 or 384 rows: -2-9%.
  const bool b_rows_page_apart = p.b_rs * static_cast<int64_t>(sizeof(float)) >= 4096;
  const bool b_reads_in_place =
      p.k <= plan.kc && !b_rows_page_apart &&
      p.k * p.n <= int64_t{blk.b_in_place_kib} * 1024 / static_cast<int64_t>(sizeof(float));
  plan.pack_b =
      p.b_cs != 1 || (p.m > 4 * plan.mr && !b_reads_in_place &&
                      (p.k * p.n > plan.kc * plan.nr || b_strip_thrashes_l1(p.b_rs, p.k, plan.nr)));
  // A C larger than the L2-sized A block (mc x kc) comes from L3 or DRAM at every tile store;
  // starting its lines early paid 8% at 2048 x 2048 x 64 (k short, stores frequent). Since the
  // tiles' stores no longer stall the next tile's argument loads (see compute_block) it pays
  // less: Intel Xeon VM, interleaved, without it: 2048 x 2048 x 64^T +0.7-1.6% (1 thread),
  // +2.4-3.6% (2), x 128^T -0.5% / +1.1%, 2048^3 -1.6% / -0.4%; only for tiles that read C
  // (beta != 0): x 64^T +1.2-2%, x 128^T -1.5-2.2%; its requests spread over the first 24 k
  // steps: +0-2.4% on those, AVX2 1024^3 and 2048^3 -2-2.6%. Kept as it was.
  plan.prefetch_c = p.m * p.n > plan.mc * plan.kc;
  // Short products (Q K^T at head_dim 64, 128) store a C tile every few dozen k steps: walking the
  // strips of one row panel keeps A's panel in L1 and writes C's rows front to back, where the
  // strip-major order re-read A from L2 and scattered the stores over mc rows (Zen 4, interleaved
  // medians: 2048 x 2048 x 64^T 84 -> 98 GFLOP/s, 512 x 512 x 64^T +7%; 2048 x 2048 x 128^T
  // 102 -> 107 on 1 thread, 197 -> 204 on 2, with 512 x 512 x 128^T unchanged).
  // Narrow products (P V: a few strips of B) likewise, whatever k: A's rows are then read from
  // memory once, not once per strip (Zen 4, 1 thread: 2048 x 128 x 2048 +3.6%, 4096 x 64 x 4096
  // +2.2%, 2048 x 64 x 2048 +1.1%; 2 threads 4096 x 64 x 4096 +5%).
  plan.rows_outer = plan.pack_b && (p.k <= kShortK || p.n <= 4 * plan.nr);
  return plan;
}

std::size_t a_pack_floats(const Plan& plan, int64_t mc) {
  return plan.a_source == ASource::kPacked
             ? static_cast<std::size_t>(round_up(mc, plan.mr) * plan.kc)
             : 0;
}
std::size_t tail_floats(const Plan& plan) {
  return static_cast<std::size_t>(plan.kc * plan.nr);
}

// Whether a packed B block of kcur x cols floats is larger than L2: twice the A block, which is
// sized to half of it. Such blocks come from L3 or memory a strip at a time.
bool b_block_exceeds_l2(const Plan& plan, int64_t kcur, int64_t cols) {
  return kcur * cols > 2 * plan.mc * plan.kc;
}

// Whether the first row tile of each strip packs B as it reads it (the microkernel's copying
// variant), instead of a packing pass before the block: the kernel's store port is idle, and the
// pass took 6% of 128^3. Intel Xeon VM, interleaved medians, buffers 16 bytes off a line, 1
// thread: 128^3 +1-2% (aligned +2-5%), 160^3 +3-6%, 256^3 +2-4%, 512^3 +0-1%; 2 threads even to
// +3%. Not for B transposed (a gather), nor for blocks larger than L2, which come from memory:
// the packing pass walks them row by row, a tile a strip at a time, its rows far apart.
bool packs_b_in_tiles(const Plan& plan, const GemmProblem& p, int64_t kcur, int64_t cols) {
  return plan.pack_b && p.b_cs == 1 && !b_block_exceeds_l2(plan, kcur, cols) &&
         p.b_rs * static_cast<int64_t>(sizeof(float)) < 4096;
}

// C[i0:i1, j0:j1] for one kc block; b is the packed B of columns [j0, j1) (or null: B in place).
// copy_b: bpack's whole strips are not packed yet; the first row tile of each copies its strip
// there as it reads it from B (the partial last strip is packed already).
void compute_block(const Plan& plan, const GemmProblem& p, int64_t i0, int64_t i1, int64_t j0,
                   int64_t j1, int64_t pc, int64_t kcur, float beta, float* bpack, bool copy_b,
                   float* apack, float* tail) {
  const KernelTable& kt = *plan.kt;
  if (plan.a_source == ASource::kPacked) {
    kt.pack_a(p.a + i0 * p.a_rs + pc * p.a_cs, p.a_rs, p.a_cs, i1 - i0, kcur, 1.0f, apack);
  }
  const bool rows = plan.a_source == ASource::kRows;
  const GemmTileFn tile = rows ? kt.gemm_tile_rows : kt.gemm_tile_cols;
  const GemmTileFn copying_tile = rows ? kt.gemm_tile_rows_copying_b : kt.gemm_tile_cols_copying_b;
  // Strip jr of B: packed, in place, or (a narrow last strip in place) padded into tail.
  auto b_strip = [&](int64_t jr, int64_t* ldb) -> const float* {
    const int64_t nn = std::min(plan.nr, j1 - jr);
    if (plan.pack_b) {
      *ldb = plan.nr;
      return bpack + ((jr - j0) / plan.nr) * kcur * plan.nr;
    }
    if (nn == plan.nr) {
      *ldb = p.b_rs;
      return p.b + pc * p.b_rs + jr;
    }
    kt.pack_b(p.b + pc * p.b_rs + jr * p.b_cs, p.b_rs, p.b_cs, kcur, nn, 1.0f, tail);
    *ldb = plan.nr;
    return tail;
  };
  // One TileArgs for the block, the fields that vary rewritten per tile: a fresh TileArgs{} per
  // tile was zeroed with `rep stos`, whose stores cannot forward to loads, so the kernel's first
  // reads of the fields it had left zero waited for every older store to drain, the previous
  // tile's C among them (9% of 512 x 512 x 64^T in `perf record`).
  TileArgs t{};
  t.k = kcur;
  t.ldc = p.ldc;
  t.alpha = p.alpha;
  t.beta = beta;
  t.row_scale = nullptr;
  t.prefetch_c = plan.prefetch_c;
  auto run = [&](int64_t ir, int64_t jr, const float* b, int64_t ldb, const float* pf = nullptr,
                 int64_t pf_lines = 0) {
    t.b_copy = nullptr;
    if (copy_b && ir == i0 && jr + plan.nr <= j1) {  // read B in place, packing the strip
      t.b_copy = bpack + ((jr - j0) / plan.nr) * kcur * plan.nr;
      b = p.b + pc * p.b_rs + jr;
      ldb = p.b_rs;
    }
    t.prefetch_b = pf;
    t.prefetch_b_lines = pf_lines;
    switch (plan.a_source) {
      case ASource::kPacked:
        t.a = apack + ((ir - i0) / plan.mr) * kcur * plan.mr;
        t.lda = plan.mr;
        break;
      case ASource::kRows:
        t.a = p.a + ir * p.a_rs + pc;
        t.lda = p.a_rs;
        break;
      case ASource::kCols:
        t.a = p.a + ir + pc * p.a_cs;
        t.lda = p.a_cs;
        break;
    }
    t.b = b;
    t.ldb = ldb;
    t.c = p.c + ir * p.ldc + jr;
    t.m = static_cast<int>(std::min(plan.tile_rows, i1 - ir));
    t.n = static_cast<int>(std::min(plan.nr, j1 - jr));
    (t.b_copy != nullptr ? copying_tile : tile)(t);
  };
  if (plan.rows_outer) {
    for (int64_t ir = i0; ir < i1; ir += plan.tile_rows) {
      for (int64_t jr = j0; jr < j1; jr += plan.nr) {
        int64_t ldb;
        const float* b = b_strip(jr, &ldb);
        run(ir, jr, b, ldb);
      }
    }
  } else {
    // A packed block larger than L2 comes from L3 a strip at a time: each row tile prefetches
    // its share of the next strip into L2, so the strip's first tile does not wait on it. Intel
    // Xeon VM (2 MiB L2), 1 thread: 1024^3 +4%, 2048^3 +7%; prefetching blocks that fit in L2
    // cost up to 3% (256^3). (Blocks that fit are the ones packs_b_in_tiles may copy: the copying
    // tiles never prefetch.)
    const bool prefetch = plan.pack_b && b_block_exceeds_l2(plan, kcur, j1 - j0);
    constexpr int64_t kLineFloats = 64 / sizeof(float);
    const int64_t strip_lines = kcur * plan.nr / kLineFloats;
    const int64_t tiles = ceil_div(i1 - i0, plan.tile_rows);
    const int64_t share = ceil_div(strip_lines, tiles);
    for (int64_t jr = j0; jr < j1; jr += plan.nr) {
      int64_t ldb;
      const float* b = b_strip(jr, &ldb);
      // After the last strip the next row block starts again at the first.
      const float* next = !prefetch ? nullptr : jr + plan.nr < j1 ? b + kcur * plan.nr : bpack;
      int64_t tile_index = 0;
      for (int64_t ir = i0; ir < i1; ir += plan.tile_rows, ++tile_index) {
        const int64_t first = tile_index * share;
        const int64_t lines =
            prefetch ? std::max<int64_t>(0, std::min(share, strip_lines - first)) : 0;
        run(ir, jr, b, ldb, lines > 0 ? next + first * kLineFloats : nullptr, lines);
      }
    }
  }
}

// The thread grid: pm row parts x pn column parts of C, one block per thread, each computed like
// a serial product (its own B packing, the same kc blocks in the same order, so every C element
// is summed alike whatever the thread count). parallel_for_static keeps a block on one core from
// call to call, with its parts of A, B and C in that core's caches.
// Each block is cut into up to 4 column pieces (tasks), which its worker takes first and a worker
// done early may take over, so a late or slowed core does not hold the call up by a whole block.
// Zen 4, 2 threads, the suite's shapes, interleaved medians of 3 rounds against the dynamic
// schedule of ~4 tasks per thread: 128^3 +5% (199 GFLOP/s), 2048 x 64 x 2048 +5%,
// 2048 x 2048 x {64, 128}^T +3%, 512^3 and 512 x 512 x 64^T -3%, the rest within +-1.5%.
struct Grid {
  int64_t pm, pn, rows, cols;  // rows per block (a multiple of mr), columns per block (of nr)
  int64_t subs, sub_cols;      // column pieces per block, their width (a multiple of nr)
};

// Column parts at least this wide win ties in make_grid.
constexpr int64_t kTieColumns = 128;

Grid make_grid(const Plan& plan, const GemmProblem& p, int threads) {
  // Among the factorisations threads = pm x pn, the smallest largest block, counted in whole
  // tiles (a partial tile costs the microkernel a full one); among those within 3% of it, the
  // least reading: each row part reads all of B, each column part all of A (and packs it again
  // when A is packed). 2048 x 64 x 2048 on 2 threads splits rows, not the two strips of B, which
  // would have both cores stream all 16 MiB of A. Ties go to more column parts when those are
  // at least kTieColumns wide (each core packs and keeps less of B; 2 threads, interleaved
  // medians: 512 x 512 x 128^T 204 -> 213 GFLOP/s, 1024^3 210 -> 213, 512 x 512 x 64^T
  // 197 -> 204), to row parts otherwise: a column boundary puts a line of every C row in both
  // cores' caches unless C's rows are 64-byte aligned, which narrow parts feel (64^3, C from a
  // std::vector: 0.77x the old dynamic schedule split by columns, 1.12x by rows).
  auto option = [&](int pn) {
    Grid g{};
    g.rows = round_up(ceil_div(p.m, threads / pn), plan.mr);
    g.cols = round_up(ceil_div(p.n, pn), plan.nr);
    g.pm = ceil_div(p.m, g.rows);
    g.pn = ceil_div(p.n, g.cols);
    return g;
  };
  auto work = [&](const Grid& g) {
    return static_cast<double>(std::min(g.rows, round_up(p.m, plan.mr))) *
           static_cast<double>(std::min(g.cols, round_up(p.n, plan.nr)));
  };
  auto reads = [&](const Grid& g) {
    return static_cast<double>(g.pm) * static_cast<double>(p.k * p.n) +
           static_cast<double>(g.pn) * static_cast<double>(p.m * p.k);
  };
  double least_work = work(option(1));
  for (int pn = 2; pn <= threads; ++pn) {
    if (threads % pn == 0) least_work = std::min(least_work, work(option(pn)));
  }
  Grid best{};
  // C's rows not 64-byte aligned (a std::vector's data is 16 bytes past a line): every column
  // boundary then splits a line of each row between two cores, which pass it back and forth at
  // the tile stores. Short products store often: with k <= kShortK, row parts win while they do
  // at most a quarter more tiles. Zen 4, 2 threads, C 16 bytes off, interleaved rounds, whose
  // VM ran in two states: 512 x 512 x 64^T +4.5% / +10%, 2048 x 2048 x 64^T +0.3% / +33%,
  // 2048 x 2048 x 128^T +0.2% / +24%, 128^3 -1% / +23%; C aligned: unchanged. Longer products
  // keep the rule below (512^3 by rows: -6%, B read by both cores).
  const bool c_lines_split =
      reinterpret_cast<std::uintptr_t>(p.c) % 64 != 0 || p.ldc % (64 / sizeof(float)) != 0;
  if (c_lines_split && p.k <= kShortK && work(option(1)) <= 1.25 * least_work) {
    best = option(1);
  } else {
    for (int pn = 1; pn <= threads; ++pn) {
      if (threads % pn != 0) continue;
      const Grid g = option(pn);
      if (work(g) > 1.03 * least_work) continue;
      const bool wide_columns = g.cols >= kTieColumns;
      if (best.pm == 0 || reads(g) < reads(best) || (reads(g) == reads(best) && wide_columns)) {
        best = g;
      }
    }
  }
  best.subs = 1;
  best.sub_cols = best.cols;
  if (threads > 1) {
    // Pieces of two strips at least, and none when A is packed: every piece packs its own A
    // (1024^3 on 2 threads: -6% with four).
    const int64_t strips = ceil_div(std::min(best.cols, p.n), plan.nr);
    best.subs = plan.a_source == ASource::kPacked ? 1 : std::clamp<int64_t>(strips / 2, 1, 4);
    best.sub_cols = round_up(ceil_div(best.cols, best.subs), plan.nr);
    best.subs = ceil_div(best.cols, best.sub_cols);
  }
  return best;
}

// Columns of one nc block of a task's cols: equal blocks, a multiple of nr, at most nc (itself a
// multiple of nr) and at most cols rounded up to nr.
int64_t column_block(const Plan& plan, int64_t cols) {
  return round_up(ceil_div(cols, ceil_div(cols, plan.nc)), plan.nr);
}
// So a packed B block of any task fits kc x min(nc, sub_cols).
std::size_t b_pack_floats(const Plan& plan, const Grid& g) {
  return plan.pack_b ? static_cast<std::size_t>(plan.kc * std::min(plan.nc, g.sub_cols)) : 0;
}

std::size_t task_scratch_floats(const Plan& plan, const Grid& g) {
  return b_pack_floats(plan, g) + a_pack_floats(plan, std::min(plan.mc, g.rows)) +
         tail_floats(plan);
}

void run_task(const Plan& plan, const Grid& g, const GemmProblem& p, int64_t task, float* scratch) {
  const int64_t block = task / g.subs, sub = task % g.subs;
  const int64_t i_begin = (block / g.pn) * g.rows;
  const int64_t j_begin = (block % g.pn) * g.cols + sub * g.sub_cols;
  const int64_t i_end = std::min(p.m, i_begin + g.rows);
  const int64_t j_end = std::min({p.n, (block % g.pn + 1) * g.cols, j_begin + g.sub_cols});
  if (i_begin >= i_end || j_begin >= j_end) return;
  float* bpack = scratch;
  float* apack = bpack + b_pack_floats(plan, g);
  float* tail = apack + a_pack_floats(plan, std::min(plan.mc, g.rows));
  // Row blocks of equal size, a multiple of mr, at most row_block; column blocks likewise up to nc.
  const int64_t nblocks = ceil_div(i_end - i_begin, plan.row_block);
  const int64_t mc = round_up(ceil_div(i_end - i_begin, nblocks), plan.mr);
  const int64_t nc = column_block(plan, j_end - j_begin);
  for (int64_t jc = j_begin; jc < j_end; jc += nc) {
    const int64_t j1 = std::min(j_end, jc + nc);
    for (int64_t pc = 0; pc < p.k; pc += plan.kc) {
      const int64_t kcur = std::min(plan.kc, p.k - pc);
      const float beta = pc == 0 ? p.beta : 1.0f;
      const bool copy_b = packs_b_in_tiles(plan, p, kcur, j1 - jc);
      if (copy_b) {  // the partial last strip only; the first row tile packs the others
        const int64_t whole = (j1 - jc) / plan.nr * plan.nr;
        if (whole < j1 - jc) {
          plan.kt->pack_b(p.b + pc * p.b_rs + jc + whole, p.b_rs, 1, kcur, j1 - jc - whole, 1.0f,
                          bpack + whole * kcur);
        }
      } else if (plan.pack_b) {
        plan.kt->pack_b(p.b + pc * p.b_rs + jc * p.b_cs, p.b_rs, p.b_cs, kcur, j1 - jc, 1.0f,
                        bpack);
      }
      for (int64_t ic = i_begin; ic < i_end; ic += mc) {
        compute_block(plan, p, ic, std::min(i_end, ic + mc), jc, j1, pc, kcur, beta, bpack,
                      copy_b && ic == i_begin, apack, tail);
      }
    }
  }
}

bool worth_parallel(const ContextImpl& ctx, const GemmProblem& p) {
  return ctx.threads() > 1 && p.m * p.n * p.k >= kParallelMinFlops;
}

// Columns per thread of a skinny product: equal parts, on kSkinnySplit boundaries.
int64_t skinny_part(const GemmProblem& p, int threads) {
  return round_up(ceil_div(p.n, threads), kSkinnySplit);
}

}  // namespace

std::size_t gemm_serial_scratch(const ContextImpl& ctx, const GemmProblem& p) {
  if (gemm_is_skinny(ctx.profile.gemm, p)) return gemm_skinny_scratch(p);
  const Plan plan = make_plan(ctx, p);
  return task_scratch_floats(plan, make_grid(plan, p, 1));
}

std::size_t gemm_parallel_scratch(const ContextImpl& ctx, const GemmProblem& p) {
  if (!worth_parallel(ctx, p) || gemm_is_skinny(ctx.profile.gemm, p))
    return gemm_serial_scratch(ctx, p);
  const Plan plan = make_plan(ctx, p);
  return task_scratch_floats(plan, make_grid(plan, p, ctx.threads()));
}

void gemm_serial(const ContextImpl& ctx, const GemmProblem& p, float* scratch) {
  if (gemm_is_skinny(ctx.profile.gemm, p)) {
    gemm_skinny(*ctx.kernels, p, 0, p.n, scratch);
    return;
  }
  const Plan plan = make_plan(ctx, p);
  run_task(plan, make_grid(plan, p, 1), p, 0, scratch);
}

void gemm_parallel(ContextImpl& ctx, const Workspace& ws, const GemmProblem& p) {
  if (!worth_parallel(ctx, p)) {
    gemm_serial(ctx, p, ws.worker(0));
    return;
  }
  if (gemm_is_skinny(ctx.profile.gemm, p)) {
    const int64_t part = skinny_part(p, ctx.threads());
    ctx.runtime->parallel_for_static(ceil_div(p.n, part), [&](int64_t begin, int64_t end) {
      float* scratch = ws.worker(worker_index());
      for (int64_t t = begin; t < end; ++t) {
        gemm_skinny(*ctx.kernels, p, t * part, std::min(p.n, (t + 1) * part), scratch);
      }
    });
    return;
  }
  const Plan plan = make_plan(ctx, p);
  const Grid g = make_grid(plan, p, ctx.threads());
  ctx.runtime->parallel_for_static(g.pm * g.pn * g.subs, [&](int64_t begin, int64_t end) {
    float* scratch = ws.worker(worker_index());
    for (int64_t t = begin; t < end; ++t) run_task(plan, g, p, t, scratch);
  });
}

}  // namespace cpuattn::detail
