#include "executor.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>

#include "io/scenario.hpp"
#include "ops.hpp"
#include "report/report.hpp"
#include "report/report_builder.hpp"
#include "report/timeline_json.hpp"

namespace strata::exec {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// A barrier that a failing rank can break, so the others do not wait forever.
class Barrier {
public:
  explicit Barrier(int n) : n_(n) {}
  void arrive_and_wait(double timeout_s) {
    std::unique_lock<std::mutex> lk(m_);
    if (aborted_) throw ExecAborted("another rank failed");
    const std::uint64_t gen = gen_;
    if (++count_ == n_) {
      count_ = 0;
      ++gen_;
      cv_.notify_all();
      return;
    }
    bool ok = cv_.wait_for(lk, std::chrono::duration<double>(timeout_s), [&] { return gen_ != gen || aborted_; });
    if (gen_ != gen) return;
    if (aborted_) throw ExecAborted("another rank failed");
    if (!ok) throw ExecError("timed out after " + std::to_string(int(timeout_s)) + " s waiting for the other ranks to start the step");
  }
  void abort() {
    std::lock_guard<std::mutex> lk(m_);
    aborted_ = true;
    cv_.notify_all();
  }

private:
  std::mutex m_;
  std::condition_variable cv_;
  int n_;
  int count_ = 0;
  std::uint64_t gen_ = 0;
  bool aborted_ = false;
};

struct RankPlan {
  int rank = 0;
  std::vector<Op> ops;                 // per task id
  std::vector<int> slot;               // task -> stream slot
  std::vector<std::uint32_t> pos;      // task -> position on its stream
  std::vector<Stream> slot_stream;     // slot -> graph stream
  std::vector<WorkspaceNeed> need;     // slot -> arenas
  std::vector<std::string> need_in_what, need_out_what;
};

using CollKey = std::tuple<int, int, std::uint64_t>;  // group kind, stream, seq

std::map<CollKey, std::uint32_t> collective_index(const ClassTasks& c) {
  std::map<CollKey, std::uint32_t> idx;
  std::map<std::pair<int, int>, std::uint64_t> counter;
  for (std::uint32_t t = 0; t < c.size(); ++t) {
    if (c.kind[t] != TaskKind::collective) continue;
    const std::int32_t d = c.detail[t];
    if (d < 0 || std::size_t(d) >= c.colls.size()) continue;
    const int gk = int(c.colls[std::size_t(d)].group);
    auto& n = counter[{gk, int(c.stream[t])}];
    idx[{gk, int(c.stream[t]), n++}] = t;
  }
  return idx;
}

RankPlan plan_rank(const PartitionGraph& g, const World& world, int rank, double scale) {
  const ClassTasks& c = g.tasks_of_rank(rank);
  RankPlan p;
  p.rank = rank;
  p.ops.reserve(c.size());
  p.slot.resize(c.size());
  p.pos.resize(c.size());
  int stream_slot[kStreams];
  std::fill(std::begin(stream_slot), std::end(stream_slot), -1);
  std::vector<std::uint32_t> stream_count;
  std::map<std::pair<int, int>, std::uint64_t> seq;
  std::map<int, std::map<CollKey, std::uint32_t>> peer_index;  // rank -> its collectives
  for (std::uint32_t t = 0; t < c.size(); ++t) {
    for (std::uint32_t d : c.deps_of(t))
      if (d >= t)
        throw ExecError("graph: task " + std::to_string(t) + " of rank " + std::to_string(rank) +
                        " depends on task " + std::to_string(d) + ", which is not earlier");
    const int s = int(c.stream[t]);
    if (s < 0 || s >= kStreams) throw ExecError("graph: task " + std::to_string(t) + " has an unknown stream");
    if (stream_slot[s] < 0) {
      stream_slot[s] = int(p.slot_stream.size());
      p.slot_stream.push_back(c.stream[t]);
      p.need.push_back({});
      p.need_in_what.emplace_back();
      p.need_out_what.emplace_back();
      stream_count.push_back(0);
    }
    const int sl = stream_slot[s];
    p.slot[t] = sl;
    p.pos[t] = stream_count[std::size_t(sl)]++;
    std::uint64_t my_seq = 0;
    std::vector<double> recv_bytes;
    if (c.kind[t] == TaskKind::collective && c.detail[t] >= 0 && std::size_t(c.detail[t]) < c.colls.size()) {
      const CollInfo& ci = c.colls[std::size_t(c.detail[t])];
      my_seq = seq[{int(ci.group), s}]++;
      if (ci.kind == CollKind::all_to_all_v) {
        auto members = g.layout.group_of_rank(ci.group, rank);
        const int me = g.layout.position_in_group(ci.group, rank);
        recv_bytes.assign(members.size(), 0.0);
        for (std::size_t q = 0; q < members.size(); ++q) {
          const int pr = members[q];
          auto it = peer_index.find(pr);
          if (it == peer_index.end()) it = peer_index.emplace(pr, collective_index(g.tasks_of_rank(pr))).first;
          auto jt = it->second.find({int(ci.group), s, my_seq});
          const ClassTasks& pc = g.tasks_of_rank(pr);
          if (jt == it->second.end())
            throw ExecError("graph: all-to-all-v task " + std::to_string(t) + " of rank " + std::to_string(rank) +
                            " has no matching collective on rank " + std::to_string(pr));
          const CollInfo& pci = pc.colls[std::size_t(pc.detail[jt->second])];
          if (pci.a2av >= 0 && std::size_t(pci.a2av) < pc.a2av_bytes.size() &&
              std::size_t(me) < pc.a2av_bytes[std::size_t(pci.a2av)].size())
            recv_bytes[q] = pc.a2av_bytes[std::size_t(pci.a2av)][std::size_t(me)];
        }
      }
    }
    Op op = build_op(g, rank, t, scale, my_seq, std::move(recv_bytes));
    op.context = op.describe();
    const WorkspaceNeed w = world.workspace_need(op);
    auto& n = p.need[std::size_t(sl)];
    if (w.in_bytes > n.in_bytes) {
      n.in_bytes = w.in_bytes;
      p.need_in_what[std::size_t(sl)] = op.describe();
    }
    if (w.out_bytes > n.out_bytes) {
      n.out_bytes = w.out_bytes;
      p.need_out_what[std::size_t(sl)] = op.describe();
    }
    p.ops.push_back(std::move(op));
  }
  return p;
}

// Every recv names a send in its peer's class whose peer is this rank, and vice versa.
void check_p2p(const PartitionGraph& g, const std::vector<int>& ranks) {
  for (int r : ranks) {
    const ClassTasks& c = g.tasks_of_rank(r);
    for (std::uint32_t t = 0; t < c.size(); ++t) {
      if (c.kind[t] != TaskKind::recv && c.kind[t] != TaskKind::send) continue;
      const std::int32_t d = c.detail[t];
      if (d < 0 || std::size_t(d) >= c.p2ps.size()) continue;  // build_op reports it
      const P2PInfo& pi = c.p2ps[std::size_t(d)];
      const int peer = g.layout.peer(pi.group, r, pi.offset);
      const ClassTasks& pc = g.tasks_of_rank(peer);
      const std::string me = std::string(task_kind_name(c.kind[t])) + " task " + std::to_string(t) + " of rank " + std::to_string(r);
      if (pi.match >= pc.size())
        throw ExecError("graph: " + me + " matches task " + std::to_string(pi.match) + " of rank " + std::to_string(peer) +
                        ", which does not exist");
      const TaskKind want = c.kind[t] == TaskKind::recv ? TaskKind::send : TaskKind::recv;
      if (pc.kind[pi.match] != want)
        throw ExecError("graph: " + me + " matches task " + std::to_string(pi.match) + " of rank " + std::to_string(peer) +
                        ", which is a " + task_kind_name(pc.kind[pi.match]));
      const std::int32_t pd = pc.detail[pi.match];
      if (pd < 0 || std::size_t(pd) >= pc.p2ps.size()) continue;
      const P2PInfo& ppi = pc.p2ps[std::size_t(pd)];
      if (g.layout.peer(ppi.group, peer, ppi.offset) != r || ppi.match != t)
        throw ExecError("graph: " + me + " and task " + std::to_string(pi.match) + " of rank " + std::to_string(peer) +
                        " do not name each other");
    }
  }
}

struct RankRun {
  RankTiming timing;
  std::vector<char> measured;
  std::string error;
  bool aborted = false;
};

void run_rank_body(World& world, const PartitionGraph& g, RankPlan& plan, int iterations, Barrier& barrier,
                   const ExecOptions& o, RankRun& out, std::unique_ptr<Backend>& be);

void run_rank(World& world, const PartitionGraph& g, RankPlan& plan, int iterations, Barrier& barrier,
              const ExecOptions& o, RankRun& out) {
  std::unique_ptr<Backend> be;  // destroyed after the catch below has aborted the world
  try {
    run_rank_body(world, g, plan, iterations, barrier, o, out, be);
  } catch (const ExecAborted&) {
    throw;
  } catch (const std::exception& e) {
    world.abort("rank " + std::to_string(plan.rank) + " failed: " + e.what());
    throw;
  }
}

void run_rank_body(World& world, const PartitionGraph& g, RankPlan& plan, int iterations, Barrier& barrier,
                   const ExecOptions& o, RankRun& out, std::unique_ptr<Backend>& be) {
  const ClassTasks& c = g.tasks_of_rank(plan.rank);
  be = world.make_backend(plan.rank);
  std::vector<StreamHandle> streams;
  std::vector<Workspace> ws;
  for (std::size_t sl = 0; sl < plan.slot_stream.size(); ++sl) {
    streams.push_back(be->create_stream(plan.slot_stream[sl]));
    Workspace w;
    const std::string where = " on rank " + std::to_string(plan.rank) + ", stream " + stream_name(plan.slot_stream[sl]);
    if (plan.need[sl].in_bytes)
      w.in = be->allocate(plan.need[sl].in_bytes, "the inputs of " + plan.need_in_what[sl] + where);
    if (plan.need[sl].out_bytes)
      w.out = be->allocate(plan.need[sl].out_bytes, "the outputs of " + plan.need_out_what[sl] + where);
    out.timing.workspace_bytes += double(w.in.bytes + w.out.bytes);
    ws.push_back(w);
  }
  const std::size_t n = c.size();
  std::vector<EventHandle> start_ev(n), end_ev(n);
  for (std::size_t t = 0; t < n; ++t) {
    start_ev[t] = be->create_event();
    end_ev[t] = be->create_event();
  }
  const std::size_t slots = streams.size();
  std::vector<std::int64_t> waited(slots * slots);
  for (int it = 0; it < iterations; ++it) {
    barrier.arrive_and_wait(o.timeout_s);
    world.processes_barrier();
    std::fill(waited.begin(), waited.end(), -1);
    for (std::uint32_t t = 0; t < n; ++t) {
      const int sl = plan.slot[t];
      for (std::uint32_t d : c.deps_of(t)) {
        const int sd = plan.slot[d];
        if (sd == sl) continue;  // stream order
        auto& w = waited[std::size_t(sl) * slots + std::size_t(sd)];
        if (std::int64_t(plan.pos[d]) <= w) continue;  // an event later on that stream was waited already
        be->wait_event(streams[std::size_t(sl)], end_ev[d]);
        w = plan.pos[d];
      }
      Op& op = plan.ops[t];  // in place: no copy (and allocation) per task
      op.iteration = std::uint32_t(it);
      const StreamHandle sh = streams[std::size_t(sl)];
      be->record_event(sh, start_ev[t]);
      switch (op.kind) {
        case TaskKind::collective: be->collective(sh, op, ws[std::size_t(sl)]); break;
        case TaskKind::send: be->send(sh, op, ws[std::size_t(sl)]); break;
        case TaskKind::recv: be->recv(sh, op, ws[std::size_t(sl)]); break;
        default: be->compute(sh, op, ws[std::size_t(sl)]); break;
      }
      be->record_event(sh, end_ev[t]);
    }
    be->synchronize();
    if (o.progress)
      std::fprintf(stderr, "exec: rank %d finished step %d of %d%s\n", plan.rank, it + 1, iterations,
                   it < iterations - 1 ? " (warm-up)" : "");
  }
  out.timing.rank = plan.rank;
  out.timing.start_s.resize(n);
  out.timing.end_s.resize(n);
  out.measured.resize(n);
  for (std::size_t t = 0; t < n; ++t) {
    out.timing.start_s[t] = be->event_time_s(start_ev[t]);
    out.timing.end_s[t] = be->event_time_s(end_ev[t]);
    out.measured[t] = be->measures(c.kind[t]) ? 1 : 0;
  }
}

// Disjoint sorted intervals.
using Intervals = std::vector<std::pair<double, double>>;
Intervals merge(Intervals v) {
  std::sort(v.begin(), v.end());
  Intervals out;
  for (auto& iv : v) {
    if (iv.second <= iv.first) continue;
    if (!out.empty() && iv.first <= out.back().second) out.back().second = std::max(out.back().second, iv.second);
    else out.push_back(iv);
  }
  return out;
}
// Length of [a, b) covered by the merged intervals.
double covered(const Intervals& m, double a, double b) {
  double s = 0;
  auto it = std::lower_bound(m.begin(), m.end(), std::make_pair(a, a),
                             [](const auto& x, const auto& y) { return x.second < y.first; });
  for (; it != m.end() && it->first < b; ++it) s += std::max(0.0, std::min(b, it->second) - std::max(a, it->first));
  return s;
}

bool is_compute_event(const TimelineEvent& e) { return e.stream == Stream::compute; }

}  // namespace

