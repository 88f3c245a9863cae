#pragma once
// Running a scenario from the GUI: simulate() when the engine is part of the build (checked by
// gui/CMakeLists.txt), else a clear error. Called on worker threads; no Qt widgets here.
#include <memory>
#include <string>

#include "core/timeline_index.hpp"
#include "io/scenario.hpp"

namespace strata::gui {

bool simulation_available();

// The figures the explorer's table shows, from a report (CONTRACT §3).
struct StrategyMetrics {
  bool simulated = false;
  double step_s = 0, tokens_per_s = 0, mfu = 0, bubble = 0, exposed_comm_s = 0;
  double memory_bytes = 0, capacity_bytes = 0;
  bool fits = true;
  std::string error;
};

struct SimOutcome {
  StrategyMetrics metrics;
  std::shared_ptr<TimelineIndex> index;  // null unless a timeline was asked for
  double wall_s = 0;
};

// Throws InputError for a bad scenario and std::runtime_error when the engine is missing.
SimOutcome run_simulation(const Scenario& s, bool want_timeline);
StrategyMetrics metrics_from_report_json(const Json& report);

}  // namespace strata::gui
