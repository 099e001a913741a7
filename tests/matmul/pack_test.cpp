// The packing kernels on every compiled ISA, against the panel layout written out by hand: unit
// and transposing strides (the register-transpose path and the scalar one), lane counts and depths
// around the panel width and the transpose block, a scale, zero padding of the last panel, and
// nothing written past the panels.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "dispatch/kernel_table.hpp"
#include "test_util.hpp"

namespace cpuattn::test {
namespace {

constexpr float kGuard = -12345.0f;

// Panels of `width` lanes: dst[panel][p][lane] = src[lane * lane_stride + p * depth_stride] * scale
// (the layout documented for PackAFn / PackBFn), zero past `lanes`.
std::vector<float> expected_panels(const std::vector<float>& src, int64_t lane_stride,
                                   int64_t depth_stride, int64_t lanes, int64_t depth, float scale,
                                   int64_t width) {
  const int64_t panels = (lanes + width - 1) / width;
  std::vector<float> out(static_cast<size_t>(panels * depth * width), 0.0f);
  for (int64_t l = 0; l < lanes; ++l) {
    for (int64_t p = 0; p < depth; ++p) {
      out[static_cast<size_t>((l / width) * depth * width + p * width + l % width)] =
          src[static_cast<size_t>(l * lane_stride + p * depth_stride)] * scale;
    }
  }
  return out;
}

class PackIsaTest : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (!cpu_supports(GetParam())) GTEST_SKIP() << "CPU lacks " << isa_name(GetParam());
  }
  const detail::KernelTable& kt() const { return *detail::kernel_table_for(GetParam()); }

  // Packs through pack_a (width mr) or pack_b (width nr) and compares every float, guards included.
  void check(bool b_side, int64_t lanes, int64_t depth, bool lanes_contiguous, int64_t pad,
             std::mt19937_64& rng) {
    SCOPED_TRACE(::testing::Message()
                 << (b_side ? "pack_b" : "pack_a") << " lanes " << lanes << " depth " << depth
                 << " lanes contiguous " << lanes_contiguous << " pad " << pad);
    // lanes_contiguous: lane stride 1, depth stride lanes + pad (B as stored, A transposed);
    // else depth stride 1, lane stride depth + pad (B^T, A as stored, Q rows).
    const int64_t lane_stride = lanes_contiguous ? 1 : depth + pad;
    const int64_t depth_stride = lanes_contiguous ? lanes + pad : 1;
    const auto src = random_floats(
        rng, static_cast<size_t>((lanes - 1) * lane_stride + (depth - 1) * depth_stride + 1));
    const float scale = 0.375f;
    const int64_t width = b_side ? kt().nr : kt().mr;
    const auto want = expected_panels(src, lane_stride, depth_stride, lanes, depth, scale, width);
    std::vector<float> dst(want.size() + 64, kGuard);
    if (b_side) {
      // pack_b takes B(p, j) = src[p * rs + j * cs]: rs is the depth stride, cs the lane stride.
      kt().pack_b(src.data(), depth_stride, lane_stride, depth, lanes, scale, dst.data());
    } else {
      kt().pack_a(src.data(), lane_stride, depth_stride, lanes, depth, scale, dst.data());
    }
    int bad = 0;
    for (size_t i = 0; i < dst.size(); ++i) {
      const float w = i < want.size() ? want[i] : kGuard;
      if (dst[i] != w && ++bad < 5)
        ADD_FAILURE() << "dst[" << i << "] = " << dst[i] << ", want " << w;
    }
    EXPECT_EQ(bad, 0);
  }
};

TEST_P(PackIsaTest, EveryLaneCountAndDepthAroundTheBlocks) {
  const uint64_t seed = test_seed();
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937_64 rng(seed);
  for (bool b_side : {false, true}) {
    for (bool contiguous : {false, true}) {
      for (int64_t lanes : {1, 5, 6, 7, 8, 11, 12, 13, 15, 16, 17, 31, 32, 33, 47, 64, 65}) {
        for (int64_t depth : {1, 7, 8, 9, 15, 16, 17, 33, 64, 67}) {
          check(b_side, lanes, depth, contiguous, lanes % 3, rng);
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, PackIsaTest, ::testing::ValuesIn(testable_isas()),
                         isa_param_name);

}  // namespace
}  // namespace cpuattn::test
