#include "ops/attention_fused.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

namespace cpuattn::detail {
namespace {

int64_t round_up(int64_t a, int64_t b) {
  return (a + b - 1) / b * b;
}

constexpr int64_t kNoHorizon = std::numeric_limits<int64_t>::min();
constexpr float kLog2e = 1.44269504088896341f;
// Query blocks up to this many rows (decode steps, short chunks) take their scores from
// score_rows, dot products against K in place, not from the microkernel's 32-query-wide tile.
constexpr int64_t kFewQueries = 8;

struct Blocks {
  int64_t bq, bk, dv_pad;
  // Per-worker layout, in floats.
  int64_t q_panel, st, o, stats, total;
  // Shared (pack_kv): the packed K and V of units_per_group units (batch, kv head), unit_floats
  // each. A unit serves all its query blocks and query heads: K rows made contiguous, V in
  // nr-column panels of seq_kv rows. Packing V per query block instead cost 5% of the run at
  // 12 x 2048^2, D = 64. Groups are about profile.attn_kv_group_kib.
  // Without pack_kv (one query block per unit, as in decode), K is read in place and each key
  // block of V is packed into the worker's v_panel as it is used: packing whole heads first cost
  // 10-40% there (5.1 -> 3.0 GB/s of K and V at (8, 32, 1, 4096, 128) with K copied too).
  bool pack_kv;
  int64_t v_panel, k_copy, k_floats, unit_floats, units_per_group;
  // With pack_kv, when the units split evenly over the threads: a task is a whole unit, packed
  // into the worker's own scratch (after `total`) and then run for all its query blocks. No
  // barrier between packing and compute, K and V packed by the core that reads them, and causal's
  // uneven query blocks balance inside the task. Otherwise groups of units are packed together
  // and their query blocks shared between the threads (few heads, many threads).
  bool one_task_per_unit;
  // Decoding with grouped heads (one query, Hq / Hkv > 1): a task takes all query heads of a kv
  // group as the columns of its score block, so K and V are read once for the group instead of
  // once per head.
  bool heads_as_columns;
  int64_t heads_per_task;
  int64_t tasks_per_unit;  // (query head or head group, query block) tasks of one unit
};

Blocks blocks_for(const ContextImpl& ctx, const AttentionProblem& p) {
  const KernelTable& kt = *ctx.kernels;
  Blocks b{};
  const int64_t tile_lcm = std::lcm<int64_t>(kt.mr, kt.nr);
  b.bq = round_up(ctx.profile.attn_q_block, tile_lcm);
  b.bk = round_up(ctx.profile.attn_kv_block, kt.mr);
  b.dv_pad = round_up(p.head_dim_v, kt.nr);
  b.q_panel = 0;
  b.st = b.q_panel + round_up(b.bq * p.head_dim, 16);
  b.o = b.st + b.bk * b.bq;
  b.stats = b.o + b.bq * b.dv_pad;
  b.v_panel = b.stats + 3 * b.bq;

  const int64_t ratio = p.heads_q / p.heads_kv;
  b.heads_as_columns = p.seq_q == 1 && ratio > 1 && ratio <= b.bq;
  b.heads_per_task = b.heads_as_columns ? ratio : 1;
  b.tasks_per_unit = ratio / b.heads_per_task * ((p.seq_q + b.bq - 1) / b.bq);
  b.pack_kv = b.tasks_per_unit >= 2;
  // After the V panel (without pack_kv), score_rows' copy of 16 keys.
  b.k_copy = b.v_panel + (b.pack_kv ? 0 : b.bk * b.dv_pad);
  b.total = round_up(b.k_copy + 16 * p.head_dim, 16);
  b.k_floats = b.pack_kv ? round_up(p.seq_kv * p.head_dim, 16) : 0;
  b.unit_floats = b.pack_kv ? b.k_floats + round_up(p.seq_kv * b.dv_pad, 16) : 0;
  const int64_t units = p.batch * p.heads_kv;
  // At least 90% of the threads busy in the last round of units.
  const int64_t rounds = (units + ctx.threads() - 1) / ctx.threads();
  b.one_task_per_unit = b.pack_kv && 10 * units >= 9 * rounds * ctx.threads();
  const int64_t by_memory = int64_t{ctx.profile.attn_kv_group_kib} * 1024 / int64_t{sizeof(float)} /
                            std::max<int64_t>(b.unit_floats, 1);
  // A unit per thread, so every thread packs, and enough tasks per group (about 8 per thread)
  // that the barrier closing the group waits on little.
  const int64_t by_balance = std::max<int64_t>(
      ctx.threads(), (8 * ctx.threads() + b.tasks_per_unit - 1) / b.tasks_per_unit);
  b.units_per_group = std::clamp<int64_t>(std::max(by_memory, by_balance), 1, units);
  return b;
}

// Packs K and V of (batch b, kv head g) into unit.
void pack_unit(const KernelTable& kt, const Blocks& blk, const AttentionProblem& p, int64_t b,
               int64_t g, float* unit) {
  const int64_t Lk = p.kv_length(b);
  const float* kbase = p.k + b * p.ks[0] + g * p.ks[2];
  const float* vbase = p.v + b * p.vs[0] + g * p.vs[2];
  for (int64_t j = 0; j < Lk; ++j) {
    kt.scale_copy(kbase + j * p.ks[1], 1.0f, unit + j * p.head_dim, p.head_dim);
  }
  // Panels are seq_kv rows apart whatever this batch's length: key block j0 starts at row j0.
  float* v_panels = unit + blk.k_floats;
  for (int64_t dc = 0; dc < p.head_dim_v; dc += kt.nr) {
    const int64_t cols = std::min<int64_t>(kt.nr, p.head_dim_v - dc);
    kt.pack_b(vbase + dc * p.vs[3], p.vs[1], p.vs[3], Lk, cols, 1.0f, v_panels + dc * p.seq_kv);
  }
}

// Requests rows of `floats` floats, ld apart, into L2: K and V rows of one head are H * D floats
// apart in BSHD, a new 4 KiB page every row or two, where the hardware prefetcher stops.
void prefetch_rows(const float* base, int64_t ld, int64_t rows, int64_t floats) {
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t f = 0; f < floats; f += 16) __builtin_prefetch(base + r * ld + f, 0, 2);
  }
}

