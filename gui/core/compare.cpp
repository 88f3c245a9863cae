#include "core/compare.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace strata::gui {

namespace {

// rank -> the rank whose tasks stand for it on the other side: itself when present, else the
// first rank of the same rank class (a simulated timeline keeps one representative per class).
std::unordered_map<int, int> rank_map(const TimelineIndex& from, const TimelineIndex& to) {
  auto has_tasks = [&](int rank) {
    int g = to.gpu_of_rank(rank);
    return g >= 0 && !to.gpus()[std::size_t(g)].tracks.empty();
  };
  std::unordered_map<int, int> class_rep;
  for (const auto& g : to.gpus())
    if (!g.tracks.empty()) class_rep.emplace(g.rank.rank_class, g.rank.rank);
  std::unordered_map<int, int> m;
  for (const auto& g : from.gpus()) {
    if (has_tasks(g.rank.rank)) m[g.rank.rank] = g.rank.rank;
    else if (auto it = class_rep.find(g.rank.rank_class); it != class_rep.end()) m[g.rank.rank] = it->second;
  }
  return m;
}

}  // namespace

CompareResult compare_timelines(const TimelineIndex& a, const TimelineIndex& b) {
  CompareResult r;
  r.a_step_s = a.step_s();
  r.b_step_s = b.step_s();
  for (int c = 0; c < kCategories; ++c) r.by_category[std::size_t(c)].cat = Category(c);
  std::vector<char> a_used(a.event_count(), 0);
  std::unordered_map<int, int> to_a = rank_map(b, a);
  double rel_sum = 0;
  std::size_t rel_n = 0;
  for (std::uint32_t j = 0; j < b.event_count(); ++j) {
    const TimelineEvent& eb = b.event(j);
    if (eb.task < 0 || b.find_task(eb.rank, eb.task) != j) continue;  // bubbles; repeats count once
    auto rk = to_a.find(eb.rank);
    std::uint32_t i = rk == to_a.end() ? kNoEvent : a.find_task(rk->second, eb.task);
    if (i == kNoEvent) {
      ++r.only_b;
      continue;
    }
    const TimelineEvent& ea = a.event(i);
    a_used[i] = 1;
    TaskDiff d;
    d.rank = eb.rank;
    d.task = eb.task;
    d.a = i;
    d.b = j;
    d.a_s = ea.dur_s;
    d.b_s = eb.dur_s;
    r.tasks.push_back(d);
    CategoryDiff& cd = r.by_category[std::size_t(ea.category)];
    ++cd.matched;
    cd.a_s += d.a_s;
    cd.b_s += d.b_s;
    if (d.a_s > 0) rel_sum += std::abs(d.rel()), ++rel_n;
  }
  for (std::uint32_t i = 0; i < a.event_count(); ++i)
    if (!a_used[i] && a.event(i).task >= 0 && a.find_task(a.event(i).rank, a.event(i).task) == i) ++r.only_a;
  r.mean_abs_rel = rel_n ? rel_sum / double(rel_n) : 0;
  std::stable_sort(r.tasks.begin(), r.tasks.end(),
                   [](const TaskDiff& x, const TaskDiff& y) { return std::abs(x.diff_s()) > std::abs(y.diff_s()); });
  return r;
}

}  // namespace strata::gui
