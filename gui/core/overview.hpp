#pragma once
// The overview strip's data: the whole step cut into bins, with the busy time of each category
// summed over ranks per bin (plus idle time of the compute streams). Computed once per timeline.
#include <array>
#include <vector>

#include "core/palette.hpp"
#include "core/timeline_index.hpp"

namespace strata::gui {

struct OverviewBins {
  double t0 = 0, t1 = 0;
  std::vector<std::array<float, kCategories + 1>> bins;  // [category..., idle] seconds
  double bin_s() const { return bins.empty() ? 0 : (t1 - t0) / double(bins.size()); }
};

OverviewBins compute_overview(const TimelineIndex& idx, int bins = 1024);

}  // namespace strata::gui
