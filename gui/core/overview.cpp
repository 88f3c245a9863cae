#include "core/overview.hpp"

#include <algorithm>
#include <cmath>

namespace strata::gui {
namespace {

void spread(OverviewBins& o, int slot, double s, double e) {
  const double w = o.bin_s();
  const long nb = long(o.bins.size());
  if (!(e > s) || w <= 0) return;
  long b0 = std::clamp(long(std::floor((s - o.t0) / w)), 0L, nb - 1);
  long b1 = std::clamp(long(std::floor((e - o.t0) / w)), 0L, nb - 1);
  for (long b = b0; b <= b1; ++b) {
    double lo = std::max(s, o.t0 + double(b) * w), hi = std::min(e, o.t0 + double(b + 1) * w);
    if (hi > lo) o.bins[std::size_t(b)][std::size_t(slot)] += float(hi - lo);
  }
}

}  // namespace

OverviewBins compute_overview(const TimelineIndex& idx, int bins) {
  OverviewBins o;
  o.t0 = idx.t_begin;
  o.t1 = idx.t_end;
  o.bins.assign(std::size_t(std::max(1, bins)), {});
  for (const auto& e : idx.timeline().events) spread(o, int(e.category), e.start_s, e.start_s + e.dur_s);
  for (const auto& g : idx.gpus())
    for (const auto& iv : g.idle) spread(o, kCategories, iv.t0, iv.t1);
  return o;
}

}  // namespace strata::gui
