// The planner (plan/*.cpp): for each parallelism, task counts, GEMM shapes, FLOP sums and byte
// volumes against the reference formulas (reference/cost-models.md §4-§8), plus the graph's
// structural invariants (dependencies point backwards, sends match receives across classes,
// groups issue identical collectives, memory deltas balance).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <sys/wait.h>

#include "graph/graph_json.hpp"
#include "model/presets.hpp"
#include "plan/memory.hpp"
#include "plan/plan_internal.hpp"
#include "plan/schedule.hpp"
#include "plan_fixtures.hpp"

using namespace strata;
using namespace strata::testing;

namespace {

constexpr double A_bytes = 1024.0 * 1024 * 2;  // b·s·h·2 for the base scenario (b 1, s 1024, h 1024)

void check_invariants(const PartitionGraph& g) {
  const Layout& L = g.layout;
  ASSERT_EQ(int(g.rank_class.size()), L.world());
  ASSERT_EQ(g.class_rep.size(), g.classes.size());
  ASSERT_EQ(g.class_memory.size(), g.classes.size());
  for (std::size_t c = 0; c < g.classes.size(); ++c) {
    const ClassTasks& t = g.classes[c];
    const std::size_t n = t.size();
    ASSERT_EQ(g.rank_class[std::size_t(g.class_rep[c])], int(c)) << "representative of class " << c;
    ASSERT_EQ(t.stream.size(), n);
    ASSERT_EQ(t.flops.size(), n);
    ASSERT_EQ(t.mem_delta.size(), n);
    ASSERT_EQ(t.dep_begin.size(), n + 1);
    double mem = 0, mem_scale = 1;
    for (std::size_t i = 0; i < n; ++i) {
      for (auto dep : t.deps_of(std::uint32_t(i))) ASSERT_LT(dep, i) << "class " << c << " task " << i << " depends forward";
      ASSERT_LT(t.name[i], g.names.size());
      mem += t.mem_delta[i];
      mem_scale = std::max(mem_scale, std::fabs(t.mem_delta[i]));
      switch (t.kind[i]) {
        case TaskKind::compute:
          if (t.op[i] == OpKind::gemm || t.op[i] == OpKind::grouped_gemm) {
            ASSERT_LT(std::size_t(t.detail[i]), t.gemms.size());
          }
          if (t.op[i] == OpKind::attention) {
            ASSERT_LT(std::size_t(t.detail[i]), t.attns.size());
          }
          ASSERT_EQ(t.stream[i], Stream::compute);
          break;
        case TaskKind::collective: {
          const CollInfo& ci = t.colls[std::size_t(t.detail[i])];
          EXPECT_GT(ci.bytes, 0);
          if (ci.kind == CollKind::all_to_all_v) {
            ASSERT_LT(std::size_t(ci.a2av), t.a2av_bytes.size());
            EXPECT_EQ(int(t.a2av_bytes[std::size_t(ci.a2av)].size()), L.group_size(ci.group));
          }
          EXPECT_GT(L.group_size(ci.group), 1) << "collective over a group of one";
          break;
        }
        case TaskKind::send:
        case TaskKind::recv: {
          const bool send = t.kind[i] == TaskKind::send;
          const P2PInfo& pi = t.p2ps[std::size_t(t.detail[i])];
          if (send) EXPECT_TRUE(t.stream[i] == Stream::pp_send || t.stream[i] == Stream::cp);
          else
            EXPECT_TRUE(t.stream[i] == Stream::pp_recv_fwd || t.stream[i] == Stream::pp_recv_bwd ||
                        t.stream[i] == Stream::cp_recv);
          const int peer = L.peer(pi.group, g.class_rep[c], pi.offset);
          const ClassTasks& pt = g.tasks_of_rank(peer);
          ASSERT_LT(pi.match, pt.size());
          EXPECT_EQ(pt.kind[pi.match], send ? TaskKind::recv : TaskKind::send) << "class " << c << " task " << i;
          const P2PInfo& pp = pt.p2ps[std::size_t(pt.detail[pi.match])];
          EXPECT_EQ(pp.match, i);
          EXPECT_EQ(pp.bytes, pi.bytes);
          EXPECT_EQ(pp.group, pi.group);
          EXPECT_EQ(L.peer(pp.group, peer, pp.offset), g.class_rep[c]);
          break;
        }
        default: break;
      }
    }
    EXPECT_NEAR(mem / mem_scale, 0.0, 1e-9) << "memory deltas of class " << c << " do not balance";
  }
}

double layer_params_gpt(double h) { return 12 * h * h + 4 * h; }  // attention 4h² + MLP 8h² + 2 LayerNorms

int count(const PartitionGraph& g, std::size_t cls, const std::string& name, int layer, int mb, Phase ph) {
  return int(find_tasks(g, cls, name, [&](const ClassTasks& t, std::size_t i) {
               return t.layer[i] == layer && t.microbatch[i] == mb && t.phase[i] == ph;
             }).size());
}

double sum_bytes(const PartitionGraph& g, const std::string& name, std::function<bool(const ClassTasks&, std::size_t)> pred = nullptr) {
  auto n = ranks_per_class(g);
  double s = 0;
  for (std::size_t c = 0; c < g.classes.size(); ++c)
    for (auto i : find_tasks(g, c, name, pred)) s += g.classes[c].bytes[i] * n[c];
  return s;
}

const std::vector<std::string> kMoe = {
    "model.moe={\"experts\": 8, \"top_k\": 2, \"expert_ffn_hidden\": 1024}", "model.activation=\"swiglu\""};

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// FLOP sums: per step, GEMM + attention FLOPs over every rank = 3 x forward = the model FLOPs.

TEST(PlannerFlops, TrainingStepEqualsModelFlopsForEveryParallelism) {
  const std::vector<std::vector<std::string>> configs = {
      {},
      {"strategy.tp=2"},
      {"strategy.tp=4", "strategy.sequence_parallel=true"},
      {"strategy.pp=4", "strategy.global_batch=8"},
      {"strategy.pp=2", "strategy.vpp=2", "strategy.schedule=\"interleaved\"", "strategy.global_batch=4"},
      {"strategy.pp=2", "strategy.schedule=\"gpipe\""},
      {"strategy.pp=2", "strategy.schedule=\"zb-h1\""},
      {"strategy.pp=2", "strategy.layer_split=[1,3]"},
      {"strategy.cp=2"},
      {"strategy.cp=4", "strategy.tp=2", "strategy.sequence_parallel=true"},
      {"strategy.cp=2", "strategy.cp_kind=\"ulysses\""},
      {"strategy.dp=2", "strategy.zero=1"},
      {"strategy.dp=2", "strategy.zero=3", "strategy.global_batch=4"},
      {"model.kv_heads=4", "model.activation=\"swiglu\"", "model.ffn_hidden=2816", "strategy.tp=4",
       "strategy.sequence_parallel=true", "strategy.pp=2"},
      {"model.linear_bias=true", "model.norm=\"layernorm\"", "strategy.tp=2"},
      with(kMoe, {"strategy.ep=4", "strategy.dp=4"}),
      with(kMoe, {"strategy.ep=4", "strategy.dp=4", "model.moe.router_skew=1.2"}),
      with(kMoe, {"strategy.ep=2", "strategy.dp=2", "strategy.tp=2", "strategy.sequence_parallel=true",
                  "model.moe.shared_experts=1", "model.moe.router_skew=0.8", "strategy.pp=2"}),
      with(kMoe, {"strategy.ep=2", "strategy.dp=2", "model.moe.first_dense_layers=1", "model.moe.moe_layer_freq=2"}),
  };
  for (const auto& cfg : configs) {
    std::string label;
    for (const auto& s : cfg) label += s + " ";
    PartitionGraph g = plan_graph(cfg);
    check_invariants(g);
    EXPECT_NEAR(job_math_flops(g) / g.model_flops_per_step, 1.0, 1e-9) << label;
    // Backward = 2 x forward.
    double fwd = job_math_flops(g, [](const ClassTasks& t, std::size_t i) { return t.phase[i] == Phase::forward; });
    EXPECT_NEAR(job_math_flops(g) / fwd, 3.0, 1e-9) << label;
  }
}

TEST(PlannerFlops, RecomputeAddsTheRecomputedForward) {
  Scenario sc = make_scenario({});
  const ModelSpec& m = sc.model;
  const double s = 1024, tokens = 4 * s, h = 1024, V = 32768;
  // Selective: the attention core's forward again, 2·s·(a·d) per token per layer (causal).
  PartitionGraph sel = plan_graph({"strategy.recompute=\"selective\"", "strategy.tp=2"});
  EXPECT_NEAR(job_math_flops(sel) / (sel.model_flops_per_step + m.layers * tokens * 2 * s * h), 1.0, 1e-9);
  // Full: every layer's forward again (not the LM head): 4 x forward for the layers.
  PartitionGraph full = plan_graph({"strategy.recompute=\"full\"", "strategy.tp=2", "strategy.sequence_parallel=true"});
  const double layers_fwd = forward_flops_per_token(m, 1024) - 2 * V * h;
  EXPECT_NEAR(job_math_flops(full) / (full.model_flops_per_step + tokens * layers_fwd), 1.0, 1e-9);
  double re = job_math_flops(full, [](const ClassTasks& t, std::size_t i) { return t.phase[i] == Phase::recompute; });
  EXPECT_NEAR(re / (tokens * layers_fwd), 1.0, 1e-9);
}

// ---------------------------------------------------------------------------------------------
// Tensor parallelism.

TEST(PlannerTensorParallel, FourAllReducesPerLayerPerMicroBatch) {
  PartitionGraph g = plan_graph({"strategy.tp=2"});
  for (int layer = 0; layer < 4; ++layer)
    for (int mb = 0; mb < 4; ++mb) {
      EXPECT_EQ(count(g, 0, "tp_allreduce", layer, mb, Phase::forward), 2);
      EXPECT_EQ(count(g, 0, "tp_allreduce", layer, mb, Phase::backward_input), 2);
      EXPECT_EQ(count(g, 0, "tp_allgather", layer, mb, Phase::forward), 0);
    }
  for (auto i : find_tasks(g, 0, "tp_allreduce", [](const ClassTasks& t, std::size_t i) { return t.layer[i] >= 0; })) {
    EXPECT_DOUBLE_EQ(g.classes[0].bytes[i], A_bytes);  // b·s·h·2 per rank (nccl-tests size)
    EXPECT_EQ(g.classes[0].colls[std::size_t(g.classes[0].detail[i])].group, GroupKind::tp);
  }
}

TEST(PlannerTensorParallel, SequenceParallelAllGatherReduceScatterPairs) {
  PartitionGraph g = plan_graph({"strategy.tp=4", "strategy.sequence_parallel=true"});
  // Forward: 2 AG + 2 RS; backward: the conjugates (2 AG + 2 RS) plus 2 AG of the column-parallel
  // inputs for their weight gradients [S7d].
  EXPECT_EQ(count(g, 0, "tp_allgather", 1, 2, Phase::forward), 2);
  EXPECT_EQ(count(g, 0, "tp_reduce_scatter", 1, 2, Phase::forward), 2);
  EXPECT_EQ(count(g, 0, "tp_allgather", 1, 2, Phase::backward_input), 4);
  EXPECT_EQ(count(g, 0, "tp_reduce_scatter", 1, 2, Phase::backward_input), 2);
  EXPECT_EQ(count(g, 0, "tp_allreduce", 1, 2, Phase::forward), 0);
  double wire = 0;
  for (auto i : find_tasks(g, 0, "tp_allgather", [](const ClassTasks& t, std::size_t i) {
         return t.layer[i] == 0 && t.microbatch[i] == 0 && t.phase[i] == Phase::forward;
       }))
    wire += g.classes[0].bytes[i] * 3.0 / 4.0;
  for (auto i : find_tasks(g, 0, "tp_reduce_scatter", [](const ClassTasks& t, std::size_t i) {
         return t.layer[i] == 0 && t.microbatch[i] == 0 && t.phase[i] == Phase::forward;
       }))
    wire += g.classes[0].bytes[i] * 3.0 / 4.0;
  EXPECT_DOUBLE_EQ(wire, 4 * 3.0 / 4.0 * A_bytes);  // §5.9: 4·(t−1)/t·A forward, same as 2 all-reduces
}

TEST(PlannerTensorParallel, ColumnAndRowParallelGemmShapes) {
  // h 1024, a = g = 16, d 64, f 4096, T = b·s = 1024, t = 2 (reference §4.4).
  PartitionGraph g = plan_graph({"strategy.tp=2"});
  const ClassTasks& t = g.classes[0];
  auto shape = [&](const std::string& name, Phase ph, int layer = 0) {
    auto ids = find_tasks(g, 0, name, [&](const ClassTasks& c, std::size_t i) { return c.layer[i] == layer && c.phase[i] == ph; });
    EXPECT_FALSE(ids.empty()) << name;
    return ids.empty() ? GemmShape{} : t.gemms[std::size_t(t.detail[ids[0]])];
  };
  auto is = [](const GemmShape& s, std::int64_t m, std::int64_t n, std::int64_t k) { return s.m == m && s.n == n && s.k == k; };
  EXPECT_TRUE(is(shape("qkv_proj", Phase::forward), 1024, (16 + 32) * 64 / 2, 1024));
  EXPECT_TRUE(is(shape("attn_out_proj", Phase::forward), 1024, 1024, 16 * 64 / 2));
  EXPECT_TRUE(is(shape("mlp_fc1", Phase::forward), 1024, 4096 / 2, 1024));
  EXPECT_TRUE(is(shape("mlp_fc2", Phase::forward), 1024, 1024, 4096 / 2));
  // Backward: dgrad [M,N]x[N,K], wgrad [K,M]x[M,N].
  EXPECT_TRUE(is(shape("mlp_fc1", Phase::backward_input), 1024, 1024, 2048));
  EXPECT_TRUE(is(shape("mlp_fc1", Phase::backward_weight), 1024, 2048, 1024));
  EXPECT_TRUE(is(shape("lm_head", Phase::forward, -1), 1024, 32768 / 2, 1024));
  // SwiGLU: gate and up fused as one column-parallel GEMM of 2f/t (Megatron's linear_fc1).
  PartitionGraph s = plan_graph({"strategy.tp=2", "model.activation=\"swiglu\""});
  auto ids = find_tasks(s, 0, "mlp_fc1", [](const ClassTasks& c, std::size_t i) { return c.phase[i] == Phase::forward; });
  EXPECT_EQ(s.classes[0].gemms[std::size_t(s.classes[0].detail[ids[0]])].n, 2 * 4096 / 2);
  // Attention core: a/t heads, causal, full sequence.
  auto at = find_tasks(g, 0, "attn_core", [](const ClassTasks& c, std::size_t i) { return c.phase[i] == Phase::forward; });
  const AttnShape& a = t.attns[std::size_t(t.detail[at[0]])];
  EXPECT_EQ(a.heads, 8);
  EXPECT_EQ(a.q_len, 1024);
  EXPECT_TRUE(a.causal);
  EXPECT_DOUBLE_EQ(t.flops[at[0]], 2.0 * 1024 * 1024 * 8 * 64);  // 2·b·s²·(a/t)·d: QKᵀ and PV, half the scores
}

TEST(PlannerTensorParallel, VocabParallelCrossEntropyReductions) {
  PartitionGraph g = plan_graph({"strategy.tp=2"});
  auto ce = find_tasks(g, 0, "ce_allreduce", [](const ClassTasks& t, std::size_t i) { return t.microbatch[i] == 0; });
  ASSERT_EQ(ce.size(), 3u);  // max, sum of exponentials, target logit
  EXPECT_DOUBLE_EQ(g.classes[0].bytes[ce[0]], 1024 * 4.0);
}

// ---------------------------------------------------------------------------------------------
// Context parallelism.

TEST(PlannerContextParallel, RingSendsKvBlocksInCpMinusOneSteps) {
  for (int c : {2, 4}) {
    PartitionGraph g = plan_graph({"strategy.cp=" + std::to_string(c)});
    check_invariants(g);
    const double kv = 2.0 * 1 * (1024.0 / c) * 16 * 64 * 2;  // 2·b·(s/c)·g·d·bytes (K and V)
    auto fwd = find_tasks(g, 0, "cp_send_kv", [](const ClassTasks& t, std::size_t i) {
      return t.layer[i] == 0 && t.microbatch[i] == 0 && t.phase[i] == Phase::forward;
    });
    EXPECT_EQ(int(fwd.size()), c - 1);
    for (auto i : fwd) EXPECT_DOUBLE_EQ(g.classes[0].bytes[i], kv);
    EXPECT_EQ(count(g, 0, "attn_core", 0, 0, Phase::forward), c);  // one attention step per block
    // Backward: K/V again (c−1) and the accumulating dK/dV (c, the last one coming home): ~2x.
    EXPECT_EQ(count(g, 0, "cp_send_kv", 0, 0, Phase::backward_input), c - 1);
    EXPECT_EQ(count(g, 0, "cp_send_dkv", 0, 0, Phase::backward_input), c);
    // Causal load balancing: every step does the same work, the rank 1/c of the attention.
    auto steps = find_tasks(g, 0, "attn_core", [](const ClassTasks& t, std::size_t i) {
      return t.layer[i] == 0 && t.microbatch[i] == 0 && t.phase[i] == Phase::forward;
    });
    for (auto i : steps) EXPECT_DOUBLE_EQ(g.classes[0].flops[i], 2.0 * 1024 * 1024 * 16 * 64 / c / c);
    // Gradients over dp x cp.
    PartitionGraph d = plan_graph({"strategy.cp=" + std::to_string(c), "strategy.dp=2"});
    auto rs = find_tasks(d, 0, "dp_allreduce");
    ASSERT_FALSE(rs.empty());
    EXPECT_EQ(d.classes[0].colls[std::size_t(d.classes[0].detail[rs[0]])].group, GroupKind::dp_cp);
  }
}

TEST(PlannerContextParallel, UlyssesAllToAllsAroundAttention) {
  const int c = 4;
  PartitionGraph g = plan_graph({"strategy.cp=4", "strategy.cp_kind=\"ulysses\""});
  check_invariants(g);
  auto a2a = find_tasks(g, 0, "cp_all_to_all", [](const ClassTasks& t, std::size_t i) {
    return t.layer[i] == 0 && t.microbatch[i] == 0 && t.phase[i] == Phase::forward;
  });
  ASSERT_EQ(a2a.size(), 2u);
  // Per rank wire bytes (§5.4, derived): (P−1)/P · b·(s/P)·(2a + 2g)·d·bytes for QKV + output.
  double wire = (g.classes[0].bytes[a2a[0]] + g.classes[0].bytes[a2a[1]]) * (c - 1.0) / c;
  EXPECT_DOUBLE_EQ(wire, (c - 1.0) / c * 1 * (1024.0 / c) * (2 * 16 + 2 * 16) * 64 * 2);
  EXPECT_EQ(count(g, 0, "cp_all_to_all", 0, 0, Phase::backward_input), 2);
  auto at = find_tasks(g, 0, "attn_core", [](const ClassTasks& t, std::size_t i) { return t.phase[i] == Phase::forward; });
  const AttnShape& s = g.classes[0].attns[std::size_t(g.classes[0].detail[at[0]])];
  EXPECT_EQ(s.heads, 16 / c);
  EXPECT_EQ(s.q_len, 1024);
}

// ---------------------------------------------------------------------------------------------
// Expert parallelism.

TEST(PlannerExpertParallel, DispatchAndCombineVolumes) {
  const int e = 4;
  PartitionGraph g = plan_graph(with(kMoe, {"strategy.ep=4", "strategy.dp=4"}));
  check_invariants(g);
  ASSERT_EQ(g.classes.size(), 1u);  // uniform routing: every EP rank does the same work
  const double T = 1024, k = 2, h = 1024;
  for (const char* name : {"ep_dispatch", "ep_combine"}) {
    EXPECT_EQ(count(g, 0, name, 0, 0, Phase::forward), 1);
    EXPECT_EQ(count(g, 0, name, 0, 0, Phase::backward_input), 1);
    for (auto i : find_tasks(g, 0, name)) {
      const CollInfo& ci = g.classes[0].colls[std::size_t(g.classes[0].detail[i])];
      EXPECT_EQ(ci.kind, CollKind::all_to_all);
      EXPECT_EQ(ci.group, GroupKind::ep);
      // Per rank send buffer T·k·h·B; on the wire (e−1)/e of it (§5.5).
      EXPECT_DOUBLE_EQ(ci.bytes, T * k * h * 2);
      EXPECT_DOUBLE_EQ(ci.bytes * (e - 1) / e, T * k * h * 2 * (e - 1) / e);
    }
  }
  // Grouped expert GEMM: 2 local experts, tokens per expert T·k·e/E.
  auto fc1 = find_tasks(g, 0, "expert_fc1", [](const ClassTasks& t, std::size_t i) { return t.phase[i] == Phase::forward; });
  const GemmShape& s = g.classes[0].gemms[std::size_t(g.classes[0].detail[fc1[0]])];
  EXPECT_EQ(s.batch, 2);
  EXPECT_EQ(s.m, std::int64_t(T * k * e / 8 / 1));
  EXPECT_EQ(s.n, 2 * 1024);  // SwiGLU gate + up
}

TEST(PlannerExpertParallel, RouterSkewMakesTheHotRankWorkHarder) {
  PartitionGraph g = plan_graph(with(kMoe, {"strategy.ep=4", "strategy.dp=4", "model.moe.router_skew=1.2"}));
  check_invariants(g);
  ASSERT_EQ(g.classes.size(), 4u);  // one class per EP rank
  auto expert_flops = [&](std::size_t c) {
    double f = 0;
    for (auto i : find_tasks(g, c, "expert_fc1")) f += g.classes[c].flops[i];
    return f;
  };
  EXPECT_GT(expert_flops(0), 1.5 * expert_flops(1));
  EXPECT_GT(expert_flops(1), expert_flops(3));
  // Identical structure across the EP classes (same collectives in the same order).
  for (std::size_t c = 1; c < 4; ++c) {
    ASSERT_EQ(g.classes[c].size(), g.classes[0].size());
    EXPECT_EQ(g.classes[c].name, g.classes[0].name);
    EXPECT_EQ(g.classes[c].kind, g.classes[0].kind);
    EXPECT_EQ(g.classes[c].dep_begin, g.classes[0].dep_begin);
    EXPECT_EQ(g.classes[c].deps, g.classes[0].deps);
  }
  // The dispatch is an all-to-all-v; per-peer bytes follow the destination's load, and the
  // hottest rank sends the most back in the combine.
  auto disp = find_tasks(g, 0, "ep_dispatch", [](const ClassTasks& t, std::size_t i) { return t.phase[i] == Phase::forward; });
  const CollInfo& ci = g.classes[0].colls[std::size_t(g.classes[0].detail[disp[0]])];
  ASSERT_EQ(ci.kind, CollKind::all_to_all_v);
  const auto& v = g.classes[0].a2av_bytes[std::size_t(ci.a2av)];
  EXPECT_GT(v[0], v[3]);
  EXPECT_NEAR(v[0] + v[1] + v[2] + v[3], 1024.0 * 2 * 1024 * 2, 1e-6);
  auto comb = [&](std::size_t c) {
    auto ids = find_tasks(g, c, "ep_combine", [](const ClassTasks& t, std::size_t i) { return t.phase[i] == Phase::forward; });
    return g.classes[c].bytes[ids[0]];
  };
  EXPECT_GT(comb(0), comb(3));
  // Class representatives: same stage -> same EP group.
  for (std::size_t c = 1; c < 4; ++c)
    EXPECT_EQ(g.layout.group_of(GroupKind::ep, g.class_rep[c]), g.layout.group_of(GroupKind::ep, g.class_rep[0]));
}

TEST(PlannerExpertParallel, CapacityFactorDropsTokens) {
  PartitionGraph dropless = plan_graph(with(kMoe, {"strategy.ep=4", "strategy.dp=4", "model.moe.router_skew=1.0"}));
  PartitionGraph capped =
      plan_graph(with(kMoe, {"strategy.ep=4", "strategy.dp=4", "model.moe.router_skew=1.0", "model.moe.capacity_factor=1.0"}));
  auto experts = [](const ClassTasks& t, std::size_t i) { return t.op[i] == OpKind::grouped_gemm; };
  EXPECT_LT(job_math_flops(capped, experts), 0.9 * job_math_flops(dropless, experts));
  // Capacity ceil(T·k/E·CF) per expert and source rank: the hottest rank gets at most its
  // experts' capacity.
  auto fc1 = find_tasks(capped, 0, "expert_fc1", [](const ClassTasks& t, std::size_t i) { return t.phase[i] == Phase::forward; });
  const double cap = std::ceil(1024.0 * 2 / 8 * 1.0);
  EXPECT_LE(capped.classes[0].flops[fc1[0]], 2.0 * (4 * 2 * cap) * 1024 * 2048 + 1);
}

TEST(PlannerExpertParallel, ZipfWaterFillingRespectsTopK) {
  auto f = strata::plan::expert_token_fractions(8, 2, 3.0);
  double sum = 0;
  for (double x : f) {
    EXPECT_LE(x, 1.0 + 1e-12);
    sum += x;
  }
  EXPECT_NEAR(sum, 2.0, 1e-12);
  EXPECT_DOUBLE_EQ(f[0], 1.0);  // the hottest expert is chosen by every token, no more
  auto u = strata::plan::expert_token_fractions(8, 2, 0.0);
  for (double x : u) EXPECT_DOUBLE_EQ(x, 0.25);
}

TEST(PlannerExpertParallel, ExpertGradientsOverExpertDataParallelGroup) {
  PartitionGraph g = plan_graph(with(kMoe, {"strategy.ep=2", "strategy.dp=4"}));
  auto ar = find_tasks(g, 0, "edp_allreduce");
  ASSERT_FALSE(ar.empty());
  EXPECT_EQ(g.classes[0].colls[std::size_t(g.classes[0].detail[ar[0]])].group, GroupKind::edp);
  // 4 layers x 4 local experts x 3·h·f_e params, fp32 gradients.
  double bytes = 0;
  for (auto i : ar) bytes += g.classes[0].bytes[i];
  EXPECT_DOUBLE_EQ(bytes, 4.0 * 4 * 3 * 1024 * 1024 * 4);
}

// ---------------------------------------------------------------------------------------------
// Pipeline parallelism.

TEST(PlannerPipeline, ActivationAndGradientSends) {
  PartitionGraph g = plan_graph({"strategy.pp=4", "strategy.global_batch=8"});
  check_invariants(g);
  ASSERT_EQ(g.classes.size(), 4u);
  for (std::size_t s = 0; s < 4; ++s) {
    auto fwd = find_tasks(g, s, "pp_send_act");
    auto bwd = find_tasks(g, s, "pp_send_grad");
    EXPECT_EQ(fwd.size(), s < 3 ? 8u : 0u);
    EXPECT_EQ(bwd.size(), s > 0 ? 8u : 0u);
    for (auto i : fwd) EXPECT_DOUBLE_EQ(g.classes[s].bytes[i], A_bytes);  // b·s·h·2
    // Embedding on the first stage, LM head on the last.
    EXPECT_EQ(find_tasks(g, s, "embedding").empty(), s != 0);
    EXPECT_EQ(find_tasks(g, s, "lm_head").empty(), s != 3);
  }
  // With TP + SP each TP rank sends its 1/t shard.
  PartitionGraph sp = plan_graph({"strategy.pp=2", "strategy.tp=2", "strategy.sequence_parallel=true"});
  for (auto i : find_tasks(sp, 0, "pp_send_act")) EXPECT_DOUBLE_EQ(sp.classes[0].bytes[i], A_bytes / 2);
  // Class representatives of the stages share one pp group.
  for (std::size_t s = 1; s < 4; ++s)
    EXPECT_EQ(g.layout.group_of(GroupKind::pp, g.class_rep[s]), g.layout.group_of(GroupKind::pp, g.class_rep[0]));
}

TEST(PlannerPipeline, InterleavedMultipliesSendsByV) {
  const int m = 4;
  PartitionGraph g = plan_graph({"strategy.pp=2", "strategy.vpp=2", "strategy.global_batch=4"});
  check_invariants(g);
  // Virtual stages 0..3 over 2 ranks: 3 boundaries x m micro-batches forward, same backward.
  size_t fwd = find_tasks(g, 0, "pp_send_act").size() + find_tasks(g, 1, "pp_send_act").size();
  EXPECT_EQ(fwd, 3u * m);
  EXPECT_EQ(find_tasks(g, 0, "pp_send_act").size(), 2u * m);
  // Layers: stage 0 holds layers 0 and 2, stage 1 layers 1 and 3 (virtual stage = chunk·p + stage).
  auto layers_of = [&](std::size_t c) {
    std::set<int> s;
    for (std::size_t i = 0; i < g.classes[c].size(); ++i)
      if (g.classes[c].layer[i] >= 0) s.insert(g.classes[c].layer[i]);
    return s;
  };
  EXPECT_EQ(layers_of(0), (std::set<int>{0, 2}));
  EXPECT_EQ(layers_of(1), (std::set<int>{1, 3}));
}

TEST(PlannerPipeline, ComputeOrderFollowsTheSchedule) {
  for (const char* sched : {"gpipe", "1f1b", "zb-h1"}) {
    PartitionGraph g = plan_graph({"strategy.pp=4", "strategy.global_batch=8", std::string("strategy.schedule=\"") + sched + "\""});
    const Schedule k = std::string(sched) == "gpipe" ? Schedule::gpipe : std::string(sched) == "1f1b" ? Schedule::one_f_one_b : Schedule::zb_h1;
    for (int st = 0; st < 4; ++st) {
      auto order = stage_order(ScheduleSpec{k, 4, 8, 1}, st);
      // Sequence of (micro-batch, phase) changes among layer compute tasks.
      std::vector<ScheduleUnit> seen;
      const ClassTasks& t = g.classes[std::size_t(st)];
      for (std::size_t i = 0; i < t.size(); ++i) {
        if (t.stream[i] != Stream::compute || t.layer[i] < 0 || t.kind[i] != TaskKind::compute) continue;
        UnitPhase ph = t.phase[i] == Phase::forward ? UnitPhase::F
                     : (t.phase[i] == Phase::backward_weight && k == Schedule::zb_h1) ? UnitPhase::W : UnitPhase::B;
        ScheduleUnit u{t.microbatch[i], t.chunk[i], ph};
        if (seen.empty() || !(seen.back() == u)) seen.push_back(u);
      }
      EXPECT_EQ(seen, order) << sched << " stage " << st;
    }
  }
}

TEST(PlannerPipeline, UnevenLayerSplit) {
  PartitionGraph g = plan_graph({"strategy.pp=2", "strategy.layer_split=[1,3]"});
  std::set<int> s0, s1;
  for (std::size_t i = 0; i < g.classes[0].size(); ++i)
    if (g.classes[0].layer[i] >= 0) s0.insert(g.classes[0].layer[i]);
  for (std::size_t i = 0; i < g.classes[1].size(); ++i)
    if (g.classes[1].layer[i] >= 0) s1.insert(g.classes[1].layer[i]);
  EXPECT_EQ(s0, (std::set<int>{0}));
  EXPECT_EQ(s1, (std::set<int>{1, 2, 3}));
}

// ---------------------------------------------------------------------------------------------
// Data parallelism and ZeRO.

TEST(PlannerDataParallel, GradientVolumesByZeroStage) {
  const double psi = count_params(make_scenario({}).model).total();
  PartitionGraph z0 = plan_graph({"strategy.dp=2"});
  check_invariants(z0);
  // fp32 gradients of bf16 training [S7h]: 4·Ψ bytes all-reduced.
  EXPECT_NEAR(sum_bytes(z0, "dp_allreduce") / 2, 4 * psi, 1);
  PartitionGraph z1 = plan_graph({"strategy.dp=2", "strategy.zero=1"});
  EXPECT_NEAR(sum_bytes(z1, "dp_reduce_scatter") / 2, 4 * psi, 1);
  EXPECT_NEAR(sum_bytes(z1, "dp_allgather") / 2, 2 * psi, 1);  // bf16 parameters gathered back
  EXPECT_EQ(find_tasks(z1, 0, "optimizer_step").size(), 1u);
  // ZeRO-2: the reduce-scatter after every micro-batch.
  PartitionGraph z2 = plan_graph({"strategy.dp=2", "strategy.zero=2", "strategy.global_batch=8"});
  EXPECT_NEAR(sum_bytes(z2, "dp_reduce_scatter") / 2, 4 * 4 * psi, 4);
}

TEST(PlannerDataParallel, BucketsOverlapTheLastBackward) {
  // Default bucket max(40M, 1M·dp) parameters: this 116M-parameter model gives several buckets.
  PartitionGraph g = plan_graph({"strategy.dp=2", "strategy.zero=1"});
  auto rs = find_tasks(g, 0, "dp_reduce_scatter");
  EXPECT_GE(rs.size(), 2u);
  const ClassTasks& t = g.classes[0];
  std::uint32_t last_bwd = 0;
  for (std::size_t i = 0; i < t.size(); ++i)
    if (t.stream[i] == Stream::compute && t.phase[i] != Phase::forward && t.phase[i] != Phase::optimizer) last_bwd = std::uint32_t(i);
  EXPECT_LT(rs.front(), last_bwd);  // issued during the backward
  for (auto i : rs) EXPECT_EQ(t.microbatch[i], 1);  // of the last micro-batch (m = 2)
  PartitionGraph no = plan_graph({"strategy.dp=2", "strategy.zero=1", "strategy.overlap_grad_reduce=false"});
  auto rs2 = find_tasks(no, 0, "dp_reduce_scatter");
  const ClassTasks& t2 = no.classes[0];
  std::uint32_t last2 = 0;
  for (std::size_t i = 0; i < t2.size(); ++i)
    if (t2.stream[i] == Stream::compute && t2.phase[i] != Phase::forward && t2.phase[i] != Phase::optimizer) last2 = std::uint32_t(i);
  for (auto i : rs2) EXPECT_GT(i, last2);
  // An explicit small bucket size gives more buckets.
  PartitionGraph small = plan_graph({"strategy.dp=2", "strategy.zero=1", "strategy.bucket_bytes=40000000"});
  EXPECT_GT(find_tasks(small, 0, "dp_reduce_scatter").size(), rs.size());
}

TEST(PlannerDataParallel, Zero3GathersEveryLayerTwicePerMicroBatch) {
  PartitionGraph g = plan_graph({"strategy.dp=2", "strategy.zero=3", "strategy.global_batch=4"});
  check_invariants(g);
  const double layer = layer_params_gpt(1024) - 4 * 1024 + 2 * 1024;  // 12h² + RMSNorm 2h (bias-free)
  for (int mb = 0; mb < 2; ++mb) {
    auto ag = find_tasks(g, 0, "fsdp_allgather", [&](const ClassTasks& t, std::size_t i) { return t.layer[i] == 1 && t.microbatch[i] == mb; });
    auto rs = find_tasks(g, 0, "fsdp_reduce_scatter", [&](const ClassTasks& t, std::size_t i) { return t.layer[i] == 1 && t.microbatch[i] == mb; });
    ASSERT_EQ(ag.size(), 2u);
    ASSERT_EQ(rs.size(), 1u);
    EXPECT_DOUBLE_EQ(g.classes[0].bytes[ag[0]], layer * 2);
    EXPECT_DOUBLE_EQ(g.classes[0].bytes[rs[0]], layer * 4);
  }
}

TEST(PlannerDataParallel, OverlapParamGatherFeedsTheFirstForward) {
  PartitionGraph g = plan_graph({"strategy.dp=2", "strategy.zero=1", "strategy.overlap_param_gather=true"});
  auto ag = find_tasks(g, 0, "dp_allgather");
  ASSERT_FALSE(ag.empty());
  auto emb = find_tasks(g, 0, "embedding");
  EXPECT_LT(ag.back(), emb.front());  // gathered at the start of the step
  bool waits = false;
  for (auto dep : g.classes[0].deps_of(std::uint32_t(emb.front())))
    for (auto a : ag) waits |= dep == a;
  EXPECT_TRUE(waits);
}

// ---------------------------------------------------------------------------------------------
// Rank classes, expansion, inference, errors, output.

TEST(PlannerClasses, ClassesFollowStagesAndExpandToRanks) {
  PartitionGraph g = plan_graph({"strategy.tp=2", "strategy.pp=2", "strategy.dp=2", "strategy.global_batch=4"});
  ASSERT_EQ(g.classes.size(), 2u);
  for (int r = 0; r < g.layout.world(); ++r) EXPECT_EQ(g.rank_class[std::size_t(r)], g.layout.coord(r).pp);
  EXPECT_EQ(g.class_rep[0], 0);
  PlanOptions o;
  o.expand_ranks = true;
  PartitionGraph x = plan_graph({"strategy.tp=2", "strategy.pp=2", "strategy.dp=2", "strategy.global_batch=4"}, o);
  ASSERT_EQ(int(x.classes.size()), 8);
  EXPECT_TRUE(x.expanded);
  check_invariants(x);
  for (int r = 0; r < 8; ++r) EXPECT_EQ(x.classes[std::size_t(r)].name, g.classes[std::size_t(g.rank_class[std::size_t(r)])].name);
}

TEST(PlannerInference, PrefillThenDecodeOverAGrowingCache) {
  auto sets = std::vector<std::string>{"workload={\"kind\": \"inference\", \"batch\": 2, \"prompt_len\": 128, \"gen_len\": 4}",
                                       "strategy.tp=2", "strategy.pp=2"};
  Scenario sc = make_scenario(sets);
  PartitionGraph g = build_partition_graph(sc);
  check_invariants(g);
  EXPECT_NEAR(job_math_flops(g) / g.model_flops_per_step, 1.0, 1e-9);
  // Step k attends over prompt + k tokens.
  const ClassTasks& t = g.classes[0];
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t.op[i] != OpKind::attention) continue;
    const AttnShape& a = t.attns[std::size_t(t.detail[i])];
    if (t.microbatch[i] == 0) {
      EXPECT_EQ(a.q_len, 128);
      EXPECT_TRUE(a.causal);
    } else {
      EXPECT_EQ(a.q_len, 1);
      EXPECT_EQ(a.kv_len, 128 + t.microbatch[i]);
    }
  }
  // The sampled token goes from the last stage to the first before every decode step.
  EXPECT_EQ(find_tasks(g, 1, "pp_send_token").size(), 4u);
  EXPECT_EQ(find_tasks(g, 0, "pp_recv_token").size(), 4u);
  EXPECT_TRUE(find_tasks(g, 0, "optimizer_step").empty());
  // TP: 2 all-reduces per layer per step of b·tokens·h·2 bytes.
  auto ar = find_tasks(g, 0, "tp_allreduce", [](const ClassTasks& c, std::size_t i) { return c.layer[i] == 0 && c.microbatch[i] == 3; });
  ASSERT_EQ(ar.size(), 2u);
  EXPECT_DOUBLE_EQ(t.bytes[ar[0]], 2 * 1 * 1024 * 2.0);
  // KV cache: 2 · (L/p) · (g/t) · d · (prompt + gen) · b · 2 bytes.
  EXPECT_DOUBLE_EQ(g.class_memory[0].kv_cache, 2.0 * 2 * 8 * 64 * 132 * 2 * 2);
  EXPECT_DOUBLE_EQ(g.class_memory[0].grads, 0);
}