double choose_scale(const PartitionGraph& g, const World& world, const ExecOptions& o) {
  if (o.scale > 0) return std::min(1.0, o.scale);
  if (world.backend() != "cpu") return 1.0;
  double worst = 0;
  const auto ranks = world.ranks_to_run();
  for (int r : ranks) worst = std::max(worst, rank_flops(g, r));
  double s = 1.0;
  if (worst > o.cpu_gflop_budget * 1e9) s = o.cpu_gflop_budget * 1e9 / worst;
  for (int iter = 0; iter < 60; ++iter) {
    double total = 0;
    for (int r : ranks) {
      const ClassTasks& c = g.tasks_of_rank(r);
      std::vector<WorkspaceNeed> per(kStreams);
      std::map<std::pair<int, int>, std::uint64_t> seq;
      for (std::uint32_t t = 0; t < c.size(); ++t) {
        if (c.kind[t] == TaskKind::collective && c.colls.size() > std::size_t(std::max(0, c.detail[t])) &&
            c.colls[std::size_t(c.detail[t])].kind == CollKind::all_to_all_v)
          continue;  // sized with the peers' bytes at plan time; small next to the rest
        Op op = build_op(g, r, t, s, 0);
        WorkspaceNeed w = world.workspace_need(op);
        auto& p = per[std::size_t(c.stream[t])];
        p.in_bytes = std::max(p.in_bytes, w.in_bytes);
        p.out_bytes = std::max(p.out_bytes, w.out_bytes);
      }
      for (auto& p : per) total += double(p.in_bytes + p.out_bytes);
    }
    if (total <= o.cpu_memory_budget_bytes) break;
    s *= 0.7;
  }
  return s;
}

