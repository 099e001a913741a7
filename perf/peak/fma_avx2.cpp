// Built with -mavx2 -mfma only (perf/CMakeLists.txt).
#include "fma_chains.hpp"

namespace cpuattn::perf {
float fma_peak_avx2(int64_t iters) {
  return fma_chains<xsimd::fma3<xsimd::avx2>, 12>(iters);
}
}  // namespace cpuattn::perf
