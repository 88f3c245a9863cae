// strata simulate SCENARIO.json [--report R.json] [--trace T.json] [--set key=value ...] [--full]
#include <cstdio>

#include "commands.hpp"
#include "engine/simulate.hpp"
#include "io/atomic_file.hpp"
#include "io/scenario.hpp"
#include "report/summary.hpp"
#include "report/timeline_json.hpp"

namespace strata::cli {

void add_simulate(CLI::App& app) {
  auto* cmd = app.add_subcommand("simulate", "Plan and simulate one scenario; print a summary, write report and timeline");
  static std::string file, report, trace;
  static std::vector<std::string> sets;
  static bool full = false;
  cmd->add_option("scenario", file, "Scenario JSON file")->required();
  cmd->add_option("--report", report, "Write the report (JSON) here");
  cmd->add_option("--trace", trace, "Write the timeline (Chrome trace JSON, opens in Perfetto) here");
  cmd->add_option("--set", sets, "Override a scenario field by dotted path, e.g. strategy.tp=4")->allow_extra_args(false);
  cmd->add_flag("--full", full, "Simulate every rank and every flow instead of one representative per rank class");
  cmd->callback([] {
    Scenario s = load_scenario(file, sets);
    SimOptions opt;
    opt.full = full;
    opt.want_timeline = !trace.empty();
    SimResult r = simulate(s, opt);
    std::fputs(format_summary(s, r.report).c_str(), stdout);
    if (!report.empty()) write_file_atomic(report, r.report.to_json().dump(2) + "\n");
    if (!trace.empty()) write_timeline(r.timeline, trace);
    std::printf("simulated %d rank(s) (%s), %llu events, %llu flows in %.2f s\n", r.stats.simulated_ranks,
                full ? "every rank" : "one per rank class", (unsigned long long)r.stats.events,
                (unsigned long long)r.stats.flows, r.stats.wall_s);
    if (!report.empty()) std::printf("report:   %s\n", report.c_str());
    if (!trace.empty()) std::printf("timeline: %s (open in https://ui.perfetto.dev)\n", trace.c_str());
  });
}

}  // namespace strata::cli
