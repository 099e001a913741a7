// libFuzzer harness over the C API: the input bytes pick an entry point, shapes, strides (zero,
// interleaved, overlapping), masks, lengths and scale. Buffers are always large enough for the
// extents the descriptors claim, so any crash or sanitizer report is cpuattn's. An accepted call
// is compared with the double oracle; a rejected one must leave every output untouched.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "cpuattn/cpuattn.h"
#include "reference.hpp"

namespace {

constexpr float kSentinel = -12345.0f;

// Accepted calls checked against the oracle and rejected ones checked for untouched outputs,
// printed at exit so a run shows the harness reaches both paths.
struct Tally {
  long accepted = 0, rejected = 0;
  ~Tally() {
    std::fprintf(stderr, "fuzz_c_api: %ld accepted and checked, %ld rejected\n", accepted,
                 rejected);
  }
} g_tally;

class Bytes {
 public:
  Bytes(const uint8_t* d, size_t n) : d_(d), n_(n) {}
  uint8_t u8() { return i_ < n_ ? d_[i_++] : 0; }
  int64_t pick(int64_t lo, int64_t hi) { return lo + u8() % (hi - lo + 1); }

 private:
  const uint8_t* d_;
  size_t n_, i_ = 0;
};

cpuattn_context_t context() {
  static cpuattn_context_t ctx = [] {
    cpuattn_context_options o;
    cpuattn_context_options_init(&o);
    o.threads = 2;
    o.scratch_limit_bytes = 64u << 20;
    cpuattn_context_t c = nullptr;
    if (cpuattn_context_create(&o, &c) != CPUATTN_STATUS_OK) std::abort();
    return c;
  }();
  return ctx;
}

// Mostly dense row-major strides; sometimes padded, transposed, zero or overlapping ones.
cpuattn_tensor_desc make_desc(Bytes& in, int ndim, const int64_t* dims) {
  cpuattn_tensor_desc d{};
  d.ndim = ndim;
  int64_t s = 1;
  for (int i = ndim - 1; i >= 0; --i) {
    d.dims[i] = dims[i];
    d.strides[i] = s;
    s *= dims[i] + (in.u8() % 8 == 0 ? 1 : 0);
  }
  switch (in.u8() % 16) {
    case 0:
      d.strides[in.u8() % ndim] = 0;
      break;  // broadcast / self-overlap
    case 1:
      d.strides[in.u8() % ndim] = 1;
      break;  // interleaved dims
    case 2:
      d.dims[in.u8() % ndim] = in.pick(-2, 0);
      break;  // bad dims
    case 3:
      d.strides[in.u8() % ndim] = -1;
      break;  // negative stride
    default:
      break;
  }
  return d;
}

// Floats the descriptor can address, or 0 if it does not validate (negative, zero dims).
size_t span(const cpuattn_tensor_desc& d) {
  int64_t last = 0;
  for (int i = 0; i < d.ndim; ++i) {
    if (d.dims[i] < 1 || d.strides[i] < 0) return 1;
    last += (d.dims[i] - 1) * d.strides[i];
  }
  return static_cast<size_t>(last + 1);
}

std::vector<float> random_buffer(Bytes& in, size_t n) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = static_cast<float>(static_cast<int>(in.u8() % 17) - 8) / 4.0f;
  return v;
}

bool untouched(const std::vector<float>& v) {
  for (float x : v)
    if (x != kSentinel) return false;
  return true;
}

