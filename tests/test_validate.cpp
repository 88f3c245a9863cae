// Published runs become valid scenarios (or are listed as unsupported with a reason).
#include <gtest/gtest.h>

#include "io/scenario.hpp"
#include "validate/published_runs.hpp"

using namespace strata;

TEST(PublishedRuns, EveryTrainingRowBecomesAValidScenarioOrSaysWhyNot) {
  auto runs = load_published_runs(default_validation_file());
  ASSERT_GE(runs.size(), 20u);
  int supported = 0;
  for (const auto& r : runs) {
    if (!r.unsupported.empty()) {
      ADD_FAILURE() << r.id << " unsupported: " << r.unsupported;
      continue;
    }
    ++supported;
    EXPECT_GT(r.published_step_s, 0) << r.id;
    Scenario s = parse_scenario(r.scenario, r.id);
    EXPECT_EQ(s.cluster.gpus(), std::int64_t(s.strategy.gpus())) << r.id;
  }
  EXPECT_EQ(supported, int(runs.size()));
}

TEST(PublishedRuns, MegatronRowMapsItsConfiguration) {
  auto runs = load_published_runs(default_validation_file());
  const PublishedRun* r76 = nullptr;
  for (const auto& r : runs)
    if (r.id == "megatron_sc21_t1_76.1B") r76 = &r;
  ASSERT_NE(r76, nullptr);
  Scenario s = parse_scenario(r76->scenario, r76->id);
  EXPECT_EQ(s.strategy.tp, 8);
  EXPECT_EQ(s.strategy.pp, 4);
  EXPECT_EQ(s.strategy.vpp, 3);
  EXPECT_EQ(s.strategy.schedule, Schedule::interleaved);
  EXPECT_EQ(s.strategy.recompute, Recompute::full);
  EXPECT_EQ(s.compute_dtype(), DType::fp16);
  EXPECT_EQ(s.cluster.gpu.name, "A100-80-SXM");
  EXPECT_EQ(s.cluster.fabric.kind, FabricKind::fat_tree);
  EXPECT_EQ(s.cluster.fabric.levels, 3);
  EXPECT_NEAR(r76->published_step_s, 16.06, 1e-9);
}
