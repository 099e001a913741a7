#include <string>

#include "api/validate.hpp"
#include "cpuattn/softmax.hpp"
#include "ops/softmax_driver.hpp"

namespace cpuattn {
namespace {

// Prepends unit dims (stride 0) so every view is [batch, heads, rows, cols].
template <class T>
TensorView<T> as_4d(TensorView<T> v) {
  if (v.ndim < 1 || v.ndim >= 4) return v;
  TensorView<T> out = v;
  const int shift = 4 - v.ndim;
  for (int i = 3; i >= 0; --i) {
    out.dims[i] = i >= shift ? v.dims[i - shift] : 1;
    out.strides[i] = i >= shift ? v.strides[i - shift] : 0;
  }
  out.ndim = 4;
  return out;
}

Status check_ndim(const std::string& name, int ndim) {
  if (ndim < 1 || ndim > 4) {
    return Status::invalid_argument(name + ": expected 1 to 4 dims, got " + std::to_string(ndim));
  }
  return Status::ok();
}

}  // namespace

Status softmax(const Context& ctx, TensorView<const float> src_in, TensorView<float> dst_in,
               const SoftmaxOptions& options) {
  detail::ContextImpl* impl = nullptr;
  CPUATTN_RETURN_IF_ERROR(detail::check_context(ctx, &impl));
  CPUATTN_RETURN_IF_ERROR(check_ndim("src", src_in.ndim));
  CPUATTN_RETURN_IF_ERROR(check_ndim("dst", dst_in.ndim));
  if (src_in.ndim != dst_in.ndim) {
    return Status::invalid_argument("dst: expected " + std::to_string(src_in.ndim) +
                                    " dims like src, got " + std::to_string(dst_in.ndim));
  }
  const TensorView<const float> src = as_4d(src_in);
  const TensorView<const float> dst = as_4d(TensorView<const float>(dst_in));
  detail::Extent es, ed;
  CPUATTN_RETURN_IF_ERROR(detail::check_tensor("src", src, 4, &es));
  CPUATTN_RETURN_IF_ERROR(detail::check_tensor("dst", dst, 4, &ed));
  for (int i = 0; i < 4; ++i) {
    CPUATTN_RETURN_IF_ERROR(
        detail::check_dims_equal("dst.dims[" + std::to_string(i) + "]", dst.dims[i], src.dims[i]));
  }
  CPUATTN_RETURN_IF_ERROR(detail::check_no_self_overlap("dst", dst));
  const bool in_place = src.data == dst.data && src.strides == dst.strides;
  if (!in_place && detail::overlaps(es, ed)) {
    return Status::invalid_argument(
        "dst: overlaps src without being the same view (in place needs equal pointer and strides)");
  }
  CPUATTN_RETURN_IF_ERROR(detail::check_finite("options.scale", options.scale));
  if (options.mask != MaskKind::kNone && options.mask != MaskKind::kCausal) {
    return Status::invalid_argument("options.mask: unknown mask kind " +
                                    std::to_string(static_cast<int>(options.mask)));
  }
  CPUATTN_RETURN_IF_ERROR(
      detail::check_lengths("options.key_lengths", options.key_lengths, src.dims[0], src.dims[3]));
  detail::SoftmaxProblem p;
  if (options.bias.data != nullptr || options.bias.ndim != 0) {
    CPUATTN_RETURN_IF_ERROR(check_ndim("bias", options.bias.ndim));
    const TensorView<const float> bias = as_4d(options.bias);
    CPUATTN_RETURN_IF_ERROR(
        detail::check_bias(bias, src.dims[0], src.dims[1], src.dims[2], src.dims[3]));
    detail::Extent eb;
    CPUATTN_RETURN_IF_ERROR(detail::check_tensor("bias", bias, 4, &eb));
    if (detail::overlaps(eb, ed)) return Status::invalid_argument("dst: overlaps bias");
    p.bias = bias.data;
    detail::bias_strides_4d(bias, p.bias_strides);
  }
  for (int i = 0; i < 4; ++i) {
    p.dims[i] = src.dims[i];
    p.src_strides[i] = src.strides[i];
    p.dst_strides[i] = dst.strides[i];
  }
  p.src = src.data;
  p.dst = dst_in.data;
  p.scale = options.scale;
  p.causal = options.mask == MaskKind::kCausal;
  p.log = options.log;
  p.key_lengths = options.key_lengths;
  try {
    auto ws = impl->scratch->acquire();
    CPUATTN_RETURN_IF_ERROR(ws->reserve(0, detail::softmax_scratch(p), impl->scratch_limit_bytes));
    detail::softmax_run(*impl, *ws, p);
  } catch (const std::bad_alloc&) {
    return Status::out_of_memory("softmax: allocation failed");
  }
  return Status::ok();
}

}  // namespace cpuattn