TEST(PlannerInference, ContextAndExpertParallelDecode) {
  auto inf = std::string("workload={\"kind\": \"inference\", \"batch\": 4, \"prompt_len\": 256, \"gen_len\": 3}");
  PartitionGraph cp = plan_graph({inf, "strategy.cp=2"});
  check_invariants(cp);
  EXPECT_FALSE(find_tasks(cp, 0, "cp_attn_combine").empty());
  EXPECT_FALSE(find_tasks(cp, 0, "cp_send_kv").empty());  // prefill ring
  PartitionGraph ep = plan_graph(with(kMoe, {inf, "strategy.ep=2", "strategy.dp=2"}));
  check_invariants(ep);
  EXPECT_FALSE(find_tasks(ep, 0, "ep_dispatch").empty());
}

TEST(PlannerErrors, InvalidCombinationsAreRefusedWithTheReason) {
  try {
    plan_graph(with(kMoe, {"strategy.tp=8", "model.moe.expert_ffn_hidden=1004", "model.ffn_hidden=4096"}));
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.path(), "strategy.tp");
    EXPECT_NE(std::string(e.what()).find("expert_ffn_hidden"), std::string::npos);
  }
  try {
    plan_graph({"strategy.order=\"tp-dp-xx-pp\""});
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.path(), "strategy.order");
  }
  EXPECT_THROW(plan_graph({"strategy.vpp=2", "strategy.pp=2", "strategy.schedule=\"1f1b\""}), InputError);
}

