#include "core/stats.hpp"

#include <algorithm>
#include <unordered_map>

namespace strata::gui {

TimelineStats compute_stats(const TimelineIndex& idx) {
  TimelineStats s;
  s.step_s = idx.step_s();
  s.ranks = int(idx.gpus().size());
  const double denom = std::max(1e-300, s.step_s * std::max(1, s.ranks));
  for (int c = 0; c < kCategories; ++c) s.by_category[std::size_t(c)].cat = Category(c);
  // Ops are keyed by (name, category): one name can be used by two kinds of work.
  std::unordered_map<std::uint64_t, std::size_t> op_of;
  const auto& events = idx.timeline().events;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const TimelineEvent& e = events[i];
    double exposed = idx.exposed_part(std::uint32_t(i));
    CategoryStat& cs = s.by_category[std::size_t(e.category)];
    ++cs.count;
    cs.total_s += e.dur_s;
    cs.exposed_s += exposed;
    std::uint64_t key = (std::uint64_t(e.name) << 8) | std::uint64_t(e.category);
    auto [it, fresh] = op_of.emplace(key, s.ops.size());
    if (fresh) {
      OpStat o;
      o.name = e.name;
      o.cat = e.category;
      s.ops.push_back(o);
    }
    OpStat& o = s.ops[it->second];
    ++o.count;
    o.total_s += e.dur_s;
    o.max_s = std::max(o.max_s, e.dur_s);
    o.exposed_s += exposed;
    o.flops += e.flops;
    o.bytes += e.bytes;
  }
  for (auto& c : s.by_category) c.share = c.total_s / denom;
  for (auto& o : s.ops) o.share = o.total_s / denom;
  for (const auto& g : idx.gpus())
    for (const auto& iv : g.idle) s.idle_s += iv.t1 - iv.t0;
  s.idle_share = s.idle_s / denom;
  std::sort(s.ops.begin(), s.ops.end(), [](const OpStat& a, const OpStat& b) {
    return a.total_s != b.total_s ? a.total_s > b.total_s : a.name < b.name;
  });
  return s;
}

}  // namespace strata::gui
