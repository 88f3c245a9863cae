// The memory model against the reference's worked numbers (§7) and against the planned graph.
#include <gtest/gtest.h>

#include "plan/memory.hpp"
#include "plan_fixtures.hpp"

using namespace strata;
using namespace strata::testing;

TEST(MemoryModel, BytesPerParameterByPrecision) {
  // §7.1 [S7b]: 18 bytes/param replicated for bf16 (Megatron default), 20 for fp16, 16 for fp32.
  EXPECT_DOUBLE_EQ(mixed_precision_state_bytes(DType::bf16).total(), 18);
  EXPECT_DOUBLE_EQ(mixed_precision_state_bytes(DType::fp16).total(), 20);
  EXPECT_DOUBLE_EQ(mixed_precision_state_bytes(DType::fp32).total(), 16);
  EXPECT_DOUBLE_EQ(mixed_precision_state_bytes(DType::bf16, false).total(), 14);  // no fp32 master weights
}

TEST(MemoryModel, DistributedOptimizerAndZeroStages) {
  const double psi = 1e9;
  for (int d : {1, 8, 64}) {
    auto with = [&](DType t, int zero) {
      MemoryBreakdown m;
      add_model_states(m, psi, mixed_precision_state_bytes(t), zero, d);
      return m.weights + m.grads + m.optimizer;
    };
    // Distributed optimizer (ZeRO-1), §7.1: bf16 6 + 12/d, fp16 4 + 16/d, fp32 8 + 8/d bytes/param.
    EXPECT_NEAR(with(DType::bf16, 1), psi * (6 + 12.0 / d), 1);
    EXPECT_NEAR(with(DType::fp16, 1), psi * (4 + 16.0 / d), 1);
    EXPECT_NEAR(with(DType::fp32, 1), psi * (8 + 8.0 / d), 1);
    // ZeRO stages [S12f] with P = 2, G = 4, K = 12: 18; 6 + 12/d; 2 + 16/d; 18/d.
    EXPECT_NEAR(with(DType::bf16, 0), psi * 18, 1);
    EXPECT_NEAR(with(DType::bf16, 2), psi * (2 + 16.0 / d), 1);
    EXPECT_NEAR(with(DType::bf16, 3), psi * 18.0 / d, 1);
  }
}

TEST(MemoryModel, KorthikantiTable) {
  // §7.2 Table: s = 2048, b = 1, h = 12288, a = 96, t = 8 (GPT-3 175B).
  const double s = 2048, b = 1, h = 12288, a = 96;
  const int t = 8;
  const double sbh = s * b * h;
  EXPECT_DOUBLE_EQ(korthikanti_layer_activation_bytes(s, b, h, a, 1, false, Recompute::none), sbh * (34 + 5 * a * s / h));
  EXPECT_DOUBLE_EQ(korthikanti_layer_activation_bytes(s, b, h, a, t, false, Recompute::none),
                   sbh * (10 + 24.0 / t + 5 * a * s / (h * t)));
  EXPECT_DOUBLE_EQ(korthikanti_layer_activation_bytes(s, b, h, a, t, true, Recompute::none), sbh / t * (34 + 5 * a * s / h));
  EXPECT_DOUBLE_EQ(korthikanti_layer_activation_bytes(s, b, h, a, t, false, Recompute::selective), sbh * (10 + 24.0 / t));
  EXPECT_DOUBLE_EQ(korthikanti_layer_activation_bytes(s, b, h, a, t, true, Recompute::selective), 34 * sbh / t);
  EXPECT_DOUBLE_EQ(korthikanti_layer_activation_bytes(s, b, h, a, t, true, Recompute::full), 2 * sbh / t);
  EXPECT_DOUBLE_EQ(korthikanti_layer_activation_bytes(s, b, h, a, t, false, Recompute::full), 2 * sbh);
}

TEST(MemoryModel, KvCacheWorkedExample) {
  // §7.3: L = 80, g = 8, d = 128, bf16 -> 327,680 bytes per token; 1.34 GB per 4096-token sequence.
  ModelSpec m;
  m.layers = 80;
  m.kv_heads = 8;
  m.heads = 64;
  m.head_dim = 128;
  EXPECT_DOUBLE_EQ(kv_cache_bytes(m, 80, 1, 1, 1, 2), 327680);
  EXPECT_NEAR(kv_cache_bytes(m, 80, 4096, 1, 1, 2), 1.34e9, 0.01e9);
  EXPECT_DOUBLE_EQ(kv_cache_bytes(m, 80, 1, 1, 8, 2), 327680 / 8.0);   // TP splits the KV heads
  EXPECT_DOUBLE_EQ(kv_cache_bytes(m, 80, 1, 1, 16, 2), 327680 / 8.0);  // replicated beyond g
}

