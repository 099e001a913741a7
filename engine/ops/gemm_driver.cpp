#include "ops/gemm_driver.hpp"

#include <algorithm>
#include <numeric>

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
  ASource a_source;
  int64_t tile_rows;  // rows per microkernel call: mr, or fewer for rows crowding one L1 set
  bool pack_b;
  bool prefetch_c;
  bool rows_outer;  // row panels outer, B strips inner
};

// Whether mr rows lda floats apart crowd into so few L1 sets that they evict each other between
// uses: an L1 way is 4 KiB on every x86 core we target (64 sets of 64 B), and at lda = 1024 or
// 2048 all 12 rows share one set, beyond an 8-way L1 (Zen 4: 1024^3 and 2048^3 ran 10% faster
// packed). Six rows per set (lda = 512) still ran best in place.
bool rows_share_l1_sets(int64_t lda, int64_t mr) {
  constexpr int64_t kSets = 64, kLine = 64;
  const int64_t bytes = lda * static_cast<int64_t>(sizeof(float));
  if (bytes % kLine != 0) return false;  // rows drift across sets
  const int64_t stride_lines = bytes / kLine % kSets;
  const int64_t distinct = kSets / std::gcd(stride_lines == 0 ? kSets : stride_lines, kSets);
  const int64_t rows_per_set = (mr + std::min(distinct, mr) - 1) / std::min(distinct, mr);
  return rows_per_set > 6;
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
  if (p.a_cs == 1 && (p.n <= 4 * plan.nr || !rows_share_l1_sets(p.a_rs, plan.mr))) {
    plan.a_source = ASource::kRows;
  } else if (p.n <= 2 * plan.nr && p.a_rs == 1) {
    plan.a_source = ASource::kCols;
  } else {
    plan.a_source = ASource::kPacked;
  }
  // In-place rows that share one L1 set go 2/3 mr at a time (8 of 12 on AVX-512, no more than
  // the L1's ways): twelve evicted each other at every k step. Zen 4, 2048 x {64, 128} x 2048:
  // +5-6% on 1 thread, +14% at N = 64 on 2; 4-row tiles were slower than 8.
  plan.tile_rows = plan.a_source == ASource::kRows && rows_share_l1_sets(p.a_rs, plan.mr)
                       ? plan.mr * 2 / 3
                       : plan.mr;
  // B in place needs unit column stride; pack it when many row tiles reuse it and it is larger
  // than one packed micro-panel (kc x nr): smaller ones stay in L1 as they are, and copying them
  // cost 7% at 64^3.
  plan.pack_b = p.b_cs != 1 || (p.m > 4 * plan.mr && p.k * p.n > plan.kc * plan.nr);
  // A C larger than the L2-sized A block (mc x kc) comes from L3 or DRAM at every tile store;
  // starting its lines early paid 8% at 2048 x 2048 x 64 (k short, stores frequent).
  plan.prefetch_c = p.m * p.n > plan.mc * plan.kc;
  // Short products (Q K^T at head_dim 64, 128) store a C tile every few dozen k steps: walking the
  // strips of one row panel keeps A's panel in L1 and writes C's rows front to back, where the
  // strip-major order re-read A from L2 and scattered the stores over mc rows (Zen 4, interleaved
  // medians: 2048 x 2048 x 64^T 84 -> 98 GFLOP/s, 512 x 512 x 64^T +7%; 2048 x 2048 x 128^T
  // 102 -> 107 on 1 thread, 197 -> 204 on 2, with 512 x 512 x 128^T unchanged).
  plan.rows_outer = plan.pack_b && p.k <= kShortK;
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

// C[i0:i1, j0:j1] for one kc block; b is the packed B of columns [j0, j1) (or null: B in place).
void compute_block(const Plan& plan, const GemmProblem& p, int64_t i0, int64_t i1, int64_t j0,
                   int64_t j1, int64_t pc, int64_t kcur, float beta, const float* bpack,
                   float* apack, float* tail) {
  const KernelTable& kt = *plan.kt;
  if (plan.a_source == ASource::kPacked) {
    kt.pack_a(p.a + i0 * p.a_rs + pc * p.a_cs, p.a_rs, p.a_cs, i1 - i0, kcur, 1.0f, apack);
  }
  const GemmTileFn tile = plan.a_source == ASource::kRows ? kt.gemm_tile_rows : kt.gemm_tile_cols;
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
  auto run = [&](int64_t ir, int64_t jr, const float* b, int64_t ldb) {
    TileArgs t{};
    t.k = kcur;
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
    t.ldc = p.ldc;
    t.m = static_cast<int>(std::min(plan.tile_rows, i1 - ir));
    t.n = static_cast<int>(std::min(plan.nr, j1 - jr));
    t.alpha = p.alpha;
    t.beta = beta;
    t.row_scale = nullptr;
    t.prefetch_c = plan.prefetch_c;
    tile(t);
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
    for (int64_t jr = j0; jr < j1; jr += plan.nr) {
      int64_t ldb;
      const float* b = b_strip(jr, &ldb);
      for (int64_t ir = i0; ir < i1; ir += plan.tile_rows) run(ir, jr, b, ldb);
    }
  }
}

// The task grid: tm row ranges x tn column parts. One task runs the whole pc loop for its block,
// packing its own B columns, so a product needs one fork-join and every C element is still summed
// over the same kc blocks in the same order.
struct Grid {
  int64_t tm, tn, rows, part;  // rows per task (multiple of mr), columns per part (of nr)
};

Grid make_grid(const Plan& plan, const GemmProblem& p, int threads) {
  Grid g{};
  const int64_t strips = ceil_div(p.n, plan.nr);
  g.tn = ceil_div(p.n, plan.nc);
  g.tm = 1;
  if (threads > 1) {
    // About four tasks per thread, so unequal blocks even out under the dynamic schedule. Split
    // columns first (each B strip is packed once); rows only when the columns run out. A packed
    // A is packed again by every column part, so then one part per thread: at 1024^3 on 2
    // threads eight parts packed A eight times (32 MiB of transposing copies for 2 GFLOP).
    const int64_t target = plan.a_source == ASource::kPacked ? threads : 4 * threads;
    g.tn = std::min(strips, std::max(g.tn, target));
    g.tm = std::min(ceil_div(p.m, plan.mr), ceil_div(target, g.tn));
  }
  g.part = round_up(ceil_div(p.n, g.tn), plan.nr);
  g.tn = ceil_div(p.n, g.part);
  g.rows = round_up(ceil_div(p.m, g.tm), plan.mr);
  g.tm = ceil_div(p.m, g.rows);
  return g;
}

std::size_t task_scratch_floats(const Plan& plan, const Grid& g) {
  const std::size_t b = plan.pack_b ? static_cast<std::size_t>(plan.kc * g.part) : 0;
  return b + a_pack_floats(plan, std::min(plan.mc, g.rows)) + tail_floats(plan);
}

void run_task(const Plan& plan, const Grid& g, const GemmProblem& p, int64_t task, float* scratch) {
  const int64_t i_begin = (task / g.tn) * g.rows, j0 = (task % g.tn) * g.part;
  const int64_t i_end = std::min(p.m, i_begin + g.rows), j1 = std::min(p.n, j0 + g.part);
  if (i_begin >= i_end || j0 >= j1) return;
  float* bpack = scratch;
  float* apack = bpack + (plan.pack_b ? plan.kc * g.part : 0);
  float* tail = apack + a_pack_floats(plan, std::min(plan.mc, g.rows));
  // Row blocks of equal size, a multiple of mr, at most mc.
  const int64_t nblocks = ceil_div(i_end - i_begin, plan.mc);
  const int64_t mc = round_up(ceil_div(i_end - i_begin, nblocks), plan.mr);
  for (int64_t pc = 0; pc < p.k; pc += plan.kc) {
    const int64_t kcur = std::min(plan.kc, p.k - pc);
    const float beta = pc == 0 ? p.beta : 1.0f;
    if (plan.pack_b) {
      plan.kt->pack_b(p.b + pc * p.b_rs + j0 * p.b_cs, p.b_rs, p.b_cs, kcur, j1 - j0, 1.0f, bpack);
    }
    for (int64_t ic = i_begin; ic < i_end; ic += mc) {
      compute_block(plan, p, ic, std::min(i_end, ic + mc), j0, j1, pc, kcur, beta, bpack, apack,
                    tail);
    }
  }
}

bool worth_parallel(const ContextImpl& ctx, const GemmProblem& p) {
  return ctx.threads() > 1 && p.m * p.n * p.k >= kParallelMinFlops;
}

}  // namespace

