// The executor on the cpu backend, end to end on a hand-built TP x PP graph (exec/demo_graph.hpp):
// every task timed once with its id, dependencies and stream order respected, collectives and
// messages moving the right data, communication overlapping compute, errors naming the task.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "cpu/shm_fabric.hpp"
#include "demo_graph.hpp"
#include "executor.hpp"
#include "ops.hpp"
#include "io/scenario.hpp"
#include "plan/planner.hpp"
#include "report/timeline_json.hpp"

using namespace strata;
using namespace strata::exec;

namespace {

ExecResult run_cpu(const PartitionGraph& g, bool check = true, double scale = 0) {
  ExecOptions o;
  o.backend = "cpu";
  o.check_collectives = check;
  o.scale = scale;
  o.timeout_s = 60;
  return execute(g, o);
}

// (rank, task) -> event
std::map<std::pair<int, int>, const TimelineEvent*> index_events(const Timeline& t) {
  std::map<std::pair<int, int>, const TimelineEvent*> m;
  for (const auto& e : t.events) m[{e.rank, e.task}] = &e;
  return m;
}

double end_of(const TimelineEvent& e) { return e.start_s + e.dur_s; }

}  // namespace

TEST(ExecCpu, EveryTaskAppearsOnceWithItsId) {
  PartitionGraph g = make_demo_graph({});
  ExecResult r = run_cpu(g);
  EXPECT_EQ(r.timeline.source, "measured");
  ASSERT_EQ(r.timeline.ranks.size(), 4u);
  std::size_t total = 0;
  for (int rank = 0; rank < g.layout.world(); ++rank) {
    const ClassTasks& c = g.tasks_of_rank(rank);
    std::multiset<int> ids;
    for (const auto& e : r.timeline.events)
      if (e.rank == rank) {
        ids.insert(e.task);
        // Same name, stream, category, micro-batch and layer as the graph's task.
        EXPECT_EQ(r.timeline.names[e.name], g.names[c.name[std::size_t(e.task)]]);
        EXPECT_EQ(e.stream, c.stream[std::size_t(e.task)]);
        EXPECT_EQ(e.category, c.category[std::size_t(e.task)]);
        EXPECT_EQ(e.microbatch, c.microbatch[std::size_t(e.task)]);
        EXPECT_EQ(e.layer, c.layer[std::size_t(e.task)]);
        EXPECT_TRUE(e.measured);
        EXPECT_GE(e.dur_s, 0.0);
      }
    ASSERT_EQ(ids.size(), c.size()) << "rank " << rank;
    for (std::size_t t = 0; t < c.size(); ++t) EXPECT_EQ(ids.count(int(t)), 1u) << "rank " << rank << " task " << t;
    total += c.size();
  }
  EXPECT_EQ(r.timeline.events.size(), total);
  EXPECT_EQ(r.tasks, total);
  EXPECT_EQ(r.unmeasured, 0u);
  EXPECT_GT(r.step_time_s, 0.0);
  // The GEMM events carry the FLOPs that really ran: at scale 1 the graph's own.
  auto idx = index_events(r.timeline);
  const ClassTasks& c0 = g.tasks_of_rank(0);
  for (std::uint32_t t = 0; t < c0.size(); ++t)
    if (c0.op[t] == OpKind::gemm) {
      const TimelineEvent* e = idx[{0, int(t)}];
      EXPECT_DOUBLE_EQ(e->flops, c0.flops[t]);
    }
}

