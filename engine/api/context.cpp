#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "api/context_impl.hpp"
#include "dispatch/cpu_features.hpp"
#include "tuning/default_profile.hpp"

namespace cpuattn {

Context::Context() = default;
Context::~Context() = default;
Context::Context(Context&&) noexcept = default;
Context& Context::operator=(Context&&) noexcept = default;

Isa Context::isa() const {
  return impl_ ? impl_->isa : Isa::kGeneric;
}
int Context::threads() const {
  return impl_ ? impl_->threads() : 0;
}
const TuningProfile& Context::profile() const {
  static const TuningProfile empty;
  return impl_ ? impl_->profile : empty;
}

namespace {

constexpr int kMaxThreads = 4096;
constexpr int kMaxSpinUs = 1000000;
// Long enough for back-to-back calls (a model's sequence of products and softmaxes) to find the
// workers awake; see threading/warm_team.hpp.
constexpr int kDefaultSpinUs = 200;

// The workers' spin: the option, else CPUATTN_SPIN_US, else the default; zero when they sleep.
Status choose_spin(const ContextOptions& options, std::chrono::microseconds* out) {
  long us = options.spin_wait_us;
  if (us == 0) {
    us = kDefaultSpinUs;
    if (const char* env = std::getenv("CPUATTN_SPIN_US"); env != nullptr && *env != '\0') {
      char* end = nullptr;
      us = std::strtol(env, &end, 10);
      if (end == env || *end != '\0' || us > kMaxSpinUs) {
        return Status::invalid_argument(std::string("CPUATTN_SPIN_US='") + env +
                                        "': expected an integer up to " +
                                        std::to_string(kMaxSpinUs) + " (0 or less: no spin)");
      }
    }
  }
  *out = std::chrono::microseconds(std::max(us, 0L));
  return Status::ok();
}

Status choose_isa(const ContextOptions& options, Isa* out) {
  if (options.isa) {
    const Isa want = *options.isa;
    if (static_cast<int>(want) < 0 || static_cast<int>(want) > static_cast<int>(Isa::kAvx512)) {
      return Status::invalid_argument("options.isa: unknown ISA value " +
                                      std::to_string(static_cast<int>(want)));
    }
    if (!detail::isa_compiled(want)) {
      return Status::unsupported(std::string("options.isa: this build has no ") + isa_name(want) +
                                 " kernels");
    }
    if (!cpu_supports(want)) {
      return Status::unsupported(std::string("options.isa: this CPU does not support ") +
                                 isa_name(want));
    }
    *out = want;
    return Status::ok();
  }
  Isa best = detail::best_supported_isa();
  if (const char* env = std::getenv("CPUATTN_ISA"); env != nullptr && *env != '\0') {
    const std::optional<Isa> cap = detail::parse_isa(env);
    if (!cap) {
      return Status::invalid_argument(std::string("CPUATTN_ISA='") + env +
                                      "': expected avx512, avx2, sse42 or generic");
    }
    if (!cpu_supports(*cap) || !detail::isa_compiled(*cap)) {
      return Status::unsupported(std::string("CPUATTN_ISA=") + env +
                                 ": this CPU or build does not support it");
    }
    if (static_cast<int>(*cap) < static_cast<int>(best)) best = *cap;
  }
  *out = best;
  return Status::ok();
}

}  // namespace

Status Context::create(const ContextOptions& options, Context* out) {
  if (out == nullptr) return Status::invalid_argument("out: must not be null");
  if (options.threads < 0 || options.threads > kMaxThreads) {
    return Status::invalid_argument("options.threads: expected 0 (all cores) to " +
                                    std::to_string(kMaxThreads) + ", got " +
                                    std::to_string(options.threads));
  }
  if (options.spin_wait_us > kMaxSpinUs) {
    return Status::invalid_argument("options.spin_wait_us: expected at most " +
                                    std::to_string(kMaxSpinUs) + " (microseconds), got " +
                                    std::to_string(options.spin_wait_us));
  }
  if (options.scratch_limit_bytes == 0) {
    return Status::invalid_argument("options.scratch_limit_bytes: must be positive");
  }
  auto impl = std::make_unique<detail::ContextImpl>();
  CPUATTN_RETURN_IF_ERROR(choose_isa(options, &impl->isa));
  impl->kernels = detail::kernel_table_for(impl->isa);
  if (options.profile) {
    CPUATTN_RETURN_IF_ERROR(detail::validate_profile(*options.profile));
    impl->profile = *options.profile;
  } else {
    impl->profile = detail::default_profile(detail::detect_cache_sizes(), *impl->kernels,
                                            detail::avx512_double_pumped());
    if (const char* path = std::getenv("CPUATTN_PROFILE"); path != nullptr && *path != '\0') {
      CPUATTN_RETURN_IF_ERROR(detail::load_profile_file(path, &impl->profile));
    }
  }
  const int threads = options.threads > 0 ? options.threads : detail::default_thread_count();
  impl->scratch_limit_bytes = options.scratch_limit_bytes;
  std::chrono::microseconds spin{0};
  CPUATTN_RETURN_IF_ERROR(choose_spin(options, &spin));
  try {
    impl->runtime = detail::make_thread_runtime(threads, spin);
  } catch (const std::exception& e) {
    return Status::internal(std::string("creating the thread runtime failed: ") + e.what());
  }
  impl->scratch = std::make_unique<detail::ScratchPool>(threads);
  if (const char* v = std::getenv("CPUATTN_VERBOSE"); v != nullptr && v[0] == '1') {
    std::fprintf(stderr,
                 "cpuattn: isa %s (tile %dx%d), %d %s threads, profile: %s; gemm mc/kc/nc "
                 "%d/%d/%d, B in place up to %d KiB, L1 %d-way; softmax staged up to %d columns\n",
                 isa_name(impl->isa), impl->kernels->mr, impl->kernels->nr, threads,
                 detail::threading_runtime_name(), impl->profile.source.c_str(),
                 impl->profile.gemm.mc, impl->profile.gemm.kc, impl->profile.gemm.nc,
                 impl->profile.gemm.b_in_place_kib, impl->profile.gemm.l1_ways,
                 impl->profile.softmax_stage_max_cols);
  }
  out->impl_ = std::move(impl);
  return Status::ok();
}

}  // namespace cpuattn
