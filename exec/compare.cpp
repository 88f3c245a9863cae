#include "compare.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

namespace strata::exec {

namespace {

struct Acc {
  std::size_t n = 0, n_rel = 0;
  double p = 0, m = 0, abs_rel = 0;
  void add(double pp, double mm) {
    ++n;
    p += pp;
    m += mm;
    if (mm > 0) {
      abs_rel += std::abs(pp - mm) / mm;
      ++n_rel;
    }
  }
  CompareGroup group(const std::string& key) const {
    CompareGroup g;
    g.key = key;
    g.tasks = n;
    g.predicted_s = p;
    g.measured_s = m;
    g.rel_error = m > 0 ? (p - m) / m : 0.0;
    g.mean_abs_rel_error = n_rel ? abs_rel / double(n_rel) : 0.0;
    return g;
  }
};

double step_of(const Timeline& t) {
  if (t.report.is_object() && t.report.contains("step_time_s") && t.report["step_time_s"].is_number())
    return t.report["step_time_s"].get<double>();
  double lo = 1e300, hi = -1e300;
  for (const auto& e : t.events) {
    if (e.task < 0) continue;
    lo = std::min(lo, e.start_s);
    hi = std::max(hi, e.start_s + e.dur_s);
  }
  return hi > lo ? hi - lo : 0.0;
}

std::string pct(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%+.1f%%", 100.0 * x);
  return b;
}
std::string secs(double s) {
  char b[32];
  if (std::abs(s) >= 1) std::snprintf(b, sizeof b, "%.3f s", s);
  else if (std::abs(s) >= 1e-3) std::snprintf(b, sizeof b, "%.3f ms", s * 1e3);
  else std::snprintf(b, sizeof b, "%.1f us", s * 1e6);
  return b;
}

Json group_json(const CompareGroup& g) {
  return {{"key", g.key}, {"tasks", g.tasks}, {"predicted_s", g.predicted_s}, {"measured_s", g.measured_s},
          {"rel_error", g.rel_error}, {"mean_abs_rel_error", g.mean_abs_rel_error}};
}

}  // namespace

std::string event_kind(const TimelineEvent& e) {
  switch (e.stream) {
    case Stream::pp_send: return "send";
    case Stream::pp_recv_fwd:
    case Stream::pp_recv_bwd:
    case Stream::cp_recv: return "recv";
    default: break;
  }
  switch (e.category) {
    case Category::optimizer: return "optimizer";
    case Category::tp:
    case Category::cp:
    case Category::ep:
    case Category::dp: return "collective";
    case Category::pp: return "send";
    default: return "compute";
  }
}

const CompareGroup* CompareResult::kind(const std::string& k) const {
  for (const auto& g : by_kind)
    if (g.key == k) return &g;
  return nullptr;
}

const CompareGroup* CompareResult::op(const std::string& name) const {
  for (const auto& g : by_op)
    if (g.key == name) return &g;
  return nullptr;
}

CompareResult compare_timelines(const Timeline& pred, const Timeline& meas, const CompareOptions& o) {
  CompareResult r;
  r.predicted_source = pred.source;
  r.measured_source = meas.source;
  std::map<std::pair<int, int>, const TimelineEvent*> p_idx;
  for (const auto& e : pred.events)
    if (e.task >= 0) p_idx[{e.rank, e.task}] = &e;
  std::set<int> p_ranks;
  std::map<int, int> class_rep;  // rank class -> predicted rank
  for (const auto& rk : pred.ranks) {
    p_ranks.insert(rk.rank);
    class_rep.emplace(rk.rank_class, rk.rank);
  }
  for (const auto& [k, e] : p_idx) p_ranks.insert(k.first);
  std::map<int, int> m_class;
  for (const auto& rk : meas.ranks) m_class[rk.rank] = rk.rank_class;

  std::set<std::pair<int, int>> used;
  Acc total;
  std::map<std::string, Acc> kinds, cats, ops;
  std::vector<CompareTask> tasks;
  std::set<int> by_class_ranks;
  for (const auto& e : meas.events) {
    if (e.task < 0) continue;
    int prank = e.rank;
    if (!p_ranks.count(e.rank)) {
      auto c = m_class.find(e.rank);
      auto rep = c == m_class.end() ? class_rep.end() : class_rep.find(c->second);
      if (rep == class_rep.end()) {
        ++r.measured_only;
        continue;
      }
      prank = rep->second;
      by_class_ranks.insert(e.rank);
    }
    auto it = p_idx.find({prank, e.task});
    if (it == p_idx.end()) {
      ++r.measured_only;
      continue;
    }
    used.insert(it->first);
    const TimelineEvent& p = *it->second;
    if (!e.measured || !p.measured) {
      ++r.excluded_unmeasured;
      continue;
    }
    ++r.matched;
    const std::string kind = event_kind(e), cat = category_name(e.category);
    const std::string op = e.name < meas.names.size() ? meas.names[e.name] : std::string("?");
    total.add(p.dur_s, e.dur_s);
    kinds[kind].add(p.dur_s, e.dur_s);
    cats[cat].add(p.dur_s, e.dur_s);
    ops[op].add(p.dur_s, e.dur_s);
    tasks.push_back({e.rank, e.task, op, kind, cat, p.dur_s, e.dur_s, e.dur_s > 0 ? (p.dur_s - e.dur_s) / e.dur_s : 0.0});
  }
  r.matched_by_class = by_class_ranks.size();
  for (const auto& [k, e] : p_idx)
    if (!used.count(k)) ++r.predicted_only;
  r.total = total.group("all");
  for (const auto& [k, a] : kinds) r.by_kind.push_back(a.group(k));
  for (const auto& [k, a] : cats) r.by_category.push_back(a.group(k));
  for (const auto& [k, a] : ops) r.by_op.push_back(a.group(k));
  std::sort(r.by_op.begin(), r.by_op.end(), [](const auto& a, const auto& b) { return a.measured_s > b.measured_s; });
  std::sort(tasks.begin(), tasks.end(),
            [](const auto& a, const auto& b) { return std::abs(a.predicted_s - a.measured_s) > std::abs(b.predicted_s - b.measured_s); });
  if (int(tasks.size()) > o.worst) tasks.resize(std::size_t(std::max(0, o.worst)));
  r.worst = std::move(tasks);

  r.predicted_step_s = step_of(pred);
  r.measured_step_s = step_of(meas);
  r.step_rel_error = r.measured_step_s > 0 ? (r.predicted_step_s - r.measured_step_s) / r.measured_step_s : 0.0;
  if (r.excluded_unmeasured)
    r.notes.push_back(std::to_string(r.excluded_unmeasured) + " tasks left out: not measured for real (measured=false)");
  if (r.matched_by_class)
    r.notes.push_back(std::to_string(r.matched_by_class) + " measured ranks aligned to the representative of their class");
  if (meas.report.is_object() && meas.report.contains("exec")) {
    const Json& ex = meas.report["exec"];
    if (ex.value("scale", 1.0) < 1.0) {
      char sc[32];
      std::snprintf(sc, sizeof sc, "%.3g", ex.value("scale", 1.0));
      r.notes.push_back(std::string("the measured run was scaled down by ") + sc +
                        ": compare against a prediction of the same scaled work");
    }
    const std::string mode = ex.value("mode", "");
    if (mode.rfind("representative", 0) == 0)
      r.notes.push_back("the measured step ran one representative rank per class without its peers: the step error is indicative only");
  }
  if (r.matched == 0) r.notes.push_back("no task could be aligned: are these timelines of the same partition graph?");
  return r;
}

Json CompareResult::to_json() const {
  Json j;
  j["predicted_source"] = predicted_source;
  j["measured_source"] = measured_source;
  j["step"] = {{"predicted_s", predicted_step_s}, {"measured_s", measured_step_s}, {"rel_error", step_rel_error}};
  j["tasks"] = {{"matched", matched},
                {"predicted_only", predicted_only},
                {"measured_only", measured_only},
                {"excluded_unmeasured", excluded_unmeasured},
                {"ranks_matched_by_class", matched_by_class}};
  j["all"] = group_json(total);
  Json k = Json::array(), c = Json::array(), op = Json::array(), w = Json::array();
  for (const auto& g : by_kind) k.push_back(group_json(g));
  for (const auto& g : by_category) c.push_back(group_json(g));
  for (const auto& g : by_op) op.push_back(group_json(g));
  for (const auto& t : worst)
    w.push_back({{"rank", t.rank}, {"task", t.task}, {"name", t.name}, {"kind", t.kind}, {"category", t.category},
                 {"predicted_s", t.predicted_s}, {"measured_s", t.measured_s}, {"rel_error", t.rel_error}});
  j["by_kind"] = k;
  j["by_category"] = c;
  j["by_op"] = op;
  j["worst_tasks"] = w;
  j["notes"] = notes;
  return j;
}

std::string CompareResult::to_text() const {
  std::string s;
  char line[256];
  std::snprintf(line, sizeof line, "compare: predicted (%s) vs measured (%s)\n", predicted_source.c_str(), measured_source.c_str());
  s += line;
  s += "step: predicted " + secs(predicted_step_s) + ", measured " + secs(measured_step_s) + ", error " + pct(step_rel_error) + "\n";
  std::snprintf(line, sizeof line, "tasks: %zu matched, %zu only predicted, %zu only measured, %zu left out (measured=false)\n",
                matched, predicted_only, measured_only, excluded_unmeasured);
  s += line;
  auto table = [&](const char* title, const std::vector<CompareGroup>& v, std::size_t limit) {
    std::snprintf(line, sizeof line, "%-16s %7s %13s %13s %9s %10s\n", title, "tasks", "predicted", "measured", "error", "mean|err|");
    s += line;
    for (std::size_t i = 0; i < v.size() && i < limit; ++i) {
      const auto& g = v[i];
      std::snprintf(line, sizeof line, "  %-14.14s %7zu %13s %13s %9s %9.1f%%\n", g.key.c_str(), g.tasks, secs(g.predicted_s).c_str(),
                    secs(g.measured_s).c_str(), pct(g.rel_error).c_str(), 100.0 * g.mean_abs_rel_error);
      s += line;
    }
  };
  table("by kind", by_kind, by_kind.size());
  table("by category", by_category, by_category.size());
  table("by op (top 12)", by_op, 12);
  if (!worst.empty()) s += "worst tasks:\n";
  for (const auto& t : worst) {
    std::snprintf(line, sizeof line, "  rank %d task %d %-14.14s (%s): predicted %s, measured %s (%s)\n", t.rank, t.task, t.name.c_str(),
                  t.kind.c_str(), secs(t.predicted_s).c_str(), secs(t.measured_s).c_str(), pct(t.rel_error).c_str());
    s += line;
  }
  for (const auto& n : notes) s += "note: " + n + "\n";
  return s;
}

}  // namespace strata::exec
