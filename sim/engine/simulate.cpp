#include "engine/simulate.hpp"

#include <chrono>

#include "cluster/topology.hpp"
#include "cost/compute_cost.hpp"
#include "cost/profile_loader.hpp"
#include "engine/engine.hpp"
#include "plan/planner.hpp"
#include "report/report_builder.hpp"

namespace strata {

EngineInputs prepare_engine_inputs(const Scenario& scenario, const SimOptions& options) {
  EngineInputs in;
  in.graph = build_partition_graph(scenario, PlanOptions{});
  const PartitionGraph& g = in.graph;
  // A fitted profile replaces the datasheet figures: compute tables and the measured link.
  ClusterSpec cluster = scenario.cluster;
  std::shared_ptr<const EfficiencyTable> tables;
  if (!scenario.profile_path.empty()) {
    HardwareProfile profile = read_profile(scenario.profile_path);
    tables = efficiency_from_profile(profile, cluster.gpu, scenario.compute_dtype());
    apply_profile_links(profile, cluster);
  }
  in.topo = std::make_unique<Topology>(cluster);
  ComputeCostModel cost(cluster.gpu, ComputeConstants{}, tables);
  // Compute durations are rank-independent: one vector per class.
  in.durations.resize(g.classes.size());
  for (std::size_t c = 0; c < g.classes.size(); ++c) {
    const ClassTasks& ct = g.classes[c];
    in.durations[c].assign(ct.size(), 0.0);
    for (std::uint32_t t = 0; t < ct.size(); ++t)
      if (ct.kind[t] == TaskKind::compute || ct.kind[t] == TaskKind::optimizer || ct.kind[t] == TaskKind::memcpy)
        in.durations[c][t] = cost.task_time(ct, t);
  }
  in.config.full = options.full;
  in.config.overlap_slowdown = cost.overlap_slowdown();
  return in;
}

SimResult simulate(const Scenario& scenario, const SimOptions& options) {
  auto t0 = std::chrono::steady_clock::now();
  SimResult out;
  EngineInputs in = prepare_engine_inputs(scenario, options);
  out.graph = std::move(in.graph);
  const PartitionGraph& g = out.graph;
  EngineResult er = run_engine(g, *in.topo, in.durations, in.config);
  std::vector<RankRecord> records;
  for (std::size_t i = 0; i < er.sim_ranks.size(); ++i)
    records.push_back({er.sim_ranks[i], &g.tasks_of_rank(er.sim_ranks[i]), &er.start[i], &er.end[i]});
  out.report = build_report(scenario, g, records, er.makespan);
  out.stats.events = er.events;
  out.stats.flows = er.flows;
  out.stats.simulated_ranks = int(er.sim_ranks.size());
  out.stats.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out.report.extra["simulation"] = {{"mode", options.full ? "full" : "symmetric"},
                                    {"simulated_ranks", out.stats.simulated_ranks},
                                    {"events", out.stats.events},
                                    {"flows", out.stats.flows},
                                    {"tasks", g.total_tasks()}};
  if (options.want_timeline) out.timeline = build_timeline(scenario, g, records, out.report, !options.full);
  return out;
}

}  // namespace strata