void fuzz_softmax(Bytes& in) {
  const int ndim = static_cast<int>(in.pick(1, 4));
  int64_t dims[4];
  for (int i = 0; i < ndim; ++i) dims[i] = in.pick(1, i == ndim - 1 ? 40 : 4);
  const cpuattn_tensor_desc sd = make_desc(in, ndim, dims), dd = make_desc(in, ndim, dims);
  std::vector<float> src = random_buffer(in, span(sd)), dst(span(dd), kSentinel);
  cpuattn_softmax_desc desc;
  cpuattn_softmax_desc_init(&desc);
  desc.scale = in.u8() % 16 == 0 ? NAN : static_cast<float>(in.pick(-8, 8)) / 4.0f;
  desc.mask = static_cast<int32_t>(in.pick(0, in.u8() % 16 == 0 ? 5 : 1));
  desc.log = in.u8() & 1;
  int32_t lengths[4] = {};
  const int64_t batch = ndim == 4 ? dims[0] : 1;
  if (in.u8() & 1) {
    for (int64_t b = 0; b < batch; ++b)
      lengths[b] = static_cast<int32_t>(in.pick(-1, dims[ndim - 1] + 1));
    desc.key_lengths = lengths;
  }
  const cpuattn_status_t s = cpuattn_softmax(context(), &sd, src.data(), &dd, dst.data(), &desc);
  if (s != CPUATTN_STATUS_OK) {
    ++g_tally.rejected;
    if (!untouched(dst)) std::abort();
    return;
  }
  ++g_tally.accepted;
  // Dense 4-D walk of the accepted call, checked row by row.
  int64_t d4[4] = {1, 1, 1, 1}, ss[4] = {0, 0, 0, 0}, ds[4] = {0, 0, 0, 0};
  for (int i = 0; i < ndim; ++i) {
    d4[4 - ndim + i] = sd.dims[i];
    ss[4 - ndim + i] = sd.strides[i];
    ds[4 - ndim + i] = dd.strides[i];
  }
  for (int64_t b = 0; b < d4[0]; ++b) {
    for (int64_t h = 0; h < d4[1]; ++h) {
      for (int64_t r = 0; r < d4[2]; ++r) {
        const int64_t cols = d4[3];
        int64_t valid = desc.key_lengths ? lengths[b] : cols;
        if (desc.mask == CPUATTN_MASK_CAUSAL)
          valid = std::min(valid, std::max<int64_t>(0, r + cols - d4[2] + 1));
        const auto want =
            cpuattn::ref::softmax_row(src.data() + b * ss[0] + h * ss[1] + r * ss[2], ss[3],
                                      nullptr, 0, cols, valid, desc.scale, desc.log);
        for (int64_t j = 0; j < cols; ++j) {
          const double got = dst[b * ds[0] + h * ds[1] + r * ds[2] + j * ds[3]];
          const double w = want[j];
          const bool ok =
              std::isinf(w) ? got == w : std::fabs(got - w) <= 1e-5 * (1 + std::fabs(w));
          if (!ok) std::abort();
        }
      }
    }
  }
}

