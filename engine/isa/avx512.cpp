// Instantiates the kernels for avx512; built with this ISA's flags alone (cmake/Isa.cmake).
#include "kernels/instantiate.hpp"

namespace cpuattn::isa_avx512 {
const detail::KernelTable& kernel_table() {  // built once, on first use
  static const detail::KernelTable table =
      detail::make_kernel_table<xsimd::avx512bw>(Isa::kAvx512, "avx512");
  return table;
}
}  // namespace cpuattn::isa_avx512