// Output rows base + c * col for c in [c_begin, c_end).
void zero_columns(const AttentionProblem& p, float* base, int64_t col, int64_t c_begin,
                  int64_t c_end) {
  for (int64_t c = c_begin; c < c_end; ++c) {
    for (int64_t d = 0; d < p.head_dim_v; ++d) base[c * col + d * p.os[3]] = 0.0f;
  }
}

// One (batch, head, query block), or with heads_as_columns one (batch, kv group) of query 0.
// unit: K and V of this head's (batch, kv head), from pack_unit.
void run_block(const KernelTable& kt, const Blocks& blk, const AttentionProblem& p, int64_t b,
               int64_t h, int64_t qb, const float* unit, float* work) {
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  const int64_t mr = kt.mr, nr = kt.nr, bq = blk.bq;
  const int64_t i0 = qb * bq, i_end = std::min(p.seq_q, i0 + bq);
  // Columns of the score block: queries i0.. of head h, or the group's heads h.. at query i0 = 0.
  // Strides of one column in Q, the bias and the output.
  const bool by_head = blk.heads_as_columns;
  const int64_t q_col = by_head ? p.qs[2] : p.qs[1], bias_col = by_head ? p.bs[1] : p.bs[2],
                o_col = by_head ? p.os[2] : p.os[1];
  const int64_t width = by_head ? blk.heads_per_task : i_end - i0;
  const int64_t queries = std::clamp<int64_t>(p.q_length(b) - i0, 0, i_end - i0);
  const int64_t qn = by_head ? (queries > 0 ? width : 0) : queries;
  float* out_base = p.out + b * p.os[0] + i0 * p.os[1] + h * p.os[2];
  zero_columns(p, out_base, o_col, qn, width);  // padded queries
  if (qn == 0) return;
  const int64_t offset = p.causal_offset();
  int64_t kv_end = p.kv_length(b);
  // By head, the one query sees every key before kv_end, so the causal masks below, written for
  // column c as query i0 + c, mask nothing.
  if (p.causal) kv_end = std::min(kv_end, i0 + queries + offset);
  if (kv_end <= 0) {
    zero_columns(p, out_base, o_col, 0, qn);
    return;
  }
  float* q_panel = work + blk.q_panel;
  float* st = work + blk.st;
  float* o = work + blk.o;
  float* m = work + blk.stats;
  float* l = m + bq;
  float* alpha = l + bq;

  const float* qbase = p.q + b * p.qs[0] + i0 * p.qs[1] + h * p.qs[2];
  const int64_t g = p.kv_head(h);
  const float* kbase = blk.pack_kv ? unit : p.k + b * p.ks[0] + g * p.ks[2];
  const float* vbase = p.v + b * p.vs[0] + g * p.vs[2];
  const int64_t D = p.head_dim, Dv = p.head_dim_v, ldk = blk.pack_kv ? D : p.ks[1];
  const bool few = qn <= kFewQueries;
  // Score columns: whole vectors for the online softmax, whole tiles for the microkernel.
  const int64_t qn_pad = few ? round_up(qn, kt.vector_width) : round_up(qn, nr);
  // V read in place where each of its rows is used once per key block (one tile row of queries)
  // and its rows fill whole strips; else packed per key block.
  const bool v_in_place = !blk.pack_kv && qn <= mr && p.vs[3] == 1 && Dv % nr == 0;

  // Q pre-scaled, in log2 units for the online softmax's exp2: as rows for score_rows, or as the
  // B operand of S^T = K Q^T (nr-query panels of D rows).
  const float q_scale = p.scale * kLog2e;
  if (few) {
    for (int64_t r = 0; r < qn; ++r) {
      const float* src = qbase + r * q_col;
      float* dst = q_panel + r * D;
      if (p.qs[3] == 1) {
        kt.scale_copy(src, q_scale, dst, D);
      } else {
        for (int64_t d = 0; d < D; ++d) dst[d] = src[d * p.qs[3]] * q_scale;
      }
    }
  } else {
    kt.pack_b(qbase, p.qs[3], q_col, D, qn, q_scale, q_panel);
  }
  std::fill(m, m + qn_pad, kNegInf);
  std::fill(l, l + qn_pad, 0.0f);

  // The microkernels' arguments, set up once and the fields that vary rewritten per tile: a
  // TileArgs{} per tile was zeroed with `rep stos`, whose stores cannot forward to the kernel's
  // loads, which then waited for all older stores to drain (see gemm_driver.cpp).
  TileArgs score_tile{};  // S^T = K Q^T, tile by tile
  score_tile.k = D;
  score_tile.lda = ldk;
  score_tile.ldb = nr;
  score_tile.ldc = bq;
  score_tile.n = static_cast<int>(nr);
  score_tile.alpha = 1.0f;
  TileArgs value_tile{};  // O = alpha O + P V
  value_tile.lda = bq;
  value_tile.ldc = blk.dv_pad;
  value_tile.n = static_cast<int>(nr);
  value_tile.alpha = 1.0f;

  bool first = true;
  for (int64_t j0 = 0; j0 < kv_end; j0 += blk.bk) {
    const int64_t nk = std::min(blk.bk, kv_end - j0);
    if (few) {
      // Few queries stream K and V: request this block's V rows and the next block's K rows, all
      // at once (spreading the requests over the scoring, 16 rows ahead each, was 10% slower).
      if (v_in_place) prefetch_rows(vbase + j0 * p.vs[1], p.vs[1], nk, Dv);
      if (!blk.pack_kv && j0 + blk.bk < kv_end) {
        prefetch_rows(kbase + (j0 + blk.bk) * ldk, ldk, std::min(blk.bk, kv_end - j0 - blk.bk), D);
      }
      kt.score_rows(q_panel, D, static_cast<int>(qn), static_cast<int>(qn_pad), kbase + j0 * ldk,
                    ldk, nk, D, st, bq, work + blk.k_copy);
    } else {
      for (int64_t jr = 0; jr < nk; jr += mr) {
        for (int64_t qc = 0; qc < qn_pad; qc += nr) {
          // Causal: a tile whose first key is past every query of the panel is all masked; the
          // mask fill below writes its -inf.
          if (p.causal && j0 + jr > i0 + qc + nr - 1 + offset) continue;
          score_tile.a = kbase + (j0 + jr) * ldk;
          score_tile.b = q_panel + qc * D;
          score_tile.c = st + jr * bq + qc;
          score_tile.m = static_cast<int>(std::min(mr, nk - jr));
          kt.gemm_tile_rows(score_tile);
        }
      }
    }
    // Keys past the first query's horizon: mask the queries that may not see them.
    if (p.causal && j0 + nk - 1 > i0 + offset) {
      for (int64_t r = 0; r < nk; ++r) {
        const int64_t hidden = std::clamp<int64_t>(j0 + r - offset - i0, 0, qn_pad);
        std::fill(st + r * bq, st + r * bq + hidden, kNegInf);
      }
    }
    if (p.bias != nullptr) {
      const float* bias = p.bias + b * p.bs[0] + h * p.bs[1] + i0 * p.bs[2] + j0 * p.bs[3];
      for (int64_t r = 0; r < nk; ++r) {
        float* row = st + r * bq;
        const float* br = bias + r * p.bs[3];
        for (int64_t c = 0; c < qn; ++c) row[c] += br[c * bias_col] * kLog2e;
      }
    }
    // Causal: query i0 + c sees keys j0 + r with r < c + (i0 + offset - j0 + 1).
    const int64_t visible_base = p.causal ? i0 + offset - j0 + 1 : kNoHorizon;
    kt.online_softmax(st, bq, static_cast<int>(nk), static_cast<int>(qn_pad), visible_base, m, l,
                      alpha);
    // This key block's V: strip dc (nr columns) at v_block + dc * v_step, rows v_ld apart. Rows
    // j0.. of the unit's panels (seq_kv rows each), V in place, or packed now (nk rows each).
    const float* v_block;
    int64_t v_step, v_ld;
    if (blk.pack_kv) {
      v_block = unit + blk.k_floats + j0 * nr;
      v_step = p.seq_kv;
      v_ld = nr;
    } else if (v_in_place) {
      v_block = vbase + j0 * p.vs[1];
      v_step = 1;
      v_ld = p.vs[1];
    } else {
      kt.pack_b(vbase + j0 * p.vs[1], p.vs[1], p.vs[3], nk, Dv, 1.0f, work + blk.v_panel);
      v_block = work + blk.v_panel;
      v_step = nk;
      v_ld = nr;
    }
    for (int64_t dc = 0; dc < Dv; dc += nr) {
      for (int64_t ir = 0; ir < qn; ir += mr) {
        // Causal: keys past the tile's last query have p = 0 exactly; stop the sum there.
        value_tile.k = p.causal ? std::clamp<int64_t>(i0 + ir + mr + offset - j0, 0, nk) : nk;
        value_tile.a = st + ir;
        value_tile.b = v_block + dc * v_step;
        value_tile.ldb = v_ld;
        value_tile.c = o + ir * blk.dv_pad + dc;
        value_tile.m = static_cast<int>(std::min(mr, qn - ir));
        value_tile.row_scale = first ? nullptr : alpha + ir;
        kt.gemm_tile_cols(value_tile);
      }
    }
    first = false;
  }
  for (int64_t i = 0; i < qn; ++i) {
    // l == 0: every key masked, the row is 0 (o is 0 too). NaN stays NaN.
    const float inv = l[i] == 0.0f ? 0.0f : 1.0f / l[i];
    float* row = out_base + i * o_col;
    const float* src = o + i * blk.dv_pad;
    if (p.os[3] == 1) {
      kt.scale_copy(src, inv, row, Dv);
    } else {
      for (int64_t d = 0; d < Dv; ++d) row[d * p.os[3]] = src[d] * inv;
    }
  }
}

}  // namespace

