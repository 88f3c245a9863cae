// Subcommands whose implementation lands with later issues. Each says so and exits 1.
#include <stdexcept>

#include "commands.hpp"

namespace strata::cli {

static void pending(CLI::App& app, const char* name, const char* what) {
  auto* cmd = app.add_subcommand(name, what);
  cmd->allow_extras();
  cmd->callback([name] { throw std::runtime_error(std::string("`strata ") + name + "` is not implemented yet"); });
}

void add_sweep(CLI::App& app) { pending(app, "sweep", "Batch: simulate every scenario and every strategy of its search block"); }
void add_graph(CLI::App& app) { pending(app, "graph", "Write the partition graph"); }
void add_exec(CLI::App& app) { pending(app, "exec", "Run the partition graph for real and record a measured timeline"); }
void add_calibrate(CLI::App& app) { pending(app, "calibrate", "Run micro-benchmarks and fit a hardware profile"); }
void add_compare(CLI::App& app) { pending(app, "compare", "Compare a predicted and a measured timeline"); }
void add_validate(CLI::App& app) { pending(app, "validate", "Simulate published runs and report the prediction error"); }

}  // namespace strata::cli
