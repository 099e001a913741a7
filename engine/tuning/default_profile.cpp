#include "tuning/default_profile.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace cpuattn::detail {
namespace {

std::string sysfs_cache_path(int index, const char* field) {
  return "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/" + field;
}

std::size_t read_sysfs_cache(int index) {
  std::ifstream f(sysfs_cache_path(index, "size"));
  std::string s;
  if (!(f >> s) || s.empty()) return 0;
  std::size_t mult = 1;
  if (s.back() == 'K') mult = 1024;
  if (s.back() == 'M') mult = 1024 * 1024;
  return static_cast<std::size_t>(std::strtoull(s.c_str(), nullptr, 10)) * mult;
}

int round_down_multiple(int v, int m) {
  return std::max(m, v / m * m);
}

}  // namespace

CacheSizes detect_cache_sizes() {
  CacheSizes c;
  // sysfs (index0 = L1d, index2 = L2, index3 = L3 on x86 Linux) first: glibc's sysconf is 0 on
  // some VMs and wrong on others (384 MiB of L3 on the project's Zen 5 VMs, whose sysfs and
  // lscpu say 32 MiB).
  auto pick = [](std::size_t sysfs, long conf) {
    return sysfs > 0 ? sysfs : conf > 0 ? static_cast<std::size_t>(conf) : 0;
  };
  const std::size_t s1 = pick(read_sysfs_cache(0), sysconf(_SC_LEVEL1_DCACHE_SIZE));
  const std::size_t s2 = pick(read_sysfs_cache(2), sysconf(_SC_LEVEL2_CACHE_SIZE));
  const std::size_t s3 = pick(read_sysfs_cache(3), sysconf(_SC_LEVEL3_CACHE_SIZE));
  if (s1 >= 8 * 1024) c.l1d = s1;
  if (s2 >= 64 * 1024) c.l2 = s2;
  if (s3 >= 256 * 1024) c.l3 = s3;
  std::ifstream ways(sysfs_cache_path(0, "ways_of_associativity"));
  int w = 0;
  const long conf_ways = sysconf(_SC_LEVEL1_DCACHE_ASSOC);
  if (!(ways >> w) || w <= 0) w = conf_ways > 0 ? static_cast<int>(conf_ways) : 0;
  if (w >= 2 && w <= 64) c.l1d_ways = w;
  return c;
}

TuningProfile default_profile(const CacheSizes& caches, const KernelTable& k,
                              bool avx512_double_pumped) {
  TuningProfile p;
  // The microkernel broadcasts A from its rows in place (12 streams, ~4 B/cycle) and reads the
  // packed B micro-panel at ~11 B/cycle: both sit comfortably in L2 (~64 B/cycle), so kc is
  // bounded by L2 capacity, not L1. A long kc amortises the C tile's load and store; measured on
  // Zen 5, 2048^3 went from ~165 (kc 256) to ~193 GFLOP/s (kc 1024), 512^3 from ~197 to ~206.
  // kc: the kc x nr B micro-panel in an eighth of L2.
  const int kc_l2 = static_cast<int>(caches.l2 / 8 / (sizeof(float) * k.nr));
  p.gemm.kc = std::clamp(round_down_multiple(kc_l2, 8), 128, 1024);
  // mc: the mc x kc block of A, re-read for every nr columns, in half of L2.
  const int mc_l2 = static_cast<int>(caches.l2 / 2 / (sizeof(float) * p.gemm.kc));
  p.gemm.mc = std::clamp(round_down_multiple(mc_l2, k.mr), k.mr, 16 * 1024);
  // nc: the kc x nc packed B block, re-read for every mc rows, in an eighth of L3 (shared with
  // the other cores, and on a VM with other tenants), at most 2048 columns. Zen 5 VM, 32 MiB L3,
  // 2048^3 on 1 thread, interleaved: nc 1024 (a 4 MiB block) 232-237 GFLOP/s, 2048 208-226.
  const int nc_l3 = static_cast<int>(caches.l3 / 8 / (sizeof(float) * p.gemm.kc));
  p.gemm.nc = std::clamp(round_down_multiple(nc_l3, k.nr), k.nr, 2048);
  // How many rows of A, read in place, may share one L1 set (gemm_driver's rows_share_l1_sets).
  p.gemm.l1_ways = caches.l1d_ways;
  // B in place where one zmm FMA issues a cycle (Zen 4): the 12 x 32 tile's 24 FMAs then take 24
  // cycles per k step, in which reading its two lines of B from L2 in place hides well, and the
  // packing pass costs more than it saves. Zen 4, B in place against packed, one process
  // interleaved (scripts/ab.sh), 1 thread: 128^3 +1.4%, 256^3 +3.7%, 512^3 +1.4%, 640^3 +2.2%,
  // 768^3 +1.9% (B 2.25 MiB), 1024 x 512 x 1024 +1.1%, 2 threads +0.5-4.7%; but 1000^3 (B 4 MiB)
  // -15%, and with k > kc (2048 x 128 x 2048) -2%. AVX2 on the same CPU lost 4-12% (its 6 x 16
  // tile reads a line of B every 6 cycles), as packing had won on Zen 3. Untested on full-width
  // AVX-512 (Zen 5), whose tile reads B twice as fast: packed there.
  if (avx512_double_pumped && k.isa == Isa::kAvx512) {
    p.gemm.b_in_place_kib = static_cast<int>(2 * caches.l2 / 1024);
  }
  // Flash blocks: queries x keys scores plus the queries x head_dim output and the packed queries
  // should stay in L2 next to the key/value block. 96 is a multiple of every tile's mr (6, 12)
  // and nr (8, 16, 32).
  p.attn_q_block = 96;
  p.attn_kv_block = 192;
  // K and V of a group of heads are packed, then their query blocks run: a group sized to L2
  // keeps the packed heads there (12 x 512^2 heads, Zen 4: 1 MiB groups 2-5% faster than 8 MiB).
  p.attn_kv_group_kib = static_cast<int>(std::max<std::size_t>(caches.l2 / 1024, 64));
  p.parallel_grain = 1;
  // The row softmax normalises a row under the next row's exp pass, so four rows of n floats
  // stream through L1 at once: this row's x and exponentials, the previous row's exponentials
  // and its output. Staged beyond L1, each vector moved a line more between L1 and L2 than with
  // the exponentials kept in the output. Intel Xeon VM (48 KiB L1), rows in L2, interleaved
  // medians, 1 thread: 8192 columns 16 bytes off a line +10% (64 Ki floats) / +15% (256 Ki),
  // aligned -1% / +6%, 4096 even; 2 threads (+-5% between identical builds) 8192 +3%, 4096 +6%
  // at 256 Ki floats, even at 64 Ki. Rows that fit stage: 2560 columns lost 4-8% on 1 thread.
  p.softmax_stage_max_cols = static_cast<int>(caches.l1d / (4 * sizeof(float)));
  std::ostringstream src;
  src << "defaults from caches L1d " << caches.l1d / 1024 << "K " << caches.l1d_ways << "-way L2 "
      << caches.l2 / 1024 << "K L3 " << caches.l3 / 1024 << "K";
  p.source = src.str();
  return p;
}

