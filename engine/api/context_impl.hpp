// What a Context holds. Drivers take a ContextImpl& and a leased Workspace.
#pragma once

#include <cstddef>
#include <memory>

#include "cpuattn/context.hpp"
#include "dispatch/kernel_table.hpp"
#include "memory/scratch.hpp"
#include "threading/parallel_for.hpp"

namespace cpuattn::detail {

struct ContextImpl {
  Isa isa = Isa::kGeneric;
  const KernelTable* kernels = nullptr;
  TuningProfile profile;
  std::size_t scratch_limit_bytes = 0;
  std::unique_ptr<ThreadRuntime> runtime;
  std::unique_ptr<ScratchPool> scratch;

  int threads() const { return runtime->threads(); }
};

}  // namespace cpuattn::detail
