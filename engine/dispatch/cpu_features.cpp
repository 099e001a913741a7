#include "dispatch/cpu_features.hpp"

#include <cctype>
#include <string>

#include "dispatch/kernel_table.hpp"

namespace cpuattn {

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kGeneric:
      return "generic";
    case Isa::kSse42:
      return "sse42";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kAvx512:
      return "avx512";
  }
  return "unknown";
}

bool cpu_supports(Isa isa) {
  // __builtin_cpu_supports also checks XCR0, i.e. that the OS saves ymm/zmm state.
  switch (isa) {
    case Isa::kGeneric:
      return true;
    case Isa::kSse42:
      return __builtin_cpu_supports("sse4.2");
    case Isa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Isa::kAvx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("fma");
  }
  return false;
}

std::vector<Isa> compiled_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::kGeneric, Isa::kSse42, Isa::kAvx2, Isa::kAvx512}) {
    if (detail::isa_compiled(isa)) out.push_back(isa);
  }
  return out;
}

namespace detail {

Isa best_supported_isa() {
  Isa best = Isa::kGeneric;
  for (Isa isa : compiled_isas()) {
    if (cpu_supports(isa)) best = isa;
  }
  return best;
}

std::optional<Isa> parse_isa(std::string_view name) {
  std::string lower;
  for (char c : name)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  for (Isa isa : {Isa::kGeneric, Isa::kSse42, Isa::kAvx2, Isa::kAvx512}) {
    if (lower == isa_name(isa)) return isa;
  }
  return std::nullopt;
}

bool avx512_double_pumped() {
  return __builtin_cpu_is("amdfam19h") && cpu_supports(Isa::kAvx512);
}

}  // namespace detail
}  // namespace cpuattn
