// strata graph SCENARIO.json --out G.json [--set key=value ...] [--expand]
#include <cstdio>

#include "commands.hpp"
#include "graph/graph_json.hpp"
#include "io/atomic_file.hpp"
#include "io/scenario.hpp"
#include "plan/memory.hpp"
#include "plan/planner.hpp"

namespace strata::cli {

void add_graph(CLI::App& app) {
  auto* cmd = app.add_subcommand("graph", "Write the partition graph (the exact graph the simulator and the executor consume)");
  static std::string file, out;
  static std::vector<std::string> sets;
  static bool expand = false;
  cmd->add_option("scenario", file, "Scenario JSON file")->required();
  cmd->add_option("--out", out, "Write the graph (JSON, format in sim/graph/FORMAT.md) here")->required();
  cmd->add_option("--set", sets, "Override a scenario field by dotted path, e.g. strategy.tp=4")->allow_extra_args(false);
  cmd->add_flag("--expand", expand, "One task list per rank instead of one per rank class");
  cmd->callback([] {
    Scenario s = load_scenario(file, sets);
    PlanOptions opt;
    opt.expand_ranks = expand;
    PartitionGraph g = build_partition_graph(s, opt);
    GraphJsonInfo info;
    info.scenario = s.name;
    info.gpu_capacity_bytes = s.cluster.gpu.hbm_bytes;
    write_file_atomic(out, graph_to_json(g, info));
    MemoryVerdict v = memory_verdict(g, s.cluster.gpu.hbm_bytes);
    std::printf("graph %s: %d ranks, %zu classes, %zu tasks -> %s\n", s.name.c_str(), g.layout.world(), g.classes.size(),
                g.total_tasks(), out.c_str());
    std::printf("memory %s\n", v.summary.c_str());
  });
}

}  // namespace strata::cli
