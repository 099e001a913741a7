#include <string>
#include <tuple>

#include "api/validate.hpp"
#include "cpuattn/matmul.hpp"
#include "ops/gemm_driver.hpp"

namespace cpuattn {
namespace {

using detail::Extent;

Status check_gemm(const GemmArgs& g, Extent* ea, Extent* eb, Extent* ec) {
  for (Transpose t : {g.trans_a, g.trans_b}) {
    if (t != Transpose::kNo && t != Transpose::kYes) {
      return Status::invalid_argument("trans_a/trans_b: expected kNo (0) or kYes (1), got " +
                                      std::to_string(static_cast<int>(t)));
    }
  }
  if (g.m < 1 || g.n < 1 || g.k < 1) {
    return Status::invalid_argument("m, n, k: must all be >= 1, got m=" + std::to_string(g.m) +
                                    " n=" + std::to_string(g.n) + " k=" + std::to_string(g.k));
  }
  const bool ta = g.trans_a == Transpose::kYes, tb = g.trans_b == Transpose::kYes;
  CPUATTN_RETURN_IF_ERROR(
      detail::check_matrix("a", g.a, ta ? g.k : g.m, ta ? g.m : g.k, g.lda, ea));
  CPUATTN_RETURN_IF_ERROR(
      detail::check_matrix("b", g.b, tb ? g.n : g.k, tb ? g.k : g.n, g.ldb, eb));
  CPUATTN_RETURN_IF_ERROR(detail::check_matrix("c", g.c, g.m, g.n, g.ldc, ec));
  return Status::ok();
}

Status check_no_alias(const Extent& ea, const Extent& eb, const Extent& ec) {
  if (detail::overlaps(ec, ea)) return Status::invalid_argument("c: overlaps a, which it reads");
  if (detail::overlaps(ec, eb)) return Status::invalid_argument("c: overlaps b, which it reads");
  return Status::ok();
}

detail::GemmProblem problem_of(const GemmArgs& g) {
  detail::GemmProblem p;
  p.m = g.m;
  p.n = g.n;
  p.k = g.k;
  p.a = g.a;
  p.a_rs = g.trans_a == Transpose::kYes ? 1 : g.lda;
  p.a_cs = g.trans_a == Transpose::kYes ? g.lda : 1;
  p.b = g.b;
  p.b_rs = g.trans_b == Transpose::kYes ? 1 : g.ldb;
  p.b_cs = g.trans_b == Transpose::kYes ? g.ldb : 1;
  p.c = g.c;
  p.ldc = g.ldc;
  p.alpha = g.alpha;
  p.beta = g.beta;
  return p;
}

// alpha == 0: C = beta * C without reading A or B (as BLAS does); beta == 0 writes exact zeros.
void scale_c(const detail::GemmProblem& p) {
  for (int64_t i = 0; i < p.m; ++i) {
    float* c = p.c + i * p.ldc;
    for (int64_t j = 0; j < p.n; ++j) c[j] = p.beta == 0.0f ? 0.0f : p.beta * c[j];
  }
}

}  // namespace

Status sgemm(const Context& ctx, const GemmArgs& args) {
  return sgemm_batched(ctx, args, StridedBatch{});
}

Status sgemm_batched(const Context& ctx, const GemmArgs& args, const StridedBatch& batch) {
  detail::ContextImpl* impl = nullptr;
  CPUATTN_RETURN_IF_ERROR(detail::check_context(ctx, &impl));
  Extent ea, eb, ec;
  CPUATTN_RETURN_IF_ERROR(check_gemm(args, &ea, &eb, &ec));
  if (batch.count < 1) {
    return Status::invalid_argument("batch.count: must be >= 1, got " +
                                    std::to_string(batch.count));
  }
  if (batch.stride_a < 0 || batch.stride_b < 0 || batch.stride_c < 0) {
    return Status::invalid_argument("batch.stride_a/b/c: must be >= 0");
  }
  const int64_t c_extent = (args.m - 1) * args.ldc + args.n;
  if (batch.count > 1 && batch.stride_c < c_extent) {
    return Status::invalid_argument(
        "batch.stride_c: C blocks would overlap; must be >= " + std::to_string(c_extent) +
        ", got " + std::to_string(batch.stride_c));
  }
  // Whole-batch extents, overflow-checked.
  Extent all_a = ea, all_b = eb, all_c = ec;
  for (auto [e, stride, name] :
       {std::tuple{&all_a, batch.stride_a, "a"}, std::tuple{&all_b, batch.stride_b, "b"},
        std::tuple{&all_c, batch.stride_c, "c"}}) {
    int64_t extra = 0, bytes = 0;
    if (detail::mul_overflows(batch.count - 1, stride, &extra) ||
        detail::mul_overflows(extra, static_cast<int64_t>(sizeof(float)), &bytes) ||
        e->hi + static_cast<std::uintptr_t>(bytes) < e->hi) {
      return Status::invalid_argument(std::string("batch.stride_") + name +
                                      ": batch extent overflows");
    }
    e->hi += static_cast<std::uintptr_t>(bytes);
  }
  CPUATTN_RETURN_IF_ERROR(check_no_alias(all_a, all_b, all_c));

  try {
    detail::GemmProblem p = problem_of(args);
    if (args.alpha == 0.0f) {
      for (int64_t i = 0; i < batch.count; ++i) {
        p.c = args.c + i * batch.stride_c;
        scale_c(p);
      }
      return Status::ok();
    }
    auto ws = impl->scratch->acquire();
    const int threads = impl->threads();
    if (batch.count >= threads && threads > 1) {
      // Whole products per thread: no packed-B sharing needed, each worker has its own scratch.
      CPUATTN_RETURN_IF_ERROR(
          ws->reserve(0, detail::gemm_serial_scratch(*impl, p), impl->scratch_limit_bytes));
      impl->runtime->parallel_for(batch.count, 1, [&](int64_t begin, int64_t end) {
        float* scratch = ws->worker(detail::worker_index());
        for (int64_t i = begin; i < end; ++i) {
          detail::GemmProblem pi = p;
          pi.a = args.a + i * batch.stride_a;
          pi.b = args.b + i * batch.stride_b;
          pi.c = args.c + i * batch.stride_c;
          detail::gemm_serial(*impl, pi, scratch);
        }
      });
      return Status::ok();
    }
    CPUATTN_RETURN_IF_ERROR(
        ws->reserve(0, detail::gemm_parallel_scratch(*impl, p), impl->scratch_limit_bytes));
    for (int64_t i = 0; i < batch.count; ++i) {
      p.a = args.a + i * batch.stride_a;
      p.b = args.b + i * batch.stride_b;
      p.c = args.c + i * batch.stride_c;
      detail::gemm_parallel(*impl, *ws, p);
    }
    return Status::ok();
  } catch (const std::bad_alloc&) {
    return Status::out_of_memory("sgemm: allocation failed");
  }
}

}  // namespace cpuattn
