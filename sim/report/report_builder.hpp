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

// Fills bubble_fraction and busy_s from the busiest rank (most compute) and the exposed
// communication per kind as the worst over ranks; returns the busiest rank (null if none).
const RankRecord* fill_time_accounting(Report& rep, const std::vector<RankRecord>& ranks, double step);
// Fills the memory fields from the worst rank class of the graph.
void fill_memory(Report& rep, const PartitionGraph& g);

Report build_report(const Scenario& s, const PartitionGraph& g, const std::vector<RankRecord>& ranks, double step);

Timeline build_timeline(const Scenario& s, const PartitionGraph& g, const std::vector<RankRecord>& ranks,
                        const Report& report, bool symmetric);

}  // namespace strata
