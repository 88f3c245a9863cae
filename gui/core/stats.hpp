#pragma once
// Where the time goes: per category and per op (event name), busy time summed over ranks, the
// part of communication not hidden behind compute on the same rank ("exposed"), and the share of
// the step (busy / (step time x ranks)). Idle time of the compute stream is its own row.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/palette.hpp"
#include "core/timeline_index.hpp"

namespace strata::gui {

struct CategoryStat {
  Category cat = Category::compute;
  std::size_t count = 0;
  double total_s = 0;
  double exposed_s = 0;
  double share = 0;  // of step time x ranks
};

struct OpStat {
  std::uint32_t name = 0;
  Category cat = Category::compute;
  std::size_t count = 0;
  double total_s = 0, max_s = 0, exposed_s = 0, share = 0;
  double flops = 0, bytes = 0;
  double mean_s() const { return count ? total_s / double(count) : 0; }
};

struct TimelineStats {
  double step_s = 0;
  int ranks = 0;
  std::array<CategoryStat, kCategories> by_category{};
  double idle_s = 0, idle_share = 0;  // compute-stream gaps no event covers
  std::vector<OpStat> ops;            // by total time, largest first
};

TimelineStats compute_stats(const TimelineIndex& idx);

}  // namespace strata::gui
