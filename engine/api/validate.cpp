#include "api/validate.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <utility>

namespace cpuattn::detail {

bool overlaps(const Extent& a, const Extent& b) {
  return a.lo < b.hi && b.lo < a.hi;
}

bool mul_overflows(int64_t a, int64_t b, int64_t* out) {
  return __builtin_mul_overflow(a, b, out);
}

Status check_context(const Context& ctx, ContextImpl** impl) {
  if (!ctx.valid()) return Status::invalid_argument("ctx: not a created context");
  *impl = ctx.impl();
  return Status::ok();
}

namespace {

// Largest element offset + 1, with overflow checks; the byte count must fit size_t and int64.
Status span_elements(const std::string& name, const int64_t* dims, const int64_t* strides, int ndim,
                     int64_t* span) {
  int64_t last = 0;
  for (int i = 0; i < ndim; ++i) {
    int64_t term = 0;
    if (mul_overflows(dims[i] - 1, strides[i], &term) ||
        __builtin_add_overflow(last, term, &last)) {
      return Status::invalid_argument(name + ": dims x strides overflow int64");
    }
  }
  int64_t bytes = 0;
  if (__builtin_add_overflow(last, 1, span) ||
      mul_overflows(*span, static_cast<int64_t>(sizeof(float)), &bytes)) {
    return Status::invalid_argument(name + ": size in bytes overflows int64");
  }
  return Status::ok();
}

Extent extent_of(const float* data, int64_t span) {
  const auto lo = reinterpret_cast<std::uintptr_t>(data);
  return {lo, lo + static_cast<std::uintptr_t>(span) * sizeof(float)};
}

}  // namespace

Status check_tensor(const std::string& name, const TensorView<const float>& t, int ndim,
                    Extent* extent) {
  if (t.ndim != ndim) {
    return Status::invalid_argument(name + ": expected " + std::to_string(ndim) +
                                    " dims (and as many strides), got " + std::to_string(t.ndim));
  }
  if (t.data == nullptr) return Status::invalid_argument(name + ": data pointer is null");
  for (int i = 0; i < ndim; ++i) {
    if (t.dims[i] < 1) {
      return Status::invalid_argument(name + ": dims[" + std::to_string(i) +
                                      "] must be >= 1, got " + std::to_string(t.dims[i]));
    }
    if (t.strides[i] < 0) {
      return Status::invalid_argument(name + ": strides[" + std::to_string(i) +
                                      "] must be >= 0, got " + std::to_string(t.strides[i]));
    }
  }
  int64_t span = 0;
  CPUATTN_RETURN_IF_ERROR(span_elements(name, t.dims.data(), t.strides.data(), ndim, &span));
  const auto lo = reinterpret_cast<std::uintptr_t>(t.data);
  if (static_cast<std::uintptr_t>(span) >
      (std::numeric_limits<std::uintptr_t>::max() - lo) / sizeof(float)) {
    return Status::invalid_argument(name + ": extent wraps around the address space");
  }
  if (extent != nullptr) *extent = extent_of(t.data, span);
  return Status::ok();
}

Status check_no_self_overlap(const std::string& name, const TensorView<const float>& t) {
  std::array<int, kMaxTensorDims> order{};
  int n = 0;
  for (int i = 0; i < t.ndim; ++i) {
    if (t.dims[i] > 1) order[n++] = i;
  }
  for (int j = 1; j < n; ++j) {  // insertion sort by stride (at most 4 dims)
    for (int i = j; i > 0 && t.strides[order[i]] < t.strides[order[i - 1]]; --i) {
      std::swap(order[i], order[i - 1]);
    }
  }
  int64_t reach = 0;  // largest offset reachable by the dims sorted so far
  for (int j = 0; j < n; ++j) {
    const int i = order[j];
    if (t.strides[i] <= reach) {
      return Status::invalid_argument(
          name + ": strides make elements overlap (dim " + std::to_string(i) + " stride " +
          std::to_string(t.strides[i]) + " must exceed " + std::to_string(reach) + ")");
    }
    reach += (t.dims[i] - 1) * t.strides[i];  // no overflow: check_tensor bounded the sum
  }
  return Status::ok();
}

Status check_matrix(const std::string& name, const float* data, int64_t rows, int64_t cols,
                    int64_t ld, Extent* extent) {
  if (data == nullptr) return Status::invalid_argument(name + ": pointer is null");
  if (ld < std::max<int64_t>(1, cols)) {
    return Status::invalid_argument("ld" + name + ": must be >= " + std::to_string(cols) +
                                    " (columns as stored), got " + std::to_string(ld));
  }
  TensorView<const float> v(data, {rows, cols}, {ld, 1});
  return check_tensor(name, v, 2, extent);
}

Status check_dims_equal(const std::string& what, int64_t got, int64_t expected) {
  if (got != expected) {
    return Status::invalid_argument(what + ": expected " + std::to_string(expected) + ", got " +
                                    std::to_string(got));
  }
  return Status::ok();
}

Status check_finite(const std::string& name, float value) {
  if (!std::isfinite(value)) {
    return Status::invalid_argument(name + ": must be finite, got " + std::to_string(value));
  }
  return Status::ok();
}

Status check_lengths(const std::string& name, const int32_t* lengths, int64_t batch,
                     int64_t limit) {
  if (lengths == nullptr) return Status::ok();
  for (int64_t b = 0; b < batch; ++b) {
    if (lengths[b] < 0 || lengths[b] > limit) {
      return Status::invalid_argument(name + "[" + std::to_string(b) + "]: expected 0.." +
                                      std::to_string(limit) + ", got " +
                                      std::to_string(lengths[b]));
    }
  }
  return Status::ok();
}

Status check_bias(const TensorView<const float>& bias, int64_t batch, int64_t heads, int64_t rows,
                  int64_t cols) {
  CPUATTN_RETURN_IF_ERROR(check_tensor("bias", bias, 4, nullptr));
  const std::array<int64_t, 4> want{batch, heads, rows, cols};
  static const char* const kNames[] = {"batch", "heads", "rows (queries)", "cols (keys)"};
  for (int i = 0; i < 4; ++i) {
    if (bias.dims[i] != want[i] && bias.dims[i] != 1) {
      return Status::invalid_argument("bias: dims[" + std::to_string(i) + "] (" + kNames[i] +
                                      ") must be " + std::to_string(want[i]) +
                                      " or 1 (broadcast), got " + std::to_string(bias.dims[i]));
    }
  }
  return Status::ok();
}

void bias_strides_4d(const TensorView<const float>& bias, int64_t out[4]) {
  for (int i = 0; i < 4; ++i) out[i] = bias.dims[i] == 1 ? 0 : bias.strides[i];
}

}  // namespace cpuattn::detail
