// Block sizes derived from the CPU's caches and the kernel's register tile, or read from a profile
// file (CPUATTN_PROFILE=path, lines "key = value"; see README) measured on the machine.
#pragma once

#include <cstddef>
#include <string>

#include "cpuattn/status.hpp"
#include "cpuattn/tuning.hpp"
#include "dispatch/kernel_table.hpp"

namespace cpuattn::detail {

struct CacheSizes {
  std::size_t l1d = 32 * 1024;
  std::size_t l2 = 512 * 1024;
  std::size_t l3 = 8 * 1024 * 1024;
  int l1d_ways = 8;
};

CacheSizes detect_cache_sizes();
// avx512_double_pumped: the CPU runs 512-bit operations as two halves
// (detail::avx512_double_pumped).
TuningProfile default_profile(const CacheSizes& caches, const KernelTable& kernels,
                              bool avx512_double_pumped);
// Overrides the fields the file names; unknown keys and bad values are errors.
Status load_profile_file(const std::string& path, TuningProfile* profile);
// Rejects block sizes that are not positive.
Status validate_profile(const TuningProfile& profile);

}  // namespace cpuattn::detail
