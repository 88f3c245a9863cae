// The engine against closed forms (DESIGN.md "analytic truths are tests") and symmetric vs full.
#include <gtest/gtest.h>

#include <cmath>

#include "cluster/topology.hpp"
#include "engine/engine.hpp"
#include "engine/simulate.hpp"
#include "plan/planner.hpp"
#include "report/report_builder.hpp"
#include "report/timeline_json.hpp"

using namespace strata;

namespace {

// A tiny dense model and a fabric with (practically) free communication.
Json ideal_scenario(int pp, int global_batch, const std::string& schedule, int vpp) {
  Json topo = {{"name", "ideal"},
               {"gpu", "H100-SXM"},
               {"gpus_per_node", 8},
               {"nodes", 1},
               {"intra_node", {{"kind", "nvswitch"}, {"bw_GBps", 1e9}, {"latency_us", 0}}},
               {"nic", {{"per_node", 8}, {"bw_GBps", 1e9}, {"latency_us", 0}}},
               {"fabric", {{"kind", "ideal"}, {"latency_us", 0}}},
               {"pcie_GBps", 1e9}};
  return {{"name", "ideal-pipeline"},
          {"model", {{"layers", 8 * vpp}, {"hidden", 256}, {"heads", 4}, {"ffn_hidden", 1024}, {"vocab", 1024}}},
          {"cluster", {{"topology", topo}, {"nodes", 1}, {"gpus_per_node", pp}, {"nic", {{"per_node", pp}, {"bw_GBps", 1e9}}}}},
          {"strategy", {{"dp", 1}, {"tp", 1}, {"pp", pp}, {"schedule", schedule}, {"vpp", vpp}, {"micro_batch", 1}, {"global_batch", global_batch}}},
          {"workload", {{"kind", "train"}, {"seq_len", 128}}}};
}

// Durations: every forward compute task of a layer 1 time unit per layer-op share, backward 2x;
// everything else (embedding, head, loss, optimizer) free, so that stage times are equal.
std::vector<std::vector<double>> equal_stage_durations(const PartitionGraph& g) {
  std::vector<std::vector<double>> d(g.classes.size());
  for (std::size_t c = 0; c < g.classes.size(); ++c) {
    const ClassTasks& ct = g.classes[c];
    d[c].assign(ct.size(), 0.0);
    for (std::uint32_t t = 0; t < ct.size(); ++t) {
      if (ct.kind[t] != TaskKind::compute || ct.layer[t] < 0) continue;
      if (ct.op[t] != OpKind::gemm) continue;  // one unit per GEMM keeps stages identical
      d[c][t] = ct.phase[t] == Phase::forward ? 1e-3 : 2e-3;
    }
  }
  return d;
}

double simulated_bubble(const Json& j, bool full = false) {
  Scenario s = parse_scenario(j, "ideal.json");
  PartitionGraph g = build_partition_graph(s);
  Topology topo(s.cluster);
  EngineConfig cfg;
  cfg.full = full;
  EngineResult er = run_engine(g, topo, equal_stage_durations(g), cfg);
  std::vector<RankRecord> recs;
  for (std::size_t i = 0; i < er.sim_ranks.size(); ++i)
    recs.push_back({er.sim_ranks[i], &g.tasks_of_rank(er.sim_ranks[i]), &er.start[i], &er.end[i]});
  return build_report(s, g, recs, er.makespan).bubble_fraction;
}

}  // namespace

TEST(EngineExact, OneFOneBBubbleIsClosedForm) {
  for (int p : {2, 4}) {
    for (int m : {4, 8}) {
      double expect = double(p - 1) / double(m + p - 1);
      EXPECT_NEAR(simulated_bubble(ideal_scenario(p, m, "1f1b", 1)), expect, 1e-9) << "p=" << p << " m=" << m;
    }
  }
}

TEST(EngineExact, GpipeBubbleIsClosedForm) {
  EXPECT_NEAR(simulated_bubble(ideal_scenario(4, 8, "gpipe", 1)), 3.0 / 11.0, 1e-9);
}

