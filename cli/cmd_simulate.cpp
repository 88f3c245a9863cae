// strata simulate SCENARIO.json [--report R.json] [--trace T.json] [--set key=value ...]
#include <cstdio>

#include "commands.hpp"
#include "io/scenario.hpp"

namespace strata::cli {

void add_simulate(CLI::App& app) {
  auto* cmd = app.add_subcommand("simulate", "Plan and simulate one scenario; print a summary, write report and timeline");
  static std::string file, report, trace;
  static std::vector<std::string> sets;
  static bool full = false;
  cmd->add_option("scenario", file, "Scenario JSON file")->required();
  cmd->add_option("--report", report, "Write the report (JSON) here");
  cmd->add_option("--trace", trace, "Write the timeline (Chrome trace JSON, opens in Perfetto) here");
  cmd->add_option("--set", sets, "Override a scenario field by dotted path, e.g. strategy.tp=4");
  cmd->add_flag("--full", full, "Simulate every rank and every flow instead of one representative per rank class");
  cmd->callback([] {
    Scenario s = load_scenario(file, sets);
    double params = count_params(s.model).total();
    std::printf("scenario %s: %s on %lld x %s (not yet a simulation)\n", s.name.c_str(), s.model.name.c_str(),
                (long long)s.cluster.gpus(), s.cluster.gpu.name.c_str());
    std::printf("parameters %.3fB\n", params / 1e9);
  });
}

}  // namespace strata::cli
