// Strided tensor views: shape and strides in elements, up to 4 dimensions, never owning.
// Attention tensors are logically [batch, seq, heads, head_dim]; BSHD and BHSD layouts are both
// expressed through strides (a stride may be 0 to broadcast, e.g. a mask shared by all heads).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>

namespace cpuattn {

inline constexpr int kMaxTensorDims = 4;

template <class T>
struct TensorView {
  T* data = nullptr;
  int ndim = 0;
  std::array<int64_t, kMaxTensorDims> dims{};
  std::array<int64_t, kMaxTensorDims> strides{};

  TensorView() = default;

  // Dense row-major view (last dimension contiguous).
  TensorView(T* ptr, std::initializer_list<int64_t> shape) : data(ptr) {
    ndim = static_cast<int>(shape.size());
    int i = 0;
    for (int64_t d : shape) {
      if (i < kMaxTensorDims) dims[i] = d;
      ++i;
    }
    if (ndim > kMaxTensorDims) return;  // rejected by validation, never indexed
    int64_t s = 1;
    for (int j = ndim - 1; j >= 0; --j) {
      strides[j] = s;
      s *= dims[j];
    }
  }

  TensorView(T* ptr, std::initializer_list<int64_t> shape, std::initializer_list<int64_t> strd)
      : TensorView(ptr, shape) {
    int i = 0;
    for (int64_t s : strd) {
      if (i < kMaxTensorDims) strides[i] = s;
      ++i;
    }
    if (static_cast<int>(strd.size()) != ndim) ndim = -1;  // mismatch: validation reports it
  }

  // A const view of a mutable one.
  template <class U>
  TensorView(const TensorView<U>& o)  // NOLINT(google-explicit-constructor)
      : data(o.data), ndim(o.ndim), dims(o.dims), strides(o.strides) {}
};

}  // namespace cpuattn