TEST(ExecCpu, DependenciesAreRespected) {
  PartitionGraph g = make_demo_graph({.layers_per_stage = 2, .micro_batches = 3});
  ExecResult r = run_cpu(g);
  auto idx = index_events(r.timeline);
  std::size_t checked = 0, cross_stream = 0;
  for (int rank = 0; rank < g.layout.world(); ++rank) {
    const ClassTasks& c = g.tasks_of_rank(rank);
    for (std::uint32_t t = 0; t < c.size(); ++t)
      for (std::uint32_t d : c.deps_of(t)) {
        const TimelineEvent& et = *idx.at({rank, int(t)});
        const TimelineEvent& ed = *idx.at({rank, int(d)});
        EXPECT_GE(et.start_s, end_of(ed)) << "rank " << rank << ": task " << t << " started before its dependency " << d << " ended";
        ++checked;
        cross_stream += c.stream[t] != c.stream[d];
      }
  }
  EXPECT_GT(checked, 100u);
  EXPECT_GT(cross_stream, 10u);  // the graph really has cross-stream dependencies (events)
  // Pipeline: a receive ends after its matching send started (data cannot arrive earlier).
  for (const auto& e : r.timeline.events) {
    if (e.flow < 0 || e.flow_out) continue;
    const int src = int(e.flow >> 32), send_task = int(e.flow & 0xffffffff);
    const TimelineEvent& s = *idx.at({src, send_task});
    EXPECT_TRUE(s.flow_out);
    EXPECT_EQ(s.flow, e.flow);
    EXPECT_GE(end_of(e), s.start_s);
  }
}

TEST(ExecCpu, StreamOrderIsRespected) {
  PartitionGraph g = make_demo_graph({.micro_batches = 3, .sequence_parallel = true});
  ExecResult r = run_cpu(g);
  std::map<std::pair<int, int>, std::vector<const TimelineEvent*>> per_stream;
  for (const auto& e : r.timeline.events) per_stream[{e.rank, int(e.stream)}].push_back(&e);
  std::size_t pairs = 0;
  for (auto& [key, evs] : per_stream) {
    std::sort(evs.begin(), evs.end(), [](auto* a, auto* b) { return a->task < b->task; });
    for (std::size_t i = 1; i < evs.size(); ++i) {
      EXPECT_GE(evs[i]->start_s, end_of(*evs[i - 1]))
          << "rank " << key.first << " stream " << key.second << ": task " << evs[i]->task << " overlaps task " << evs[i - 1]->task;
      ++pairs;
    }
  }
  EXPECT_GT(pairs, 100u);
}

TEST(ExecCpu, CollectivesAndMessagesMoveTheRightData) {
  for (bool sp : {false, true})
    for (bool moe : {false, true}) {
      PartitionGraph g = make_demo_graph({.sequence_parallel = sp, .moe = moe});
      ExecResult r = run_cpu(g, true);
      const Json& st = r.info["stats"];
      EXPECT_GT(st["checked_collectives"].get<int>(), 10) << "sp " << sp << " moe " << moe;
      EXPECT_GT(st["checked_messages"].get<int>(), 3);
      EXPECT_EQ(st["mismatches"].get<int>(), 0) << st.dump();
    }
}

