#pragma once
// The Pareto front of strategies: highest throughput for the least memory. A point is on the
// front when no other point has at most its memory and more throughput.
#include <vector>

namespace strata::gui {

struct ParetoPoint {
  double memory = 0;      // lower is better
  double throughput = 0;  // higher is better
  bool eligible = true;   // e.g. fits in memory and was simulated
};

// Indices of the front, by increasing memory.
std::vector<int> pareto_front(const std::vector<ParetoPoint>& pts);

}  // namespace strata::gui
