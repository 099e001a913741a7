// Shared by every benchmark: thread control for cpuattn and the peers, cached contexts, random
// buffers, and the run's context (ISA, profile, OpenBLAS core) recorded in the JSON.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
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

// Reports a rate of `flops` floating-point operations per iteration as GFLOPS.
void set_gflops(benchmark::State& state, double flops);
void set_gbps(benchmark::State& state, double bytes);

// Records ISA, threads runtime, profile and OpenBLAS core names as benchmark context.
void add_run_context();

// Fails the benchmark (SkipWithError) when got differs from want beyond rel_tol * max|want|.
bool check_close(benchmark::State& state, const float* got, const float* want, std::size_t n,
                 double rel_tol, const char* what);

}  // namespace cpuattn::perf
