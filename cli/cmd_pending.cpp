// Subcommands whose implementation lands with later issues. Each says so and exits 1.
#include <stdexcept>

#include "commands.hpp"

namespace strata::cli {

[[maybe_unused]] static void pending(CLI::App& app, const char* name, const char* what) {
  auto* cmd = app.add_subcommand(name, what);
  cmd->allow_extras();
  cmd->callback([name] { throw std::runtime_error(std::string("`strata ") + name + "` is not implemented yet"); });
}


}  // namespace strata::cli
