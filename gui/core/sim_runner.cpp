#include "core/sim_runner.hpp"

#include <chrono>
#include <stdexcept>

#if STRATA_GUI_HAVE_SIMULATE
#include "engine/simulate.hpp"
#endif

namespace strata::gui {

bool simulation_available() { return STRATA_GUI_HAVE_SIMULATE != 0; }

StrategyMetrics metrics_from_report_json(const Json& r) {
  StrategyMetrics m;
  if (!r.is_object()) return m;
  auto num = [](const Json& o, const char* k) { return o.contains(k) && o[k].is_number() ? o[k].get<double>() : 0.0; };
  m.simulated = true;
  m.step_s = num(r, "step_time_s");
  m.tokens_per_s = num(r, "tokens_per_s");
  m.mfu = num(r, "mfu");
  m.bubble = num(r, "bubble_fraction");
  if (r.contains("exposed_comm_s") && r["exposed_comm_s"].is_object())
    for (const char* k : {"tp", "cp", "ep", "pp", "dp"}) m.exposed_comm_s += num(r["exposed_comm_s"], k);
  if (r.contains("memory") && r["memory"].is_object()) {
    const Json& mem = r["memory"];
    m.memory_bytes = num(mem, "peak_bytes");
    m.capacity_bytes = num(mem, "capacity_bytes");
    m.fits = mem.contains("fits") && mem["fits"].is_boolean() ? mem["fits"].get<bool>() : m.memory_bytes <= m.capacity_bytes;
  }
  return m;
}

SimOutcome run_simulation([[maybe_unused]] const Scenario& s, [[maybe_unused]] bool want_timeline) {
#if STRATA_GUI_HAVE_SIMULATE
  auto t0 = std::chrono::steady_clock::now();
  SimOptions opt;
  opt.want_timeline = want_timeline;
  SimResult r = simulate(s, opt);
  SimOutcome out;
  Json report = r.report.to_json();
  out.metrics = metrics_from_report_json(report);
  if (want_timeline) {
    LoadedTrace t;
    t.timeline = std::move(r.timeline);
    if (t.timeline.report.is_null()) t.timeline.report = report;
    t.path = s.file;
    auto graph = std::make_shared<const PartitionGraph>(std::move(r.graph));
    out.index = TimelineIndex::build(std::move(t), graph);
    out.index->title = s.name + " (simulated)";
  }
  out.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
#else
  throw std::runtime_error("this build of strata-gui has no simulation engine yet (sim/engine has no simulate()); "
                           "open a timeline written by `strata simulate --trace` instead");
#endif
}

}  // namespace strata::gui
