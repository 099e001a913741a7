#include "ops/gemm_driver.hpp"

#include <algorithm>

namespace cpuattn::detail {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

// Below this many multiply-adds a second thread costs more to wake than it saves.
constexpr int64_t kParallelMinFlops = int64_t{1} << 19;

enum class ASource { kPacked, kRows, kCols };

struct Plan {
  const KernelTable* kt;
  int64_t mr, nr, mc, kc, nc;
  ASource a_source;
  bool pack_b;
};

Plan make_plan(const ContextImpl& ctx, const GemmProblem& p) {
  Plan plan{};
  plan.kt = ctx.kernels;
  plan.mr = ctx.kernels->mr;
  plan.nr = ctx.kernels->nr;
  const GemmBlocking& blk = ctx.profile.gemm;
  plan.kc = blk.kc;
  plan.mc = std::max<int64_t>(plan.mr, blk.mc / plan.mr * plan.mr);
  plan.nc = std::max<int64_t>(plan.nr, blk.nc / plan.nr * plan.nr);
  // A in place while its rows or columns are contiguous and it is swept by few column strips;
  // otherwise packing mr-row panels (no cache-set conflicts, one stream) pays for itself.
  if (p.n <= 2 * plan.nr && p.a_cs == 1) {
    plan.a_source = ASource::kRows;
  } else if (p.n <= 2 * plan.nr && p.a_rs == 1) {
    plan.a_source = ASource::kCols;
  } else {
    plan.a_source = ASource::kPacked;
  }
  // B in place needs unit column stride; pack it when many row tiles reuse it.
  plan.pack_b = p.b_cs != 1 || p.m > 4 * plan.mr;
  return plan;
}

std::size_t a_pack_floats(const Plan& plan, int64_t mc) {
  return plan.a_source == ASource::kPacked ? static_cast<std::size_t>(round_up(mc, plan.mr) * plan.kc)
                                           : 0;
}
std::size_t b_pack_floats(const Plan& plan, int64_t n) {
  return plan.pack_b ? static_cast<std::size_t>(plan.kc * round_up(std::min(n, plan.nc), plan.nr))
                     : 0;
}
std::size_t tail_floats(const Plan& plan) { return static_cast<std::size_t>(plan.kc * plan.nr); }

// C[i0:i1, jc+j0 : jc+j1] for one kc block: packs its A rows, then the jr / ir loops.
void compute_block(const Plan& plan, const GemmProblem& p, int64_t i0, int64_t i1, int64_t jc,
                   int64_t j0, int64_t j1, int64_t pc, int64_t kcur, float beta,
                   const float* bpack, float* worker) {
  float* apack = worker;
  float* tail = worker + a_pack_floats(plan, i1 - i0);
  const KernelTable& kt = *plan.kt;
  if (plan.a_source == ASource::kPacked) {
    kt.pack_a(p.a + i0 * p.a_rs + pc * p.a_cs, p.a_rs, p.a_cs, i1 - i0, kcur, 1.0f, apack);
  }
  const GemmTileFn tile =
      plan.a_source == ASource::kRows ? kt.gemm_tile_rows : kt.gemm_tile_cols;
  for (int64_t jr = j0; jr < j1; jr += plan.nr) {
    const int nn = static_cast<int>(std::min(plan.nr, j1 - jr));
    const float* b;
    int64_t ldb;
    if (plan.pack_b) {
      b = bpack + (jr / plan.nr) * kcur * plan.nr;
      ldb = plan.nr;
    } else if (nn == plan.nr) {
      b = p.b + pc * p.b_rs + (jc + jr);
      ldb = p.b_rs;
    } else {  // the microkernel reads nr columns: pad the last strip
      kt.pack_b(p.b + pc * p.b_rs + (jc + jr) * p.b_cs, p.b_rs, p.b_cs, kcur, nn, 1.0f, tail);
      b = tail;
      ldb = plan.nr;
    }
    for (int64_t ir = i0; ir < i1; ir += plan.mr) {
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
      t.c = p.c + ir * p.ldc + jc + jr;
      t.ldc = p.ldc;
      t.m = static_cast<int>(std::min(plan.mr, i1 - ir));
      t.n = nn;
      t.alpha = p.alpha;
      t.beta = beta;
      t.row_scale = nullptr;
      tile(t);
    }
  }
}

// Runs the blocked loops; for_each(count, fn) runs fn(index) for index < count, maybe in parallel.
template <class ForEach>
void run_blocked(const Plan& plan, const GemmProblem& p, int threads, float* bpack,
                 const ForEach& for_each) {
  // Row blocks of equal size (a multiple of mr); column parts only when rows alone leave threads
  // idle.
  const int64_t tm = ceil_div(p.m, plan.mc);
  const int64_t mc = round_up(ceil_div(p.m, tm), plan.mr);
  for (int64_t jc = 0; jc < p.n; jc += plan.nc) {
    const int64_t ncur = std::min(plan.nc, p.n - jc);
    const int64_t strips = ceil_div(ncur, plan.nr);
    const int64_t tn = std::min<int64_t>(strips, std::max<int64_t>(1, ceil_div(threads, tm)));
    const int64_t part = round_up(ceil_div(ncur, tn), plan.nr);
    for (int64_t pc = 0; pc < p.k; pc += plan.kc) {
      const int64_t kcur = std::min(plan.kc, p.k - pc);
      const float beta = pc == 0 ? p.beta : 1.0f;
      if (plan.pack_b) {
        for_each(strips, [&](int64_t s, float*) {
          const int64_t j = s * plan.nr;
          plan.kt->pack_b(p.b + pc * p.b_rs + (jc + j) * p.b_cs, p.b_rs, p.b_cs, kcur,
                          std::min(plan.nr, ncur - j), 1.0f, bpack + s * kcur * plan.nr);
        });
      }
      for_each(tm * tn, [&](int64_t task, float* worker) {
        const int64_t i0 = (task / tn) * mc, j0 = (task % tn) * part;
        if (i0 >= p.m || j0 >= ncur) return;
        compute_block(plan, p, i0, std::min(p.m, i0 + mc), jc, j0, std::min(ncur, j0 + part), pc,
                      kcur, beta, bpack, worker);
      });
    }
  }
}

bool worth_parallel(const ContextImpl& ctx, const GemmProblem& p) {
  return ctx.threads() > 1 && p.m * p.n * p.k >= kParallelMinFlops;
}

}  // namespace

