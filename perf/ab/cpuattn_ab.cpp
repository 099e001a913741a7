// cpuattn_ab: two builds of libcpuattn compared inside one process.
//
// On the project's shared VMs two runs of the same perf binary differ by up to 20% (session 12),
// which hides any change smaller than that. Here both libraries are loaded side by side (dlopen,
// RTLD_LOCAL: each keeps its own symbols), given the same inputs, and timed in alternation: round r
// times A then B (B then A in odd rounds), each over ~20 ms of calls after one warm-up call, so a
// slow stretch of the host falls on both. The figure of merit is the median over rounds of the
// per-round ratio B/A, with its quartiles. Each workload's first outputs from A and B are compared.
//
// usage: cpuattn_ab LIB_A LIB_B [--threads=N] [--rounds=N] [--isa=NAME] [--expect-equal]
//                   [--env-a=NAME=VALUE] [--env-b=NAME=VALUE] WORKLOAD...
//   sgemm:M:N:K[:TRANS_B[:OFFSET]]  C = A B (or A B^T), GFLOP/s; OFFSET: A, B and C start that
//                                 many floats past a 64-byte boundary (std::vector gives 4)
//   softmax:COLS:TOTAL[:OFFSET]   rows of COLS floats, TOTAL floats, buffers OFFSET floats past a
//                                 64-byte boundary, scale 0.125, GB/s read + written
//   attention:B:H:L:D[:CAUSAL]    self-attention, [B, L, H, D] tensors, GFLOP/s (4 B H L^2 D,
//                                 half for causal)
//   decode:B:H:HKV:LK:D           one query per head against LK keys of HKV heads, GB/s of Q, K
//                                 and V read and the output written
// --expect-equal: exit 1 unless A's and B's outputs are bit-identical (a refactor's check).
// --env-a / --env-b: an environment variable set while that library's context is created (and
// unset after), e.g. --env-b=CPUATTN_PROFILE=kc512.txt: one build against itself with other
// block sizes.
// scripts/ab.sh builds two git revisions and runs this.
#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "cpuattn/cpuattn.h"
#include "round_stats.hpp"

namespace {

using cpuattn::perf::quantile;
using cpuattn::perf::seconds_now;

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "cpuattn_ab: %s\n", message.c_str());
  std::exit(2);
}

// The entry points this tool calls, resolved in one library.
struct Library {
  std::string path;
  decltype(&cpuattn_context_options_init) context_options_init = nullptr;
  decltype(&cpuattn_context_create) context_create = nullptr;
  decltype(&cpuattn_context_destroy) context_destroy = nullptr;
  decltype(&cpuattn_last_error_message) last_error_message = nullptr;
  decltype(&cpuattn_sgemm) sgemm = nullptr;
  decltype(&cpuattn_softmax_desc_init) softmax_desc_init = nullptr;
  decltype(&cpuattn_softmax) softmax = nullptr;
  decltype(&cpuattn_attention_desc_init) attention_desc_init = nullptr;
  decltype(&cpuattn_attention) attention = nullptr;
  cpuattn_context_t ctx = nullptr;

  void check(cpuattn_status_t status, const char* what) const {
    if (status != CPUATTN_STATUS_OK) fail(path + ": " + what + ": " + last_error_message());
  }
};

template <class F>
void resolve(void* handle, const Library& lib, const char* name, F& out) {
  out = reinterpret_cast<F>(dlsym(handle, name));
  if (out == nullptr) fail(lib.path + " has no " + name);
}

Library load(const std::string& path, int threads, int isa) {
  Library lib;
  lib.path = path;
  // RTLD_LOCAL and a path with a slash: the second build is a separate object, not the first
  // one found again by its soname.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) fail(dlerror());
  resolve(handle, lib, "cpuattn_context_options_init", lib.context_options_init);
  resolve(handle, lib, "cpuattn_context_create", lib.context_create);
  resolve(handle, lib, "cpuattn_context_destroy", lib.context_destroy);
  resolve(handle, lib, "cpuattn_last_error_message", lib.last_error_message);
  resolve(handle, lib, "cpuattn_sgemm", lib.sgemm);
  resolve(handle, lib, "cpuattn_softmax_desc_init", lib.softmax_desc_init);
  resolve(handle, lib, "cpuattn_softmax", lib.softmax);
  resolve(handle, lib, "cpuattn_attention_desc_init", lib.attention_desc_init);
  resolve(handle, lib, "cpuattn_attention", lib.attention);
  cpuattn_context_options options;
  lib.context_options_init(&options);
  options.threads = threads;
  options.isa = isa;
  lib.check(lib.context_create(&options, &lib.ctx), "context");
  return lib;
}

