#include "engine/engine.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <unordered_map>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "engine/event_queue.hpp"
#include "network/collective.hpp"
#include "network/flow_network.hpp"

namespace strata {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
enum EventType : std::uint32_t { kTaskEnd = 0, kPhaseStart = 1 };

// Page faults: a 10^6-task class needs tens of MB of per-task arrays, each touched once. With
// 4 KiB pages the first-touch faults cost as much as the events themselves on this VM (perf:
// ~9.7k faults, ~40% of the synthetic benchmark's CPU time); 2 MiB transparent huge pages cut
// them ~500-fold. The engine's own arrays use HugeVector (2 MiB-aligned, advised); the result
// arrays are std::vector (callers own them) and get the advice on their aligned interior.
// Both are hints only: where THP is off nothing changes.
constexpr std::size_t kHugePage = std::size_t(2) << 20;

template <class T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < kHugePage) return static_cast<T*>(::operator new(bytes));
    const std::size_t rounded = (bytes + kHugePage - 1) & ~(kHugePage - 1);
    void* p = ::operator new(rounded, std::align_val_t(kHugePage));
#if defined(__linux__)
    madvise(p, rounded, MADV_HUGEPAGE);
#endif
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (n * sizeof(T) < kHugePage) ::operator delete(p);
    else ::operator delete(p, std::align_val_t(kHugePage));
  }
  template <class U>
  bool operator==(const HugePageAllocator<U>&) const noexcept { return true; }
};
template <class T>
using HugeVector = std::vector<T, HugePageAllocator<T>>;

// Sizes a std::vector to `n` copies of `value`, advising huge pages on the aligned interior of
// a fresh allocation before it is first touched.
template <class T>
void assign_huge(std::vector<T>& v, std::size_t n, const T& value) {
#if defined(__linux__)
  if (n * sizeof(T) >= 2 * kHugePage && v.capacity() < n) {
    v = std::vector<T>();
    v.reserve(n);
    const auto p = reinterpret_cast<std::uintptr_t>(v.data());
    const std::uintptr_t b = (p + kHugePage - 1) & ~(kHugePage - 1), e = (p + n * sizeof(T)) & ~(kHugePage - 1);
    if (e > b) madvise(reinterpret_cast<void*>(b), e - b, MADV_HUGEPAGE);
  }
#endif
  v.assign(n, value);
}

// Per class, computed once: stream order lists and dependents, in flat arrays (CSR) so that the
// event loop touches a few contiguous arrays per event. Kept small: on 10^6-task classes the
// engine's cost is as much first-touch page faults as instructions.
struct ClassIndex {
  std::array<std::uint32_t, kStreams + 1> stream_begin{};  // stream s: stream_list[begin[s] .. begin[s+1])
  HugeVector<std::uint32_t> stream_list;                   // non-receive tasks by stream, in task order
  HugeVector<std::uint32_t> out_begin, out;                // dependents of t: out[out_begin[t] .. out_begin[t+1])
};