TEST(PlannerFuzz, StrategyCombinationsKeepTheInvariants) {
  // A deterministic sample of the strategy space on a small model: structure, matching and FLOPs.
  std::uint64_t x = 12345;
  auto pick = [&](int n) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return int((x >> 33) % std::uint64_t(n));
  };
  int built = 0;
  for (int i = 0; i < 80; ++i) {
    const int tp = 1 << pick(2), pp = 1 << pick(2), cp = 1 << pick(2), dp = 1 << pick(2);
    const bool moe = pick(3) == 0;
    std::vector<std::string> s = {"strategy.tp=" + std::to_string(tp), "strategy.pp=" + std::to_string(pp),
                                  "strategy.cp=" + std::to_string(cp), "strategy.dp=" + std::to_string(dp),
                                  "strategy.global_batch=" + std::to_string(dp * 4)};
    if (tp > 1 && pick(2)) s.push_back("strategy.sequence_parallel=true");
    if (cp > 1 && pick(2)) s.push_back("strategy.cp_kind=\"ulysses\"");
    const char* scheds[] = {"gpipe", "1f1b", "zb-h1", "interleaved"};
    const int sc = pick(pp > 1 ? 4 : 3);
    s.push_back(std::string("strategy.schedule=\"") + scheds[sc] + "\"");
    if (sc == 3) s.push_back("strategy.vpp=2");
    const int zero = pick(pp > 1 ? 3 : 4);
    s.push_back("strategy.zero=" + std::to_string(zero));
    const char* rc[] = {"none", "selective", "full"};
    const int r = pick(3);
    s.push_back(std::string("strategy.recompute=\"") + rc[r] + "\"");
    if (pick(2)) s.push_back("strategy.overlap_param_gather=true");  // no effect without ZeRO
    if (pick(3) == 0) s.push_back("strategy.overlap_grad_reduce=false");
    if (moe) {
      s = with(s, kMoe);
      const int ep = dp * cp >= 2 ? 2 : 1;
      s.push_back("strategy.ep=" + std::to_string(ep));
      if (pick(2)) s.push_back("model.moe.router_skew=1.0");
      if (pick(2)) s.push_back("model.moe.shared_experts=1");
    }
    std::string label;
    for (const auto& v : s) label += v + " ";
    SCOPED_TRACE(label);
    PartitionGraph g = plan_graph(s);
    check_invariants(g);
    const double ratio = job_math_flops(g) / g.model_flops_per_step;
    if (r == 0) EXPECT_NEAR(ratio, 1.0, 1e-9);
    else EXPECT_GT(ratio, 1.0);
    ++built;
  }
  EXPECT_EQ(built, 80);
}