ExecResult execute(const PartitionGraph& g, const ExecOptions& options) {
  WorldOptions wo;
  wo.timeout_s = options.timeout_s;
  wo.check_collectives = options.check_collectives;
  wo.representative = options.representative;
  wo.representatives = options.representatives;
  wo.processes = options.processes;
  auto world = make_world(options.backend, g, wo);
  return execute(g, *world, options);
}

ExecResult execute(const PartitionGraph& g, World& world, const ExecOptions& o) {
  const auto t_begin = Clock::now();
  if (g.rank_class.empty() || g.classes.empty()) throw ExecError("the partition graph has no ranks");
  const std::vector<int> ranks = world.ranks_to_run();
  check_p2p(g, ranks);
  ExecResult res;
  res.scale = choose_scale(g, world, o);
  res.representative = !world.ranks_concurrent() || int(ranks.size()) < g.layout.world();

  std::vector<RankPlan> plans;
  plans.reserve(ranks.size());
  for (int r : ranks) plans.push_back(plan_rank(g, world, r, res.scale));

  const int warmup = o.warmup >= 0 ? o.warmup : (world.backend() == "cpu" ? 0 : 1);
  const int iterations = warmup + 1;
  std::vector<RankRun> runs(ranks.size());
  auto drive = [&](std::size_t i, Barrier& barrier) {
    try {
      run_rank(world, g, plans[i], iterations, barrier, o, runs[i]);
    } catch (const ExecAborted& e) {
      runs[i].error = e.what();
      runs[i].aborted = true;
      barrier.abort();
    } catch (const std::exception& e) {
      runs[i].error = e.what();
      world.abort(std::string("rank ") + std::to_string(ranks[i]) + " failed: " + e.what());
      barrier.abort();
    }
  };
  if (world.ranks_concurrent()) {
    Barrier barrier(int(ranks.size()));
    std::vector<std::thread> threads;
    threads.reserve(ranks.size());
    for (std::size_t i = 0; i < ranks.size(); ++i) threads.emplace_back(drive, i, std::ref(barrier));
    for (auto& t : threads) t.join();
  } else {
    for (std::size_t i = 0; i < ranks.size(); ++i) {
      Barrier barrier(1);
      std::thread t(drive, i, std::ref(barrier));
      t.join();
      if (!runs[i].error.empty()) break;
    }
  }
  std::string first_error, first_abort;
  for (auto& r : runs) {
    if (r.error.empty()) continue;
    if (!r.aborted && first_error.empty()) first_error = r.error;
    if (r.aborted && first_abort.empty()) first_abort = r.error;
  }
  if (!first_error.empty()) throw ExecError(first_error);
  if (!first_abort.empty()) throw ExecError(first_abort);

  // ---- Timeline ----
  Timeline& tl = res.timeline;
  tl.source = "measured";
  const bool concurrent = world.ranks_concurrent();
  double t0 = 1e300;
  for (auto& r : runs)
    for (double s : r.timing.start_s) t0 = std::min(t0, s);
  t0 = world.earliest_over_processes(t0);
  double step = 0;
  std::vector<std::string> notes = world.notes();
  for (std::size_t i = 0; i < runs.size(); ++i) {
    RankRun& run = runs[i];
    const int rank = ranks[i];
    const ClassTasks& c = g.tasks_of_rank(rank);
    double r0 = t0;
    if (!concurrent) {
      r0 = 1e300;
      for (double s : run.timing.start_s) r0 = std::min(r0, s);
    }
    TimelineRank tr;
    tr.rank = rank;
    tr.node = g.layout.node_of(rank);
    tr.local_gpu = rank % std::max(1, g.layout.gpus_per_node());
    tr.rank_class = g.rank_class[std::size_t(rank)];
    tr.stage = std::size_t(tr.rank_class) < g.class_stage.size() ? g.class_stage[std::size_t(tr.rank_class)] : g.layout.coord(rank).pp;
    tl.ranks.push_back(tr);
    double mem = 0;
    if (std::size_t(tr.rank_class) < g.class_memory.size()) {
      const auto& m = g.class_memory[std::size_t(tr.rank_class)];
      mem = m.weights + m.grads + m.optimizer;
    }
    std::vector<std::pair<double, double>> mem_changes;
    for (std::uint32_t t = 0; t < c.size(); ++t) {
      const Op& op = plans[i].ops[t];
      TimelineEvent e;
      e.rank = rank;
      e.stream = c.stream[t];
      e.category = c.category[t];
      e.task = std::int32_t(t);
      e.name = tl.intern(op.name);
      run.timing.start_s[t] -= r0;
      run.timing.end_s[t] -= r0;
      e.start_s = run.timing.start_s[t];
      e.dur_s = std::max(0.0, run.timing.end_s[t] - run.timing.start_s[t]);
      e.layer = c.layer[t];
      e.microbatch = c.microbatch[t];
      e.flops = op.flops;
      e.bytes = op.bytes;
      e.measured = run.measured[t] != 0;
      if (auto* pp = std::get_if<P2POp>(&op.detail)) {
        e.flow = (std::int64_t(pp->src) << 32) | std::int64_t(pp->send_task);
        e.flow_out = op.kind == TaskKind::send;
      }
      if (!e.measured) ++res.unmeasured;
      step = std::max(step, e.start_s + e.dur_s);
      if (t < c.mem_delta.size() && c.mem_delta[t] != 0) mem_changes.push_back({e.start_s + e.dur_s, c.mem_delta[t]});
      tl.events.push_back(e);
    }
    std::sort(mem_changes.begin(), mem_changes.end());
    tl.memory.push_back({rank, 0.0, mem});
    for (auto& [t, dm] : mem_changes) {
      mem += dm;
      tl.memory.push_back({rank, t, mem});
    }
    res.ranks.push_back(run.timing);
  }
  res.tasks = tl.events.size();
  res.step_time_s = step;

  // Exposed communication: the part of a comm task not covered by the rank's compute stream.
  std::map<int, Intervals> compute_busy;
  for (auto& e : tl.events)
    if (is_compute_event(e)) compute_busy[e.rank].push_back({e.start_s, e.start_s + e.dur_s});
  for (auto& [r, v] : compute_busy) v = merge(std::move(v));
  for (auto& e : tl.events) {
    if (is_compute_event(e) || e.category == Category::compute || e.category == Category::optimizer) continue;
    const double cov = covered(compute_busy[e.rank], e.start_s, e.start_s + e.dur_s);
    e.exposed = e.dur_s - cov > std::max(1e-6, 0.01 * e.dur_s);
  }
  res.wall_s = seconds_since(t_begin);

  Json info = Json::object();
  info["backend"] = world.backend();
  info["device"] = world.describe();
  info["ranks_run"] = ranks;
  info["world"] = g.layout.world();
  info["mode"] = res.representative ? "representative: one rank per class, run one after another"
                                    : "all ranks at once";
  info["scale"] = res.scale;
  if (res.scale < 1.0) {
    char sc[32];
    std::snprintf(sc, sizeof sc, "%.3g", res.scale);
    notes.push_back(std::string("work scaled down by ") + sc +
                    " to fit this backend (GEMM dims x scale^(1/3), attention lengths x scale^(1/2), bytes x scale); "
                    "event flops/bytes are what really ran");
  }
  info["warmup_steps"] = warmup;
  info["measured_step"] = iterations;
  info["tasks"] = res.tasks;
  info["unmeasured_tasks"] = res.unmeasured;
  if (res.unmeasured > 0)
    notes.push_back(std::to_string(res.unmeasured) +
                    " communication tasks could not be measured for real here (measured=false): their duration is "
                    "that of a stand-in, not a figure to compare");
  if (res.representative)
    notes.push_back("one representative rank per class ran alone: the step time is that rank's span, without waiting for peers");
  double ws_total = 0;
  for (auto& r : res.ranks) ws_total += r.workspace_bytes;
  info["workspace_bytes"] = ws_total;
  info["wall_s"] = res.wall_s;
  info["step_time_s"] = res.step_time_s;
  info["stats"] = world.stats();
  info["notes"] = notes;
  res.info = info;
  return res;
}

