// Instantiates the kernels for avx2; built with this ISA's flags alone (cmake/Isa.cmake).
#include "kernels/instantiate.hpp"

namespace cpuattn::isa_avx2 {
const detail::KernelTable& kernel_table() {  // built once, on first use
  static const detail::KernelTable table =
      detail::make_kernel_table<xsimd::fma3<xsimd::avx2>>(Isa::kAvx2, "avx2");
  return table;
}
}  // namespace cpuattn::isa_avx2
