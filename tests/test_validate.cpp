// Published runs become valid scenarios (or are listed as unsupported with a reason), and the
// model options those runs need (era options of the planner and the cost model) do what they say.
#include <gtest/gtest.h>

#include <stdexcept>

#include "cluster/topology.hpp"
#include "cost/compute_cost.hpp"
#include "engine/simulate.hpp"
#include "io/scenario.hpp"
#include "model/model.hpp"
#include "plan_fixtures.hpp"
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
  EXPECT_FALSE(small.strategy.pp_scatter_gather);  // pp = 1: nothing to send
  EXPECT_TRUE(small.strategy.overlap_p2p_comm);
  // Its LayerNorm kernel (apex 2020) and its default hidden dropout.
  EXPECT_EQ(small.strategy.norm_kernel, NormKernel::apex_2020);
  EXPECT_DOUBLE_EQ(small.model.hidden_dropout, 0.1);
  Scenario local = parse_scenario(row(runs, "megatron_sc21_t1_76.1B").scenario, "76.1B");
  EXPECT_FALSE(local.strategy.overlap_grad_reduce);
  // Its pipeline: scatter/gather of the activations over the TP ranks, blocking exchanges.
  EXPECT_TRUE(local.strategy.pp_scatter_gather);
  EXPECT_FALSE(local.strategy.overlap_p2p_comm);
  // Table 2 does not state fp16 or bf16: the paper's other rows (fp16) decide.
  const PublishedRun& t2 = row(runs, "megatron_sc21_t2_ptd_174B_384gpu");
  EXPECT_EQ(parse_scenario(t2.scenario, t2.id).compute_dtype(), DType::fp16);
  bool said = false;
  for (const auto& a : t2.assumptions) said |= a.find("precision not stated") != std::string::npos;
  EXPECT_TRUE(said);
  // Later software: fused attention and today's Megatron defaults. llm-foundry's benchmark runs
  // used Triton FlashAttention (not Hopper-native, slower than FlashAttention-2); Megatron-Core's
  // (Transformer Engine) is Hopper-native. Neither has the 2020 LayerNorm or hidden dropout.
  for (const char* id : {"mpt_7b_h100_80gb_8gpu_s2048", "mpt_7b_a100_80gb_8gpu_s2048", "mcore_moe_mixtral_8x7b_v0.8"}) {
    Scenario s = parse_scenario(row(runs, id).scenario, id);
    EXPECT_EQ(s.strategy.attention, id[0] == 'm' && id[1] == 'p' ? AttentionKind::triton : AttentionKind::flash) << id;
    EXPECT_EQ(s.strategy.norm_kernel, NormKernel::current) << id;
    EXPECT_DOUBLE_EQ(s.model.hidden_dropout, 0.0) << id;
    EXPECT_TRUE(s.strategy.tp_async_grad_reduce) << id;
    EXPECT_TRUE(s.strategy.grad_accumulation_fusion) << id;
    EXPECT_FALSE(s.strategy.pp_scatter_gather) << id;
    EXPECT_TRUE(s.strategy.overlap_p2p_comm) << id;
  }
  EXPECT_EQ(parse_scenario(row(runs, "mpt_7b_h100_80gb_8gpu_s2048").scenario, "mpt").strategy.zero, 3);
}

