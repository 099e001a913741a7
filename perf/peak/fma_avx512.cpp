// Built with the library's AVX-512 flags only (perf/CMakeLists.txt).
#include "fma_chains.hpp"

namespace cpuattn::perf {
float fma_peak_avx512(int64_t iters) {
  return fma_chains<xsimd::avx512bw, 16>(iters);
}
}  // namespace cpuattn::perf