// 64-byte-aligned floats, as runtimes allocate tensors (and as the perf suite's aligned rows).
class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(std::size_t n)
      : data_(static_cast<float*>(std::aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64))),
        size_(n) {
    if (data_ == nullptr) fail("out of memory");
  }
  Buffer(Buffer&& other) noexcept : data_(other.data_), size_(other.size_) {
    other.data_ = nullptr;
  }
  Buffer& operator=(Buffer&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    return *this;
  }
  ~Buffer() { std::free(data_); }
  float* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  float* data_ = nullptr;
  std::size_t size_ = 0;
};

// One workload. Both libraries read the same inputs and write the same output buffer: with an
// output each, the two differed by where their stores fell against the loads modulo 4 KiB (two
// copies of one library read 1.09x apart on 2048-column softmax rows).
struct Workload {
  std::string name;
  const char* unit = "";
  double work_per_call = 0;  // GFLOP or GB
  Buffer in0, in1, in2;
  Buffer out;
  std::size_t out_offset = 0, out_count = 0;  // the part of out that the call writes
  std::function<void(const Library&, float*)> call;
};

std::vector<int64_t> parse_fields(const std::string& spec, std::string& kind) {
  std::vector<int64_t> fields;
  std::size_t start = spec.find(':');
  kind = spec.substr(0, start);
  while (start != std::string::npos) {
    const std::size_t next = spec.find(':', start + 1);
    const std::string field =
        spec.substr(start + 1, next == std::string::npos ? next : next - start - 1);
    char* end = nullptr;
    const long long value = std::strtoll(field.c_str(), &end, 10);
    if (field.empty() || *end != '\0' || value < 0) fail("bad field '" + field + "' in " + spec);
    fields.push_back(value);
    start = next;
  }
  return fields;
}

Buffer random_floats(std::size_t n, float spread, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, spread);
  Buffer b(n);
  std::generate(b.data(), b.data() + n, [&] { return dist(gen); });
  return b;
}

// Q (nq floats), K and V (nkv each) in in0, in1, in2.
void fill_qkv(Workload& w, std::size_t nq, std::size_t nkv, uint32_t seed) {
  w.in0 = random_floats(nq, 1.0f, seed);
  w.in1 = random_floats(nkv, 1.0f, seed + 1);
  w.in2 = random_floats(nkv, 1.0f, seed + 2);
}

cpuattn_tensor_desc dense4(int64_t d0, int64_t d1, int64_t d2, int64_t d3) {
  return cpuattn_tensor_desc{4, {d0, d1, d2, d3}, {d1 * d2 * d3, d2 * d3, d3, 1}};
}