TEST(PlannerOutput, GraphJsonIsDeterministicAndParses) {
  PartitionGraph a = plan_graph({"strategy.tp=2", "strategy.pp=2", "strategy.cp=2"});
  PartitionGraph b = plan_graph({"strategy.tp=2", "strategy.pp=2", "strategy.cp=2"});
  std::string ja = graph_to_json(a, {"x", 80e9}), jb = graph_to_json(b, {"x", 80e9});
  EXPECT_EQ(ja, jb);
  Json j = Json::parse(ja);
  EXPECT_EQ(j["format"], "strata-partition-graph");
  EXPECT_EQ(j["classes"].size(), a.classes.size());
  EXPECT_EQ(j["classes"][0]["tasks"]["count"].get<std::size_t>(), a.classes[0].size());
  EXPECT_EQ(j["classes"][0]["tasks"]["kind"].size(), a.classes[0].size());
  EXPECT_EQ(j["names"][0], "embedding");
  EXPECT_TRUE(j["fits"].get<bool>());
  EXPECT_EQ(j["version"], 2);
  // What the costs depend on travels with the graph: the attention kernel generation and the
  // element-wise kernels with their own rate (Megatron-LM 2021's LayerNorm).
  PartitionGraph old = plan_graph({"model.norm=\"layernorm\"", "strategy.norm_kernel=\"apex_2020\"",
                                   "strategy.attention=\"triton\""});
  Json jo = Json::parse(graph_to_json(old, {"x", 80e9}));
  const Json& c0 = jo["classes"][0];
  ASSERT_EQ(c0["kernel_rates"]["bytes"].size(), old.classes[0].kernel_rates.size());
  ASSERT_FALSE(old.classes[0].kernel_rates.empty());
  EXPECT_DOUBLE_EQ(c0["kernel_rates"]["hbm_fraction"][0].get<double>(), old.classes[0].kernel_rates[0].hbm_fraction);
  ASSERT_FALSE(c0["attns"]["kernel"].empty());
  for (const auto& k : c0["attns"]["kernel"]) EXPECT_EQ(k.get<int>(), int(AttnKernel::triton));
}