bool same_task_ids(const PartitionGraph& a, const PartitionGraph& b) {
  if (a.layout.world() != b.layout.world() || a.rank_class.size() != b.rank_class.size()) return false;
  for (int r = 0; r < a.layout.world(); ++r) {
    const ClassTasks& x = a.tasks_of_rank(r);
    const ClassTasks& y = b.tasks_of_rank(r);
    if (x.size() != y.size() || x.kind != y.kind || x.stream != y.stream || x.deps != y.deps || x.dep_begin != y.dep_begin)
      return false;
    for (std::size_t t = 0; t < x.size(); ++t)
      if (a.names[x.name[t]] != b.names[y.name[t]]) return false;
  }
  return true;
}

Json measured_report(const ExecResult& r, const PartitionGraph& g, const Scenario* scenario) {
  const bool cpu = r.info.value("backend", "") == "cpu";
  Json exec_extra = Json::object();
  exec_extra["source"] = "measured";
  exec_extra["exec"] = r.info;
  exec_extra["memory_source"] =
      "graph estimate (the executor allocates per-stream workspaces, reported in exec.workspace_bytes)";
  if (cpu) exec_extra["mfu_note"] = "mfu is not computed on the cpu backend (no GPU peak applies)";
  if (r.scale < 1.0)
    exec_extra["scale_note"] =
        "scaled run: tflops_per_gpu counts the model FLOPs times the scale factor; tokens_per_s counts the scenario's "
        "tokens, which the scaled GEMMs did not all process";
  // The simulator's own accounting (report_builder), on the measured start/end times.
  std::vector<RankRecord> recs;
  recs.reserve(r.ranks.size());
  for (const auto& rt : r.ranks) recs.push_back({rt.rank, &g.tasks_of_rank(rt.rank), &rt.start_s, &rt.end_s});
  if (scenario) {
    Report rep = build_report(*scenario, g, recs, r.step_time_s);
    rep.tflops_per_gpu *= r.scale;
    rep.mfu = cpu ? 0.0 : rep.mfu * r.scale;
    if (!rep.extra.is_object()) rep.extra = Json::object();
    for (auto it = exec_extra.begin(); it != exec_extra.end(); ++it) rep.extra[it.key()] = it.value();
    return rep.to_json();
  }
  // A hand-built graph without a scenario: the same accounting, no cluster figures.
  Report rep;
  rep.scenario = "graph";
  rep.strategy = Json::object();
  rep.gpus = g.layout.world();
  rep.step_time_s = r.step_time_s;
  if (r.step_time_s > 0) {
    rep.tokens_per_s = g.tokens_per_step / r.step_time_s;
    rep.tflops_per_gpu = g.model_flops_per_step * r.scale / r.step_time_s / std::max(1, g.layout.world()) / 1e12;
  }
  fill_time_accounting(rep, recs, r.step_time_s);
  fill_memory(rep, g);
  rep.extra = exec_extra;
  return rep.to_json();
}

