#pragma once
// A timeline ready for the views: the index plus what is derived from it once (statistics and
// the overview), all computed on a worker thread.
#include <memory>

#include "core/overview.hpp"
#include "core/stats.hpp"
#include "core/timeline_index.hpp"

namespace strata::gui {

struct TimelineBundle {
  std::shared_ptr<const TimelineIndex> index;
  std::shared_ptr<const TimelineStats> stats;
  std::shared_ptr<const OverviewBins> overview;
  explicit operator bool() const { return bool(index); }
};

inline TimelineBundle make_bundle(std::shared_ptr<const TimelineIndex> idx) {
  TimelineBundle b;
  if (!idx) return b;
  b.stats = std::make_shared<const TimelineStats>(compute_stats(*idx));
  b.overview = std::make_shared<const OverviewBins>(compute_overview(*idx));
  b.index = std::move(idx);
  return b;
}

}  // namespace strata::gui