TEST(PlannerOutput, CliWritesTheGraph) {
  std::string out = ::testing::TempDir() + "strata_graph_test.json";
  std::string cmd = std::string(STRATA_CLI) + " graph " + STRATA_SOURCE_ROOT + "/scenarios/default.json --out " + out +
                    " --set strategy.global_batch=4 > /dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream f(out);
  std::stringstream ss;
  ss << f.rdbuf();
  Json j = Json::parse(ss.str());
  EXPECT_EQ(j["world"], 16);
  std::string bad = std::string(STRATA_CLI) + " graph " + STRATA_SOURCE_ROOT + "/scenarios/default.json --out " + out +
                    " --set strategy.tp=3 2> /dev/null";
  int rc = std::system(bad.c_str());
  EXPECT_EQ(WEXITSTATUS(rc), 2);
}

TEST(PlannerScale, Llama405bOn16kGpusHasOneClassPerStage) {
  Json j = base_scenario_json();
  j["model"] = Json::parse(R"({"preset": "llama3-405b"})");
  PartitionGraph g = build_partition_graph(make_scenario(
      {"strategy.tp=8", "strategy.cp=2", "strategy.pp=16", "strategy.dp=64", "strategy.vpp=2", "strategy.schedule=\"interleaved\"",
       "strategy.sequence_parallel=true", "strategy.global_batch=1024", "strategy.layer_split=[6,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8]",
       "strategy.zero=1", "workload.seq_len=8192"},
      j));
  EXPECT_EQ(g.layout.world(), 16384);
  EXPECT_EQ(g.classes.size(), 16u);
  EXPECT_NEAR(job_math_flops(g) / g.model_flops_per_step, 1.0, 1e-9);
}

