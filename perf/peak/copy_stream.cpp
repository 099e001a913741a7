// Built with AVX2 flags (perf/CMakeLists.txt). The streaming copy: loads, and non-temporal
// stores that skip the destination's read for ownership. It is the roofline of a kernel that
// reads its input once and streams its output, as cpuattn's softmax does for large outputs;
// memcpy is not (glibc picks its stores by size thresholds: on one thread of an Intel VM it
// copied 16.4 GB/s against 24.7 streamed).
#include <immintrin.h>

#include <cstdint>

namespace cpuattn::perf {

void copy_stream_avx2(const float* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i < n && reinterpret_cast<std::uintptr_t>(dst + i) % 32 != 0; ++i) dst[i] = src[i];
  for (; i + 32 <= n; i += 32) {
    const __m256 a = _mm256_loadu_ps(src + i), b = _mm256_loadu_ps(src + i + 8);
    const __m256 c = _mm256_loadu_ps(src + i + 16), d = _mm256_loadu_ps(src + i + 24);
    _mm256_stream_ps(dst + i, a);
    _mm256_stream_ps(dst + i + 8, b);
    _mm256_stream_ps(dst + i + 16, c);
    _mm256_stream_ps(dst + i + 24, d);
  }
  for (; i < n; ++i) dst[i] = src[i];
  _mm_sfence();
}

}  // namespace cpuattn::perf