std::string process_result_to_string(const ExecResult& r) {
  Json j;
  j["timeline"] = timeline_to_json(r.timeline);
  Json ranks = Json::array();
  for (const auto& t : r.ranks)
    ranks.push_back({{"rank", t.rank}, {"start_s", t.start_s}, {"end_s", t.end_s}, {"workspace_bytes", t.workspace_bytes}});
  j["ranks"] = ranks;
  j["info"] = r.info;
  j["scale"] = r.scale;
  j["step_time_s"] = r.step_time_s;
  j["wall_s"] = r.wall_s;
  j["tasks"] = r.tasks;
  j["unmeasured"] = r.unmeasured;
  j["representative"] = r.representative;
  return j.dump();
}

ExecResult process_result_from_string(const std::string& s) {
  const Json j = Json::parse(s);
  ExecResult r;
  r.timeline = timeline_from_json(j.at("timeline"), "(a process's part of the run)");
  r.timeline.report = Json();
  for (const auto& t : j.at("ranks"))
    r.ranks.push_back({t.at("rank").get<int>(), t.at("start_s").get<std::vector<double>>(), t.at("end_s").get<std::vector<double>>(),
                       t.at("workspace_bytes").get<double>()});
  r.info = j.at("info");
  r.scale = j.at("scale").get<double>();
  r.step_time_s = j.at("step_time_s").get<double>();
  r.wall_s = j.at("wall_s").get<double>();
  r.tasks = j.at("tasks").get<std::size_t>();
  r.unmeasured = j.at("unmeasured").get<std::size_t>();
  r.representative = j.at("representative").get<bool>();
  return r;
}

