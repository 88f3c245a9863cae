#pragma once
// A small hand-built TP x PP (x DP) training graph with every kind of task a real job has:
// GEMMs, attention (forward and backward), element-wise, tensor-parallel collectives (all-reduce,
// or reduce-scatter + all-gather with sequence parallelism), optional expert all-to-all-v with
// grouped GEMMs, pipeline sends/receives (GPipe order), data-parallel gradient all-reduces
// overlapped with the backward pass, and the optimizer step. It does not depend on the planner,
// so the executor, compare and calibration are tested on their own (tests/test_exec*.cpp).
#include <cstdint>

#include "graph/partition_graph.hpp"

namespace strata::exec {

struct DemoGraphOptions {
  int tp = 2, pp = 2, dp = 1;
  int layers_per_stage = 1;
  int micro_batches = 2;
  std::int64_t seq = 128, hidden = 128, ffn = 256;
  int heads = 4;
  bool sequence_parallel = false;  // reduce-scatter + all-gather instead of all-reduce
  bool moe = false;                // all-to-all-v over the tp group + grouped expert GEMMs
  bool expanded = true;            // one class per rank (else one class per stage)
  DType dtype = DType::bf16;
};

PartitionGraph make_demo_graph(const DemoGraphOptions& o = {});

}  // namespace strata::exec
