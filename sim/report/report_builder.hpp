#pragma once
// Builds the report (CONTRACT §3) and the timeline (CONTRACT §4) from what the engine (or the
// executor) recorded: per simulated rank, the start and end of every task.
#include <vector>

#include "graph/partition_graph.hpp"
#include "report/report.hpp"
#include "report/timeline.hpp"

namespace strata {

struct Scenario;

struct RankRecord {
  int rank = 0;
  const ClassTasks* tasks = nullptr;
  const std::vector<double>* start = nullptr;
  const std::vector<double>* end = nullptr;
};

// Time accounting of one rank over [0, step]: compute busy, exposed comm per category and the
// pipeline bubble (neither compute nor any communication of this rank running).
struct RankAccounting {
  double step = 0;
  double compute_busy = 0;
  double bubble = 0;
  std::array<double, std::size_t(Category::count)> busy{};     // union of intervals per category
  std::array<double, std::size_t(Category::count)> exposed{};  // comm not under compute
};

RankAccounting account_rank(const RankRecord& r, double step);

Report build_report(const Scenario& s, const PartitionGraph& g, const std::vector<RankRecord>& ranks, double step);

Timeline build_timeline(const Scenario& s, const PartitionGraph& g, const std::vector<RankRecord>& ranks,
                        const Report& report, bool symmetric);

}  // namespace strata
