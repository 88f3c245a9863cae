#pragma once
// The simulation engine: runs a partition graph on a modelled cluster.
//
// Streams execute their tasks in order (like CUDA streams); a task starts when its stream is
// free and its dependencies are done. Compute durations come precomputed per class (the cost
// model is rank-independent); communication runs as flows on the FlowNetwork (max-min fair),
// so congestion emerges from shared links.
//
// Symmetric mode (default) simulates one representative rank per class. The collectives of the
// representative's group instance run as real flows, and every link they cross carries, as a
// consumption weight, the number of flows that the instance's symmetric siblings (the same
// collective on the other groups of the same classes, running in lockstep) put on that link —
// so congestion between symmetric copies is kept while the cost grows with distinct work only.
// Full mode (`--full`) simulates every rank and every flow.
#include <cstdint>
#include <vector>

#include "cluster/topology.hpp"
#include "graph/partition_graph.hpp"

namespace strata {

struct EngineConfig {
  bool full = false;
  double overlap_slowdown = 0.0;  // compute slowdown while comm runs on the same GPU
};

struct EngineResult {
  std::vector<int> sim_ranks;                 // global ranks simulated
  std::vector<std::vector<double>> start, end;  // per simulated rank, per task of its class
  std::vector<std::vector<std::uint8_t>> slowed;// compute task overlapped comm at start
  double makespan = 0;
  std::uint64_t events = 0;
  std::uint64_t flows = 0;
};

// durations[c][t]: duration of compute/optimizer/memcpy task t of class c (ignored for comm).
EngineResult run_engine(const PartitionGraph& graph, const Topology& topo,
                        const std::vector<std::vector<double>>& durations, const EngineConfig& config);

}  // namespace strata