void fuzz_attention(Bytes& in) {
  const int64_t B = in.pick(1, 2), Lq = in.pick(1, 20), Lk = in.pick(1, 20), Hkv = in.pick(1, 2),
                Hq = Hkv * in.pick(1, 3), D = in.pick(1, 40), Dv = in.pick(1, 40);
  const int64_t qd[4] = {B, Lq, Hq, D}, kd[4] = {B, Lk, Hkv, D}, vd[4] = {B, Lk, Hkv, Dv},
                od[4] = {B, Lq, Hq, Dv};
  const cpuattn_tensor_desc qs = make_desc(in, 4, qd), ks = make_desc(in, 4, kd),
                            vs = make_desc(in, 4, vd), os = make_desc(in, 4, od);
  std::vector<float> q = random_buffer(in, span(qs)), k = random_buffer(in, span(ks)),
                     v = random_buffer(in, span(vs)), out(span(os), kSentinel);
  cpuattn_attention_desc desc;
  cpuattn_attention_desc_init(&desc);
  desc.mask = static_cast<int32_t>(in.pick(0, in.u8() % 16 == 0 ? 4 : 1));
  desc.algorithm = static_cast<int32_t>(in.pick(0, 2));
  desc.scale = in.u8() % 16 == 0 ? INFINITY : 0.0f;
  int32_t ql[2], kl[2];
  if (in.u8() & 1) {
    for (int64_t b = 0; b < B; ++b) ql[b] = static_cast<int32_t>(in.pick(0, Lq));
    desc.q_lengths = ql;
  }
  if (in.u8() & 1) {
    for (int64_t b = 0; b < B; ++b) kl[b] = static_cast<int32_t>(in.pick(-1, Lk));
    desc.kv_lengths = kl;
  }
  const cpuattn_status_t s = cpuattn_attention(context(), &qs, q.data(), &ks, k.data(), &vs,
                                               v.data(), &os, out.data(), &desc);
  if (s != CPUATTN_STATUS_OK) {
    ++g_tally.rejected;
    if (!untouched(out)) std::abort();
    return;
  }
  ++g_tally.accepted;
  cpuattn::ref::AttentionCase c;
  c.batch = B, c.seq_q = Lq, c.seq_kv = Lk, c.heads_q = Hq, c.heads_kv = Hkv, c.head_dim = D,
  c.head_dim_v = Dv;
  c.q = q.data(), c.k = k.data(), c.v = v.data();
  for (int i = 0; i < 4; ++i)
    c.qs[i] = qs.strides[i], c.ks[i] = ks.strides[i], c.vs[i] = vs.strides[i];
  c.scale = 1.0 / std::sqrt(static_cast<double>(D));
  c.causal = desc.mask == CPUATTN_MASK_CAUSAL;
  c.q_lengths = desc.q_lengths;
  c.kv_lengths = desc.kv_lengths;
  const auto r = cpuattn::ref::attention(c);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < Lq; ++i)
      for (int64_t h = 0; h < Hq; ++h)
        for (int64_t d = 0; d < Dv; ++d) {
          const double got =
              out[b * os.strides[0] + i * os.strides[1] + h * os.strides[2] + d * os.strides[3]];
          const size_t e = static_cast<size_t>(((b * Lq + i) * Hq + h) * Dv + d);
          if (!(std::fabs(got - r.out[e]) <= 1e-4 * (1 + r.out_magnitude[e]))) std::abort();
        }
}

void fuzz_sgemm(Bytes& in) {
  const int64_t m = in.pick(0, 40), n = in.pick(0, 40), k = in.pick(0, 40);
  const bool ta = in.u8() & 1, tb = in.u8() & 1;
  const int64_t lda = (ta ? m : k) + in.pick(-1, 3), ldb = (tb ? k : n) + in.pick(-1, 3),
                ldc = n + in.pick(-1, 3);
  const size_t sa =
      static_cast<size_t>(std::max<int64_t>(1, (ta ? k : m) * std::max<int64_t>(lda, 1)));
  const size_t sb =
      static_cast<size_t>(std::max<int64_t>(1, (tb ? n : k) * std::max<int64_t>(ldb, 1)));
  const size_t sc = static_cast<size_t>(std::max<int64_t>(1, m * std::max<int64_t>(ldc, 1)));
  std::vector<float> a = random_buffer(in, sa), b = random_buffer(in, sb), c(sc, kSentinel);
  const float alpha = static_cast<float>(in.pick(-2, 2)), beta = in.u8() & 1 ? 0.0f : 0.5f;
  const std::vector<float> c0 = c;
  const cpuattn_status_t s =
      cpuattn_sgemm(context(), ta ? CPUATTN_TRANSPOSE_YES : CPUATTN_TRANSPOSE_NO,
                    tb ? CPUATTN_TRANSPOSE_YES : CPUATTN_TRANSPOSE_NO, m, n, k, alpha, a.data(),
                    lda, b.data(), ldb, beta, c.data(), ldc);
  if (s != CPUATTN_STATUS_OK) {
    ++g_tally.rejected;
    if (!untouched(c)) std::abort();
    return;
  }
  ++g_tally.accepted;
  const auto r = cpuattn::ref::gemm(ta, tb, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta,
                                    c0.data(), ldc);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      if (!(std::fabs(c[i * ldc + j] - r.c[i * n + j]) <= 1e-5 * (1 + r.magnitude[i * n + j])))
        std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Bytes in(data, size);
  switch (in.u8() % 3) {
    case 0:
      fuzz_sgemm(in);
      break;
    case 1:
      fuzz_softmax(in);
      break;
    default:
      fuzz_attention(in);
      break;
  }
  return 0;
}
