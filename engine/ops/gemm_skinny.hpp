// Products of a few rows (a decoding step's projections: one token, or a few, times a weight
// matrix), read as the memory-bound streams they are. The blocked driver walked B a 32-column
// strip at a time down rows a page or more apart (B row-major), or packed all of B for one row of
// A (B transposed): 1 x 4096 x 4096 ran at 2.9 and 3.2 GFLOP/s on Zen 4, under half of oneDNN.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cpuattn/tuning.hpp"
#include "dispatch/kernel_table.hpp"
#include "ops/gemm_driver.hpp"

namespace cpuattn::detail {

// Column splits (between threads, and between the chunks of one call) fall on multiples of this,
// a multiple of every vector width: a column's sum then takes the same path whatever the split,
// so results do not depend on the thread count.
constexpr int64_t kSkinnySplit = 16;

// Whether p takes this path: a few rows and a B that streams from beyond L2 (the L2-sized A
// block of the profile, mc x kc, is the measure), B row-major (axpy_rows) or B's columns and A's
// rows contiguous (dot_rows).
bool gemm_is_skinny(const GemmBlocking& blocking, const GemmProblem& p);
// Scratch floats one call of gemm_skinny needs.
std::size_t gemm_skinny_scratch(const GemmProblem& p);
// Columns [j0, j1) of C, j0 a multiple of kSkinnySplit.
void gemm_skinny(const KernelTable& kt, const GemmProblem& p, int64_t j0, int64_t j1,
                 float* scratch);

}  // namespace cpuattn::detail
