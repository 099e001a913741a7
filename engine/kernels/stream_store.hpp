// Non-temporal stores for outputs that will not be read back soon (xsimd 8.1 has none): they skip
// the read-for-ownership of the destination line, a third of the traffic of a streaming kernel.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <xsimd/xsimd.hpp>

namespace cpuattn::detail {

// Prefetches for writing the last line of a streamed row of n floats at y when StreamStore::scale
// will write it with plain stores (the row does not end on a line): a miss there would hold every
// streaming store behind it in the store queue for a DRAM round trip. A line that is streamed
// whole is left alone, as owning it first would read it from DRAM and then flush it again (an
// unconditional prefetch measured 0.86x at 512 aligned columns on 2 threads, in one noisy run).
inline void prefetch_plain_tail(const float* y, int64_t n) {
  const float* last = y + n - 1;
  if ((reinterpret_cast<std::uintptr_t>(y + n) % 64) != 0) __builtin_prefetch(last, 1, 3);
}

template <class Arch>
struct StreamStore {
  using Vec = xsimd::batch<float, Arch>;
  static constexpr int64_t kW = static_cast<int64_t>(Vec::size);

  // dst must be aligned to the vector size.
  static inline void store(float* dst, Vec v) {
    if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>) {
      _mm512_stream_ps(dst, v);
    } else if constexpr (std::is_base_of_v<xsimd::avx, Arch>) {
      _mm256_stream_ps(dst, v);
    } else {
      _mm_stream_ps(dst, v);
    }
  }

  // y[i] = x[i] * s for n floats: the whole 64-byte lines of y with non-temporal stores, the
  // partial lines at either end with plain ones. A line written partly by each kind (the ends of
  // a row that does not start on a line) is read for ownership by the plain store and flushed
  // again by the streaming one: streaming from the first vector-aligned address instead, out of
  // cache on Zen 3 (AVX2, 1 thread), rows of 513 columns ran at 7.6 GB/s and of 130 at 3.5,
  // against 18 at 520 (now 14.2 and 10.0).
  static void scale(const float* x, float s, float* y, int64_t n) {
    const Lines l = lines(y, n);
    scale_plain(x, s, y, 0, l.head);
    const Vec vs(s);
    for (int64_t i = l.head; i < l.body_end; i += kW) {
      store(y + i, Vec::load_unaligned(x + i) * vs);
    }
    scale_plain(x, s, y, l.body_end, n);
  }

  // The floats of one 64-byte line of y that a row's last partial line holds, kept back until the
  // next row, which starts in the same line when rows are contiguous in y, completes it: the whole
  // line then goes out as one non-temporal store instead of plain stores from both rows, each of
  // which read the line from memory first. Intel Xeon VM, 16 Mi floats 16 bytes off a line,
  // interleaved medians: 1 thread 128 columns +6%, 512 +9.5%, 2048 +3%, 8192 +2%; 2 threads +8%,
  // +11%, +5.5%, +1.5%; aligned rows (nothing carried) even.
  struct LineCarry {
    float* line = nullptr;  // null: nothing held
    int count = 0;          // lanes [0, count) of line, in v
    alignas(64) float v[16];
  };

  // Writes what carry holds with plain stores.
  static void flush(LineCarry& carry) {
    if (carry.line != nullptr) std::copy(carry.v, carry.v + carry.count, carry.line);
    carry.line = nullptr;
  }

  // scale for one of a run of rows contiguous in y: the row's head completes the line carry holds
  // when that line ends where y starts, and its tail is held for the next row (flush after the
  // run's last row).
  static void scale_carrying(const float* x, float s, float* y, int64_t n, LineCarry& carry) {
    constexpr int kLineFloats = 16;
    const Lines l = lines(y, n);
    if (l.head == n) {  // y ends before a line boundary, or cannot be aligned
      flush(carry);
      scale_plain(x, s, y, 0, n);
      return;
    }
    const int missing = static_cast<int>(kLineFloats - l.head);
    if (l.head > 0 && carry.line == y - missing && carry.count == missing) {
      for (int j = 0; j < l.head; ++j) carry.v[missing + j] = x[j] * s;
      for (int i = 0; i < kLineFloats; i += kW)
        store(carry.line + i, Vec::load_aligned(carry.v + i));
      carry.line = nullptr;
    } else {
      flush(carry);
      scale_plain(x, s, y, 0, l.head);
    }
    const Vec vs(s);
    for (int64_t i = l.head; i < l.body_end; i += kW) {
      store(y + i, Vec::load_unaligned(x + i) * vs);
    }
    if (l.body_end < n) {
      carry.line = y + l.body_end;
      carry.count = static_cast<int>(n - l.body_end);
      for (int j = 0; j < carry.count; ++j) carry.v[j] = x[l.body_end + j] * s;
    }
  }

  // y[i] = value for n floats, split into lines as in scale (the masked columns of streamed rows).
  static void fill(float* y, int64_t n, float value) {
    const Lines l = lines(y, n);
    std::fill(y, y + l.head, value);
    const Vec v(value);
    for (int64_t i = l.head; i < l.body_end; i += kW) store(y + i, v);
    std::fill(y + l.body_end, y + n, value);
  }

 private:
  // y[0, head) and y[body_end, n) lie in partial 64-byte lines, y[head, body_end) in whole ones.
  struct Lines {
    int64_t head, body_end;
  };
  static Lines lines(const float* y, int64_t n) {
    constexpr std::uintptr_t kLine = 64;
    constexpr int64_t kLineFloats = static_cast<int64_t>(kLine / sizeof(float));
    const std::uintptr_t addr = reinterpret_cast<std::uintptr_t>(y);
    int64_t head = n;  // all of y if it cannot be aligned
    if (addr % sizeof(float) == 0) {
      head = std::min<int64_t>(
          n, static_cast<int64_t>((kLine - addr % kLine) % kLine / sizeof(float)));
    }
    return {head, head + (n - head) / kLineFloats * kLineFloats};
  }

 public:
  // y[i] = x[i] * s for i in [begin, end), plain stores.
  static void scale_plain(const float* x, float s, float* y, int64_t begin, int64_t end) {
    const Vec vs(s);
    int64_t i = begin;
    for (; i + kW <= end; i += kW) (Vec::load_unaligned(x + i) * vs).store_unaligned(y + i);
    for (; i < end; ++i) y[i] = x[i] * s;
  }

  // Orders the streaming stores before later ordinary ones (call once per kernel invocation).
  static void fence() { _mm_sfence(); }
};

}  // namespace cpuattn::detail
