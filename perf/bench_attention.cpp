// Attention: cpuattn fused against its own unfused composition, oneDNN composed (matmul + softmax
// + matmul) and the naive composition (OpenBLAS + scalar softmax), in one run. GFLOPS counts
// 4 B H Lq Lk D (half of it for causal). Also the multi-head layer, projections included.
#include <cmath>

#include "bench_util.hpp"
#include "peers.hpp"
#include "reference.hpp"

namespace cpuattn::perf {
namespace {

enum Impl { kFused, kComposed, kOnednn, kNaive };

// args: B, H, Lq, Lk, D, causal, threads
void bm_attention(benchmark::State& state, Impl impl) {
  AttentionShape s{state.range(0), state.range(1),      state.range(2), state.range(3),
                   state.range(4), state.range(5) != 0, state.range(7)};
  const int threads = static_cast<int>(state.range(6));
  const int64_t B = s.batch, H = s.heads, Hkv = s.heads_kv, Lq = s.seq_q, Lk = s.seq_kv,
                D = s.head_dim;
  const auto q = random_buffer(B * Lq * H * D, 4), k = random_buffer(B * Lk * Hkv * D, 5),
             v = random_buffer(B * Lk * Hkv * D, 6);
  std::vector<float> out(B * Lq * H * D);
  std::vector<float> scores;
  if (impl == kOnednn) scores.resize(B * H * Lq * Lk);
  if (impl == kNaive) scores.resize(Lq * Lk);
  set_peer_threads(threads);
  const Context& ctx = context_for(threads);
  AttentionOptions o;
  o.mask = s.causal ? MaskKind::kCausal : MaskKind::kNone;
  o.algorithm = impl == kComposed ? AttentionAlgorithm::kComposed : AttentionAlgorithm::kFused;
  auto run = [&] {
    switch (impl) {
      case kFused:
      case kComposed:
        if (!attention(ctx, TensorView<const float>(q.data(), {B, Lq, H, D}),
                       TensorView<const float>(k.data(), {B, Lk, Hkv, D}),
                       TensorView<const float>(v.data(), {B, Lk, Hkv, D}),
                       TensorView<float>(out.data(), {B, Lq, H, D}), o)
                 .is_ok()) {
          std::abort();
        }
        break;
      case kOnednn:
        onednn_attention(s, q.data(), k.data(), v.data(), out.data(), scores.data());
        break;
      case kNaive:
        naive_attention(s, q.data(), k.data(), v.data(), out.data(), scores.data());
        break;
    }
  };
  const char* pools[] = {"cpuattn", "cpuattn", "openmp", "openmp_openblas"};
  warm_up(pools[impl], run);
  if (B * H * Lq * Lk * D <= (int64_t{1} << 28)) {  // oracle check on the smaller shapes
    ref::AttentionCase c;
    c.batch = B, c.seq_q = Lq, c.seq_kv = Lk, c.heads_q = H, c.heads_kv = Hkv, c.head_dim = D,
    c.head_dim_v = D, c.q = q.data(), c.k = k.data(), c.v = v.data();
    const int64_t qs[4] = {Lq * H * D, H * D, D, 1}, ks[4] = {Lk * Hkv * D, Hkv * D, D, 1};
    std::copy(qs, qs + 4, c.qs);
    std::copy(ks, ks + 4, c.ks);
    std::copy(ks, ks + 4, c.vs);
    c.scale = 1.0 / std::sqrt(static_cast<double>(D));
    c.causal = s.causal;
    const auto r = ref::attention(c);
    std::vector<float> want(r.out.begin(), r.out.end());
    if (!check_close(state, out.data(), want.data(), want.size(), 1e-4, "attention")) return;
  }
  for (auto _ : state) {
    run();
    benchmark::ClobberMemory();
  }
  set_gflops(state, 4.0 * B * H * Lq * Lk * D * (s.causal ? 0.5 : 1.0));
  // Q, K, V read and the output written: the measure for decoding, which streams K and V.
  set_gbps(state, 4.0 * B * D * (2 * H * Lq + 2 * Hkv * Lk));
}

void shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"B", "H", "Lq", "Lk", "D", "causal", "threads", "Hkv"});
  for (int threads : {1, 2}) {
    for (int causal : {0, 1}) {
      b->Args({1, 12, 512, 512, 64, causal, threads, 12});
      b->Args({4, 12, 512, 512, 64, causal, threads, 12});
      b->Args({1, 12, 2048, 2048, 64, causal, threads, 12});
      b->Args({1, 16, 4096, 4096, 128, causal, threads, 16});
    }
    b->Args({4, 12, 128, 512, 64, 0, threads, 12});  // cross attention
    // Decoding, one query over a 4096-token cache: every head its own K and V, and grouped
    // (8 kv heads for 32 query heads, as Llama 3 8B).
    b->Args({8, 32, 1, 4096, 128, 0, threads, 32});
    b->Args({8, 32, 1, 4096, 128, 0, threads, 8});
  }
  b->UseRealTime();
}

