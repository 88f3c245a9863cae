#include "core/lod.hpp"

#include <algorithm>
#include <array>

namespace strata::gui {

void Lane::push(std::uint32_t e, double s, double t, std::uint8_t c, bool exposed) {
  if (ev.empty()) {
    exposed_before.assign(1, 0);
    busy_before.assign(1, 0.0);
    cat0 = c;
  }
  ev.push_back(e);
  start.push_back(s);
  end.push_back(t);
  reach.push_back(reach.empty() ? t : std::max(reach.back(), t));
  cat.push_back(c);
  exposed_before.push_back(exposed_before.back() + (exposed ? 1u : 0u));
  busy_before.push_back(busy_before.back() + (t - s));
  if (c != cat0) mixed = true;
}

void Lane::reserve(std::size_t n) {
  ev.reserve(n);
  start.reserve(n);
  end.reserve(n);
  reach.reserve(n);
  cat.reserve(n);
  exposed_before.reserve(n + 1);
  busy_before.reserve(n + 1);
}

void Lane::finish() {
  if (exposed_before.empty()) exposed_before.assign(1, 0);
  if (busy_before.empty()) busy_before.assign(1, 0.0);
  ev.shrink_to_fit();
  start.shrink_to_fit();
  end.shrink_to_fit();
  reach.shrink_to_fit();
  cat.shrink_to_fit();
  exposed_before.shrink_to_fit();
  busy_before.shrink_to_fit();
}

namespace {

// The category that covers most time in [a, b): exact for short runs, sampled for long ones so
// that the cost per item stays bounded.
std::uint8_t dominant_category(const Lane& l, std::size_t a, std::size_t b) {
  if (!l.mixed) return l.cat0;
  std::array<double, 16> time{};
  std::size_t n = b - a;
  std::size_t samples = std::min<std::size_t>(n, 32);
  for (std::size_t k = 0; k < samples; ++k) {
    std::size_t i = a + k * n / samples;
    time[l.cat[i] & 15] += l.end[i] - l.start[i] + 1e-30;
  }
  return std::uint8_t(std::max_element(time.begin(), time.end()) - time.begin());
}

}  // namespace

void build_draw_list(const Lane& l, const LodParams& p, std::vector<DrawItem>& out) {
  const std::size_t n = l.size();
  if (n == 0 || !(p.v1 > p.v0) || !(p.spp > 0)) return;
  const double tol = p.min_px * p.spp;
  // First event that reaches into the view.
  std::size_t i = std::size_t(std::upper_bound(l.reach.begin(), l.reach.end(), p.v0) - l.reach.begin());
  while (i < n && l.start[i] <= p.v1) {
    if (l.end[i] < p.v0) {  // hidden behind an earlier, longer event of the overflow lane
      ++i;
      continue;
    }
    double w = l.end[i] - l.start[i];
    if (w >= tol) {
      out.push_back({l.start[i], l.end[i], std::uint32_t(i), 1, l.cat[i], l.exposed_before[i + 1] > l.exposed_before[i]});
      ++i;
      continue;
    }
    // Fold: absorb every following event that is narrow and starts within `tol` of the run.
    std::size_t first = i;
    double run_end = l.end[i];
    std::size_t j = i + 1;
    while (j < n) {
      // Everything that ends before run_end + tol is absorbed without looking at it.
      std::size_t k = std::size_t(std::lower_bound(l.reach.begin() + std::ptrdiff_t(j), l.reach.end(), run_end + tol) - l.reach.begin());
      if (k > j) {
        run_end = std::max(run_end, l.reach[k - 1]);
        j = k;
        continue;
      }
      if (l.start[j] - run_end > tol || l.end[j] - l.start[j] >= tol || l.start[j] > p.v1) break;
      run_end = std::max(run_end, l.end[j]);
      ++j;
    }
    DrawItem d;
    d.t0 = l.start[first];
    d.t1 = run_end;
    d.first = std::uint32_t(first);
    d.count = std::uint32_t(j - first);
    d.cat = d.count == 1 ? l.cat[first] : dominant_category(l, first, j);
    d.exposed = l.exposed_before[j] > l.exposed_before[first];
    if (d.count > 1 && d.t1 > d.t0)
      d.occupancy = float(std::clamp((l.busy_before[j] - l.busy_before[first]) / (d.t1 - d.t0), 0.0, 1.0));
    out.push_back(d);
    i = j;
  }
}

}  // namespace strata::gui