TEST(EngineExact, InterleavedBubbleIsClosedForm) {
  // (p-1) / (v·m + p - 1) with v = 2 chunks per rank.
  EXPECT_NEAR(simulated_bubble(ideal_scenario(4, 8, "interleaved", 2)), 3.0 / (2 * 8 + 3), 1e-9);
}

TEST(EngineExact, FullAndSymmetricAgreeOnIdealPipeline) {
  Json j = ideal_scenario(4, 8, "1f1b", 1);
  EXPECT_NEAR(simulated_bubble(j, true), simulated_bubble(j, false), 1e-12);
}

namespace {
Json real_scenario(const std::string& fabric, double oversub, int nodes, Json strategy) {
  Json topo = {{"name", "t"},
               {"gpu", "H100-SXM"},
               {"gpus_per_node", 8},
               {"intra_node", {{"kind", "nvswitch"}, {"bw_GBps", 450}, {"latency_us", 0.7}, {"nvls", false}}},
               {"nic", {{"per_node", 8}, {"bw_GBps", 50}, {"latency_us", 2.0}}},
               {"fabric", {{"kind", fabric}, {"levels", 2}, {"oversubscription", oversub}, {"switch_radix", 8}, {"latency_us", 1.0}}}};
  return {{"name", "agree"},
          {"model", {{"layers", 4}, {"hidden", 1024}, {"heads", 8}, {"kv_heads", 8}, {"ffn_hidden", 4096}, {"vocab", 4096}}},
          {"cluster", {{"topology", topo}, {"nodes", nodes}}},
          {"strategy", strategy},
          {"workload", {{"kind", "train"}, {"seq_len", 1024}}}};
}
}  // namespace

TEST(EngineAgreement, SymmetricMatchesFullOnSeveralStrategies) {
  std::vector<Json> cases = {
      real_scenario("rail-optimized", 1.0, 2, {{"tp", 2}, {"pp", 2}, {"dp", 4}, {"global_batch", 16}}),
      real_scenario("fat-tree", 2.0, 4, {{"tp", 8}, {"pp", 1}, {"dp", 4}, {"global_batch", 8}}),
      real_scenario("fat-tree", 1.0, 2, {{"tp", 4}, {"pp", 2}, {"dp", 2}, {"sequence_parallel", true}, {"zero", 1}, {"global_batch", 8}}),
      real_scenario("rail-optimized", 1.0, 2, {{"tp", 2}, {"cp", 2}, {"pp", 2}, {"dp", 2}, {"global_batch", 8}}),
  };
  // Expert parallelism across nodes on a 2:1 oversubscribed fat-tree: the all-to-all congests,
  // and the symmetric run simulates only the representative's flows with sibling weights.
  Json moe = real_scenario("fat-tree", 2.0, 4, {{"tp", 1}, {"pp", 2}, {"dp", 16}, {"ep", 8}, {"global_batch", 16}});
  moe["model"]["moe"] = {{"experts", 8}, {"top_k", 2}, {"expert_ffn_hidden", 2048}};
  cases.push_back(moe);
  Json moe_rail = real_scenario("rail-optimized", 1.0, 4, {{"tp", 2}, {"pp", 1}, {"dp", 16}, {"ep", 8}, {"global_batch", 16}});
  moe_rail["model"]["moe"] = {{"experts", 8}, {"top_k", 2}, {"expert_ffn_hidden", 2048}};
  cases.push_back(moe_rail);
  for (const Json& j : cases) {
    Scenario s = parse_scenario(j, "agree.json");
    SimOptions sym, full;
    full.full = true;
    sym.want_timeline = full.want_timeline = false;
    double a = simulate(s, sym).report.step_time_s, b = simulate(s, full).report.step_time_s;
    EXPECT_NEAR(a / b, 1.0, 1e-6) << j["strategy"].dump() << " fabric " << j["cluster"]["topology"]["fabric"].dump();
  }
}

TEST(EngineDeterminism, SameInputSameBytes) {
  Scenario s = parse_scenario(real_scenario("fat-tree", 2.0, 2, {{"tp", 2}, {"pp", 2}, {"dp", 4}, {"global_batch", 16}}), "d.json");
  std::string a = timeline_to_string(simulate(s).timeline), b = timeline_to_string(simulate(s).timeline);
  EXPECT_TRUE(a == b) << "timelines of two identical runs differ";
}