// ---------------------------------------------------------------------------------------------
// Era options (strategy.attention, tp_async_grad_reduce, grad_accumulation_fusion): what older
// software ran, so that published runs of it can be simulated (sim/validate).

TEST(PlannerAttention, UnfusedMaterialisesTheScores) {
  const double b = 1, a = 16, s = 1024, d = 64;
  PartitionGraph g = plan_graph({"strategy.attention=\"unfused\""});
  check_invariants(g);
  EXPECT_TRUE(find_tasks(g, 0, "attn_core").empty());
  auto at = [&](const std::string& name, Phase ph) {
    return find_tasks(g, 0, name, [&](const ClassTasks& t, std::size_t i) { return t.layer[i] == 0 && t.microbatch[i] == 0 && t.phase[i] == ph; });
  };
  const ClassTasks& t = g.classes[0];
  // Forward: S = QK^T (b·a batched [s, d] x [d, s]), softmax + dropout, O = PV.
  auto qk = at("attn_scores", Phase::forward), sm = at("attn_softmax", Phase::forward), pv = at("attn_context", Phase::forward);
  ASSERT_EQ(qk.size(), 1u);
  ASSERT_EQ(sm.size(), 1u);
  ASSERT_EQ(pv.size(), 1u);
  const GemmShape& gs = t.gemms[std::size_t(t.detail[qk[0]])];
  EXPECT_EQ(gs.batch, int(b * a));
  EXPECT_EQ(gs.m, 1024);
  EXPECT_EQ(gs.n, 1024);
  EXPECT_EQ(gs.k, 64);
  // Every score is computed (the causal mask applies in the softmax): 2·b·a·s²·d per GEMM.
  EXPECT_DOUBLE_EQ(t.flops[qk[0]], 2 * b * a * s * s * d);
  EXPECT_DOUBLE_EQ(t.flops[pv[0]], 2 * b * a * s * s * d);
  // Softmax read + write, dropout read + write + 1-byte mask, per score element.
  EXPECT_DOUBLE_EQ(t.bytes[sm[0]], b * a * s * s * (4 * 2 + 1));
  // Backward: dV and dP, dropout + softmax backward (5 tensors + mask), dQ and dK.
  EXPECT_EQ(at("attn_context", Phase::backward_input).size(), 2u);
  EXPECT_EQ(at("attn_scores", Phase::backward_input).size(), 2u);
  auto smb = at("attn_softmax", Phase::backward_input);
  ASSERT_EQ(smb.size(), 1u);
  EXPECT_DOUBLE_EQ(t.bytes[smb[0]], b * a * s * s * (5 * 2 + 1));
  // The stored softmax output, dropout output and mask: Korthikanti's 5·a·s²·b per layer (§7.2).
  PartitionGraph flash = plan_graph({});
  EXPECT_NEAR(g.class_memory[0].activations - flash.class_memory[0].activations, 4 * 5 * a * s * s * b, 1e-6 * 4 * 5 * a * s * s * b);
  EXPECT_THROW(plan_graph({"strategy.attention=\"unfused\"", "strategy.cp=2"}), InputError);
}

