// Engine speed: events per second on a synthetic graph (issue 4: >= 10 M/s; issue 9: >= 20 M/s),
// and whole-scenario simulations of the shipped scenarios.
#include <benchmark/benchmark.h>

#include "cluster/topology.hpp"
#include "engine/engine.hpp"
#include "engine/simulate.hpp"
#include "io/scenario.hpp"

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

Scenario load(const char* rel) { return load_scenario(std::string(STRATA_SOURCE_ROOT) + "/" + rel); }

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

static void BM_Simulate(benchmark::State& state, const char* file, bool full) {
  Scenario s = load(file);
  SimOptions opt;
  opt.full = full;
  opt.want_timeline = false;
  SimStats st;
  for (auto _ : state) {
    SimResult r = simulate(s, opt);
    st = r.stats;
    benchmark::DoNotOptimize(r.report.step_time_s);
  }
  state.counters["events"] = double(st.events);
  state.counters["flows"] = double(st.flows);
  state.counters["sim_ranks"] = st.simulated_ranks;
}
BENCHMARK_CAPTURE(BM_Simulate, default_scenario, "scenarios/default.json", false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Simulate, seed_1t_8192_gpus, "scenarios/seed-1t-3d.json", false)->Unit(benchmark::kMillisecond)->Iterations(1);
