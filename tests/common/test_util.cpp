#include "test_util.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>

namespace cpuattn::test {

Context make_test_context(Isa isa, int threads, const TuningProfile* profile) {
  ContextOptions o;
  o.threads = threads;
  o.isa = isa;
  if (profile != nullptr) o.profile = *profile;
  Context ctx;
  const Status s = Context::create(o, &ctx);
  EXPECT_TRUE(s.is_ok()) << s.message();
  return ctx;
}

uint64_t test_seed() {
  if (const char* env = std::getenv("CPUATTN_TEST_SEED")) return std::strtoull(env, nullptr, 10);
  static const uint64_t seed =
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  return seed;
}

std::vector<float> random_floats(std::mt19937_64& rng, size_t n, float lo, float hi) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

std::vector<float> random_small_ints(std::mt19937_64& rng, size_t n, int lo, int hi) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(d(rng));
  return v;
}

std::string isa_param_name(const ::testing::TestParamInfo<Isa>& info) {
  return isa_name(info.param);
}

std::vector<Isa> testable_isas() {
  return compiled_isas();
}

Isa best_isa_here() {
  Isa best = Isa::kGeneric;
  for (Isa isa : compiled_isas()) {
    if (cpu_supports(isa)) best = isa;
  }
  return best;
}

GuardedBuffer::GuardedBuffer(size_t count) : count_(count) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t bytes = (count * sizeof(float) + page - 1) / page * page;
  mapped_ = bytes + page;
  base_ = mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base_ == MAP_FAILED) throw std::runtime_error("mmap failed");
  char* guard = static_cast<char*>(base_) + bytes;
  if (mprotect(guard, page, PROT_NONE) != 0) throw std::runtime_error("mprotect failed");
  data_ = reinterpret_cast<float*>(guard) - count;
}

GuardedBuffer::~GuardedBuffer() {
  munmap(base_, mapped_);
}

TuningProfile tiny_profile(int mr, int nr) {
  TuningProfile p;
  p.gemm.mc = mr;
  p.gemm.kc = 5;
  p.gemm.nc = nr;
  p.attn_q_block = 1;  // rounded up to the tile by the driver
  p.attn_kv_block = 1;
  p.attn_kv_group_kib = 1;  // one (batch, kv head) per packed group
  p.parallel_grain = 1;
  p.softmax_stage_max_cols = 16;  // longer softmax rows normalise in their output
  p.source = "tiny test blocks";
  return p;
}

}  // namespace cpuattn::test
