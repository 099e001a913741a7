#include "ops/softmax_driver.hpp"

#include <algorithm>
#include <limits>

#include "kernels/stream_store.hpp"

namespace cpuattn::detail {

int64_t softmax_valid_columns(bool causal, int64_t row, int64_t rows, int64_t cols,
                              int64_t key_length) {
  int64_t valid = std::min(cols, key_length);
  if (causal) valid = std::min(valid, std::max<int64_t>(0, row + (cols - rows) + 1));
  return valid;
}

void masked_softmax_row(const KernelTable& kt, StridedRow x, StridedRow bias, float* y,
                        int64_t y_stride, int64_t cols, int64_t valid, float scale, bool log,
                        bool stream, const float* next, float* scratch) {
  const float fill = log ? -std::numeric_limits<float>::infinity() : 0.0f;
  if (valid > 0) {
    const float* xs = x.data;
    if (x.stride != 1) {
      float* g = scratch;
      for (int64_t j = 0; j < valid; ++j) g[j] = x.data[j * x.stride];
      xs = g;
    }
    const float* bs = bias.data;
    if (bs != nullptr && bias.stride != 1) {
      float* g = scratch + cols;
      for (int64_t j = 0; j < valid; ++j) g[j] = bias.data[j * bias.stride];
      bs = g;
    }
    float* ys = y_stride == 1 ? y : scratch + 2 * cols;
    kt.softmax_row(xs, bs, ys, valid, scale, log,
                   stream && y_stride == 1 ? scratch + 3 * cols : nullptr,
                   stream && x.stride == 1 ? next : nullptr);
    if (ys != y) {
      for (int64_t j = 0; j < valid; ++j) y[j * y_stride] = ys[j];
    }
  }
  const int64_t from = std::max<int64_t>(valid, 0);
  if (stream && y_stride == 1) {
    kt.stream_fill(y + from, cols - from, fill);
  } else {
    for (int64_t j = from; j < cols; ++j) y[j * y_stride] = fill;
  }
}

std::size_t softmax_scratch(const SoftmaxProblem& p) {
  // Gathered x, bias and y of a strided row (3 cols), then the row kernels' stage.
  return static_cast<std::size_t>(3 * p.dims[3] + kSoftmaxStageFloats(p.dims[3]));
}

namespace {
// Outputs from this size on are written with non-temporal stores: they do not stay in cache for
// the consumer anyway, and skipping the read-for-ownership saves a third of the traffic.
constexpr int64_t kStreamingOutputBytes = int64_t{16} << 20;
}  // namespace

void softmax_run(ContextImpl& ctx, const Workspace& ws, const SoftmaxProblem& p) {
  const int64_t heads = p.dims[1], rows = p.dims[2], cols = p.dims[3];
  const int64_t total_rows = p.dims[0] * heads * rows;
  // Chunks of contiguous (batch, head, row) indices: about 4 per thread for balance, and at least
  // 16 K elements each so the scheduling cost stays small. Each thread takes the same contiguous
  // run of chunks in every call (then helps the others finish), so rows that fit in cache stay in
  // the core that last wrote them: under the dynamic schedule a call found about half of them in
  // the other core's L2. Intel Xeon VM, 2 threads, 64 Ki floats, interleaved medians of two runs:
  // 128 columns +3% / +20%, 512 -2% / +15%, 2048 +2% / +21%, 8192 +2% / +9%, the dynamic
  // schedule varying between runs (128 columns: 36-43 GB/s) and this one not (44); 16 Mi floats
  // even.
  const int64_t per_thread = (total_rows + 4 * ctx.threads() - 1) / (4 * ctx.threads());
  const int64_t grain = std::max<int64_t>({1, per_thread, (int64_t{16} << 10) / cols});
  const KernelTable& kt = *ctx.kernels;
  const bool stream =
      cols >= kt.softmax_stream_min_columns &&
      total_rows * cols * static_cast<int64_t>(sizeof(float)) >= kStreamingOutputBytes;
  // Prefetch (streaming only) about 8 KiB ahead: far enough for DRAM latency.
  const int64_t ahead = std::max<int64_t>(1, 2048 / cols);
  // Rows of one head with the same valid length and unit column strides go to the kernel as a
  // run; causal rows (a different length each) and strided ones go one at a time.
  const bool runs = !p.causal && p.src_strides[3] == 1 && p.dst_strides[3] == 1 &&
                    (p.bias == nullptr || p.bias_strides[3] == 1);
  const float fill = p.log ? -std::numeric_limits<float>::infinity() : 0.0f;
  ctx.runtime->parallel_for_static(total_rows, grain, [&](int64_t begin, int64_t end) {
    float* scratch = ws.worker(worker_index());
    for (int64_t idx = begin; idx < end;) {
      const int64_t r0 = idx % rows, h = (idx / rows) % heads, b = idx / (rows * heads);
      const int64_t count = std::min(end - idx, rows - r0);  // rows r0 .. of head (b, h)
      const int64_t key_length = p.key_lengths != nullptr ? p.key_lengths[b] : cols;
      const float* x = p.src + b * p.src_strides[0] + h * p.src_strides[1] + r0 * p.src_strides[2];
      const float* bias = p.bias == nullptr ? nullptr
                                            : p.bias + b * p.bias_strides[0] +
                                                  h * p.bias_strides[1] + r0 * p.bias_strides[2];
      float* y = p.dst + b * p.dst_strides[0] + h * p.dst_strides[1] + r0 * p.dst_strides[2];
      if (runs) {
        const int64_t valid = softmax_valid_columns(false, r0, rows, cols, key_length);
        // Long rows in cache keep their exponentials in y (see softmax_stage_max_cols).
        float* stage = stream || valid <= ctx.profile.softmax_stage_max_cols ? scratch : nullptr;
        if (valid > 0) {
          kt.softmax_rows(x, p.src_strides[2], bias, p.bias_strides[2], y, p.dst_strides[2], count,
                          valid, p.scale, p.log, stage, stream, ahead);
        }
        // The padding columns: streamed too, as plain stores there would read every line first
        // (rows of 2048 columns half padded ran slower than unpadded ones).
        const int64_t from = std::max<int64_t>(valid, 0);
        for (int64_t r = 0; r < count && valid < cols; ++r) {
          float* row = y + r * p.dst_strides[2];
          if (stream) {
            if (r + ahead < count) prefetch_plain_tail(y + (r + ahead) * p.dst_strides[2], cols);
            kt.stream_fill(row + from, cols - from, fill);
          } else {
            std::fill(row + from, row + cols, fill);
          }
        }
      } else {
        for (int64_t r = 0; r < count; ++r) {
          const int64_t valid = softmax_valid_columns(p.causal, r0 + r, rows, cols, key_length);
          const float* next =
              stream && r + ahead < count ? x + (r + ahead) * p.src_strides[2] : nullptr;
          if (next != nullptr && p.dst_strides[3] == 1) {
            prefetch_plain_tail(y + (r + ahead) * p.dst_strides[2], cols);
          }
          masked_softmax_row(
              kt, {x + r * p.src_strides[2], p.src_strides[3]},
              {bias == nullptr ? nullptr : bias + r * p.bias_strides[2], p.bias_strides[3]},
              y + r * p.dst_strides[2], p.dst_strides[3], cols, valid, p.scale, p.log, stream, next,
              scratch);
        }
      }
      idx += count;
    }
    if (stream) kt.stream_fence();  // before this worker signals completion
  });
}

}  // namespace cpuattn::detail