bool attention_fused_supports(const AttentionProblem& p) {
  return (p.ks[3] == 1 || p.head_dim == 1) && (p.vs[3] == 1 || p.head_dim_v == 1);
}

AttentionScratch attention_fused_scratch(const ContextImpl& ctx, const AttentionProblem& p) {
  const Blocks blk = blocks_for(ctx, p);
  if (blk.one_task_per_unit) return {0, static_cast<std::size_t>(blk.total + blk.unit_floats)};
  return {static_cast<std::size_t>(blk.units_per_group * blk.unit_floats),
          static_cast<std::size_t>(blk.total)};
}

void attention_fused(ContextImpl& ctx, const Workspace& ws, const AttentionProblem& p) {
  const Blocks blk = blocks_for(ctx, p);
  const int64_t nqb = (p.seq_q + blk.bq - 1) / blk.bq;
  const int64_t ratio = p.heads_q / p.heads_kv;
  const int64_t units = p.batch * p.heads_kv;
  const KernelTable& kt = *ctx.kernels;
  // Task t of a unit: head-major, so consecutive tasks share their K and V in L2 (qb-major ran 7%
  // slower at 4 x 12 x 512^2); within a head the largest causal blocks come first, so a schedule
  // ends on small ones. Units and tasks go out with the static schedule: each thread packs and runs
  // the same contiguous share in every call (then helps the others), which keeps the K and V it
  // packed in its own caches. Intel Xeon VM, 2 threads, interleaved medians against the dynamic
  // schedule: 12 x 512^2 +2.6% (causal +1.6%), 4 x 12 x 128^2 +2.9%, decoding (8 x 32 heads,
  // 4096 keys) +5%, grouped (8 kv heads) +6.7%; 16 x 2048^2 causal and 2 x 8 x 1024^2 even.
  auto run_task = [&](int64_t unit_index, int64_t t, const float* unit, float* work) {
    const int64_t b = unit_index / p.heads_kv;
    const int64_t h = unit_index % p.heads_kv * ratio + t / nqb * blk.heads_per_task;
    run_block(kt, blk, p, b, h, nqb - 1 - t % nqb, unit, work);
  };
  if (blk.one_task_per_unit) {
    ctx.runtime->parallel_for_static(units, [&](int64_t begin, int64_t end) {
      float* work = ws.worker(worker_index());
      float* unit = work + blk.total;
      for (int64_t u = begin; u < end; ++u) {
        pack_unit(kt, blk, p, u / p.heads_kv, u % p.heads_kv, unit);
        for (int64_t t = 0; t < blk.tasks_per_unit; ++t) run_task(u, t, unit, work);
      }
    });
    return;
  }
  // Units (b, g) in groups whose packed K and V fit the shared scratch: pack the group, then run
  // its query blocks.
  for (int64_t u0 = 0; u0 < units; u0 += blk.units_per_group) {
    const int64_t nu = std::min(blk.units_per_group, units - u0);
    if (blk.pack_kv)
      ctx.runtime->parallel_for_static(nu, [&](int64_t begin, int64_t end) {
        for (int64_t u = begin; u < end; ++u) {
          pack_unit(kt, blk, p, (u0 + u) / p.heads_kv, (u0 + u) % p.heads_kv,
                    ws.shared() + u * blk.unit_floats);
        }
      });
    ctx.runtime->parallel_for_static(
        nu * blk.tasks_per_unit, ctx.profile.parallel_grain, [&](int64_t begin, int64_t end) {
          float* work = ws.worker(worker_index());
          for (int64_t t = begin; t < end; ++t) {
            const int64_t u = t / blk.tasks_per_unit;
            run_task(u0 + u, t % blk.tasks_per_unit, ws.shared() + u * blk.unit_floats, work);
          }
        });
  }
}

}  // namespace cpuattn::detail
