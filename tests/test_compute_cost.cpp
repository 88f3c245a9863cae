// Built-in compute curves reproduce the reference's measured ceilings (cost-models.md §1.1, §4.6).
#include <gtest/gtest.h>

#include "cost/compute_cost.hpp"

using namespace strata;

static ClassTasks one_gemm(std::int64_t m, std::int64_t n, std::int64_t k) {
  ClassTasks c;
  c.gemms.push_back({m, n, k, 1, DType::bf16});
  c.kind = {TaskKind::compute};
  c.op = {OpKind::gemm};
  c.detail = {0};
  c.flops = {2.0 * m * n * k};
  c.bytes = {2.0 * (m * k + k * n + m * n)};
  return c;
}

TEST(ComputeCost, LargeH100GemmNearMamf) {
  const GpuSpec& h100 = *find_gpu("H100-SXM");
  ComputeCostModel cost(h100);
  // 8192^3 bf16: MAMF 794.5 TFLOP/s (80.3%) [S10]; cuBLAS ~780 [S11e]. K = 8192 costs ~0.8%.
  ClassTasks c = one_gemm(8192, 8192, 8192);
  double achieved = c.flops[0] / cost.task_time(c, 0) / 1e12;
  EXPECT_GT(achieved, 760);
  EXPECT_LT(achieved, 800);
}

TEST(ComputeCost, WaveQuantizationAndSmallGemmsAreSlower) {
  ComputeCostModel cost(*find_gpu("H100-SXM"));
  // 133 tiles of 128x128 on 132 SMs need 2 waves: efficiency about halves.
  GemmShape full{128 * 132, 128, 4096, 1, DType::bf16};
  GemmShape spill{128 * 133, 128, 4096, 1, DType::bf16};
  EXPECT_NEAR(cost.gemm_efficiency(spill) / cost.gemm_efficiency(full), (133.0 / 132.0) / 2.0, 1e-9);
  // A decode-like GEMM (M = 8) is memory bound: time set by bytes / HBM bandwidth.
  ClassTasks c = one_gemm(8, 8192, 8192);
  double t = cost.task_time(c, 0);
  EXPECT_NEAR(t, c.bytes[0] / cost.hbm_Bps() + cost.launch_s(), 1e-12);
}

TEST(ComputeCost, ProfileTablesOverrideCurves) {
  auto table = std::make_shared<EfficiencyTable>();
  table->gemm_m = {128, 8192};
  table->gemm_n = {128, 8192};
  table->gemm_k = {128, 8192};
  table->gemm_eff.assign(8, 0.5);
  table->gemm_eff[7] = 0.9;  // (8192, 8192, 8192)
  ComputeCostModel cost(*find_gpu("H100-SXM"), {}, table);
  EXPECT_NEAR(cost.gemm_efficiency({8192, 8192, 8192, 1, DType::bf16}), 0.9, 1e-12);
  EXPECT_NEAR(cost.gemm_efficiency({128, 128, 128, 1, DType::bf16}), 0.5, 1e-12);
  // Log-space midpoint along one axis.
  EXPECT_NEAR(cost.gemm_efficiency({8192, 8192, 1024, 1, DType::bf16}), 0.5 + 0.4 * 0.5, 1e-12);
}
