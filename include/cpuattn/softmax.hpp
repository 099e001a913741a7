// Softmax over the last axis of a [batch, heads, rows, cols] tensor (fewer dims: leading ones are
// 1), with the attention scale and masks fused: y = softmax(scale * x + bias) over unmasked
// columns.
//
// Masks remove columns before the softmax; removed columns get 0 (softmax) or -inf (log-softmax).
//  - causal: row i keeps columns j <= i + (cols - rows) (aligned bottom-right when cols != rows);
//  - key_lengths[b]: columns j >= key_lengths[b] are padding;
//  - bias: additive [batch, heads, rows, cols] tensor; stride 0 broadcasts (a -inf entry masks).
// A row with every column masked is all zeros (softmax) or all -inf (log-softmax), never NaN.
// A NaN in a row makes that row NaN and no other. In place (src == dst, same strides) is allowed.
#pragma once

#include <cstdint>

#include "cpuattn/context.hpp"
#include "cpuattn/status.hpp"
#include "cpuattn/tensor.hpp"

namespace cpuattn {

enum class MaskKind : int { kNone = 0, kCausal = 1 };

struct SoftmaxOptions {
  float scale = 1.0f;
  MaskKind mask = MaskKind::kNone;
  bool log = false;
  const int32_t* key_lengths = nullptr;  // [batch], or null
  TensorView<const float> bias;          // data == nullptr: no bias
};

Status softmax(const Context& ctx, TensorView<const float> src, TensorView<float> dst,
               const SoftmaxOptions& options = {});

}  // namespace cpuattn
