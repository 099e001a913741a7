// Instantiates the kernels for generic; built with this ISA's flags alone (cmake/Isa.cmake).
#include "kernels/instantiate.hpp"

namespace cpuattn::isa_generic {
const detail::KernelTable& kernel_table() {  // built once, on first use
  static const detail::KernelTable table =
      detail::make_kernel_table<xsimd::sse2>(Isa::kGeneric, "generic");
  return table;
}
}  // namespace cpuattn::isa_generic
