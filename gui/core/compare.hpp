#pragma once
// Two timelines of one partition graph (predicted vs measured, or strategy A vs B) aligned by
// (rank, task id): per-task durations and differences, per-category sums over matched tasks,
// whole steps, and what only one side has. A rank missing on one side (a simulated timeline
// keeps one representative rank per class) is matched to the rank of its class there: task ids
// are per rank class (CONTRACT §4).
#include <array>
#include <cstdint>
#include <vector>

#include "core/palette.hpp"
#include "core/timeline_index.hpp"

namespace strata::gui {

struct TaskDiff {
  int rank = 0, task = 0;      // B's rank
  std::uint32_t a = 0, b = 0;  // event indices in A and B
  double a_s = 0, b_s = 0;
  double diff_s() const { return b_s - a_s; }
  double rel() const { return a_s > 0 ? (b_s - a_s) / a_s : 0; }  // relative to A
};

struct CategoryDiff {
  Category cat = Category::compute;
  std::size_t matched = 0;
  double a_s = 0, b_s = 0;   // over matched tasks
  double diff_s() const { return b_s - a_s; }
  double rel() const { return a_s > 0 ? (b_s - a_s) / a_s : 0; }
};

struct CompareResult {
  std::vector<TaskDiff> tasks;  // worst first: by |b - a| descending
  std::array<CategoryDiff, kCategories> by_category{};
  double a_step_s = 0, b_step_s = 0;
  std::size_t only_a = 0, only_b = 0;  // tasks present on one side only
  double mean_abs_rel = 0;             // mean |rel| over matched tasks with a_s > 0
};

CompareResult compare_timelines(const TimelineIndex& a, const TimelineIndex& b);

}  // namespace strata::gui
