// Maps an Isa to the table its translation unit built. Which ISAs exist is decided by CMake
// (CPUATTN_HAVE_ISA_<NAME>), so a build for another architecture can leave x86 variants out.
#include "dispatch/kernel_table.hpp"

namespace cpuattn {
#ifdef CPUATTN_HAVE_ISA_AVX512
namespace isa_avx512 {
const detail::KernelTable& kernel_table();
}
#endif
#ifdef CPUATTN_HAVE_ISA_AVX2
namespace isa_avx2 {
const detail::KernelTable& kernel_table();
}
#endif
#ifdef CPUATTN_HAVE_ISA_SSE42
namespace isa_sse42 {
const detail::KernelTable& kernel_table();
}
#endif
namespace isa_generic {
const detail::KernelTable& kernel_table();
}

namespace detail {

bool isa_compiled(Isa isa) {
  switch (isa) {
    case Isa::kAvx512:
#ifdef CPUATTN_HAVE_ISA_AVX512
      return true;
#else
      return false;
#endif
    case Isa::kAvx2:
#ifdef CPUATTN_HAVE_ISA_AVX2
      return true;
#else
      return false;
#endif
    case Isa::kSse42:
#ifdef CPUATTN_HAVE_ISA_SSE42
      return true;
#else
      return false;
#endif
    case Isa::kGeneric:
      return true;
  }
  return false;
}

const KernelTable* kernel_table_for(Isa isa) {
  // Building a table runs code compiled for its ISA (even filling the struct may use AVX-512
  // stores): never enter an ISA's translation unit on a CPU that lacks it.
  if (!isa_compiled(isa) || !cpu_supports(isa)) return nullptr;
  switch (isa) {
    case Isa::kAvx512:
#ifdef CPUATTN_HAVE_ISA_AVX512
      return &isa_avx512::kernel_table();
#else
      return nullptr;
#endif
    case Isa::kAvx2:
#ifdef CPUATTN_HAVE_ISA_AVX2
      return &isa_avx2::kernel_table();
#else
      return nullptr;
#endif
    case Isa::kSse42:
#ifdef CPUATTN_HAVE_ISA_SSE42
      return &isa_sse42::kernel_table();
#else
      return nullptr;
#endif
    case Isa::kGeneric:
      return &isa_generic::kernel_table();
  }
  return nullptr;
}

}  // namespace detail
}  // namespace cpuattn