TEST(MemoryModel, PlannedActivationsAreLayerFormulaTimesScheduleInFlight) {
  // GPT layer (f = 4h, GeLU, MHA), tp 2 + SP + selective, pp 4, 1F1B, m = 8: stage i keeps p − i
  // micro-batches of L/p layers, each 34·s·b·h/t (FlashAttention or selective), plus the embedding
  // terms (8sb + sbh)/t per micro-batch on the first stage and the output layer 4sbh(1 + V/h)/t on
  // the last [S7b].
  PartitionGraph g = plan_graph({"strategy.tp=2", "strategy.pp=4", "strategy.sequence_parallel=true",
                           "strategy.recompute=\"selective\"", "strategy.global_batch=8", "model.layers=8"});
  const double s = 1024, b = 1, h = 1024, V = 32768;
  const int t = 2, p = 4, L = 8;
  const double layer = korthikanti_layer_activation_bytes(s, b, h, 16, t, true, Recompute::selective);
  ASSERT_EQ(g.classes.size(), 4u);
  for (int st = 0; st < p; ++st) {
    double expect = (p - st) * (L / p) * layer;
    if (st == 0) expect += (p - st) * (8 * s * b + s * b * h) / t;
    if (st == p - 1) expect += 4 * s * b * h * (1 + V / h) / t;
    EXPECT_NEAR(g.class_memory[std::size_t(st)].activations / expect, 1.0, 1e-12) << "stage " << st;
  }
}

TEST(MemoryModel, FullRecomputeKeepsLayerInputsPlusOneLayer) {
  PartitionGraph g = plan_graph({"strategy.tp=2", "strategy.pp=2", "strategy.sequence_parallel=true", "strategy.recompute=\"full\"",
                           "strategy.global_batch=4"});
  const double s = 1024, b = 1, h = 1024;
  const int t = 2, p = 2, L = 4;
  const double ckpt = korthikanti_layer_activation_bytes(s, b, h, 16, t, true, Recompute::full);
  const double one_layer = korthikanti_layer_activation_bytes(s, b, h, 16, t, true, Recompute::selective);
  // Stage 0 holds p micro-batches of L/p layer inputs (and the embedding terms); during a backward
  // the layer being recomputed adds one layer's full activations.
  const double stage0 = p * ((L / p) * ckpt + (8 * s * b + s * b * h) / t) + one_layer;
  EXPECT_NEAR(g.class_memory[0].activations / stage0, 1.0, 1e-12);
}

TEST(MemoryModel, ZeroShardsModelStatesOverDataParallelRanks) {
  auto mem = [](int zero) {
    return plan_graph({"strategy.dp=8", "strategy.global_batch=8", "strategy.zero=" + std::to_string(zero)}).class_memory[0];
  };
  MemoryBreakdown z0 = mem(0), z1 = mem(1), z2 = mem(2), z3 = mem(3);
  EXPECT_NEAR(z1.optimizer, z0.optimizer / 8, 1);
  EXPECT_NEAR(z1.grads, z0.grads, 1);
  EXPECT_NEAR(z2.grads, z0.grads / 8, 1);
  EXPECT_NEAR(z3.weights, z0.weights / 8 + 2 * (32768.0 * 1024 + 1024) * 2, 1);  // 1/8 plus the two largest groups gathered (embedding + final norm)
  EXPECT_NEAR(z0.weights + z0.grads + z0.optimizer, 18 * count_params(make_scenario({}).model).total(), 64);
}

TEST(MemoryModel, VerdictNamesTheWorstRank) {
  PartitionGraph g = plan_graph({"strategy.pp=2", "strategy.global_batch=4"});
  auto v = memory_verdict(g, 80e9);
  EXPECT_TRUE(v.fits);
  EXPECT_NE(v.summary.find("fits"), std::string::npos);
  auto oom = memory_verdict(g, 1e6);
  EXPECT_FALSE(oom.fits);
  EXPECT_NE(oom.summary.find("OOM"), std::string::npos);
}
