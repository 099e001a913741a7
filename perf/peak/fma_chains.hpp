// The machine's FMA peak: independent register-resident FMA chains, enough of them to cover the
// FMA latency on every pipe, no memory traffic.
#pragma once

#include <cstdint>
#include <xsimd/xsimd.hpp>

namespace cpuattn::perf {

// Runs `iters` rounds of kChains FMAs on one vector each; returns a value so nothing is dropped.
// kChains must cover latency x pipes (4 x 2 = 8 here) and fit the register file with the two
// operands (AVX2 has 16 registers: at most 14 chains).
template <class Arch, int kChains>
float fma_chains(int64_t iters) {
  using Vec = xsimd::batch<float, Arch>;
  Vec acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = Vec(1.0f + c * 1e-3f);
  const Vec x(0.999999f), y(1e-7f);
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c) acc[c] = xsimd::fma(acc[c], x, y);
  }
  Vec sum(0.0f);
  for (int c = 0; c < kChains; ++c) sum += acc[c];
  return xsimd::hadd(sum);
}

}  // namespace cpuattn::perf