ClassIndex index_class(const ClassTasks& c) {
  ClassIndex ix;
  const std::uint32_t n = std::uint32_t(c.size());
  const TaskKind* kind = c.kind.data();
  const Stream* stream = c.stream.data();
  const std::uint32_t* dep_begin = c.dep_begin.data();
  const std::uint32_t* deps = c.deps.data();
  const std::uint32_t edges = dep_begin[n];
  std::array<std::uint32_t, kStreams + 1> count{};
  for (std::uint32_t t = 0; t < n; ++t)
    if (kind[t] != TaskKind::recv) ++count[std::size_t(stream[t]) + 1];
  for (int s = 0; s < kStreams; ++s) count[std::size_t(s) + 1] += count[std::size_t(s)];
  ix.stream_begin = count;
  ix.stream_list.resize(count[kStreams]);
  std::uint32_t* stream_list = ix.stream_list.data();
  for (std::uint32_t t = 0; t < n; ++t)
    if (kind[t] != TaskKind::recv) stream_list[count[std::size_t(stream[t])]++] = t;
  // Dependents by counting sort, in place: count into out_begin[p + 1], prefix-sum, fill with
  // out_begin[p] as the cursor (which leaves it at p + 1's start), then shift back by one.
  ix.out_begin.assign(std::size_t(n) + 1, 0u);
  ix.out.resize(edges);
  std::uint32_t* __restrict ob = ix.out_begin.data();
  std::uint32_t* __restrict out = ix.out.data();
  for (std::uint32_t k = 0; k < edges; ++k) ++ob[deps[k] + 1];
  for (std::uint32_t i = 0; i < n; ++i) ob[i + 1] += ob[i];
  for (std::uint32_t t = 0; t < n; ++t)  // in task order: each task's dependents come out sorted
    for (std::uint32_t k = dep_begin[t], e = dep_begin[t + 1]; k < e; ++k) out[ob[deps[k]]++] = t;
  for (std::uint32_t i = n; i > 0; --i) ob[i] = ob[i - 1];
  ob[0] = 0;
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
  // The class's arrays, resolved once: the event loop reads them without going through
  // graph -> class -> vector on every event.
  const TaskKind* kind = nullptr;
  const Stream* stream = nullptr;
  const double* dur = nullptr;
  const std::uint32_t* out_begin = nullptr;
  const std::uint32_t* out = nullptr;
  const std::uint32_t* stream_list = nullptr;
  std::array<std::uint32_t, kStreams> stream_end{};  // end of each stream's run in stream_list
  std::array<std::uint32_t, kStreams> pos{};          // next task of each stream (index into stream_list)
  std::array<bool, kStreams> busy{};
  std::array<bool, kStreams> queued{};                // in Engine::ready_ (a stream is checked once per instant)
  HugeVector<std::uint32_t> pending;
  std::vector<double> start, end;      // moved into the result
  std::vector<std::uint8_t> slowed;    // moved into the result
  HugeVector<std::uint8_t> arrived;    // receive: its data is there (the transfer finished)
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
  // Deferred to the end of the instant (see start_if_ready). A stream queued twice in one
  // instant is checked once: nothing that drain_ready does between the two checks (starts only,
  // no ends) could make the second one start anything.
  void try_stream(std::uint32_t si, Stream s) {
    bool& q = ranks_[si].queued[std::size_t(s)];
    if (q) return;
    q = true;
    ready_.push_back(si << 4 | std::uint32_t(s));
  }
  void start_if_ready(std::uint32_t si, Stream s);
  void start_task(std::uint32_t si, std::uint32_t t);
  void start_comm(std::uint32_t si, std::uint32_t t, TaskKind kind);
  void end_task(std::uint32_t si, std::uint32_t t);
  // In push order; entries added while draining are handled after the earlier ones.
  void drain_ready() {
    for (std::size_t i = 0; i < ready_.size(); ++i) {
      const std::uint32_t si = ready_[i] >> 4;
      const Stream s = Stream(ready_[i] & 15u);
      ranks_[si].queued[std::size_t(s)] = false;
      start_if_ready(si, s);
    }
    ready_.clear();
  }
  void release(std::uint32_t si, std::uint32_t t);
  void post_recv(std::uint32_t si, std::uint32_t t);
  // Communication
  void arrive(std::uint32_t si, std::uint32_t t);
  void launch_collective(PendingColl& pc, GroupKind kind, int group);
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
  std::uint64_t ended_ = 0;  // distinct tasks ended
  double last_end_ = 0;      // time of the latest end: the makespan (the clock never goes back)

  std::vector<ClassIndex> cidx_;
  std::vector<SimRank> ranks_;
  std::vector<std::int32_t> sim_index_;  // global rank -> simulated index (-1 if not simulated)
  std::vector<std::int32_t> class_sim_;  // class -> simulated index of its representative (symmetric)
  std::unordered_map<std::uint64_t, PendingColl> pending_;
  std::vector<std::unordered_map<std::uint64_t, PendingColl>::node_type> spare_pending_;
  std::vector<std::vector<double>> a2av_matrix_;  // launch_collective's scratch
  std::map<std::tuple<int, int, int, int, double, std::uint64_t>, std::unique_ptr<InstPlan>> coll_plans_;
  std::map<std::tuple<int, int, int, int, double>, std::unique_ptr<InstPlan>> p2p_plans_;
  std::map<std::pair<int, int>, std::uint32_t> expected_cache_;
  std::vector<CommOp> ops_;
  std::vector<std::uint32_t> free_ops_;
  std::vector<std::uint32_t> flow_owner_;
  std::vector<LinkId> path_;
  std::vector<double> link_count_, own_count_;
  std::vector<LinkId> touched_;
  // Streams to check at the end of the instant: simulated rank << 4 | stream. One word, written
  // and read whole: a two-field struct written field by field and read back as one 8-byte load
  // stalled store forwarding (perf: 16% of the synthetic benchmark on that load).
  static_assert(kStreams <= 16);
  std::vector<std::uint32_t> ready_;
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
    const ClassTasks& c = g_.classes[std::size_t(r.cls)];
    const std::size_t n = c.size();
    r.kind = c.kind.data();
    r.stream = c.stream.data();
    r.dur = dur_[std::size_t(r.cls)].data();
    r.out_begin = ix.out_begin.data();
    r.out = ix.out.data();
    r.stream_list = ix.stream_list.data();
    for (int s = 0; s < kStreams; ++s) {
      r.pos[std::size_t(s)] = ix.stream_begin[std::size_t(s)];
      r.stream_end[std::size_t(s)] = ix.stream_begin[std::size_t(s) + 1];
    }
    r.pending.resize(n);
    for (std::size_t t = 0; t < n; ++t) r.pending[t] = c.dep_begin[t + 1] - c.dep_begin[t];
    assign_huge(r.start, n, kNaN);
    assign_huge(r.end, n, kNaN);
    r.arrived.assign(n, 0);
    assign_huge(r.slowed, n, std::uint8_t(0));
  }
}

