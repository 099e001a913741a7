// What the running CPU supports, including whether the OS saves the wider registers.
#pragma once

#include <optional>
#include <string_view>

#include "cpuattn/context.hpp"

namespace cpuattn::detail {

Isa best_supported_isa();
// "avx512", "avx2", "sse42", "generic" (case-insensitive); nullopt for anything else.
std::optional<Isa> parse_isa(std::string_view name);

}  // namespace cpuattn::detail
