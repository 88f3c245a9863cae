#pragma once
// One call from a scenario to a prediction: plan the partition graph, simulate it, and build
// the report and the timeline.
#include <memory>

#include "cluster/topology.hpp"
#include "engine/engine.hpp"
#include "graph/partition_graph.hpp"
#include "io/scenario.hpp"
#include "report/report.hpp"
#include "report/timeline.hpp"

namespace strata {

struct SimOptions {
  bool full = false;            // every rank and every flow, instead of one representative per class
  bool want_timeline = true;    // build the Timeline (sweeps turn it off)
};

struct SimStats {
  std::uint64_t events = 0;
  std::uint64_t flows = 0;
  int simulated_ranks = 0;
  double wall_s = 0;
};

struct SimResult {
  PartitionGraph graph;
  Report report;
  Timeline timeline;
  SimStats stats;
};

SimResult simulate(const Scenario& scenario, const SimOptions& options = {});

// What simulate() hands the engine: the planned graph, the topology (profile links applied),
// per-class compute durations and the engine configuration. Exposed so that benchmarks can time
// the engine alone (bench/bench_scenarios.cpp).
struct EngineInputs {
  PartitionGraph graph;
  std::unique_ptr<Topology> topo;
  std::vector<std::vector<double>> durations;
  EngineConfig config;
};
EngineInputs prepare_engine_inputs(const Scenario& scenario, const SimOptions& options = {});

}  // namespace strata
