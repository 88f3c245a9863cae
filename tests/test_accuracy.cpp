// Accuracy against published runs (issue 8): the `strata validate` harness over the shared file of
// published training measurements (Megatron-LM SC'21, MosaicML MPT, Megatron-Core Mixtral), with
// the median and maximum absolute step-time error this model reaches asserted, so that a change
// that makes predictions worse fails the build. docs/ACCURACY.md has the table and the known
// causes of the largest errors. Runs on 2 threads in about 10 s.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "validate/validation.hpp"

using namespace strata;

namespace {

// Reached by the model of docs/ACCURACY.md: median 9.2 %, maximum 24.9 % (mpt_13b_h100, a
// 128-sequence batch on 64 GPUs) — the targets are 10 % and 25 %; these bounds leave
// about a quarter of a point on the median and none on the maximum beyond the target.
constexpr double kMedianBound = 0.095;
constexpr double kMaxBound = 0.25;
// The 16 Megatron-LM SC'21 rows (Selene, 2021 software) all fall within this (worst: the 1.7B
// row, -13.8 %).
constexpr double kMegatronRowBound = 0.145;

}  // namespace

TEST(Accuracy, PublishedRunsWithinTheBoundsReached) {
  ValidationSummary v = run_validation(default_validation_file(), 2);
  EXPECT_EQ(v.unsupported, 0);
  EXPECT_EQ(v.failed, 0);
  ASSERT_GE(v.simulated, 27);
  int megatron = 0;
  for (const auto& r : v.rows) {
    if (!r.ok) continue;
    std::printf("  %-36s %+6.1f%%\n", r.run.id.c_str(), r.rel_error * 100);
    EXPECT_LE(std::fabs(r.rel_error), kMaxBound) << r.run.id;
    if (r.run.id.rfind("megatron_sc21", 0) == 0) {
      ++megatron;
      EXPECT_LE(std::fabs(r.rel_error), kMegatronRowBound) << r.run.id;
    }
  }
  EXPECT_EQ(megatron, 16);
  std::printf("  |error| median %.1f%%, max %.1f%%\n", v.median_abs_error * 100, v.max_abs_error * 100);
  EXPECT_LE(v.median_abs_error, kMedianBound);
  EXPECT_LE(v.max_abs_error, kMaxBound);
}

// Held out: every other BF16 row of MosaicML's MPT benchmark tables (H100 80GB, A100 80GB,
// A100 40GB; 125M to 70B parameters, 512 to 65,536 tokens, with and without activation
// checkpointing, 8 to 128 GPUs) — 182 rows not simulated or fitted while the model was built
// (scenarios/validation/llm-foundry-mpt-tables.json, scenarios/validation/HELD-OUT.md). Reached:
// median 6.4 %, maximum 31.2 %, 161 of 182 rows within 15 %. The worst rows are outliers inside
// the tables themselves (e.g. 1B on 32 A100-40GB at 45 % MFU where 16, 64 and 128 GPUs reach 54-56 %).
TEST(Accuracy, HeldOutMptTablesWithinTheBoundsReached) {
  ValidationSummary v = run_validation(std::string(STRATA_SOURCE_ROOT) + "/scenarios/validation/llm-foundry-mpt-tables.json", 2);
  EXPECT_EQ(v.unsupported, 0);
  EXPECT_EQ(v.failed, 0);
  ASSERT_EQ(v.simulated, 182);
  int within15 = 0;
  for (const auto& r : v.rows)
    if (r.ok && std::fabs(r.rel_error) <= 0.15) ++within15;
  std::printf("  held out: |error| median %.1f%%, max %.1f%%, %d of %d within 15%%\n", v.median_abs_error * 100,
              v.max_abs_error * 100, within15, v.simulated);
  EXPECT_LE(v.median_abs_error, 0.07);
  EXPECT_LE(v.max_abs_error, 0.32);
  EXPECT_GE(within15, 158);
}
