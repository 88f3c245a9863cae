// Network benchmarks: topology build, routing, FlowNetwork start/finish throughput, collectives.
//   build-perf/bench/strata_bench --benchmark_filter='Topology|Route|MaxMin|Collective'
// FlowNetwork "updates" are flow starts plus flow completions; items_per_second reports them.
#include <benchmark/benchmark.h>

#include <random>

#include "cluster/topology.hpp"
#include "network/collective.hpp"
#include "network/flow_network.hpp"

namespace {

using namespace strata;

ClusterSpec dgx_h100(int nodes, FabricKind kind = FabricKind::rail_optimized, double over = 1.0) {
  ClusterSpec c;
  c.name = "dgx-h100";
  c.gpus_per_node = 8;
  c.nodes = nodes;
  c.intra = {IntraKind::nvswitch, 450, 0.7, true};
  c.nic = {8, 50, 2.0};
  c.fabric = {kind, kind == FabricKind::fat_tree ? 3 : 2, over, 64, 1.0};
  c.pcie_GBps = 64;
  return c;
}

void BM_TopologyBuild(benchmark::State& state) {
  const auto kind = FabricKind(state.range(1));
  const ClusterSpec c = dgx_h100(int(state.range(0) / 8), kind);
  for (auto _ : state) {
    Topology t(c);
    benchmark::DoNotOptimize(t.link_count());
  }
  state.SetLabel(std::string(fabric_kind_name(kind)) + ", " + std::to_string(state.range(0)) + " GPUs");
}
BENCHMARK(BM_TopologyBuild)
    ->Args({100000, int(FabricKind::rail_optimized)})
    ->Args({100000, int(FabricKind::fat_tree)})
    ->Unit(benchmark::kMillisecond);

void BM_Route(benchmark::State& state) {
  const Topology t(dgx_h100(12500, FabricKind::fat_tree));
  std::mt19937 rng(1);
  std::vector<LinkId> path;
  for (auto _ : state) {
    t.route(int(rng() % 100000), int(rng() % 100000), rng(), path);
    benchmark::DoNotOptimize(path.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Route);

// Max-min solver updates per second with N active flows. Each iteration advances to the next
// completion and starts one new flow per finished one, so N stays constant; an "update" is a
// flow start or a completion (items_per_second). The patterns:
//  - Local: pairs of GPUs inside one node of a 100,352-GPU rail-optimized cluster (12,544 DGX
//    H100 nodes). Flows contend only with the flows of their own node (NVLink), the way TP and
//    intra-node EP traffic does: the coupled components stay small whatever N is.
//  - Sparse: random GPU pairs over the same cluster. Sparse at 10^3-10^4 flows; from ~10^5 (one
//    flow per GPU) the shared NICs and fabric links glue most flows into one component.
//  - Dense: random pairs on a 1,024-GPU 2:1 oversubscribed fat-tree: every flow contends with
//    every other (one component); the cost per update grows with N.
// Setting up N flows (and the first solve of all of them) is not timed. Counters: flows re-solved
// per update (the work of the incremental solver), active flows.
enum class Pattern { local, sparse, dense };

void churn(benchmark::State& state, Pattern pattern) {
  const int flows = int(state.range(0));
  const Topology topo(pattern == Pattern::dense ? dgx_h100(128, FabricKind::fat_tree, 2.0) : dgx_h100(12544));
  const int gpus = topo.gpus(), gpn = topo.gpus_per_node();
  FlowNetwork net(topo.capacities());
  std::mt19937_64 rng(12345);
  std::vector<LinkId> path;
  std::vector<FlowId> finished;
  auto start_one = [&](double now) {
    int s = int(rng() % std::uint64_t(gpus)), d;
    if (pattern == Pattern::local) d = (s / gpn) * gpn + int((std::uint64_t(s % gpn) + 1 + rng() % std::uint64_t(gpn - 1)) % std::uint64_t(gpn));
    else d = int(rng() % std::uint64_t(gpus));
    if (d == s) d = (d + 1) % gpus;
    topo.route(s, d, rng(), path);
    net.start(path, {}, double(1 + rng() % 1000) * 1e6, now);
  };
  for (int i = 0; i < flows; ++i) start_one(0.0);
  net.next_completion();  // the first solve of all N flows: setup, not timed
  std::uint64_t updates = 0;
  const auto solved0 = net.rates_computed();
  for (auto _ : state) {
    const double t = net.next_completion();
    net.advance(t, finished);
    for (std::size_t i = 0; i < finished.size(); ++i) start_one(t);
    updates += 2 * finished.size();
  }
  state.SetItemsProcessed(std::int64_t(updates));
  state.counters["flows_resolved_per_update"] =
      double(net.rates_computed() - solved0) / double(std::max<std::uint64_t>(1, updates));
  state.counters["active"] = double(net.active());
}

void BM_MaxMinLocal(benchmark::State& state) { churn(state, Pattern::local); }
void BM_MaxMinSparse(benchmark::State& state) { churn(state, Pattern::sparse); }
void BM_MaxMinDense(benchmark::State& state) { churn(state, Pattern::dense); }
// Fixed iteration counts: a run does its (untimed) setup once, and the slow contended cases stay
// within seconds.
BENCHMARK(BM_MaxMinLocal)->Arg(1000)->Arg(10000)->Arg(100000)->Arg(1000000)->Iterations(20000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MaxMinSparse)->Arg(1000)->Arg(10000)->Iterations(20000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MaxMinSparse)->Arg(100000)->Arg(1000000)->Iterations(20)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MaxMinDense)->Arg(1000)->Iterations(2000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MaxMinDense)->Arg(10000)->Arg(100000)->Iterations(20)->Unit(benchmark::kMicrosecond);

// A whole collective through the flow network: plan + route + simulate.
void BM_CollectiveAllToAll(benchmark::State& state) {
  const int n = int(state.range(0));
  const Topology topo(dgx_h100(n / 8, FabricKind::fat_tree, 2.0));
  std::vector<int> members(std::size_t(n), 0);
  for (int i = 0; i < n; ++i) members[std::size_t(i)] = i;
  std::int64_t flows = 0;
  for (auto _ : state) {
    const CollectivePlan plan = plan_collective(CollKind::all_to_all, members, 1e9, CollAlgo::automatic, topo);
    benchmark::DoNotOptimize(simulate_collectives(std::span<const CollectivePlan>(&plan, 1), topo));
    flows += std::int64_t(plan.phases[0].flows.size());
  }
  state.SetItemsProcessed(2 * flows);  // one start and one completion per flow
}
BENCHMARK(BM_CollectiveAllToAll)->Arg(64)->Arg(256)->Unit(benchmark::kMillisecond);

void BM_PlanAllReduceAuto(benchmark::State& state) {
  const int n = int(state.range(0));
  const Topology topo(dgx_h100(n));
  std::vector<int> members(std::size_t(n), 0);
  for (int i = 0; i < n; ++i) members[std::size_t(i)] = i * 8;  // one GPU per node (a DP group)
  for (auto _ : state)
    benchmark::DoNotOptimize(plan_collective(CollKind::all_reduce, members, 1e8, CollAlgo::automatic, topo));
}
BENCHMARK(BM_PlanAllReduceAuto)->Arg(64)->Arg(1024)->Unit(benchmark::kMicrosecond);

}  // namespace
