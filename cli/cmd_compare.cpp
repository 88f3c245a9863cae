// strata compare PREDICTED.json MEASURED.json [--report out.json] [--worst N]
// Per task kind, category and op, and for the whole step: predicted vs measured time, relative
// error, the worst tasks. Inputs are timelines (simulate/exec --trace); a bare report (--report)
// gives the whole-step comparison only.
#include <cstdio>

#include "commands.hpp"
#include "compare.hpp"
#include "io/atomic_file.hpp"
#include "io/input_error.hpp"
#include "report/timeline_json.hpp"

namespace strata::cli {

namespace {

// A timeline goes through the one-pass reader (no JSON tree: a million-event trace reads in
// well under a second); a file without "traceEvents" may be a report on its own.
Timeline load_for_compare(const std::string& path) {
  try {
    return read_timeline(path);
  } catch (const InputError& e) {
    // Only a file with no "traceEvents" at all may be a report; any other error is the trace's.
    if (e.path() != "traceEvents" || e.detail().rfind("missing", 0) != 0) throw;
    Json j = read_json_file(path);
    if (!(j.is_object() && j.contains("step_time_s"))) throw;
    Timeline t;  // a report on its own: whole step only
    t.source = j.value("source", std::string("report"));
    t.report = j;
    return t;
  }
}

}  // namespace

void add_compare(CLI::App& app) {
  auto* cmd = app.add_subcommand("compare", "Compare a predicted and a measured timeline");
  static std::string predicted, measured, report;
  static int worst = 10;
  cmd->add_option("predicted", predicted, "Predicted timeline (strata simulate --trace) or report")->required();
  cmd->add_option("measured", measured, "Measured timeline (strata exec --trace) or report")->required();
  cmd->add_option("--report", report, "Write the comparison (JSON) here");
  cmd->add_option("--worst", worst, "How many worst tasks to list")->check(CLI::Range(0, 100000));
  cmd->callback([] {
    Timeline p = load_for_compare(predicted);
    Timeline m = load_for_compare(measured);
    exec::CompareOptions o;
    o.worst = worst;
    exec::CompareResult r = exec::compare_timelines(p, m, o);
    std::fputs(r.to_text().c_str(), stdout);
    if (!report.empty()) write_file_atomic(report, r.to_json().dump(2) + "\n");
  });
}

}  // namespace strata::cli