std::size_t gemm_serial_scratch(const ContextImpl& ctx, const GemmProblem& p) {
  const Plan plan = make_plan(ctx, p);
  return b_pack_floats(plan, p.n) + a_pack_floats(plan, std::min(p.m, plan.mc)) +
         tail_floats(plan);
}

ScratchSize gemm_parallel_scratch(const ContextImpl& ctx, const GemmProblem& p) {
  if (!worth_parallel(ctx, p)) return {0, gemm_serial_scratch(ctx, p)};
  const Plan plan = make_plan(ctx, p);
  return {b_pack_floats(plan, p.n), a_pack_floats(plan, std::min(p.m, plan.mc)) + tail_floats(plan)};
}

void gemm_serial(const ContextImpl& ctx, const GemmProblem& p, float* scratch) {
  const Plan plan = make_plan(ctx, p);
  float* bpack = scratch;
  float* worker = scratch + b_pack_floats(plan, p.n);
  run_blocked(plan, p, 1, bpack, [&](int64_t count, const auto& fn) {
    for (int64_t i = 0; i < count; ++i) fn(i, worker);
  });
}

void gemm_parallel(ContextImpl& ctx, const Workspace& ws, const GemmProblem& p) {
  if (!worth_parallel(ctx, p)) {
    gemm_serial(ctx, p, ws.worker(0));
    return;
  }
  const Plan plan = make_plan(ctx, p);
  run_blocked(plan, p, ctx.threads(), ws.shared(), [&](int64_t count, const auto& fn) {
    ctx.runtime->parallel_for(count, 1, [&](int64_t begin, int64_t end) {
      float* worker = ws.worker(worker_index());
      for (int64_t i = begin; i < end; ++i) fn(i, worker);
    });
  });
}

}  // namespace cpuattn::detail