// The shared-memory collectives on their own, with data computed here independently.
TEST(ExecCpu, SharedMemoryCollectivesComputeTheRightValues) {
  const int n = 4;
  const std::size_t count = 1000;  // elements per rank (all-reduce), total (gather/scatter)
  ShmFabric fabric(30);
  std::vector<std::vector<float>> in(n), out(n);
  auto value = [](int r, std::size_t i) { return float(r * 3 + 1) * 0.5f + float(i % 17); };
  for (CollKind kind : {CollKind::all_reduce, CollKind::all_gather, CollKind::reduce_scatter, CollKind::all_to_all,
                        CollKind::broadcast, CollKind::all_to_all_v}) {
    std::vector<std::vector<std::size_t>> counts(n, std::vector<std::size_t>(n));
    for (int r = 0; r < n; ++r)
      for (int q = 0; q < n; ++q) counts[std::size_t(r)][std::size_t(q)] = std::size_t(10 + r + 2 * q);
    for (int r = 0; r < n; ++r) {
      in[std::size_t(r)].assign(count, 0);
      for (std::size_t i = 0; i < count; ++i) in[std::size_t(r)][i] = value(r, i);
      out[std::size_t(r)].assign(count, -1);
    }
    std::vector<std::thread> th;
    for (int r = 0; r < n; ++r)
      th.emplace_back([&, r] {
        fabric.collective({0, 0, 0, 0, std::uint64_t(kind)}, kind, n, r, in[std::size_t(r)].data(), out[std::size_t(r)].data(),
                          kind == CollKind::all_to_all_v ? 0 : count, counts[std::size_t(r)], "test");
      });
    for (auto& t : th) t.join();
    const std::size_t per = count / n;
    for (int p = 0; p < n; ++p) {
      const auto& o = out[std::size_t(p)];
      switch (kind) {
        case CollKind::all_reduce:
          for (std::size_t i = 0; i < count; ++i) {
            float want = 0;
            for (int q = 0; q < n; ++q) want += value(q, i);
            ASSERT_FLOAT_EQ(o[i], want) << "all_reduce rank " << p << " element " << i;
          }
          break;
        case CollKind::all_gather:
          for (std::size_t i = 0; i < count; ++i) ASSERT_EQ(o[i], value(int(i / per), i % per)) << "all_gather " << i;
          break;
        case CollKind::reduce_scatter:
          for (std::size_t i = 0; i < per; ++i) {
            float want = 0;
            for (int q = 0; q < n; ++q) want += value(q, std::size_t(p) * per + i);
            ASSERT_FLOAT_EQ(o[i], want) << "reduce_scatter rank " << p << " element " << i;
          }
          break;
        case CollKind::all_to_all:
          for (std::size_t i = 0; i < count; ++i)
            ASSERT_EQ(o[i], value(int(i / per), std::size_t(p) * per + i % per)) << "all_to_all " << i;
          break;
        case CollKind::broadcast:
          for (std::size_t i = 0; i < count; ++i) ASSERT_EQ(o[i], value(0, i));
          break;
        case CollKind::all_to_all_v: {
          std::size_t off = 0;
          for (int q = 0; q < n; ++q) {
            std::size_t src = 0;
            for (int k = 0; k < p; ++k) src += counts[std::size_t(q)][std::size_t(k)];
            for (std::size_t j = 0; j < counts[std::size_t(q)][std::size_t(p)]; ++j)
              ASSERT_EQ(o[off++], value(q, src + j)) << "all_to_all_v rank " << p << " from " << q;
          }
          break;
        }
      }
    }
  }
  // Messages: eager, matched by key, sizes checked.
  std::vector<float> msg(64), got(64, 0);
  for (std::size_t i = 0; i < msg.size(); ++i) msg[i] = float(i) + 0.5f;
  std::thread rx([&] { fabric.recv({1, 2, 7, 0}, got.data(), got.size(), "recv"); });
  fabric.send({1, 2, 7, 0}, msg.data(), msg.size());
  rx.join();
  EXPECT_EQ(got, msg);
  fabric.send({1, 2, 8, 0}, msg.data(), 10);
  EXPECT_THROW(fabric.recv({1, 2, 8, 0}, got.data(), got.size(), "recv"), ExecError);
}

TEST(ExecCpu, CommunicationOverlapsCompute) {
  // dp = 2: each layer's gradient all-reduce runs on the dp stream while the backward pass of
  // the layers below it computes; pipeline receives wait while the previous micro-batch computes.
  PartitionGraph g = make_demo_graph({.dp = 2, .layers_per_stage = 3, .micro_batches = 2, .seq = 64, .hidden = 128});
  ExecResult r = run_cpu(g, false);
  std::map<int, std::vector<const TimelineEvent*>> compute;
  for (const auto& e : r.timeline.events)
    if (e.stream == Stream::compute) compute[e.rank].push_back(&e);
  auto overlap = [&](const TimelineEvent& c) {
    double s = 0;
    for (auto* k : compute[c.rank]) s += std::max(0.0, std::min(end_of(c), end_of(*k)) - std::max(c.start_s, k->start_s));
    return s;
  };
  double dp_overlap = 0, pp_overlap = 0;
  for (const auto& e : r.timeline.events) {
    if (e.stream == Stream::compute) continue;
    if (e.category == Category::dp) dp_overlap += overlap(e);
    if (e.category == Category::pp) pp_overlap += overlap(e);
  }
  EXPECT_GT(dp_overlap, 0.0) << "no gradient all-reduce ran while compute ran";
  EXPECT_GT(pp_overlap, 0.0) << "no pipeline transfer ran while compute ran";
  // The report accounts for it: exposed dp time (worst rank) is at most the dp time of a rank.
  Json rep = measured_report(r, g, nullptr);
  std::map<int, double> dp_time;
  for (const auto& e : r.timeline.events)
    if (e.category == Category::dp) dp_time[e.rank] += e.dur_s;
  double most = 0;
  for (auto& [rank, t] : dp_time) most = std::max(most, t);
  EXPECT_LE(rep["exposed_comm_s"]["dp"].get<double>(), most + 1e-9);
  EXPECT_GT(most, 0.0);
}

