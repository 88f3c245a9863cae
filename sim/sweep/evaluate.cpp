#include "sweep/evaluate.hpp"

#include "engine/simulate.hpp"
#include "plan/memory.hpp"
#include "plan/planner.hpp"

namespace strata::sweep {

Json planned_memory(const Scenario& s) {
  PartitionGraph g = build_partition_graph(s, PlanOptions{});
  MemoryVerdict v = memory_verdict(g, s.cluster.gpu.hbm_bytes);
  const MemoryBreakdown& w = v.worst;
  return Json{{"peak_bytes", v.peak_bytes},
              {"weights_bytes", w.weights},
              {"grads_bytes", w.grads},
              {"optimizer_bytes", w.optimizer},
              {"activations_bytes", w.activations},
              {"kv_cache_bytes", w.kv_cache},
              {"capacity_bytes", v.capacity_bytes},
              {"fits", v.fits}};
}

Evaluator simulator_evaluator(bool simulate_oom) {
  Evaluator ev;
  ev.report = [](const Scenario& s) {
    SimOptions o;
    o.full = false;
    o.want_timeline = false;
    return simulate(s, o).report.to_json();
  };
  if (!simulate_oom) ev.memory = planned_memory;
  return ev;
}

}  // namespace strata::sweep
