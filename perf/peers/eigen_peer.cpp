#include <Eigen/Core>

#include "peers.hpp"

namespace cpuattn::perf {

void eigen_sgemm(bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                 const float* b, int64_t ldb, float* c, int64_t ldc) {
  using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using Stride = Eigen::OuterStride<>;
  Eigen::Map<const Mat, 0, Stride> A(a, m, k, Stride(lda));
  Eigen::Map<Mat, 0, Stride> C(c, m, n, Stride(ldc));
  if (trans_b) {
    Eigen::Map<const Mat, 0, Stride> B(b, n, k, Stride(ldb));
    C.noalias() = A * B.transpose();
  } else {
    Eigen::Map<const Mat, 0, Stride> B(b, k, n, Stride(ldb));
    C.noalias() = A * B;
  }
}

}  // namespace cpuattn::perf