TEST(PublishedRuns, MegatronCoreTflopsAreReadWithTheirOwnFlopCount) {
  // Megatron-Core's 2024 num_floating_point_operations counts every attention score (s/h, no
  // causal halving): the Mixtral step is derived with it, not with Strata's causal count.
  auto runs = load_published_runs(default_validation_file());
  const PublishedRun& r = row(runs, "mcore_moe_mixtral_8x7b_v0.8");
  const double B = 256, s = 4096, L = 32, h = 4096;
  const double flops = 12 * B * s * L * h * h * ((1 + 8.0 / 32 + s / h) + 14336 / h * 2 * 1.5 + 32000 / (2 * L * h));
  EXPECT_NEAR(r.published_step_s, flops / (64 * 438e12), 1e-9);
  Scenario sc = parse_scenario(r.scenario, r.id);
  const double causal = B * s * train_flops_per_token(sc.model, s) / (64 * 438e12);
  EXPECT_NEAR(r.published_step_s / causal, 1.040, 0.002);
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

// ---------------------------------------------------------------------------------------------
// Model options the published runs need (docs/ACCURACY.md): the planner and cost-model side.

TEST(EraOptions, PipelineScatterGatherSendsOneTpShardAndGathersIt) {
  using namespace strata::testing;
  const double act = 1024.0 * 1024 * 2;  // b·s·h·2 of the base scenario (b 1, s 1024, h 1024)
  auto send_bytes = [](const PartitionGraph& g) {
    std::vector<double> out;
    for (std::size_t c = 0; c < g.classes.size(); ++c)
      for (const char* n : {"pp_send_act", "pp_send_grad"})
        for (auto i : find_tasks(g, c, n)) out.push_back(g.classes[c].p2ps[std::size_t(g.classes[c].detail[i])].bytes);
    return out;
  };
  auto gathers = [](const PartitionGraph& g) {
    std::vector<CollInfo> out;
    for (std::size_t c = 0; c < g.classes.size(); ++c)
      for (auto i : find_tasks(g, c, "pp_allgather")) out.push_back(g.classes[c].colls[std::size_t(g.classes[c].detail[i])]);
    return out;
  };
  PartitionGraph plain = plan_graph({"strategy.tp=2", "strategy.pp=2"});
  for (double b : send_bytes(plain)) EXPECT_DOUBLE_EQ(b, act);
  EXPECT_TRUE(gathers(plain).empty());
  // Megatron's scatter/gather: 1/t of the activation over the pipeline link, then an all-gather of
  // the whole activation over the TP group on arrival: one per received activation (stage 1,
  // forward) and gradient (stage 0, backward) of each of the 4 micro-batches.
  PartitionGraph sg = plan_graph({"strategy.tp=2", "strategy.pp=2", "strategy.pp_scatter_gather=true"});
  ASSERT_FALSE(send_bytes(sg).empty());
  for (double b : send_bytes(sg)) EXPECT_DOUBLE_EQ(b, act / 2);
  const auto ag = gathers(sg);
  EXPECT_EQ(ag.size(), 2u * 4u);
  for (const auto& ci : ag) {
    EXPECT_EQ(ci.kind, CollKind::all_gather);
    EXPECT_EQ(ci.group, GroupKind::tp);
    EXPECT_DOUBLE_EQ(ci.bytes, act);
  }
  // With sequence parallelism the activation is already sharded: nothing to gather.
  PartitionGraph sp = plan_graph({"strategy.tp=2", "strategy.pp=2", "strategy.sequence_parallel=true", "strategy.pp_scatter_gather=true"});
  EXPECT_TRUE(gathers(sp).empty());
  for (double b : send_bytes(sp)) EXPECT_DOUBLE_EQ(b, act / 2);
}

TEST(EraOptions, BlockingPipelineExchangesHoldTheNextComputeBack) {
  using namespace strata::testing;
  // Compute tasks that wait for a send of their own rank.
  auto waits_on_send = [](const PartitionGraph& g) {
    int n = 0;
    for (const ClassTasks& t : g.classes)
      for (std::size_t i = 0; i < t.size(); ++i)
        if (t.kind[i] == TaskKind::compute)
          for (auto d : t.deps_of(std::uint32_t(i))) n += t.kind[d] == TaskKind::send;
    return n;
  };
  EXPECT_EQ(waits_on_send(plan_graph({"strategy.pp=2"})), 0);
  EXPECT_GT(waits_on_send(plan_graph({"strategy.pp=2", "strategy.overlap_p2p_comm=false"})), 0);
  SimOptions o;
  o.want_timeline = false;
  const double overlapped = simulate(make_scenario({"strategy.pp=2"}), o).report.step_time_s;
  const double blocking = simulate(make_scenario({"strategy.pp=2", "strategy.overlap_p2p_comm=false"}), o).report.step_time_s;
  EXPECT_GE(blocking, overlapped);
  // Interleaved steady state: F and B run back to back and the forward's send leaves with the
  // backward's, after it (send_forward_backward_recv_forward_backward).
  auto sends_after_backward = [](const PartitionGraph& g) {
    int n = 0;
    for (std::size_t c = 0; c < g.classes.size(); ++c) {
      const ClassTasks& t = g.classes[c];
      for (auto i : find_tasks(g, c, "pp_send_act"))
        for (auto d : t.deps_of(std::uint32_t(i))) n += t.phase[d] == Phase::backward_input;
    }
    return n;
  };
  const std::vector<std::string> inter = {"strategy.pp=2", "strategy.vpp=2", "strategy.schedule=\"interleaved\""};
  EXPECT_EQ(sends_after_backward(plan_graph(inter)), 0);
  auto blocking_inter = inter;
  blocking_inter.push_back("strategy.overlap_p2p_comm=false");
  EXPECT_GT(sends_after_backward(plan_graph(blocking_inter)), 0);
}

TEST(EraOptions, FlashAttention2IsNotHopperNative) {
  using namespace strata::testing;
  AttnShape a;
  a.q_len = a.kv_len = 4096;
  AttnShape fa2 = a;
  fa2.kernel = AttnKernel::fa2;
  ComputeCostModel h100(*find_gpu("H100-SXM")), a100(*find_gpu("A100-80-SXM"));
  const ComputeConstants k;
  // FlashAttention-3 paper: FlashAttention-2 reaches 35% of H100 peak; on Ampere it is the native kernel.
  EXPECT_NEAR(h100.attention_efficiency(fa2) / h100.attention_efficiency(a), k.fa2_post_ampere_efficiency / k.attn_efficiency, 1e-12);
  EXPECT_DOUBLE_EQ(a100.attention_efficiency(fa2), a100.attention_efficiency(a));
  // The planner stamps the kernel generation on every attention task.
  PartitionGraph g = plan_graph({"strategy.attention=\"flash2\""});
  ASSERT_FALSE(g.classes[0].attns.empty());
  for (const auto& s : g.classes[0].attns) EXPECT_EQ(s.kernel, AttnKernel::fa2);
  const PartitionGraph modern = plan_graph({});  // kept alive: the loop reads its task lists
  for (const auto& s : modern.classes[0].attns) EXPECT_EQ(s.kernel, AttnKernel::native);
}

TEST(EraOptions, KNotAMultipleOfTheKTilePaysForAWholeTile) {
  ComputeCostModel a100(*find_gpu("A100-80-SXM"));
  const double k_half = ComputeConstants{}.k_half;
  auto eff = [&](std::int64_t k, DType t) { return a100.gemm_efficiency(GemmShape{2048, 2048, k, 64, t}); };
  // Head dimension 96 (Q·K^T of unfused attention): 2 k-tiles of 64 for 96 values.
  EXPECT_NEAR(eff(96, DType::fp16) / eff(128, DType::fp16), (96 / (96 + k_half)) * 0.75 / (128 / (128 + k_half)), 1e-12);
  // Multiples of 128 bytes are whole tiles; fp32 tiles hold 32 values.
  EXPECT_NEAR(eff(4096, DType::bf16) / eff(8192, DType::bf16), (4096 / (4096 + k_half)) / (8192 / (8192 + k_half)), 1e-12);
  EXPECT_NEAR(eff(96, DType::fp32) / eff(128, DType::fp32), (96 / (96 + k_half)) / (128 / (128 + k_half)), 1e-12);
}

TEST(EraOptions, TritonFlashAttentionIsSlowerThanFlashAttention2ForwardAndBackward) {
  using namespace strata::testing;
  AttnShape fa2;
  fa2.q_len = fa2.kv_len = 4096;
  fa2.kernel = AttnKernel::fa2;
  AttnShape tri = fa2;
  tri.kernel = AttnKernel::triton;
  const ComputeConstants k;
  // FlashAttention-2 paper §4.1: 1.3-1.5x faster than Triton forward, ~2x backward (A100); on
  // Hopper on top of FlashAttention-2's own 35 %.
  for (const char* gpu : {"A100-80-SXM", "H100-SXM"}) {
    ComputeCostModel m(*find_gpu(gpu));
    EXPECT_NEAR(m.attention_efficiency(fa2) / m.attention_efficiency(tri), k.triton_fa_fwd_slowdown, 1e-12) << gpu;
    AttnShape fb = fa2, tb = tri;
    fb.backward = tb.backward = true;
    EXPECT_NEAR(m.attention_efficiency(fb) / m.attention_efficiency(tb), k.triton_fa_bwd_slowdown, 1e-12) << gpu;
  }
  PartitionGraph g = plan_graph({"strategy.attention=\"triton\""});
  ASSERT_FALSE(g.classes[0].attns.empty());
  for (const auto& s : g.classes[0].attns) EXPECT_EQ(s.kernel, AttnKernel::triton);
}

// The norm tasks' traffic and time under the 2021 options: hidden dropout adds its masks
// (1 byte per element forward; backward reads the gradient and the mask and writes the result),
// apex's 2020 LayerNorm moves its own tensors (2 forward, 3 backward) at its measured rate.
TEST(EraOptions, LegacyLayerNormAndHiddenDropoutCostTheirTraffic) {
  using namespace strata::testing;
  auto norm_task = [](const PartitionGraph& g, Phase ph) {
    for (std::size_t c = 0; c < g.classes.size(); ++c)
      for (auto i : find_tasks(g, c, "mlp_norm"))
        if (g.classes[c].phase[i] == ph) return std::pair{c, std::uint32_t(i)};
    ADD_FAILURE() << "no mlp_norm task";
    return std::pair{std::size_t(0), std::uint32_t(0)};
  };
  const std::vector<std::string> ln = {"model.norm=\"layernorm\"", "strategy.dtype=\"fp16\""};
  PartitionGraph plain = plan_graph(ln);
  auto with = [&](std::vector<std::string> extra) {
    auto sets = ln;
    sets.insert(sets.end(), extra.begin(), extra.end());
    return plan_graph(sets);
  };
  PartitionGraph drop = with({"model.hidden_dropout=0.1"});
  PartitionGraph legacy = with({"strategy.norm_kernel=\"apex_2020\""});
  for (Phase ph : {Phase::forward, Phase::backward_input}) {
    const bool bwd = ph == Phase::backward_input;
    auto [c, t] = norm_task(plain, ph);
    const double bytes = plain.classes[c].bytes[t];
    const double elems = bytes / ((bwd ? 6.0 : 5.0) * 2.0);  // residual + norm tensors, fp16
    auto [dc, dt] = norm_task(drop, ph);
    EXPECT_DOUBLE_EQ(drop.classes[dc].bytes[dt] - bytes, bwd ? elems * (2 * 2.0 + 1) : elems * 1.0);
    auto [lc, lt] = norm_task(legacy, ph);
    const ClassTasks& lct = legacy.classes[lc];
    EXPECT_DOUBLE_EQ(lct.bytes[lt], bytes);  // same traffic, slower kernel
    ASSERT_GE(lct.detail[lt], 0);
    const KernelRate& r = lct.kernel_rates[std::size_t(lct.detail[lt])];
    EXPECT_DOUBLE_EQ(r.bytes, (bwd ? 3.0 : 2.0) * elems * 2.0);
    EXPECT_NEAR(r.hbm_fraction, bwd ? 572.2 / 1555.0 : 895.8 / 1555.0, 1e-12);
    // Its time: the residual share at the element-wise rate, the LayerNorm's at its own.
    const GpuSpec& gpu = *find_gpu("A100-80-SXM");
    ComputeCostModel m(gpu);
    const ComputeConstants k;
    const double expect = (bytes - r.bytes) / (gpu.hbm_GBps * 1e9 * k.hbm_efficiency) +
                          r.bytes / (gpu.hbm_GBps * 1e9 * r.hbm_fraction) + m.launch_s();
    EXPECT_NEAR(m.task_time(lct, lt), expect, 1e-12 * expect);
    EXPECT_GT(m.task_time(lct, lt), m.task_time(plain.classes[c], t));
  }
  // RMSNorm models keep the default kernel whatever the option says.
  PartitionGraph rms = plan_graph({"model.norm=\"rmsnorm\"", "strategy.norm_kernel=\"apex_2020\""});
  EXPECT_TRUE(rms.classes[0].kernel_rates.empty());
}
