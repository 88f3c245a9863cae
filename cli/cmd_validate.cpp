// strata validate [FILE] [--out results.csv|.json] [--jobs N]: published runs vs predictions.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <future>
#include <thread>

#include "commands.hpp"
#include "io/atomic_file.hpp"
#include "io/scenario.hpp"
#include "validate/validation.hpp"

namespace strata::cli {

void add_validate(CLI::App& app) {
  auto* cmd = app.add_subcommand("validate", "Simulate published training runs and report the step-time error per row");
  static std::string file, out;
  static unsigned jobs = 0;
  static bool explain = false;
  cmd->add_option("file", file, "published_runs.json (default: ../shared/validation or scenarios/validation)");
  cmd->add_option("--out", out, "Write the results as .csv or .json");
  cmd->add_option("--jobs", jobs, "Parallel simulations (default: all cores)");
  cmd->add_flag("--explain", explain, "Print where the time goes for every row");
  cmd->callback([] {
    std::string path = file.empty() ? default_validation_file() : file;
    ValidationSummary vs = run_validation(path, jobs ? jobs : std::max(1u, std::thread::hardware_concurrency()));
    std::fputs(format_validation(vs, explain).c_str(), stdout);
    if (!out.empty()) {
      bool csv = out.size() >= 4 && out.substr(out.size() - 4) == ".csv";
      write_file_atomic(out, csv ? validation_csv(vs) : validation_json(vs).dump(2) + "\n");
      std::printf("written: %s\n", out.c_str());
    }
  });
}

}  // namespace strata::cli
