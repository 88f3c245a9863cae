// strata compare: alignment by (rank, task) and by rank class, per-kind/category/op errors, the
// whole step, the worst tasks, measured=false tasks left out and counted.
#include <gtest/gtest.h>

#include "compare.hpp"
#include "demo_graph.hpp"
#include "executor.hpp"

using namespace strata;
using namespace strata::exec;

namespace {

Timeline tiny(const std::vector<std::tuple<int, int, Stream, Category, double, double>>& evs, const std::string& source) {
  Timeline t;
  t.source = source;
  std::set<int> ranks;
  for (auto& [rank, task, stream, cat, start, dur] : evs) {
    TimelineEvent e;
    e.rank = rank;
    e.task = task;
    e.stream = stream;
    e.category = cat;
    e.start_s = start;
    e.dur_s = dur;
    e.name = t.intern(cat == Category::compute ? "gemm" : "allreduce");
    t.events.push_back(e);
    ranks.insert(rank);
  }
  for (int r : ranks) t.ranks.push_back({r, 0, r, r, 0});
  return t;
}

}  // namespace

TEST(Compare, ExactErrorsOnAHandMadePair) {
  // Predicted: compute 2 s, collective 1 s; measured: compute 1 s, collective 2 s.
  Timeline p = tiny({{0, 0, Stream::compute, Category::compute, 0, 2}, {0, 1, Stream::tp, Category::tp, 2, 1}}, "simulated");
  Timeline m = tiny({{0, 0, Stream::compute, Category::compute, 0, 1}, {0, 1, Stream::tp, Category::tp, 1, 2}}, "measured");
  CompareResult r = compare_timelines(p, m);
  EXPECT_EQ(r.matched, 2u);
  ASSERT_NE(r.kind("compute"), nullptr);
  ASSERT_NE(r.kind("collective"), nullptr);
  EXPECT_DOUBLE_EQ(r.kind("compute")->rel_error, 1.0);
  EXPECT_DOUBLE_EQ(r.kind("collective")->rel_error, -0.5);
  EXPECT_DOUBLE_EQ(r.predicted_step_s, 3.0);
  EXPECT_DOUBLE_EQ(r.measured_step_s, 3.0);
  EXPECT_DOUBLE_EQ(r.step_rel_error, 0.0);
  ASSERT_EQ(r.worst.size(), 2u);
  EXPECT_DOUBLE_EQ(std::abs(r.worst[0].predicted_s - r.worst[0].measured_s), 1.0);
  // The report's step time wins over the events' span when present.
  m.report = Json{{"step_time_s", 4.0}};
  EXPECT_DOUBLE_EQ(compare_timelines(p, m).step_rel_error, -0.25);
}

TEST(Compare, PerKindErrorsOnAnExecutedGraph) {
  PartitionGraph g = make_demo_graph({.micro_batches = 3});
  ExecOptions o;
  o.timeout_s = 60;
  ExecResult run = execute(g, o);
  Timeline measured = run.timeline;
  measured.report = measured_report(run, g, nullptr);
  // A "prediction": compute 50% slower, communication twice as fast.
  Timeline predicted = measured;
  predicted.source = "simulated";
  predicted.report = Json();
  for (auto& e : predicted.events) e.dur_s *= event_kind(e) == "compute" ? 1.5 : 0.5;
  CompareResult r = compare_timelines(predicted, measured, {.worst = 5});
  EXPECT_EQ(r.matched, measured.events.size());
  EXPECT_EQ(r.predicted_only, 0u);
  EXPECT_EQ(r.measured_only, 0u);
  ASSERT_NE(r.kind("compute"), nullptr);
  EXPECT_NEAR(r.kind("compute")->rel_error, 0.5, 1e-9);
  EXPECT_NEAR(r.kind("compute")->mean_abs_rel_error, 0.5, 1e-9);
  for (const char* k : {"collective", "send", "recv"}) {
    ASSERT_NE(r.kind(k), nullptr) << k;
    EXPECT_NEAR(r.kind(k)->rel_error, -0.5, 1e-9) << k;
  }
  ASSERT_NE(r.kind("optimizer"), nullptr);
  EXPECT_EQ(r.worst.size(), 5u);
  EXPECT_FALSE(r.by_category.empty());
  EXPECT_FALSE(r.by_op.empty());
  Json j = r.to_json();
  EXPECT_TRUE(j.contains("by_kind"));
  EXPECT_TRUE(j.contains("worst_tasks"));
  EXPECT_NE(r.to_text().find("by kind"), std::string::npos);

  // Unmeasured tasks are left out and counted.
  std::size_t marked = 0;
  for (auto& e : measured.events)
    if (event_kind(e) != "compute") {
      e.measured = false;
      ++marked;
    }
  CompareResult r2 = compare_timelines(predicted, measured);
  EXPECT_EQ(r2.excluded_unmeasured, marked);
  EXPECT_EQ(r2.matched, measured.events.size() - marked);
  EXPECT_EQ(r2.kind("collective"), nullptr);
}

TEST(Compare, AlignsRanksToTheirClassRepresentative) {
  // A prediction that simulated one rank per class against a measurement of every rank.
  PartitionGraph g = make_demo_graph({.pp = 2, .dp = 2, .expanded = false});
  ExecOptions o;
  o.timeout_s = 60;
  ExecResult run = execute(g, o);
  Timeline predicted = run.timeline;
  std::set<int> reps(g.class_rep.begin(), g.class_rep.end());
  std::erase_if(predicted.events, [&](const TimelineEvent& e) { return !reps.count(e.rank); });
  std::erase_if(predicted.ranks, [&](const TimelineRank& r) { return !reps.count(r.rank); });
  CompareResult r = compare_timelines(predicted, run.timeline);
  EXPECT_EQ(r.matched, run.timeline.events.size());
  EXPECT_EQ(r.matched_by_class, 8u - reps.size());
  EXPECT_EQ(r.measured_only, 0u);
}