TEST(PlannerTensorParallel, SynchronousGradReduceWaitsForTheWeightGradient) {
  // Does a backward TP all-reduce wait for a weight-gradient GEMM?
  auto waits_for_wgrad = [](const PartitionGraph& g) {
    const ClassTasks& t = g.classes[0];
    int n = 0;
    for (auto i : find_tasks(g, 0, "tp_allreduce", [](const ClassTasks& c, std::size_t k) { return c.phase[k] == Phase::backward_input; }))
      for (auto dep : t.deps_of(std::uint32_t(i)))
        if (t.phase[dep] == Phase::backward_weight) ++n;
    return n;
  };
  EXPECT_EQ(waits_for_wgrad(plan_graph({"strategy.tp=2"})), 0);  // async: concurrent with the wgrad GEMM
  // Megatron-LM 2021: after the QKV and FC1 weight gradients, in every layer's backward.
  EXPECT_EQ(waits_for_wgrad(plan_graph({"strategy.tp=2", "strategy.tp_async_grad_reduce=false"})), 4 * 4 * 2);
}

TEST(PlannerDataParallel, UnfusedGradientAccumulationAddsEveryLaterMicrobatch) {
  // dp 2, 4 micro-batches per replica: micro-batches 2..4 add their gradients (read 2, write 1).
  PartitionGraph fused = plan_graph({"strategy.dp=2", "strategy.global_batch=8"});
  EXPECT_TRUE(find_tasks(fused, 0, "grad_accumulate").empty());
  PartitionGraph g = plan_graph({"strategy.dp=2", "strategy.global_batch=8", "strategy.grad_accumulation_fusion=false"});
  check_invariants(g);
  const double params = count_params(make_scenario({}).model).total();
  EXPECT_NEAR(sum_bytes(g, "grad_accumulate") / 2, 3 * 3.0 * 4 * params, 1e-9 * params);  // 3 micro-batches x 3 x fp32
  // ZeRO-3 reduce-scatters every micro-batch: the accumulation is on the 1/d shard (not charged).
  PartitionGraph z3 = plan_graph({"strategy.dp=2", "strategy.global_batch=8", "strategy.grad_accumulation_fusion=false", "strategy.zero=3"});
  EXPECT_TRUE(find_tasks(z3, 0, "grad_accumulate").empty());
}
