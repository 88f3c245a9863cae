#pragma once
// Level of detail for one lane of a track (Tracy's fold, TracyTimelineItemThread.cpp): events
// narrower than `min_px` pixels, separated by gaps narrower than `min_px`, are merged into one
// draw item that carries the count, the dominant category and whether any of them is exposed
// communication. The walk jumps with binary searches, so its cost grows with the pixels on
// screen, not with the events in view: a million events at full zoom-out cost a few hundred
// items per lane.
#include <cstdint>
#include <vector>

namespace strata::gui {

// One lane: events of one stream of one rank that do not overlap one another (overlapping
// events go to further lanes), sorted by start. `reach` is the running maximum of `end`, so that
// binary searches stay valid in the last lane, which takes whatever overflows.
struct Lane {
  std::vector<std::uint32_t> ev;   // timeline event index
  std::vector<double> start, end, reach;
  std::vector<std::uint8_t> cat;   // Category
  std::vector<std::uint32_t> exposed_before;  // prefix count of exposed events, size n + 1
  std::vector<double> busy_before;            // prefix sum of durations, size n + 1
  bool mixed = false;              // more than one category in the lane
  std::uint8_t cat0 = 0;

  std::size_t size() const { return ev.size(); }
  void push(std::uint32_t e, double s, double t, std::uint8_t c, bool exposed);
  void reserve(std::size_t n);
  void finish();  // after the last push
};

struct DrawItem {
  double t0 = 0, t1 = 0;
  std::uint32_t first = 0;  // index into the lane
  std::uint32_t count = 0;  // 1: the single lane entry `first`; > 1: a folded run
  std::uint8_t cat = 0;
  bool exposed = false;     // at least one exposed event inside
  float occupancy = 1;      // busy share of [t0, t1] (folded runs draw lighter when sparse)
};

struct LodParams {
  double v0 = 0, v1 = 0;  // visible time range
  double spp = 1;         // seconds per pixel
  double min_px = 2;      // fold events and gaps narrower than this
};

// Appends the items that cover [v0, v1] to `out` (which is not cleared).
void build_draw_list(const Lane& lane, const LodParams& p, std::vector<DrawItem>& out);

}  // namespace strata::gui
