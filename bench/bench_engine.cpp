// Engine speed: events per second on a synthetic graph (issue 4: >= 10 M/s; issue 9: >= 20 M/s).
// The whole run_engine() is timed: indexing the graph, the per-task arrays, the events and the
// result. Whole-scenario simulations are in bench_scenarios.cpp.
//   build-perf/bench/strata_bench --benchmark_filter=EngineEvents
#include <benchmark/benchmark.h>

#include "cluster/topology.hpp"
#include "engine/engine.hpp"

using namespace strata;

namespace {

// One rank, `n` compute tasks alternating over the compute and optimizer-less streams, each
// depending on the previous two: a dependency-heavy chain, no communication.
PartitionGraph synthetic_graph(std::uint32_t n) {
  PartitionGraph g;
  g.layout = Layout(1, 1, 1, 1, 1, "tp-cp-dp-pp", 1);
  g.names = {"op"};
  ClassTasks c;
  for (std::uint32_t t = 0; t < n; ++t) {
    c.kind.push_back(TaskKind::compute);
    c.stream.push_back(t % 3 == 2 ? Stream::dp : Stream::compute);
    c.category.push_back(Category::compute);
    c.phase.push_back(Phase::forward);
    c.op.push_back(OpKind::elementwise);
    c.name.push_back(0);
    c.layer.push_back(0);
    c.microbatch.push_back(0);
    c.chunk.push_back(0);
    c.flops.push_back(0);
    c.bytes.push_back(0);
    c.mem_delta.push_back(0);
    c.detail.push_back(-1);
    if (t >= 1) c.deps.push_back(t - 1);
    if (t >= 2) c.deps.push_back(t - 2);
    c.dep_begin.push_back(std::uint32_t(c.deps.size()));
  }
  g.classes.push_back(std::move(c));
  g.rank_class = {0};
  g.class_rep = {0};
  g.class_stage = {0};
  return g;
}

}  // namespace

static void BM_EngineEventsSynthetic(benchmark::State& state) {
  const std::uint32_t n = std::uint32_t(state.range(0));
  PartitionGraph g = synthetic_graph(n);
  ClusterSpec cs;
  cs.gpus_per_node = 1;
  cs.nodes = 1;
  cs.nic.per_node = 1;
  Topology topo(cs);
  std::vector<std::vector<double>> d(1, std::vector<double>(n, 1e-6));
  std::uint64_t events = 0;
  for (auto _ : state) {
    EngineResult r = run_engine(g, topo, d, EngineConfig{});
    events += r.events;
    benchmark::DoNotOptimize(r.makespan);
  }
  state.counters["events/s"] = benchmark::Counter(double(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EngineEventsSynthetic)->Arg(1 << 20)->Unit(benchmark::kMillisecond);