TEST(ExecCpu, ClassSharedGraphRunsEveryRank) {
  PartitionGraph g = make_demo_graph({.pp = 2, .dp = 2, .expanded = false});
  ASSERT_EQ(g.classes.size(), 2u);
  ExecResult r = run_cpu(g);
  EXPECT_EQ(r.timeline.ranks.size(), 8u);
  EXPECT_EQ(r.info["stats"]["mismatches"].get<int>(), 0);
  std::size_t want = 0;
  for (int rank = 0; rank < 8; ++rank) want += g.tasks_of_rank(rank).size();
  EXPECT_EQ(r.timeline.events.size(), want);
}

TEST(ExecCpu, TimelineAndReportRoundTrip) {
  PartitionGraph g = make_demo_graph({});
  ExecResult r = run_cpu(g, false);
  r.timeline.report = measured_report(r, g, nullptr);
  EXPECT_GT(r.timeline.report["step_time_s"].get<double>(), 0.0);
  EXPECT_EQ(r.timeline.report["source"], "measured");
  EXPECT_TRUE(r.timeline.report.contains("exec"));
  const std::string path = (std::filesystem::temp_directory_path() / "strata_test_exec_timeline.json").string();
  write_timeline(r.timeline, path);
  Timeline back = read_timeline(path);
  std::filesystem::remove(path);
  EXPECT_EQ(back.events.size(), r.timeline.events.size());
  EXPECT_EQ(back.source, "measured");
  auto a = index_events(r.timeline), b = index_events(back);
  for (auto& [key, e] : a) {
    ASSERT_TRUE(b.count(key));
    EXPECT_NEAR(b[key]->dur_s, e->dur_s, 1e-9);
    EXPECT_EQ(back.names[b[key]->name], r.timeline.names[e->name]);
  }
}

TEST(ExecCpu, ScaledRunRecordsTheFactor) {
  PartitionGraph g = make_demo_graph({.seq = 256, .hidden = 256, .ffn = 512});
  ExecResult r = run_cpu(g, true, 0.125);
  EXPECT_DOUBLE_EQ(r.scale, 0.125);
  EXPECT_DOUBLE_EQ(r.info["scale"].get<double>(), 0.125);
  bool noted = false;
  for (const auto& n : r.info["notes"]) noted |= n.get<std::string>().find("scaled down") != std::string::npos;
  EXPECT_TRUE(noted);
  double ran = 0, claimed = 0;
  const ClassTasks& c = g.tasks_of_rank(0);
  auto idx = index_events(r.timeline);
  for (std::uint32_t t = 0; t < c.size(); ++t)
    if (c.op[t] == OpKind::gemm) {
      const TimelineEvent* e = idx[{0, int(t)}];
      ran += e->flops;
      claimed += c.flops[t];
    }
  EXPECT_NEAR(ran / claimed, 0.125, 0.03);  // dims x 0.5 each, rounded
  EXPECT_EQ(r.info["stats"]["mismatches"].get<int>(), 0);
  // Automatic scale: a budget of 0.01 GFLOP per rank forces a factor below 1.
  ExecOptions o;
  o.cpu_gflop_budget = 0.01;
  auto world = make_world("cpu", g, {});
  const double s = choose_scale(g, *world, o);
  EXPECT_LT(s, 1.0);
  double worst = 0;
  for (int rank = 0; rank < g.layout.world(); ++rank) worst = std::max(worst, rank_flops(g, rank));
  EXPECT_NEAR(s, 0.01e9 / worst, 1e-6 * s);
}

