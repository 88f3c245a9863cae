#pragma once
// `strata calibrate`: runs the micro-benchmarks of a backend over GEMM grids (and the planner's
// own shapes), attention sizes, memory copies, launch overhead, collectives and messages by size
// and rank count (algbw/busbw with nccl-tests' definitions), then fits a HardwareProfile.
#include <string>
#include <vector>

#include "bench.hpp"
#include "profile.hpp"

namespace strata::exec {

struct CalibrateOptions {
  bool quick = false;                 // small grids: tests and smoke runs (seconds)
  bool progress = true;               // progress bar on stderr
  std::vector<GemmShape> shapes;      // exact shapes to measure too (the planner's, --scenario)
  std::vector<AttnPoint> attention_shapes;  // exact attention tasks (shape + claimed FLOPs), --scenario
  std::vector<double> elementwise_bytes, optimizer_bytes;  // exact memory-bound task sizes, --scenario
  int max_ranks = 0;                  // 0: what the backend has
  int concurrency = 1;                // ranks computing at once on one device (cpu: the scenario's ranks)
  double max_coll_bytes = 0;          // 0: cuda 1 GiB, cpu 64 MiB (quick: 1 MiB)
};

// The grids calibrate sweeps (exposed for tests and PROFILE.md).
std::vector<double> gemm_axis(const std::string& backend, bool quick);

HardwareProfile calibrate(MicroBench& bench, const CalibrateOptions& options);

// Distinct GEMM shapes of a graph (all classes), for CalibrateOptions::shapes.
std::vector<GemmShape> graph_gemm_shapes(const PartitionGraph& g);
// Distinct attention tasks of a graph (shape and the FLOPs the graph claims), for
// CalibrateOptions::attention_shapes.
std::vector<AttnPoint> graph_attention_shapes(const PartitionGraph& g);
// Distinct byte counts of a graph's memory-bound tasks (as exec/ops.cpp classifies them):
// element-wise/norm kernels, or the optimizer step when `optimizer`.
std::vector<double> graph_memory_bytes(const PartitionGraph& g, bool optimizer);

}  // namespace strata::exec
