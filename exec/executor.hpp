#pragma once
// The executor: runs a partition graph on a backend and records a measured timeline with the
// same schema and the same task ids as the simulated one (CONTRACT §4, source "measured").
//
// Per rank: every graph stream becomes a backend stream; tasks are issued in id order (the
// graph's dependencies point to earlier ids); a dependency on another stream becomes a
// wait on the event recorded at the end of that task; every task is bracketed by two events,
// so every task is timed individually. The ranks of one world run at once (cpu: threads;
// cuda: a thread per GPU) or, with fewer GPUs than ranks, one representative rank per class
// after another, with its communication marked measured=false.
#include <string>
#include <vector>

#include "backend.hpp"
#include "report/timeline.hpp"

namespace strata {
struct Scenario;
}

namespace strata::exec {

struct ExecOptions {
  std::string backend = "cpu";
  double scale = 0;                    // work factor in (0, 1]; 0 = automatic (ops.hpp)
  double cpu_gflop_budget = 20;        // automatic cpu scale: most GFLOP one rank may run per step
  double cpu_memory_budget_bytes = 2.0 * 1024 * 1024 * 1024;  // automatic cpu scale: all workspaces
  int warmup = -1;                     // un-timed steps first; -1 = backend default (cpu 0, cuda 1)
  double timeout_s = 300;
  bool check_collectives = false;      // cpu: verify the data of every collective and message
  bool representative = false;         // cuda: one representative rank per class even with enough GPUs
  bool progress = false;               // a line per finished step on stderr
  std::vector<int> representatives;    // see WorldOptions::representatives
  ProcessGroup* processes = nullptr;   // see WorldOptions::processes (mpirun)
};

struct RankTiming {
  int rank = 0;
  std::vector<double> start_s, end_s;  // per task id, on the run's clock (0 = first start)
  double workspace_bytes = 0;
};

struct ExecResult {
  Timeline timeline;                   // source "measured", report left null (see measured_report)
  std::vector<RankTiming> ranks;
  Json info;                           // backend, device, mode, scale, notes, statistics
  double scale = 1;
  double step_time_s = 0;              // last end - first start of the measured step
  double wall_s = 0;                   // whole run including set-up and warm-up
  std::size_t tasks = 0, unmeasured = 0;
  bool representative = false;         // one rank per class: no real step time
};

// Picks the work factor (ops.hpp): options.scale when set, else 1 for cuda and, for cpu, the
// largest factor that keeps the busiest rank under the GFLOP budget and all workspaces under
// the memory budget.
double choose_scale(const PartitionGraph& g, const World& world, const ExecOptions& o);

ExecResult execute(const PartitionGraph& g, const ExecOptions& options);

// mpirun: what one process measured (its rank), as text to gather, and the whole run from every
// process's part (ranks, events and timings joined, step = the latest end; the parts share
// their time origin, see World::earliest_over_processes).
std::string process_result_to_string(const ExecResult& r);
ExecResult process_result_from_string(const std::string& s);
ExecResult merge_process_results(std::vector<ExecResult> parts);
ExecResult execute(const PartitionGraph& g, World& world, const ExecOptions& options);

// True when every rank has the same tasks (kind, stream, name, deps) under the same ids in both
// graphs, e.g. the planner's expanded graph and its class-shared one.
bool same_task_ids(const PartitionGraph& a, const PartitionGraph& b);

// The report of CONTRACT §3 computed from the measured timeline (plus an "exec" block with
// what was run and how). `scenario` may be null (hand-built graphs).
Json measured_report(const ExecResult& r, const PartitionGraph& g, const Scenario* scenario);

}  // namespace strata::exec