TEST(ExecCpu, AttentionPlanMatchesClaimedFlops) {
  AttnShape a;
  a.heads = 8;
  a.q_len = a.kv_len = 1024;
  a.head_dim = 64;
  a.causal = true;
  const double fwd = 2.0 * 1024 * 1024 * 64 * 8;  // causal half of 4 s^2 d h
  AttnOp f = plan_attention(a, fwd);
  EXPECT_NEAR(f.executed_flops / fwd, 1.0, 0.07);
  a.backward = true;
  AttnOp b = plan_attention(a, 2.5 * fwd);
  EXPECT_NEAR(b.executed_flops / (2.5 * fwd), 1.0, 0.07);
  EXPECT_GE(b.full_passes, 2);
  a.causal = false;
  AttnOp full = plan_attention(a, 4.0 * 1024 * 1024 * 64 * 8);
  EXPECT_DOUBLE_EQ(full.executed_flops, 4.0 * 1024 * 1024 * 64 * 8);
}

TEST(ExecCpu, OutOfMemoryNamesTheTask) {
  PartitionGraph g = make_demo_graph({});
  WorldOptions wo;
  wo.memory_limit_bytes = 64 * 1024;  // far too small
  auto world = make_cpu_world(g, wo);
  ExecOptions o;
  o.scale = 1;
  try {
    execute(g, *world, o);
    FAIL() << "expected an out-of-memory error";
  } catch (const ExecError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("out of memory"), std::string::npos) << msg;
    EXPECT_NE(msg.find("task"), std::string::npos) << msg;
    EXPECT_NE(msg.find("rank"), std::string::npos) << msg;
  }
}

TEST(ExecCpu, BrokenGraphIsRejected) {
  PartitionGraph g = make_demo_graph({});
  // Point stage 1's first forward receive at a task that is not a send.
  ClassTasks& c = g.classes[std::size_t(g.rank_class[2])];
  for (std::uint32_t t = 0; t < c.size(); ++t)
    if (c.kind[t] == TaskKind::recv) {
      c.p2ps[std::size_t(c.detail[t])].match = 0;
      break;
    }
  try {
    run_cpu(g);
    FAIL() << "expected the mismatched receive to be reported";
  } catch (const ExecError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("graph: "), std::string::npos) << msg;
    EXPECT_NE(msg.find("task 0 of rank"), std::string::npos) << msg;
  }
}

// The planner's own graph of scenarios/exec-small.json (CONTRACT §5), expanded to one class per
// rank: every task once with its id, dependencies respected, data checked; and the expanded
// graph keeps the task ids of the class-shared one that `strata simulate` times.
TEST(ExecCpu, PlannerGraphOfExecSmall) {
  Scenario s = load_scenario(std::string(STRATA_SOURCE_ROOT) + "/scenarios/exec-small.json");
  PlanOptions po;
  po.expand_ranks = true;
  PartitionGraph g = build_partition_graph(s, po);
  PartitionGraph sym = build_partition_graph(s);
  ASSERT_EQ(g.layout.world(), 4);
  EXPECT_TRUE(same_task_ids(g, sym));
  ExecResult r = run_cpu(g, true);
  auto idx = index_events(r.timeline);
  std::size_t want = 0;
  for (int rank = 0; rank < 4; ++rank) {
    const ClassTasks& c = g.tasks_of_rank(rank);
    want += c.size();
    for (std::uint32_t t = 0; t < c.size(); ++t) {
      ASSERT_TRUE(idx.count({rank, int(t)})) << "rank " << rank << " task " << t;
      const TimelineEvent* et = idx[{rank, int(t)}];
      for (std::uint32_t d : c.deps_of(t)) {
        const TimelineEvent* ed = idx[{rank, int(d)}];
        EXPECT_GE(et->start_s, end_of(*ed));
      }
    }
  }
  EXPECT_EQ(r.timeline.events.size(), want);
  EXPECT_EQ(r.info["stats"]["mismatches"].get<int>(), 0);
  EXPECT_GT(r.info["stats"]["checked_collectives"].get<int>(), 0);
  Json rep = measured_report(r, g, &s);
  EXPECT_EQ(rep["scenario"], "exec-small");
  EXPECT_GT(rep["tokens_per_s"].get<double>(), 0.0);
}

