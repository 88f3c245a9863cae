#include "engine/engine.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <unordered_map>

#include "engine/event_queue.hpp"
#include "network/collective.hpp"
#include "network/flow_network.hpp"

namespace strata {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
enum EventType : std::uint32_t { kTaskEnd = 0, kPhaseStart = 1 };

// Per class, computed once: stream order lists, dependency counts and dependents.
struct ClassIndex {
  std::vector<std::vector<std::uint32_t>> stream_tasks = std::vector<std::vector<std::uint32_t>>(kStreams);
  std::vector<std::uint32_t> dep_count;
  std::vector<std::uint32_t> out_begin, out;
};

ClassIndex index_class(const ClassTasks& c) {
  ClassIndex ix;
  const std::size_t n = c.size();
  ix.dep_count.resize(n);
  std::vector<std::uint32_t> outdeg(n + 1, 0);
  for (std::uint32_t t = 0; t < n; ++t) {
    if (c.kind[t] != TaskKind::recv) ix.stream_tasks[std::size_t(c.stream[t])].push_back(t);
    auto d = c.deps_of(t);
    ix.dep_count[t] = std::uint32_t(d.size());
    for (std::uint32_t p : d) ++outdeg[p + 1];
  }
  for (std::size_t i = 0; i < n; ++i) outdeg[i + 1] += outdeg[i];
  ix.out_begin = outdeg;
  ix.out.resize(outdeg[n]);
  std::vector<std::uint32_t> fill(outdeg.begin(), outdeg.end() - 1);
  for (std::uint32_t t = 0; t < n; ++t)
    for (std::uint32_t p : c.deps_of(t)) ix.out[fill[p]++] = t;
  return ix;
}

struct InstFlow {
  int src = -1;
  std::vector<LinkId> links;
  std::vector<double> weights;  // empty in full mode
  double bytes = 0;
};
struct InstPhase {
  std::vector<InstFlow> flows;
  double latency = 0;
};
struct InstPlan {
  std::vector<InstPhase> phases;
};

struct Participant {
  std::uint32_t sim;
  std::uint32_t task;
};

struct CommOp {
  const InstPlan* plan = nullptr;
  std::vector<Participant> parts;  // p2p: [sender, receiver]
  std::uint32_t phase = 0;
  std::uint32_t outstanding = 0;
  bool p2p = false;
  double start = 0;
};

struct PendingColl {
  std::vector<Participant> parts;
  std::uint32_t expected = 0;
};

struct SimRank {
  int rank = 0;
  int cls = 0;
  std::vector<std::uint32_t> pending;
  std::array<std::uint32_t, kStreams> pos{};
  std::array<bool, kStreams> busy{};
  std::vector<double> start, end, arrival;
  std::vector<std::uint8_t> slowed;
  std::array<std::uint32_t, kGroupKinds> coll_seq{};
  int active_comm = 0;
};

class Engine {
public:
  Engine(const PartitionGraph& g, const Topology& topo, const std::vector<std::vector<double>>& dur, const EngineConfig& cfg)
      : g_(g), topo_(topo), dur_(dur), cfg_(cfg), net_(topo.capacities()) {}

  EngineResult run();

private:
  // Setup
  void choose_ranks();
  // Task lifecycle
  void try_stream(std::uint32_t si, Stream s) { ready_.emplace_back(si, s); }  // deferred to the end of the instant
  void start_if_ready(std::uint32_t si, Stream s);
  void start_task(std::uint32_t si, std::uint32_t t);
  void end_task(std::uint32_t si, std::uint32_t t);
  void drain_ready() {
    while (!ready_.empty()) {
      ready_batch_.swap(ready_);
      for (auto [si, s] : ready_batch_) start_if_ready(si, s);
      ready_batch_.clear();
    }
  }
  void release(std::uint32_t si, std::uint32_t t);
  void post_recv(std::uint32_t si, std::uint32_t t);
  // Communication
  void arrive(std::uint32_t si, std::uint32_t t);
  void launch_collective(PendingColl&& pc, GroupKind kind, int group);
  void launch_p2p(std::uint32_t si, std::uint32_t t);
  std::uint32_t new_op();
  void begin_phase(std::uint32_t op, std::uint32_t phase);
  void start_flows(std::uint32_t op);
  void finish_op(std::uint32_t op);
  void on_flow_done(FlowId f);
  const InstPlan& collective_plan(GroupKind kind, int group, const CollInfo& ci, const std::vector<std::vector<double>>* a2av);
  const InstPlan& p2p_plan(int src, int dst, int cls, const P2PInfo& pi);
  std::uint32_t expected_arrivals(GroupKind kind, int group);
  std::uint32_t sim_of_rank(int rank) const;
  // Symmetric weights: flows that sibling instances put on each link.
  void add_sibling_weights(InstPlan& plan, GroupKind kind, int group, const CollInfo& ci,
                           const std::vector<std::vector<double>>* a2av);
  void keep_representative_flows(InstPlan& plan, std::span<const int> members);

