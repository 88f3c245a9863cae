// Published runs become valid scenarios (or are listed as unsupported with a reason).
#include <gtest/gtest.h>

#include <stdexcept>

#include "cluster/topology.hpp"
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

namespace {
const PublishedRun& row(const std::vector<PublishedRun>& runs, const std::string& id) {
  for (const auto& r : runs)
    if (r.id == id) return r;
  throw std::runtime_error("no row " + id);
}
}  // namespace

TEST(PublishedRuns, SoftwareEraSetsTheKernelsAndOverlaps) {
  auto runs = load_published_runs(default_validation_file());
  // Megatron-LM 2021 (SC'21): before FlashAttention, no async TP gradient all-reduce, no gradient
  // accumulation fusion; torch DDP overlaps its buckets, 'local' DDP does not.
  Scenario small = parse_scenario(row(runs, "megatron_sc21_t1_1.7B").scenario, "1.7B");
  EXPECT_EQ(small.strategy.attention, AttentionKind::unfused);
  EXPECT_FALSE(small.strategy.tp_async_grad_reduce);
  EXPECT_FALSE(small.strategy.grad_accumulation_fusion);
  EXPECT_TRUE(small.strategy.overlap_grad_reduce);
  Scenario local = parse_scenario(row(runs, "megatron_sc21_t1_76.1B").scenario, "76.1B");
  EXPECT_FALSE(local.strategy.overlap_grad_reduce);
  // Table 2 does not state fp16 or bf16: the paper's other rows (fp16) decide.
  const PublishedRun& t2 = row(runs, "megatron_sc21_t2_ptd_174B_384gpu");
  EXPECT_EQ(parse_scenario(t2.scenario, t2.id).compute_dtype(), DType::fp16);
  bool said = false;
  for (const auto& a : t2.assumptions) said |= a.find("precision not stated") != std::string::npos;
  EXPECT_TRUE(said);
  // Later software: fused attention and today's Megatron defaults.
  for (const char* id : {"mpt_7b_h100_80gb_8gpu_s2048", "mcore_moe_mixtral_8x7b_v0.8"}) {
    Scenario s = parse_scenario(row(runs, id).scenario, id);
    EXPECT_EQ(s.strategy.attention, AttentionKind::flash) << id;
    EXPECT_TRUE(s.strategy.tp_async_grad_reduce) << id;
    EXPECT_TRUE(s.strategy.grad_accumulation_fusion) << id;
  }
  EXPECT_EQ(parse_scenario(row(runs, "mpt_7b_h100_80gb_8gpu_s2048").scenario, "mpt").strategy.zero, 3);
}

TEST(PublishedRuns, ShippedTopologiesRunLinksAtTheirMeasuredEfficiency) {
  // Line rate stays the link's capacity; the flow network gets line rate x efficiency:
  // NVLink at NCCL's per-link figure (SM80 20.0, SM90 20.6 of 25 GB/s [S2c]), IB at the measured
  // NIC bandwidth (HDR 192/200 [S4d], NDR 47/50 [S4b]).
  struct Case {
    const char* file;
    double nvlink, nic, nvlink_eff, nic_eff;
  };
  for (const Case& c : {Case{"dgx-a100.json", 300e9, 25e9, 0.80, 0.96}, Case{"dgx-h100.json", 450e9, 50e9, 0.824, 0.94}}) {
    Json j = {{"name", "t"},
              {"model", {{"preset", "llama3-8b"}}},
              {"cluster", {{"topology", std::string(STRATA_SOURCE_ROOT) + "/topologies/" + c.file}, {"nodes", 2}}},
              {"strategy", {{"dp", 16}}},
              {"workload", {{"kind", "train"}, {"seq_len", 2048}}}};
    Scenario s = parse_scenario(j, c.file);
    Topology topo(s.cluster);
    EXPECT_DOUBLE_EQ(topo.link(topo.gpu_up(3)).capacity_Bps, c.nvlink) << c.file;
    EXPECT_DOUBLE_EQ(topo.capacities()[topo.gpu_up(3)], c.nvlink * c.nvlink_eff) << c.file;
    EXPECT_DOUBLE_EQ(topo.capacities()[topo.nic_up(3)], c.nic * c.nic_eff) << c.file;
    EXPECT_DOUBLE_EQ(topo.capacities()[topo.nic_down(11)], c.nic * c.nic_eff) << c.file;
  }
  // A cluster that states no efficiency runs at line rate.
  ClusterSpec plain;
  plain.gpu = *find_gpu("H100-SXM");
  plain.nodes = 2;
  Topology t(plain);
  EXPECT_DOUBLE_EQ(t.capacities()[t.gpu_up(0)], t.link(t.gpu_up(0)).capacity_Bps);
}
