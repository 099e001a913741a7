// Shared by every benchmark: thread control for cpuattn and the peers, cached contexts, random
// buffers, and the run's context (ISA, profile, OpenBLAS core) recorded in the JSON.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <functional>
#include <random>
#include <vector>

#include "cpuattn/cpuattn.hpp"

namespace cpuattn::perf {

// A context with this many threads, created once per thread count and reused (its scratch stays
// warm between benchmarks).
const Context& context_for(int threads);

// Caps every peer's thread pool (OpenBLAS, OpenMP for oneDNN and Eigen).
void set_peer_threads(int threads);

std::vector<float> random_buffer(std::size_t n, uint64_t seed, float lo = -1.0f, float hi = 1.0f);

// Readies a benchmark's timing loop. When the previous benchmark used another thread pool
// (`pool`: "cpuattn", "openblas", "openmp" for oneDNN and Eigen, or a single-threaded loop's
// name), waits until that pool's idle workers stop spinning, then calls `run` for 20 ms;
// otherwise calls it once (first touch of the output, packing buffers, primitive creation).
// Idle workers spin on after a call (OpenBLAS's for up to ~120 ms here, libgomp's 10-20 ms,
// cpuattn's 0.2 ms) and share the 2 cores with the next library: measured, a 2-thread cpuattn
// call took 2x as long for the first ~110 ms after OpenBLAS calls; in the suite's random
// interleaving, cpuattn's 128^3 on 2 threads read 172 GFLOP/s among the peers and 195 alone
// (195 among them with this wait), OpenBLAS's 512 x 128 x 512 105 and 148.
void warm_up(const char* pool, const std::function<void()>& run);

// Reports a rate of `flops` floating-point operations per iteration as GFLOPS.
void set_gflops(benchmark::State& state, double flops);
void set_gbps(benchmark::State& state, double bytes);

// Records ISA, threads runtime, profile and OpenBLAS core names as benchmark context.
void add_run_context();

// Fails the benchmark (SkipWithError) when got differs from want beyond rel_tol * max|want|.
bool check_close(benchmark::State& state, const float* got, const float* want, std::size_t n,
                 double rel_tol, const char* what);

}  // namespace cpuattn::perf