std::size_t gemm_serial_scratch(const ContextImpl& ctx, const GemmProblem& p) {
  const Plan plan = make_plan(ctx, p);
  return task_scratch_floats(plan, make_grid(plan, p, 1));
}

std::size_t gemm_parallel_scratch(const ContextImpl& ctx, const GemmProblem& p) {
  if (!worth_parallel(ctx, p)) return gemm_serial_scratch(ctx, p);
  const Plan plan = make_plan(ctx, p);
  return task_scratch_floats(plan, make_grid(plan, p, ctx.threads()));
}

void gemm_serial(const ContextImpl& ctx, const GemmProblem& p, float* scratch) {
  const Plan plan = make_plan(ctx, p);
  const Grid g = make_grid(plan, p, 1);
  for (int64_t t = 0; t < g.tm * g.tn; ++t) run_task(plan, g, p, t, scratch);
}

void gemm_parallel(ContextImpl& ctx, const Workspace& ws, const GemmProblem& p) {
  if (!worth_parallel(ctx, p)) {
    gemm_serial(ctx, p, ws.worker(0));
    return;
  }
  const Plan plan = make_plan(ctx, p);
  const Grid g = make_grid(plan, p, ctx.threads());
  ctx.runtime->parallel_for(g.tm * g.tn, 1, [&](int64_t begin, int64_t end) {
    float* scratch = ws.worker(worker_index());
    for (int64_t t = begin; t < end; ++t) run_task(plan, g, p, t, scratch);
  });
}

}  // namespace cpuattn::detail