ExecResult merge_process_results(std::vector<ExecResult> parts) {
  if (parts.empty()) throw ExecError("no process reported a result");
  ExecResult out = std::move(parts.front());
  for (std::size_t i = 1; i < parts.size(); ++i) {
    ExecResult& p = parts[i];
    for (TimelineEvent e : p.timeline.events) {
      e.name = out.timeline.intern(e.name < p.timeline.names.size() ? p.timeline.names[e.name] : std::string("task"));
      out.timeline.events.push_back(e);
    }
    out.timeline.ranks.insert(out.timeline.ranks.end(), p.timeline.ranks.begin(), p.timeline.ranks.end());
    out.timeline.memory.insert(out.timeline.memory.end(), p.timeline.memory.begin(), p.timeline.memory.end());
    for (auto& t : p.ranks) out.ranks.push_back(std::move(t));
    out.step_time_s = std::max(out.step_time_s, p.step_time_s);
    out.wall_s = std::max(out.wall_s, p.wall_s);
    out.tasks += p.tasks;
    out.unmeasured += p.unmeasured;
  }
  std::sort(out.timeline.ranks.begin(), out.timeline.ranks.end(), [](const auto& a, const auto& b) { return a.rank < b.rank; });
  std::sort(out.ranks.begin(), out.ranks.end(), [](const auto& a, const auto& b) { return a.rank < b.rank; });
  out.info["processes"] = parts.size();
  return out;
}

}  // namespace strata::exec