Workload make_workload(const std::string& spec) {
  std::string kind;
  const std::vector<int64_t> f = parse_fields(spec, kind);
  auto need = [&](std::size_t lo, std::size_t hi) {
    if (f.size() < lo || f.size() > hi) fail("wrong number of fields in " + spec);
  };
  Workload w;
  w.name = spec;
  if (kind == "sgemm") {
    need(3, 5);
    const int64_t m = f[0], n = f[1], k = f[2], offset = f.size() > 4 ? f[4] : 0;
    const bool trans_b = f.size() > 3 && f[3] != 0;
    w.unit = "GFLOP/s";
    w.work_per_call = 2.0 * m * n * k * 1e-9;
    w.in0 = random_floats(m * k + offset, 1.0f, 1);
    w.in1 = random_floats(k * n + offset, 1.0f, 2);
    w.out_offset = offset;
    w.out_count = m * n;
    const float* a = w.in0.data() + offset;
    const float* b = w.in1.data() + offset;
    w.call = [=](const Library& lib, float* c) {
      lib.check(lib.sgemm(lib.ctx, CPUATTN_TRANSPOSE_NO,
                          trans_b ? CPUATTN_TRANSPOSE_YES : CPUATTN_TRANSPOSE_NO, m, n, k, 1.0f, a,
                          k, b, trans_b ? k : n, 0.0f, c + offset, n),
                "sgemm");
    };
  } else if (kind == "softmax") {
    need(2, 3);
    const int64_t cols = f[0], total = f[1], offset = f.size() > 2 ? f[2] : 0;
    if (cols == 0 || total % cols != 0) fail("softmax TOTAL must be a multiple of COLS: " + spec);
    w.unit = "GB/s";
    w.work_per_call = 8.0 * total * 1e-9;
    w.in0 = random_floats(total + offset, 4.0f, 3);
    w.out_offset = offset;
    w.out_count = total;
    const float* x = w.in0.data() + w.out_offset;
    const cpuattn_tensor_desc desc = dense4(1, 1, total / cols, cols);
    const std::size_t out_offset = w.out_offset;
    w.call = [=](const Library& lib, float* y) {
      cpuattn_softmax_desc d;
      lib.softmax_desc_init(&d);
      d.scale = 0.125f;
      lib.check(lib.softmax(lib.ctx, &desc, x, &desc, y + out_offset, &d), "softmax");
    };
  } else if (kind == "attention") {
    need(4, 5);
    const int64_t batch = f[0], heads = f[1], len = f[2], dim = f[3];
    const bool causal = f.size() > 4 && f[4] != 0;
    w.unit = "GFLOP/s";
    w.work_per_call = 4.0 * batch * heads * len * len * dim * 1e-9 / (causal ? 2 : 1);
    const std::size_t n = batch * len * heads * dim;
    fill_qkv(w, n, n, 4);
    w.out_count = n;
    const float *q = w.in0.data(), *k = w.in1.data(), *v = w.in2.data();
    const cpuattn_tensor_desc desc = dense4(batch, len, heads, dim);
    w.call = [=](const Library& lib, float* out) {
      cpuattn_attention_desc d;
      lib.attention_desc_init(&d);
      d.mask = causal ? CPUATTN_MASK_CAUSAL : CPUATTN_MASK_NONE;
      lib.check(lib.attention(lib.ctx, &desc, q, &desc, k, &desc, v, &desc, out, &d), "attention");
    };
  } else if (kind == "decode") {
    need(5, 5);
    const int64_t batch = f[0], heads = f[1], heads_kv = f[2], len = f[3], dim = f[4];
    if (heads_kv == 0 || heads % heads_kv != 0) fail("decode H must be a multiple of HKV: " + spec);
    const std::size_t nq = batch * heads * dim, nkv = batch * len * heads_kv * dim;
    w.unit = "GB/s";
    w.work_per_call = 4.0 * (2 * nq + 2 * nkv) * 1e-9;
    fill_qkv(w, nq, nkv, 7);
    w.out_count = nq;
    const float *q = w.in0.data(), *k = w.in1.data(), *v = w.in2.data();
    const cpuattn_tensor_desc q_desc = dense4(batch, 1, heads, dim);
    const cpuattn_tensor_desc kv_desc = dense4(batch, len, heads_kv, dim);
    w.call = [=](const Library& lib, float* out) {
      lib.check(lib.attention(lib.ctx, &q_desc, q, &kv_desc, k, &kv_desc, v, &q_desc, out, nullptr),
                "attention");
    };
  } else {
    fail("unknown workload '" + kind + "' (sgemm, softmax, attention, decode)");
  }
  w.out = Buffer(w.out_offset + w.out_count);
  std::fill(w.out.data(), w.out.data() + w.out.size(), 0.0f);  // first touch before timing
  return w;
}

