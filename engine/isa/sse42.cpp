// Instantiates the kernels for sse42; built with this ISA's flags alone (cmake/Isa.cmake).
#include "kernels/instantiate.hpp"

namespace cpuattn::isa_sse42 {
const detail::KernelTable& kernel_table() {  // built once, on first use
  static const detail::KernelTable table =
      detail::make_kernel_table<xsimd::sse4_2>(Isa::kSse42, "sse42");
  return table;
}
}  // namespace cpuattn::isa_sse42
