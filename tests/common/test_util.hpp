// Shared test helpers: contexts forced to one ISA, seeded random data, guard pages.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "cpuattn/cpuattn.hpp"

namespace cpuattn::test {

// A context on exactly this ISA (never "best available"); fails the test if it cannot be made.
Context make_test_context(Isa isa, int threads, const TuningProfile* profile = nullptr);

// Fresh seed per run unless CPUATTN_TEST_SEED is set; tests print it with SCOPED_TRACE.
uint64_t test_seed();

std::vector<float> random_floats(std::mt19937_64& rng, size_t n, float lo = -1.0f, float hi = 1.0f);
// Small integers: sums of products stay exact in float, so results can be compared with ==.
std::vector<float> random_small_ints(std::mt19937_64& rng, size_t n, int lo = -4, int hi = 4);

std::string isa_param_name(const ::testing::TestParamInfo<Isa>& info);
// Every ISA compiled in; the per-ISA suites skip (and ctest reports as skipped) those this CPU
// lacks. Zen 5 machines run all four; some of the project's machines (Zen 3) have no AVX-512.
std::vector<Isa> testable_isas();
// The best ISA compiled in that this CPU runs: for tests of the API rather than of one kernel.
Isa best_isa_here();

// `count` floats ending exactly at a PROT_NONE page: a write past the end faults.
class GuardedBuffer {
 public:
  explicit GuardedBuffer(size_t count);
  ~GuardedBuffer();
  GuardedBuffer(const GuardedBuffer&) = delete;
  GuardedBuffer& operator=(const GuardedBuffer&) = delete;
  float* data() const { return data_; }
  size_t size() const { return count_; }

 private:
  void* base_ = nullptr;
  size_t mapped_ = 0;
  float* data_ = nullptr;
  size_t count_ = 0;
};

// A profile with tiny blocks so small problems cross every block edge.
TuningProfile tiny_profile(int mr, int nr);

}  // namespace cpuattn::test