  const PartitionGraph& g_;
  const Topology& topo_;
  const std::vector<std::vector<double>>& dur_;
  EngineConfig cfg_;
  FlowNetwork net_;
  EventQueue q_;
  double now_ = 0;
  std::uint64_t events_ = 0, flows_ = 0;

  std::vector<ClassIndex> cidx_;
  std::vector<SimRank> ranks_;
  std::vector<std::int32_t> sim_index_;  // global rank -> simulated index (-1 if not simulated)
  std::vector<std::int32_t> class_sim_;  // class -> simulated index of its representative (symmetric)
  std::unordered_map<std::uint64_t, PendingColl> pending_;
  std::map<std::tuple<int, int, int, int, double, std::uint64_t>, std::unique_ptr<InstPlan>> coll_plans_;
  std::map<std::tuple<int, int, int, int, double>, std::unique_ptr<InstPlan>> p2p_plans_;
  std::map<std::pair<int, int>, std::uint32_t> expected_cache_;
  std::vector<CommOp> ops_;
  std::vector<std::uint32_t> free_ops_;
  std::vector<std::uint32_t> flow_owner_;
  std::vector<LinkId> path_;
  std::vector<double> link_count_, own_count_;
  std::vector<LinkId> touched_;
  std::vector<std::pair<std::uint32_t, Stream>> ready_, ready_batch_;
};

std::uint32_t Engine::sim_of_rank(int rank) const {
  if (cfg_.full) return std::uint32_t(sim_index_[std::size_t(rank)]);
  return std::uint32_t(class_sim_[std::size_t(g_.rank_class[std::size_t(rank)])]);
}

void Engine::choose_ranks() {
  const int W = g_.layout.world();
  sim_index_.assign(std::size_t(W), -1);
  std::vector<int> sim;
  if (cfg_.full) {
    for (int r = 0; r < W; ++r) sim.push_back(r);
  } else {
    for (std::size_t c = 0; c < g_.classes.size(); ++c) sim.push_back(g_.class_rep[c]);
  }
  class_sim_.assign(g_.classes.size(), -1);
  ranks_.resize(sim.size());
  for (std::size_t i = 0; i < sim.size(); ++i) {
    SimRank& r = ranks_[i];
    r.rank = sim[i];
    r.cls = g_.rank_class[std::size_t(sim[i])];
    sim_index_[std::size_t(sim[i])] = int(i);
    if (class_sim_[std::size_t(r.cls)] < 0) class_sim_[std::size_t(r.cls)] = int(i);
    const ClassIndex& ix = cidx_[std::size_t(r.cls)];
    const std::size_t n = ix.dep_count.size();
    r.pending = ix.dep_count;
    r.start.assign(n, kNaN);
    r.end.assign(n, kNaN);
    r.arrival.assign(n, kNaN);
    r.slowed.assign(n, 0);
  }
}

// Starts are deferred until every event of the current instant has been handled, so that a task
// starting at time t sees the state after all ends at t (e.g. a communication that ends exactly
// when a compute task starts does not slow it down), whatever order simultaneous events pop in.
void Engine::start_if_ready(std::uint32_t si, Stream s) {
  SimRank& r = ranks_[si];
  const auto& list = cidx_[std::size_t(r.cls)].stream_tasks[std::size_t(s)];
  const std::size_t k = std::size_t(s);
  if (r.busy[k] || r.pos[k] >= list.size()) return;
  std::uint32_t t = list[r.pos[k]];
  if (r.pending[t] != 0) return;
  start_task(si, t);
}

void Engine::start_task(std::uint32_t si, std::uint32_t t) {
  SimRank& r = ranks_[si];
  const ClassTasks& c = g_.classes[std::size_t(r.cls)];
  r.busy[std::size_t(c.stream[t])] = true;
  r.start[t] = now_;
  switch (c.kind[t]) {
    case TaskKind::collective:
      ++r.active_comm;
      arrive(si, t);
      break;
    case TaskKind::send:
      ++r.active_comm;
      launch_p2p(si, t);
      break;
    default: {
      double d = dur_[std::size_t(r.cls)][t];
      if (r.active_comm > 0 && cfg_.overlap_slowdown > 0) {
        d *= 1.0 + cfg_.overlap_slowdown;
        r.slowed[t] = 1;
      }
      q_.push(now_ + d, kTaskEnd, si, t);
    }
  }
}

void Engine::end_task(std::uint32_t si, std::uint32_t t) {
  SimRank& r = ranks_[si];
  const ClassTasks& c = g_.classes[std::size_t(r.cls)];
  r.end[t] = now_;
  if (c.kind[t] == TaskKind::recv) {
    release(si, t);
    return;
  }
  const std::size_t s = std::size_t(c.stream[t]);
  r.busy[s] = false;
  ++r.pos[s];
  if (c.kind[t] == TaskKind::collective || c.kind[t] == TaskKind::send) --r.active_comm;
  release(si, t);
  try_stream(si, c.stream[t]);
}

void Engine::release(std::uint32_t si, std::uint32_t t) {
  SimRank& r = ranks_[si];
  const ClassIndex& ix = cidx_[std::size_t(r.cls)];
  const ClassTasks& c = g_.classes[std::size_t(r.cls)];
  for (std::uint32_t k = ix.out_begin[t]; k < ix.out_begin[t + 1]; ++k) {
    std::uint32_t d = ix.out[k];
    if (--r.pending[d] != 0) continue;
    if (c.kind[d] == TaskKind::recv) post_recv(si, d);
    else try_stream(si, c.stream[d]);
  }
}

void Engine::post_recv(std::uint32_t si, std::uint32_t t) {
  SimRank& r = ranks_[si];
  r.start[t] = now_;  // posted
  if (!std::isnan(r.arrival[t])) q_.push(now_, kTaskEnd, si, t);
}

std::uint32_t Engine::expected_arrivals(GroupKind kind, int group) {
  auto key = std::make_pair(int(kind), group);
  auto it = expected_cache_.find(key);
  if (it != expected_cache_.end()) return it->second;
  auto members = g_.layout.group(kind, group);
  std::uint32_t n = 0;
  if (cfg_.full) {
    n = std::uint32_t(members.size());
  } else {
    std::vector<int> classes;
    for (int m : members) classes.push_back(g_.rank_class[std::size_t(m)]);
    std::sort(classes.begin(), classes.end());
    n = std::uint32_t(std::unique(classes.begin(), classes.end()) - classes.begin());
  }
  expected_cache_.emplace(key, n);
  return n;
}

void Engine::arrive(std::uint32_t si, std::uint32_t t) {
  SimRank& r = ranks_[si];
  const ClassTasks& c = g_.classes[std::size_t(r.cls)];
  const CollInfo& ci = c.colls[std::size_t(c.detail[t])];
  const int group = g_.layout.group_of(ci.group, r.rank);
  const std::uint32_t seq = r.coll_seq[std::size_t(ci.group)]++;
  const std::uint64_t key = (std::uint64_t(ci.group) << 56) | (std::uint64_t(std::uint32_t(group)) << 28) | seq;
  PendingColl& pc = pending_[key];
  if (pc.expected == 0) pc.expected = expected_arrivals(ci.group, group);
  pc.parts.push_back({si, t});
  if (pc.parts.size() < pc.expected) return;
  PendingColl done = std::move(pc);
  pending_.erase(key);
  launch_collective(std::move(done), ci.group, group);
}

std::uint32_t Engine::new_op() {
  if (!free_ops_.empty()) {
    std::uint32_t id = free_ops_.back();
    free_ops_.pop_back();
    ops_[id] = CommOp{};
    return id;
  }
  ops_.emplace_back();
  return std::uint32_t(ops_.size() - 1);
}

void Engine::launch_collective(PendingColl&& pc, GroupKind kind, int group) {
  const Participant& p0 = pc.parts.front();
  const ClassTasks& c0 = g_.classes[std::size_t(ranks_[p0.sim].cls)];
  const CollInfo& ci = c0.colls[std::size_t(c0.detail[p0.task])];
  auto members = g_.layout.group(kind, group);
  if (members.size() <= 1) {
    for (const auto& p : pc.parts) q_.push(now_, kTaskEnd, p.sim, p.task);
    return;
  }
  std::vector<std::vector<double>> matrix;
  const std::vector<std::vector<double>>* a2av = nullptr;
  if (ci.kind == CollKind::all_to_all_v) {
    // Each member's row comes from its own class (router skew makes the rows differ).
    std::unordered_map<int, std::uint32_t> task_of_class;
    for (const auto& p : pc.parts) task_of_class[ranks_[p.sim].cls] = p.task;
    matrix.resize(members.size());
    for (std::size_t i = 0; i < members.size(); ++i) {
      int cls = g_.rank_class[std::size_t(members[i])];
      const ClassTasks& cm = g_.classes[std::size_t(cls)];
      auto it = task_of_class.find(cls);
      std::uint32_t tt = it != task_of_class.end() ? it->second : p0.task;
      const CollInfo& cim = cm.colls[std::size_t(cm.detail[tt])];
      if (cim.a2av >= 0) matrix[i] = cm.a2av_bytes[std::size_t(cim.a2av)];
      else matrix[i].assign(members.size(), cim.bytes / double(members.size()));
    }
    a2av = &matrix;
  }
  const InstPlan& plan = collective_plan(kind, group, ci, a2av);
  std::uint32_t op = new_op();
  ops_[op].plan = &plan;
  ops_[op].parts = std::move(pc.parts);
  ops_[op].start = now_;
  begin_phase(op, 0);
}

void Engine::launch_p2p(std::uint32_t si, std::uint32_t t) {
  SimRank& r = ranks_[si];
  const ClassTasks& c = g_.classes[std::size_t(r.cls)];
  const P2PInfo& pi = c.p2ps[std::size_t(c.detail[t])];
  const int peer = g_.layout.peer(pi.group, r.rank, pi.offset);
  // The data travels to the real peer; in symmetric mode it is delivered to the simulated
  // representative of the peer's class (for a ring inside one class, the sender itself: by
  // symmetry its predecessor sends it the same message at the same time).
  const std::uint32_t psim = sim_of_rank(peer);
  std::uint32_t op = new_op();
  ops_[op].p2p = true;
  ops_[op].parts = {{si, t}, {psim, pi.match}};
  ops_[op].start = now_;
  if (peer == r.rank || pi.bytes <= 0) {
    static const InstPlan empty{};
    ops_[op].plan = &empty;
  } else {
    ops_[op].plan = &p2p_plan(r.rank, peer, r.cls, pi);
  }
  begin_phase(op, 0);
}

void Engine::begin_phase(std::uint32_t op, std::uint32_t phase) {
  CommOp& o = ops_[op];
  o.phase = phase;
  if (phase >= o.plan->phases.size()) {
    finish_op(op);
    return;
  }
  const double lat = o.plan->phases[phase].latency;
  if (lat > 0) q_.push(now_ + lat, kPhaseStart, op, phase);
  else start_flows(op);
}

void Engine::start_flows(std::uint32_t op) {
  CommOp& o = ops_[op];
  const InstPhase& ph = o.plan->phases[o.phase];
  o.outstanding = 0;
  for (const InstFlow& f : ph.flows) {
    if (f.bytes <= 0) continue;
    FlowId id = net_.start(f.links, f.weights, f.bytes, now_);
    if (flow_owner_.size() <= id) flow_owner_.resize(std::size_t(id) + 1);
    flow_owner_[id] = op;
    ++o.outstanding;
    ++flows_;
  }
  if (o.outstanding == 0) begin_phase(op, o.phase + 1);
}

void Engine::on_flow_done(FlowId f) {
  std::uint32_t op = flow_owner_[f];
  if (--ops_[op].outstanding == 0) begin_phase(op, ops_[op].phase + 1);
}

void Engine::finish_op(std::uint32_t op) {
  CommOp& o = ops_[op];
  if (o.p2p) {
    const Participant snd = o.parts[0], rcv = o.parts[1];
    q_.push(now_, kTaskEnd, snd.sim, snd.task);
    SimRank& rr = ranks_[rcv.sim];
    rr.arrival[rcv.task] = now_;
    if (!std::isnan(rr.start[rcv.task])) {
      // Already posted: the receive shows from the later of posting and the transfer start.
      rr.start[rcv.task] = std::max(rr.start[rcv.task], o.start);
      q_.push(now_, kTaskEnd, rcv.sim, rcv.task);
    }
  } else {
    for (const auto& p : o.parts) q_.push(now_, kTaskEnd, p.sim, p.task);
  }
  o.parts.clear();
  free_ops_.push_back(op);
}

const InstPlan& Engine::collective_plan(GroupKind kind, int group, const CollInfo& ci,
                                        const std::vector<std::vector<double>>* a2av) {
  std::uint64_t sig = 0;
  if (a2av) {
    // FNV-1a over the byte matrix: a2av plans differ by their per-peer bytes.
    sig = 1469598103934665603ull;
    for (const auto& row : *a2av)
      for (double v : row) {
        std::uint64_t b;
        std::memcpy(&b, &v, sizeof b);
        sig = (sig ^ b) * 1099511628211ull;
      }
  }
  auto key = std::make_tuple(int(kind), group, int(ci.kind), int(ci.algo), ci.bytes, sig);
  auto it = coll_plans_.find(key);
  if (it != coll_plans_.end()) return *it->second;
  auto members = g_.layout.group(kind, group);
  CollectivePlan cp = plan_collective(ci.kind, members, ci.bytes, ci.algo, topo_, a2av);
  auto plan = std::make_unique<InstPlan>();
  for (std::size_t p = 0; p < cp.phases.size(); ++p) {
    InstPhase ph;
    ph.latency = cp.phases[p].latency_s;
    for (const FlowSpec& fs : cp.phases[p].flows) {
      if (fs.src == fs.dst || fs.bytes <= 0) continue;
      InstFlow f;
      f.src = fs.src;
      topo_.route(fs.src, fs.dst, std::uint64_t(p) * 7919u + std::uint64_t(ci.kind), f.links);
      f.bytes = fs.bytes;
      ph.flows.push_back(std::move(f));
    }
    plan->phases.push_back(std::move(ph));
  }
  if (!cfg_.full) {
    keep_representative_flows(*plan, members);
    add_sibling_weights(*plan, kind, group, ci, a2av);
  }
  auto& slot = coll_plans_[key];
  slot = std::move(plan);
  return *slot;
}

// An all-to-all among ranks of one class, spread evenly over nodes, is symmetric: every member
// sends the same mix of intra- and inter-node flows and finishes at the same time. Only the
// representative's own flows are then simulated; the weights (add_sibling_weights) carry the
// load of everyone else's. This turns the n(n-1) flows of an EP all-to-all into n-1. The
// agreement tests (tests/test_engine.cpp) check that it changes nothing.
void Engine::keep_representative_flows(InstPlan& plan, std::span<const int> members) {
  const int cls = g_.rank_class[std::size_t(members[0])];
  std::map<int, int> per_node;
  for (int m : members) {
    if (g_.rank_class[std::size_t(m)] != cls) return;
    ++per_node[g_.layout.node_of(m)];
  }
  for (const auto& [node, n] : per_node)
    if (n != per_node.begin()->second) return;
  // Exact only where no flow climbs to a switch tier with an ECMP choice: all member nodes under
  // one leaf (per rail), or one node. Elsewhere uplink choices differ per member and the
  // slowest member need not be the representative, so every flow is kept.
  const int gpn = g_.layout.gpus_per_node();
  const int leaf = topo_.leaf_of_nic(topo_.nic_of(per_node.begin()->first * gpn));
  for (const auto& [node, n] : per_node)
    if (topo_.leaf_of_nic(topo_.nic_of(node * gpn)) != leaf) return;
  const int rep = g_.class_rep[std::size_t(cls)];
  for (InstPhase& ph : plan.phases) {
    std::size_t flows_from_rep = 0;
    for (const InstFlow& f : ph.flows) flows_from_rep += f.src == rep ? 1 : 0;
    // Rings and trees give each member one or two flows of different kinds (intra/inter
    // node): there the slowest flow need not be the representative's, so keep them all.
    if (flows_from_rep + 1 < members.size()) return;
  }
  for (InstPhase& ph : plan.phases)
    std::erase_if(ph.flows, [&](const InstFlow& f) { return f.src != rep; });
}

void Engine::add_sibling_weights(InstPlan& plan, GroupKind kind, int group, const CollInfo& ci,
                                 const std::vector<std::vector<double>>* a2av) {
  // Siblings: every group of this kind whose members are of the same classes, position by
  // position. They run this collective in lockstep with the representative's group.
  auto members = g_.layout.group(kind, group);
  std::vector<int> sig;
  for (int m : members) sig.push_back(g_.rank_class[std::size_t(m)]);
  if (link_count_.size() != topo_.link_count()) link_count_.assign(topo_.link_count(), 0.0);
  const int groups = g_.layout.group_count(kind);
  std::vector<int> siblings;
  for (int gi = 0; gi < groups; ++gi) {
    auto mm = g_.layout.group(kind, gi);
    bool same = mm.size() == members.size();
    for (std::size_t i = 0; same && i < mm.size(); ++i) same = g_.rank_class[std::size_t(mm[i])] == sig[i];
    if (same) siblings.push_back(gi);
  }
  std::vector<CollectivePlan> sibling_plans;
  sibling_plans.reserve(siblings.size());
  for (int gi : siblings) sibling_plans.push_back(plan_collective(ci.kind, g_.layout.group(kind, gi), ci.bytes, ci.algo, topo_, a2av));
  for (std::size_t p = 0; p < plan.phases.size(); ++p) {
    touched_.clear();
    for (const CollectivePlan& cp : sibling_plans) {
      if (p >= cp.phases.size()) continue;
      for (const FlowSpec& fs : cp.phases[p].flows) {
        if (fs.src == fs.dst || fs.bytes <= 0) continue;
        topo_.route(fs.src, fs.dst, std::uint64_t(p) * 7919u + std::uint64_t(ci.kind), path_);
        for (LinkId l : path_) {
          if (link_count_[l] == 0) touched_.push_back(l);
          link_count_[l] += 1.0;
        }
      }
    }
    // The representative's own flows already share a link among themselves in the FlowNetwork;
    // the weight is how many copies of that load the siblings add: all flows on the link over
    // the flows the representative's group itself puts there.
    own_count_.resize(link_count_.size(), 0.0);
    for (const InstFlow& f : plan.phases[p].flows)
      for (LinkId l : f.links) own_count_[l] += 1.0;
    for (InstFlow& f : plan.phases[p].flows) {
      f.weights.resize(f.links.size());
      for (std::size_t i = 0; i < f.links.size(); ++i)
        f.weights[i] = std::max(1.0, link_count_[f.links[i]] / own_count_[f.links[i]]);
    }
    for (const InstFlow& f : plan.phases[p].flows)
      for (LinkId l : f.links) own_count_[l] = 0.0;
    for (LinkId l : touched_) link_count_[l] = 0;
  }
}

const InstPlan& Engine::p2p_plan(int src, int dst, int cls, const P2PInfo& pi) {
  auto key = std::make_tuple(src, dst, int(pi.group), int(pi.offset), pi.bytes);
  auto it = p2p_plans_.find(key);
  if (it != p2p_plans_.end()) return *it->second;
  auto plan = std::make_unique<InstPlan>();
  InstPhase ph;
  InstFlow f;
  topo_.route(src, dst, 1, f.links);
  f.bytes = pi.bytes;
  ph.latency = topo_.path_latency(f.links);
  if (!cfg_.full) {
    // Siblings: every rank of this class sends to its own peer at the same time.
    if (link_count_.size() != topo_.link_count()) link_count_.assign(topo_.link_count(), 0.0);
    touched_.clear();
    const int W = g_.layout.world();
    for (int r = 0; r < W; ++r) {
      if (g_.rank_class[std::size_t(r)] != cls) continue;
      int peer = g_.layout.peer(pi.group, r, pi.offset);
      if (peer == r) continue;
      topo_.route(r, peer, 1, path_);
      for (LinkId l : path_) {
        if (link_count_[l] == 0) touched_.push_back(l);
        link_count_[l] += 1.0;
      }
    }
    f.weights.resize(f.links.size());
    for (std::size_t i = 0; i < f.links.size(); ++i) f.weights[i] = std::max(1.0, link_count_[f.links[i]]);
    for (LinkId l : touched_) link_count_[l] = 0;
  }
  ph.flows.push_back(std::move(f));
  plan->phases.push_back(std::move(ph));
  auto& slot = p2p_plans_[key];
  slot = std::move(plan);
  return *slot;
}

EngineResult Engine::run() {
  cidx_.reserve(g_.classes.size());
  for (const auto& c : g_.classes) cidx_.push_back(index_class(c));
  choose_ranks();
  q_.reserve(1024);
  // Initial: every stream head with no dependencies, and receives with none.
  for (std::uint32_t si = 0; si < ranks_.size(); ++si) {
    const ClassTasks& c = g_.classes[std::size_t(ranks_[si].cls)];
    for (std::uint32_t t = 0; t < c.size(); ++t)
      if (c.kind[t] == TaskKind::recv && ranks_[si].pending[t] == 0) post_recv(si, t);
    for (int s = 0; s < kStreams; ++s) try_stream(si, Stream(s));
  }
  drain_ready();
  std::vector<FlowId> finished;
  while (true) {
    const double tq = q_.empty() ? std::numeric_limits<double>::infinity() : q_.top().time;
    const double tn = net_.next_completion();
    if (std::isinf(tq) && std::isinf(tn)) break;
    now_ = std::min(tq, tn);
    finished.clear();
    net_.advance(now_, finished);
    for (FlowId f : finished) {
      ++events_;
      on_flow_done(f);
    }
    while (!q_.empty() && q_.top().time <= now_) {
      Event e = q_.pop();
      ++events_;
      if (e.type == kTaskEnd) end_task(e.a, e.b);
      else start_flows(e.a);
    }
    drain_ready();
  }
  EngineResult res;
  for (std::uint32_t si = 0; si < ranks_.size(); ++si) {
    SimRank& r = ranks_[si];
    const ClassTasks& c = g_.classes[std::size_t(r.cls)];
    for (std::uint32_t t = 0; t < c.size(); ++t) {
      if (std::isnan(r.end[t])) {
        throw std::runtime_error("simulation stalled: rank " + std::to_string(r.rank) + " task " + std::to_string(t) + " (" +
                                 g_.names[c.name[t]] + ", " + task_kind_name(c.kind[t]) +
                                 ") never finished — the partition graph has a dependency or matching error");
      }
      res.makespan = std::max(res.makespan, r.end[t]);
    }
    res.sim_ranks.push_back(r.rank);
    res.start.push_back(std::move(r.start));
    res.end.push_back(std::move(r.end));
    res.slowed.push_back(std::move(r.slowed));
  }
  res.events = events_;
  res.flows = flows_;
  return res;
}

}  // namespace

EngineResult run_engine(const PartitionGraph& graph, const Topology& topo, const std::vector<std::vector<double>>& durations,
                        const EngineConfig& config) {
  Engine e(graph, topo, durations, config);
  return e.run();
}

}  // namespace strata