// Starts are deferred until every event of the current instant has been handled, so that a task
// starting at time t sees the state after all ends at t (e.g. a communication that ends exactly
// when a compute task starts does not slow it down), whatever order simultaneous events pop in.
void Engine::start_if_ready(std::uint32_t si, Stream s) {
  SimRank& r = ranks_[si];
  const std::size_t k = std::size_t(s);
  if (r.busy[k] || r.pos[k] >= r.stream_end[k]) return;
  const std::uint32_t t = r.stream_list[r.pos[k]];
  if (r.pending[t] != 0) return;
  start_task(si, t);
}

void Engine::start_task(std::uint32_t si, std::uint32_t t) {
  SimRank& r = ranks_[si];
  r.busy[std::size_t(r.stream[t])] = true;
  r.start[t] = now_;
  const TaskKind kind = r.kind[t];
  if (kind == TaskKind::collective || kind == TaskKind::send) [[unlikely]] {
    start_comm(si, t, kind);
    return;
  }
  double d = r.dur[t];
  if (r.active_comm > 0 && cfg_.overlap_slowdown > 0) {
    d *= 1.0 + cfg_.overlap_slowdown;
    r.slowed[t] = 1;
  }
  q_.push(now_ + d, kTaskEnd, si, t);
}

// Out of line: keeps start_task (and the drain loop that calls it) small for the compute case.
[[gnu::noinline]] void Engine::start_comm(std::uint32_t si, std::uint32_t t, TaskKind kind) {
  ++ranks_[si].active_comm;
  if (kind == TaskKind::collective) arrive(si, t);
  else launch_p2p(si, t);
}

// Every task end runs this loop: inline in end_task.
inline void Engine::release(std::uint32_t si, std::uint32_t t) {
  SimRank& r = ranks_[si];
  std::uint32_t* pending = r.pending.data();
  for (std::uint32_t k = r.out_begin[t], e = r.out_begin[t + 1]; k < e; ++k) {
    const std::uint32_t d = r.out[k];
    if (--pending[d] != 0) continue;
    if (r.kind[d] == TaskKind::recv) post_recv(si, d);
    else try_stream(si, r.stream[d]);
  }
}

