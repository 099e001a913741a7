// A context owns what calls share: the thread arena (its size caps the threads cpuattn uses), the
// selected ISA, the tuning profile and reusable scratch memory. Creating one is not free; keep it.
// A context may be used from several threads at once: each call leases its own scratch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "cpuattn/status.hpp"
#include "cpuattn/tuning.hpp"

namespace cpuattn {

// Ordered from least to most capable.
enum class Isa : int { kGeneric = 0, kSse42 = 1, kAvx2 = 2, kAvx512 = 3 };

const char* isa_name(Isa isa);
bool cpu_supports(Isa isa);
// The ISAs this build has kernels for, best last.
std::vector<Isa> compiled_isas();

struct ContextOptions {
  int threads = 0;                       // 0: one per available core
  std::optional<Isa> isa;                // force this ISA (error if the CPU lacks it)
  std::optional<TuningProfile> profile;  // default: derived from the CPU's caches
  std::size_t scratch_limit_bytes = std::size_t{1} << 32;  // per call; beyond it: out of memory
  // How long, in microseconds, the context's worker threads stay awake after a call for the next
  // one (like OpenMP's wait policy): 0 is the default (200, or the CPUATTN_SPIN_US environment
  // variable), negative lets them sleep at once, at most 1000000. oneTBB runtime only (OpenMP
  // follows OMP_WAIT_POLICY).
  int spin_wait_us = 0;
};

namespace detail {
struct ContextImpl;
}

class Context {
 public:
  Context();  // empty: every call with it fails with kInvalidArgument
  ~Context();
  Context(Context&&) noexcept;
  Context& operator=(Context&&) noexcept;
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  // The CPUATTN_ISA environment variable caps the ISA when options.isa is unset.
  static Status create(const ContextOptions& options, Context* out);

  bool valid() const { return impl_ != nullptr; }
  Isa isa() const;
  int threads() const;
  const TuningProfile& profile() const;

  detail::ContextImpl* impl() const { return impl_.get(); }

 private:
  std::unique_ptr<detail::ContextImpl> impl_;
};

}  // namespace cpuattn
