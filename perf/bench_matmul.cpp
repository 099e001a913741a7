// sgemm: cpuattn against OpenBLAS, oneDNN (sgemm and the matmul primitive) and Eigen, same shapes,
// same threads, in one run. Shapes: squares and the attention products Q K^T ((L x d)(d x L), K
// stored row-major so B is transposed) and P V ((L x L)(L x d)), and decoding's skinny products.
#include "bench_util.hpp"
#include "peers.hpp"
#include "reference.hpp"

namespace cpuattn::perf {
namespace {

using GemmFn = void (*)(bool, int64_t, int64_t, int64_t, const float*, int64_t, const float*,
                        int64_t, float*, int64_t);

void cpuattn_sgemm(bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                   const float* b, int64_t ldb, float* c, int64_t ldc, int threads) {
  GemmArgs g;
  g.trans_b = trans_b ? Transpose::kYes : Transpose::kNo;
  g.m = m, g.n = n, g.k = k, g.a = a, g.lda = lda, g.b = b, g.ldb = ldb, g.c = c, g.ldc = ldc;
  if (!sgemm(context_for(threads), g).is_ok()) std::abort();
}

// args: M, N, K, transposed B, threads
void bm_sgemm(benchmark::State& state, GemmFn peer, const char* pool) {
  const int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  const bool tb = state.range(3) != 0;
  const int threads = static_cast<int>(state.range(4));
  const auto a = random_buffer(m * k, 1), b = random_buffer(k * n, 2);
  std::vector<float> c(m * n);
  const int64_t ldb = tb ? k : n;
  set_peer_threads(threads);
  auto run = [&] {
    if (peer == nullptr) {
      cpuattn_sgemm(tb, m, n, k, a.data(), k, b.data(), ldb, c.data(), n, threads);
    } else {
      peer(tb, m, n, k, a.data(), k, b.data(), ldb, c.data(), n);
    }
  };
  warm_up(pool, run);
  if (m * n * k <= (int64_t{1} << 27)) {  // check against the oracle where it is cheap
    const auto ref =
        ref::gemm(false, tb, m, n, k, 1.0f, a.data(), k, b.data(), ldb, 0.0f, nullptr, n);
    std::vector<float> want(ref.c.begin(), ref.c.end());
    if (!check_close(state, c.data(), want.data(), c.size(), 1e-5 * k, "sgemm")) return;
  }
  for (auto _ : state) {
    run();
    benchmark::ClobberMemory();
  }
  set_gflops(state, 2.0 * m * n * k);
}

void shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"M", "N", "K", "transB", "threads"});
  for (int threads : {1, 2}) {
    for (int64_t s : {64, 128, 256, 512, 1024, 2048}) b->Args({s, s, s, 0, threads});
    for (int64_t l : {512, 2048}) {
      for (int64_t d : {64, 128}) {
        b->Args({l, l, d, 1, threads});  // Q K^T
        b->Args({l, d, l, 0, threads});  // P V
      }
    }
    // A decoding step's projections, weights of 4096 x 4096 (64 MiB) streamed from memory: one
    // token against W row-major (in x out) and transposed (out x in, as linear layers store it),
    // and 8 tokens (a small batch, or speculative decoding).
    b->Args({1, 4096, 4096, 0, threads});
    b->Args({1, 4096, 4096, 1, threads});
    b->Args({8, 4096, 4096, 1, threads});
  }
  b->UseRealTime();
}

BENCHMARK_CAPTURE(bm_sgemm, cpuattn, nullptr, "cpuattn")->Apply(shapes);
BENCHMARK_CAPTURE(bm_sgemm, openblas, &openblas_sgemm, "openblas")->Apply(shapes);
BENCHMARK_CAPTURE(bm_sgemm, onednn_sgemm, &onednn_sgemm, "openmp")->Apply(shapes);
BENCHMARK_CAPTURE(bm_sgemm, onednn_matmul, &onednn_matmul, "openmp")->Apply(shapes);
BENCHMARK_CAPTURE(bm_sgemm, eigen, &eigen_sgemm, "openmp")->Apply(shapes);

}  // namespace
}  // namespace cpuattn::perf