// The executor's one-GPU mode (what the cuda backend does with fewer GPUs than ranks), driven
// through a World that runs one representative per class, one after another, with compute on
// the cpu backend and communication replaced by nothing: communication must come out
// measured=false, counted, and left out by compare.
namespace {
class RepresentativeWorld final : public World {
public:
  RepresentativeWorld(const PartitionGraph& g) : g_(g), cpu_(make_cpu_world(g, {})) {}
  std::string backend() const override { return "test-representative"; }
  std::vector<int> ranks_to_run() const override { return g_.class_rep; }
  bool ranks_concurrent() const override { return false; }
  WorkspaceNeed workspace_need(const Op& op) const override { return cpu_->workspace_need(op); }
  std::unique_ptr<Backend> make_backend(int rank) override {
    class B final : public Backend {
    public:
      explicit B(std::unique_ptr<Backend> inner) : in_(std::move(inner)) {}
      int rank() const override { return in_->rank(); }
      StreamHandle create_stream(Stream k) override { return in_->create_stream(k); }
      Buffer allocate(std::size_t b, const std::string& w) override { return in_->allocate(b, w); }
      void compute(StreamHandle s, const Op& op, const Workspace& ws) override { in_->compute(s, op, ws); }
      void collective(StreamHandle, const Op&, const Workspace&) override {}
      void send(StreamHandle, const Op&, const Workspace&) override {}
      void recv(StreamHandle, const Op&, const Workspace&) override {}
      EventHandle create_event() override { return in_->create_event(); }
      void record_event(StreamHandle s, EventHandle e) override { in_->record_event(s, e); }
      void wait_event(StreamHandle s, EventHandle e) override { in_->wait_event(s, e); }
      void synchronize() override { in_->synchronize(); }
      double event_time_s(EventHandle e) override { return in_->event_time_s(e); }
      bool measures(TaskKind k) const override { return k != TaskKind::collective && k != TaskKind::send && k != TaskKind::recv; }

    private:
      std::unique_ptr<Backend> in_;
    };
    return std::make_unique<B>(cpu_->make_backend(rank));
  }
  Json describe() const override { return Json::object(); }
  void abort(const std::string& why) override { cpu_->abort(why); }

private:
  const PartitionGraph& g_;
  std::unique_ptr<World> cpu_;
};
}  // namespace

TEST(ExecCpu, RepresentativeModeMarksCommunicationUnmeasured) {
  PartitionGraph g = make_demo_graph({.pp = 2, .dp = 2, .expanded = false});
  RepresentativeWorld world(g);
  ExecOptions o;
  o.timeout_s = 30;
  ExecResult r = execute(g, world, o);
  EXPECT_TRUE(r.representative);
  ASSERT_EQ(r.timeline.ranks.size(), g.class_rep.size());
  std::size_t comm = 0, want = 0;
  for (int rep : g.class_rep) want += g.tasks_of_rank(rep).size();
  EXPECT_EQ(r.timeline.events.size(), want);
  for (const auto& e : r.timeline.events) {
    const TaskKind k = g.tasks_of_rank(e.rank).kind[std::size_t(e.task)];
    const bool is_comm = k == TaskKind::collective || k == TaskKind::send || k == TaskKind::recv;
    EXPECT_EQ(e.measured, !is_comm) << "rank " << e.rank << " task " << e.task;
    comm += is_comm;
  }
  EXPECT_EQ(r.unmeasured, comm);
  EXPECT_GT(comm, 0u);
  bool said = false;
  for (const auto& n : r.info["notes"]) said |= n.get<std::string>().find("measured=false") != std::string::npos;
  EXPECT_TRUE(said);
  // Each representative's clock starts at its own first task.
  for (int rep : g.class_rep) {
    double first = 1e9;
    for (const auto& e : r.timeline.events)
      if (e.rank == rep) first = std::min(first, e.start_s);
    EXPECT_NEAR(first, 0.0, 1e-9);
  }
}
