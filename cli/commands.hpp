#pragma once
// Each subcommand registers itself on the CLI11 app and returns nothing; the callback runs the
// command. Errors: strata::InputError -> exit 2, anything else -> exit 1 (main.cpp).
#include <CLI/CLI.hpp>

namespace strata::cli {

void add_info_commands(CLI::App& app);  // presets, topologies, gpus
void add_simulate(CLI::App& app);
void add_graph(CLI::App& app);
void add_sweep(CLI::App& app);
void add_exec(CLI::App& app);
void add_calibrate(CLI::App& app);
void add_compare(CLI::App& app);
void add_validate(CLI::App& app);

}  // namespace strata::cli
