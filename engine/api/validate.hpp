// Argument checks shared by the entry points. They run before any memory is touched; each failure
// names the argument and what was expected.
#pragma once

#include <cstdint>
#include <string>

#include "api/context_impl.hpp"
#include "cpuattn/context.hpp"
#include "cpuattn/status.hpp"
#include "cpuattn/tensor.hpp"

namespace cpuattn::detail {

// Byte range [lo, hi) a view or matrix can touch.
struct Extent {
  std::uintptr_t lo = 0, hi = 0;
};
bool overlaps(const Extent& a, const Extent& b);

Status check_context(const Context& ctx, ContextImpl** impl);

// data non-null, ndim as expected, dims >= 1, strides >= 0, largest offset within int64/size_t.
Status check_tensor(const std::string& name, const TensorView<const float>& t, int ndim,
                    Extent* extent);
// No two elements of an output at the same address (stride 0 or interleaved dims).
Status check_no_self_overlap(const std::string& name, const TensorView<const float>& t);
// A row-major matrix (rows x cols, leading dimension ld >= cols).
Status check_matrix(const std::string& name, const float* data, int64_t rows, int64_t cols,
                    int64_t ld, Extent* extent);
Status check_dims_equal(const std::string& what, int64_t got, int64_t expected);
Status check_finite(const std::string& name, float value);
// lengths[b] in [0, limit] for b < batch (null is allowed: no padding).
Status check_lengths(const std::string& name, const int32_t* lengths, int64_t batch, int64_t limit);
// bias [batch, heads, rows, cols]: each dim matches or is 1 (broadcast, whatever its stride).
Status check_bias(const TensorView<const float>& bias, int64_t batch, int64_t heads, int64_t rows,
                  int64_t cols);

// Strides to read a checked bias with: 0 on its broadcast (size 1) dims.
void bias_strides_4d(const TensorView<const float>& bias, int64_t out[4]);

// a * b, false on overflow of int64.
bool mul_overflows(int64_t a, int64_t b, int64_t* out);

}  // namespace cpuattn::detail
