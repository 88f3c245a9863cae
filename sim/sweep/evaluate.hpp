#pragma once
// The evaluator `strata sweep` (and the GUI's strategy search) plugs into run_sweep: the memory
// verdict of the planned partition graph first, so that a strategy that does not fit is an "oom"
// row without being simulated (planning costs a few ms, simulating tens), then the simulator
// with one representative per rank class and no timeline.
#include "sweep/sweep.hpp"

namespace strata::sweep {

// The report's "memory" object (CONTRACT §3) from the plan alone: the same numbers the report
// carries, since both read the planner's per-class memory.
Json planned_memory(const Scenario& s);

// simulate_oom: simulate strategies that do not fit as well (their rows then carry throughput).
Evaluator simulator_evaluator(bool simulate_oom = false);

}  // namespace strata::sweep
