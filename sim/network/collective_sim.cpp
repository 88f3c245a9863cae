// simulate_collectives: plans run phase by phase through a FlowNetwork on the topology.
#include <limits>

#include "network/collective.hpp"
#include "network/flow_network.hpp"

namespace strata {

std::vector<double> simulate_collectives(std::span<const CollectivePlan> plans, const Topology& topo, double start_s) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  FlowNetwork net(topo.capacities());
  struct State {
    std::size_t phase = 0;
    std::size_t outstanding = 0;
    double phase_start = kInf;  // when the pending phase's bandwidth part starts (after latency)
  };
  std::vector<State> st(plans.size());
  std::vector<double> done(plans.size(), start_s);
  std::vector<int> owner;
  std::vector<LinkId> path;
  std::vector<FlowId> finished;
  for (std::size_t p = 0; p < plans.size(); ++p)
    if (!plans[p].phases.empty()) st[p].phase_start = start_s + plans[p].phases[0].latency_s;

  // A plan whose phase has ended moves on at time t.
  auto next_phase = [&](std::size_t p, double t) {
    if (++st[p].phase < plans[p].phases.size()) {
      st[p].phase_start = t + plans[p].phases[st[p].phase].latency_s;
    } else {
      st[p].phase_start = kInf;
      done[p] = t;
    }
  };

  for (;;) {
    double t_start = kInf;
    for (const State& s : st) t_start = std::min(t_start, s.phase_start);
    const double t_finish = net.next_completion();
    if (t_start == kInf && t_finish == kInf) break;
    if (t_start <= t_finish) {
      for (std::size_t p = 0; p < plans.size(); ++p) {
        if (st[p].phase_start != t_start) continue;
        st[p].phase_start = kInf;
        st[p].outstanding = 0;
        for (const FlowSpec& f : plans[p].phases[st[p].phase].flows) {
          if (f.src == f.dst || !(f.bytes > 0)) continue;
          topo.route(f.src, f.dst, 0, path);
          const FlowId id = net.start(path, {}, f.bytes, t_start);
          if (owner.size() <= id) owner.resize(id + 1, -1);
          owner[id] = int(p);
          ++st[p].outstanding;
        }
        if (st[p].outstanding == 0) next_phase(p, t_start);
      }
    } else {
      net.advance(t_finish, finished);
      for (FlowId f : finished) {
        const std::size_t p = std::size_t(owner[f]);
        if (--st[p].outstanding == 0) next_phase(p, t_finish);
      }
    }
  }
  return done;
}

}  // namespace strata
