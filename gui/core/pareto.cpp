#include "core/pareto.hpp"

#include <algorithm>
#include <cmath>

namespace strata::gui {

std::vector<int> pareto_front(const std::vector<ParetoPoint>& pts) {
  std::vector<int> idx;
  for (int i = 0; i < int(pts.size()); ++i)
    if (pts[std::size_t(i)].eligible && std::isfinite(pts[std::size_t(i)].memory) && std::isfinite(pts[std::size_t(i)].throughput))
      idx.push_back(i);
  // By memory ascending; among equal memory, the best throughput first.
  std::sort(idx.begin(), idx.end(), [&](int a, int b) {
    const auto &p = pts[std::size_t(a)], &q = pts[std::size_t(b)];
    if (p.memory != q.memory) return p.memory < q.memory;
    if (p.throughput != q.throughput) return p.throughput > q.throughput;
    return a < b;
  });
  std::vector<int> front;
  double best = -INFINITY;
  for (int i : idx)
    if (pts[std::size_t(i)].throughput > best) {
      front.push_back(i);
      best = pts[std::size_t(i)].throughput;
    }
  return front;
}

}  // namespace strata::gui