// Returns whether A's and B's first outputs are bit-identical.
bool run(const Library (&libs)[2], Workload& w, int rounds) {
  float* const out = w.out.data();
  w.call(libs[0], out);
  const std::vector<float> out_a(out + w.out_offset, out + w.out_offset + w.out_count);
  w.call(libs[1], out);
  const float* const out_b = out + w.out_offset;
  const bool identical = std::memcmp(out_a.data(), out_b, w.out_count * sizeof(float)) == 0;
  double max_diff = 0, max_ref = 0;
  for (std::size_t i = 0; i < w.out_count; ++i) {
    const double a = out_a[i], b = out_b[i];
    max_ref = std::max(max_ref, std::fabs(a));
    // NaN on one side only counts as a difference of infinity.
    max_diff = std::max(max_diff, std::isnan(a) != std::isnan(b) ? INFINITY : std::fabs(a - b));
  }
  // ~20 ms of calls per timing, from one timed call.
  const double t0 = seconds_now();
  w.call(libs[0], out);
  const int reps = std::max(1, static_cast<int>(0.02 / std::max(seconds_now() - t0, 1e-9)));
  std::vector<double> rate[2], ratio;
  for (int r = 0; r < rounds; ++r) {
    double seconds[2];
    for (int i = 0; i < 2; ++i) {
      const int v = (r % 2 == 0) ? i : 1 - i;
      w.call(libs[v], out);
      const double start = seconds_now();
      for (int k = 0; k < reps; ++k) w.call(libs[v], out);
      seconds[v] = (seconds_now() - start) / reps;
      rate[v].push_back(w.work_per_call / seconds[v]);
    }
    ratio.push_back(seconds[0] / seconds[1]);
  }
  std::printf("%-28s A %8.2f  B %8.2f %-7s  B/A %.3f [%.3f .. %.3f]  max|A-B| %.3g (max|A| %.3g)\n",
              w.name.c_str(), quantile(rate[0], 0.5), quantile(rate[1], 0.5), w.unit,
              quantile(ratio, 0.5), quantile(ratio, 0.25), quantile(ratio, 0.75), max_diff,
              max_ref);
  std::fflush(stdout);
  return identical;
}

int isa_from_name(const std::string& name) {
  if (name == "avx512") return CPUATTN_ISA_AVX512;
  if (name == "avx2") return CPUATTN_ISA_AVX2;
  if (name == "sse42") return CPUATTN_ISA_SSE42;
  if (name == "generic") return CPUATTN_ISA_GENERIC;
  fail("unknown --isa " + name + " (avx512, avx2, sse42, generic)");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: %s LIB_A LIB_B [--threads=N] [--rounds=N] [--isa=NAME] [--expect-equal] "
                 "[--env-a=NAME=VALUE] [--env-b=NAME=VALUE] WORKLOAD...\n"
                 "  sgemm:M:N:K[:TRANS_B[:OFFSET]]  softmax:COLS:TOTAL[:OFFSET]  "
                 "attention:B:H:L:D[:CAUSAL]\n"
                 "  decode:B:H:HKV:LK:D\n",
                 argv[0]);
    return 2;
  }
  int threads = 1, rounds = 21, isa = CPUATTN_ISA_AUTO;
  bool expect_equal = false;
  std::string env[2];
  std::vector<std::string> specs;
  for (int i = 3; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--threads=", 0) == 0) {
      threads = std::atoi(arg.c_str() + 10);
    } else if (arg.rfind("--rounds=", 0) == 0) {
      rounds = std::atoi(arg.c_str() + 9);
    } else if (arg.rfind("--isa=", 0) == 0) {
      isa = isa_from_name(arg.substr(6));
    } else if (arg.rfind("--env-a=", 0) == 0 || arg.rfind("--env-b=", 0) == 0) {
      if (arg.find('=', 8) == std::string::npos) fail(arg + ": expected NAME=VALUE");
      env[arg[6] == 'a' ? 0 : 1] = arg.substr(8);
    } else if (arg == "--expect-equal") {
      expect_equal = true;
    } else {
      specs.push_back(arg);
    }
  }
  if (threads < 1 || rounds < 1) fail("--threads and --rounds must be positive");
  auto load_with_env = [&](int v) {
    const std::size_t eq = env[v].find('=');
    const std::string name = env[v].substr(0, eq);
    if (!env[v].empty()) setenv(name.c_str(), env[v].c_str() + eq + 1, 1);
    Library lib = load(argv[1 + v], threads, isa);
    if (!env[v].empty()) unsetenv(name.c_str());
    return lib;
  };
  const Library libs[2] = {load_with_env(0), load_with_env(1)};
  std::printf("A: %s\nB: %s\n%d thread(s), %d rounds; median rate, median B/A [quartiles]\n",
              argv[1], argv[2], threads, rounds);
  bool all_identical = true;
  for (const std::string& spec : specs) {
    Workload w = make_workload(spec);
    if (!run(libs, w, rounds)) {
      all_identical = false;
      if (expect_equal) std::printf("%s: outputs differ\n", spec.c_str());
    }
  }
  for (const Library& lib : libs) lib.context_destroy(lib.ctx);
  return expect_equal && !all_identical ? 1 : 0;
}