void Engine::end_task(std::uint32_t si, std::uint32_t t) {
  SimRank& r = ranks_[si];
  ended_ += std::isnan(r.end[t]) ? 1 : 0;  // first ends only: a mismatched graph may end a task twice
  r.end[t] = now_;
  last_end_ = now_;
  const TaskKind kind = r.kind[t];
  if (kind != TaskKind::recv) {
    const Stream s = r.stream[t];
    r.busy[std::size_t(s)] = false;
    ++r.pos[std::size_t(s)];
    if (kind == TaskKind::collective || kind == TaskKind::send) --r.active_comm;
    release(si, t);
    try_stream(si, s);
  } else {
    release(si, t);
  }
}

void Engine::post_recv(std::uint32_t si, std::uint32_t t) {
  SimRank& r = ranks_[si];
  r.start[t] = now_;  // posted
  if (r.arrived[t]) q_.push(now_, kTaskEnd, si, t);
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
  auto it = pending_.find(key);
  if (it == pending_.end()) {
    // Reuse a finished collective's map node (and its parts' capacity): no allocation per
    // collective instance in steady state.
    if (!spare_pending_.empty()) {
      auto node = std::move(spare_pending_.back());
      spare_pending_.pop_back();
      node.key() = key;
      node.mapped().parts.clear();
      node.mapped().expected = 0;
      it = pending_.insert(std::move(node)).position;
    } else {
      it = pending_.emplace(key, PendingColl{}).first;
    }
  }
  PendingColl& pc = it->second;
  if (pc.expected == 0) pc.expected = expected_arrivals(ci.group, group);
  pc.parts.push_back({si, t});
  if (pc.parts.size() < pc.expected) return;
  auto node = pending_.extract(it);
  launch_collective(node.mapped(), ci.group, group);
  spare_pending_.push_back(std::move(node));
}

std::uint32_t Engine::new_op() {
  if (!free_ops_.empty()) {
    std::uint32_t id = free_ops_.back();
    free_ops_.pop_back();
    CommOp& o = ops_[id];
    std::vector<Participant> parts = std::move(o.parts);  // keeps its capacity
    parts.clear();
    o = CommOp{};
    o.parts = std::move(parts);
    return id;
  }
  ops_.emplace_back();
  return std::uint32_t(ops_.size() - 1);
}