BENCHMARK_CAPTURE(bm_attention, cpuattn, kFused)->Apply(shapes);
BENCHMARK_CAPTURE(bm_attention, cpuattn_composed, kComposed)->Apply(shapes);
BENCHMARK_CAPTURE(bm_attention, onednn_composed, kOnednn)->Apply(shapes);
BENCHMARK_CAPTURE(bm_attention, naive_openblas, kNaive)->Apply(shapes);

// The multi-head layer, self-attention: 3 input projections, attention, output projection.
// FLOPs = 8 B L E^2 (projections) + 4 B L^2 E (attention).
enum MhaImpl { kMhaCpuattn, kMhaOnednn };

void bm_mha(benchmark::State& state, MhaImpl impl) {
  const int64_t B = state.range(0), L = state.range(1), E = state.range(2), H = state.range(3);
  const int threads = static_cast<int>(state.range(4));
  const float ws = 1.0f / std::sqrt(static_cast<float>(E));
  const auto x = random_buffer(B * L * E, 7), w_in = random_buffer(3 * E * E, 8, -ws, ws),
             w_out = random_buffer(E * E, 9, -ws, ws), b_in = random_buffer(3 * E, 10),
             b_out = random_buffer(E, 11);
  std::vector<float> y(B * L * E), qkv(3 * B * L * E), heads(B * L * E), scores(B * H * L * L);
  set_peer_threads(threads);
  const Context& ctx = context_for(threads);
  MultiHeadAttention layer;
  MhaWeights w;
  w.in_proj_weight = w_in.data(), w.in_proj_bias = b_in.data(), w.out_proj_weight = w_out.data(),
  w.out_proj_bias = b_out.data();
  if (!MultiHeadAttention::create(ctx, {E, H, 0, 0, 0}, w, &layer).is_ok()) std::abort();
  auto run = [&] {
    if (impl == kMhaCpuattn) {
      const TensorView<const float> xv(x.data(), {B, L, E});
      if (!layer.forward(ctx, xv, xv, xv, TensorView<float>(y.data(), {B, L, E})).is_ok())
        std::abort();
      return;
    }
    // oneDNN: one matmul for Q, K, V (x W_in^T), bias, composed attention, output matmul, bias.
    onednn_matmul(true, B * L, 3 * E, E, x.data(), E, w_in.data(), E, qkv.data(), 3 * E);
    for (int64_t r = 0; r < B * L; ++r) {
      for (int64_t c = 0; c < 3 * E; ++c) qkv[r * 3 * E + c] += b_in[c];
    }
    // q, k, v interleaved per row: repack into three BSHD tensors.
    std::vector<float>& q = heads;
    static thread_local std::vector<float> k, v;
    k.resize(B * L * E), v.resize(B * L * E);
    for (int64_t r = 0; r < B * L; ++r) {
      std::copy_n(&qkv[r * 3 * E], E, &q[r * E]);
      std::copy_n(&qkv[r * 3 * E + E], E, &k[r * E]);
      std::copy_n(&qkv[r * 3 * E + 2 * E], E, &v[r * E]);
    }
    onednn_attention({B, H, L, L, E / H, false, H}, q.data(), k.data(), v.data(), qkv.data(),
                     scores.data());
    onednn_matmul(true, B * L, E, E, qkv.data(), E, w_out.data(), E, y.data(), E);
    for (int64_t r = 0; r < B * L; ++r) {
      for (int64_t c = 0; c < E; ++c) y[r * E + c] += b_out[c];
    }
  };
  warm_up(impl == kMhaCpuattn ? "cpuattn" : "openmp", run);
  for (auto _ : state) {
    run();
    benchmark::ClobberMemory();
  }
  set_gflops(state, 8.0 * B * L * E * E + 4.0 * B * L * L * E);
}

void mha_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"B", "L", "E", "H", "threads"});
  for (int threads : {1, 2}) b->Args({4, 512, 768, 12, threads});
  b->UseRealTime();
}

BENCHMARK_CAPTURE(bm_mha, cpuattn, kMhaCpuattn)->Apply(mha_shapes);
BENCHMARK_CAPTURE(bm_mha, onednn_composed, kMhaOnednn)->Apply(mha_shapes);

}  // namespace
}  // namespace cpuattn::perf
