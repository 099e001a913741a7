// What the running CPU supports, including whether the OS saves the wider registers.
#pragma once

#include <optional>
#include <string_view>

#include "cpuattn/context.hpp"

namespace cpuattn::detail {

Isa best_supported_isa();
// Whether 512-bit operations issue as two 256-bit halves, one zmm FMA a cycle (AMD family 19h
// with AVX-512: Zen 4; Zen 3 has no AVX-512).
bool avx512_double_pumped();
// "avx512", "avx2", "sse42", "generic" (case-insensitive); nullopt for anything else.
std::optional<Isa> parse_isa(std::string_view name);

}  // namespace cpuattn::detail