// `pc.parts` is swapped with the op's (empty) participant list: both keep their capacity.
void Engine::launch_collective(PendingColl& pc, GroupKind kind, int group) {
  const Participant& p0 = pc.parts.front();
  const ClassTasks& c0 = g_.classes[std::size_t(ranks_[p0.sim].cls)];
  const CollInfo& ci = c0.colls[std::size_t(c0.detail[p0.task])];
  auto members = g_.layout.group(kind, group);
  if (members.size() <= 1) {
    for (const auto& p : pc.parts) q_.push(now_, kTaskEnd, p.sim, p.task);
    return;
  }
  const std::vector<std::vector<double>>* a2av = nullptr;
  if (ci.kind == CollKind::all_to_all_v) {
    // Each member's row comes from its own class (router skew makes the rows differ): the task
    // of the last participant of that class, else the first participant's.
    std::vector<std::vector<double>>& matrix = a2av_matrix_;
    matrix.resize(members.size());
    for (std::size_t i = 0; i < members.size(); ++i) {
      int cls = g_.rank_class[std::size_t(members[i])];
      const ClassTasks& cm = g_.classes[std::size_t(cls)];
      std::uint32_t tt = p0.task;
      for (auto p = pc.parts.rbegin(); p != pc.parts.rend(); ++p)
        if (ranks_[p->sim].cls == cls) {
          tt = p->task;
          break;
        }
      const CollInfo& cim = cm.colls[std::size_t(cm.detail[tt])];
      if (cim.a2av >= 0) matrix[i] = cm.a2av_bytes[std::size_t(cim.a2av)];
      else matrix[i].assign(members.size(), cim.bytes / double(members.size()));
    }
    a2av = &matrix;
  }
  const InstPlan& plan = collective_plan(kind, group, ci, a2av);
  std::uint32_t op = new_op();
  ops_[op].plan = &plan;
  ops_[op].parts.swap(pc.parts);
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
  ops_[op].parts.push_back({si, t});
  ops_[op].parts.push_back({psim, pi.match});
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
    rr.arrived[rcv.task] = 1;
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
  // Only siblings that can share a link with the representative's flows matter (the weights are
  // read on those links only). A route between two GPUs uses links of their two nodes plus, when
  // the nodes differ, fabric links (Topology::route). So a sibling confined to one node that
  // holds none of the representative's members, or any sibling on other nodes while the
  // representative is confined to one node, shares nothing: skip it without planning it. For
  // collectives inside a node (tp, ep on one node) this drops every sibling but the group
  // itself, which keeps the cost of a plan independent of the data-parallel degree.
  auto on_one_node = [&](std::span<const int> mm) {
    for (int m : mm)
      if (topo_.node_of(m) != topo_.node_of(mm[0])) return false;
    return true;
  };
  const bool rep_one_node = on_one_node(members);
  std::vector<int> rep_nodes;
  for (int m : members) rep_nodes.push_back(topo_.node_of(m));
  std::sort(rep_nodes.begin(), rep_nodes.end());
  rep_nodes.erase(std::unique(rep_nodes.begin(), rep_nodes.end()), rep_nodes.end());
  auto may_share = [&](std::span<const int> mm) {
    if (!rep_one_node && !on_one_node(mm)) return true;  // both cross the fabric
    for (int m : mm)
      if (std::binary_search(rep_nodes.begin(), rep_nodes.end(), topo_.node_of(m))) return true;
    return false;
  };
  std::vector<CollectivePlan> sibling_plans;
  sibling_plans.reserve(siblings.size());
  for (int gi : siblings) {
    auto mm = g_.layout.group(kind, gi);
    if (gi == group || may_share(mm)) sibling_plans.push_back(plan_collective(ci.kind, mm, ci.bytes, ci.algo, topo_, a2av));
  }
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
      // A sibling whose route cannot touch this one's adds nothing to the weights read below.
      if (peer == r || !topo_.routes_may_share(src, dst, r, peer)) continue;
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
  // Initial: every stream head with no dependencies, and receives with none.
  for (std::uint32_t si = 0; si < ranks_.size(); ++si) {
    const ClassTasks& c = g_.classes[std::size_t(ranks_[si].cls)];
    for (std::uint32_t t = 0, n = std::uint32_t(c.size()); t < n; ++t)
      if (c.kind[t] == TaskKind::recv && ranks_[si].pending[t] == 0) post_recv(si, t);
    for (int s = 0; s < kStreams; ++s) try_stream(si, Stream(s));
  }
  drain_ready();
  std::vector<FlowId> finished;
  constexpr double kInf = std::numeric_limits<double>::infinity();
  while (true) {
    const double tq = q_.next_time();
    // Compute-only stretches leave the network idle: skip it (advance() would only move its clock).
    const bool net_busy = net_.active() > 0;
    const double tn = net_busy ? net_.next_completion() : kInf;
    if (tq == kInf && tn == kInf) break;
    now_ = std::min(tq, tn);
    q_.set_now(now_);
    if (net_busy) {
      net_.advance(now_, finished);
      for (FlowId f : finished) {
        ++events_;
        on_flow_done(f);
      }
    }
    Event e;
    while (q_.pop_due(e)) {
      ++events_;
      if (e.type() == kTaskEnd) end_task(e.a, e.b);
      else start_flows(e.a);
    }
    drain_ready();
  }
  // Every task ended (a stall leaves some unended). Ends happen in time order, so the makespan
  // is the time of the last one; no pass over the per-task arrays is needed unless stalled.
  std::uint64_t total = 0;
  for (const SimRank& r : ranks_) total += r.end.size();
  if (ended_ != total) {
    for (const SimRank& r : ranks_) {
      const ClassTasks& c = g_.classes[std::size_t(r.cls)];
      for (std::uint32_t t = 0, n = std::uint32_t(c.size()); t < n; ++t)
        if (std::isnan(r.end[t]))
          throw std::runtime_error("simulation stalled: rank " + std::to_string(r.rank) + " task " + std::to_string(t) + " (" +
                                   g_.names[c.name[t]] + ", " + task_kind_name(c.kind[t]) +
                                   ") never finished — the partition graph has a dependency or matching error");
    }
  }
  EngineResult res;
  res.makespan = last_end_;
  for (SimRank& r : ranks_) {
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
