#pragma once
// The planner: strategy x model x workload -> PartitionGraph. One function per parallelism adds
// its tasks (plan/tensor_parallel.cpp, context_parallel.cpp, expert_parallel.cpp,
// pipeline_parallel.cpp, data_parallel.cpp, inference.cpp); the pipeline schedule is a pure
// ordering of (micro-batch, chunk, phase) per stage (plan/schedule.hpp); the memory model is
// plan/memory.cpp. The graph format is documented in sim/graph/FORMAT.md.
#include "graph/partition_graph.hpp"
#include "io/scenario.hpp"

namespace strata {

struct PlanOptions {
  bool expand_ranks = false;        // one class per rank (executor, checks)
  // Memory-model assumptions (plan/memory.cpp):
  bool flash_attention = true;      // fused attention: no s x s scores kept (drops Korthikanti's 5as/h term)
  bool fp32_master_weights = true;  // mixed-precision Adam keeps fp32 master weights (4 bytes/param)
};

// Throws InputError (file, JSON path, reason) for combinations the planner cannot build.
PartitionGraph build_partition_graph(const Scenario& scenario, const PlanOptions& options = {});

}  // namespace strata
