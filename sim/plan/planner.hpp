#pragma once
// The planner: strategy x model x workload -> PartitionGraph. One function per parallelism adds
// its tasks (plan/tensor_parallel.cpp, context_parallel.cpp, expert_parallel.cpp,
// pipeline_parallel.cpp, data_parallel.cpp, inference.cpp); the pipeline schedule is a pure
// ordering of (micro-batch, chunk, phase) per stage (plan/schedule.hpp); the memory model is
// plan/memory.cpp.
#include "graph/partition_graph.hpp"
#include "io/scenario.hpp"

namespace strata {

struct PlanOptions {
  bool expand_ranks = false;  // one class per rank (executor, checks)
};

PartitionGraph build_partition_graph(const Scenario& scenario, const PlanOptions& options = {});

}  // namespace strata
