#pragma once
// `strata compare`: predicted vs measured timelines of the same partition graph, aligned by
// (rank, task id) — or, where the prediction simulated one representative rank per class, by
// (rank class, task id). Per task kind, category and op name: summed times, relative error of
// the sums and mean absolute relative error per task; the whole step; the worst tasks. Tasks
// the executor could not measure (measured=false, e.g. communication on one GPU) are left out
// and counted.
#include <string>
#include <vector>

#include "io/json_reader.hpp"
#include "report/timeline.hpp"

namespace strata::exec {

struct CompareOptions {
  int worst = 10;  // how many worst tasks to list
};

struct CompareGroup {
  std::string key;
  std::size_t tasks = 0;
  double predicted_s = 0, measured_s = 0;  // sums over the matched tasks
  double rel_error = 0;                    // (predicted - measured) / measured of the sums
  double mean_abs_rel_error = 0;           // mean over tasks of |p - m| / m
};

struct CompareTask {
  int rank = 0, task = 0;
  std::string name, kind, category;
  double predicted_s = 0, measured_s = 0, rel_error = 0;
};

struct CompareResult {
  std::string predicted_source, measured_source;
  double predicted_step_s = 0, measured_step_s = 0, step_rel_error = 0;
  std::size_t matched = 0, predicted_only = 0, measured_only = 0, excluded_unmeasured = 0;
  std::size_t matched_by_class = 0;  // measured ranks aligned to a representative of their class
  CompareGroup total;                // every matched task
  std::vector<CompareGroup> by_kind, by_category, by_op;
  std::vector<CompareTask> worst;
  std::vector<std::string> notes;

  Json to_json() const;
  std::string to_text() const;
  const CompareGroup* kind(const std::string& k) const;
  const CompareGroup* op(const std::string& name) const;
};

// The task kind an event stands for (timelines carry stream and category, not the kind):
// compute, collective, send, recv or optimizer.
std::string event_kind(const TimelineEvent& e);

CompareResult compare_timelines(const Timeline& predicted, const Timeline& measured, const CompareOptions& options = {});

}  // namespace strata::exec