Status validate_profile(const TuningProfile& p) {
  if (p.gemm.mc <= 0 || p.gemm.kc <= 0 || p.gemm.nc <= 0 || p.attn_q_block <= 0 ||
      p.attn_kv_block <= 0 || p.attn_kv_group_kib <= 0 || p.parallel_grain <= 0) {
    return Status::invalid_argument(
        "profile: gemm.mc, gemm.kc, gemm.nc, attn_q_block, attn_kv_block, attn_kv_group_kib and "
        "parallel_grain must all be positive");
  }
  if (p.gemm.mc > (1 << 20) || p.gemm.kc > (1 << 20) || p.gemm.nc > (1 << 20) ||
      p.attn_q_block > 4096 || p.attn_kv_block > 4096) {
    return Status::invalid_argument(
        "profile: block sizes too large (gemm blocks <= 2^20, attention blocks <= 4096)");
  }
  if (p.gemm.b_in_place_kib < 0 || p.gemm.b_in_place_kib > (1 << 20)) {
    return Status::invalid_argument("profile: gemm.b_in_place_kib must be in [0, 2^20]");
  }
  if (p.gemm.l1_ways < 1 || p.gemm.l1_ways > 64) {
    return Status::invalid_argument("profile: gemm.l1_ways must be in [1, 64]");
  }
  if (p.softmax_stage_max_cols < 0 || p.softmax_stage_max_cols > (1 << 20)) {
    return Status::invalid_argument("profile: softmax_stage_max_cols must be in [0, 2^20]");
  }
  return Status::ok();
}

Status load_profile_file(const std::string& path, TuningProfile* profile) {
  std::ifstream f(path);
  if (!f) return Status::invalid_argument("profile file '" + path + "' cannot be opened");
  std::string line;
  int lineno = 0;
  while (std::getline(f, line)) {
    ++lineno;
    const auto hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    const auto eq = line.find('=');
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (eq == std::string::npos) {
      return Status::invalid_argument("profile file '" + path + "' line " + std::to_string(lineno) +
                                      ": expected key = value");
    }
    std::istringstream ks(line.substr(0, eq)), vs(line.substr(eq + 1));
    std::string key;
    long value = 0;
    ks >> key;
    if (!(vs >> value)) {
      return Status::invalid_argument("profile file '" + path + "' line " + std::to_string(lineno) +
                                      ": value is not an integer");
    }
    int* field = key == "gemm.mc"                  ? &profile->gemm.mc
                 : key == "gemm.kc"                ? &profile->gemm.kc
                 : key == "gemm.nc"                ? &profile->gemm.nc
                 : key == "gemm.b_in_place_kib"    ? &profile->gemm.b_in_place_kib
                 : key == "gemm.l1_ways"           ? &profile->gemm.l1_ways
                 : key == "attn_q_block"           ? &profile->attn_q_block
                 : key == "attn_kv_block"          ? &profile->attn_kv_block
                 : key == "attn_kv_group_kib"      ? &profile->attn_kv_group_kib
                 : key == "parallel_grain"         ? &profile->parallel_grain
                 : key == "softmax_stage_max_cols" ? &profile->softmax_stage_max_cols
                                                   : nullptr;
    if (field == nullptr) {
      return Status::invalid_argument("profile file '" + path + "' line " + std::to_string(lineno) +
                                      ": unknown key '" + key + "'");
    }
    *field = static_cast<int>(std::clamp<long>(value, -1, 1 << 21));
  }
  profile->source = path;
  return validate_profile(*profile);
}

}  // namespace cpuattn::detail
