// strata: predict how a large model runs when split across many GPUs, then check it for real.
#include <cstdio>
#include <exception>
#include <iostream>

#include "commands.hpp"
#include "io/input_error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Strata: simulate distributed training and inference of large models, then check on real hardware"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "strata 0.1.0");
  strata::cli::add_simulate(app);
  strata::cli::add_sweep(app);
  strata::cli::add_graph(app);
  strata::cli::add_exec(app);
  strata::cli::add_calibrate(app);
  strata::cli::add_compare(app);
  strata::cli::add_validate(app);
  strata::cli::add_info_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;  // usage errors are bad input
  } catch (const strata::InputError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
