// Pipeline schedules (plan/schedule.hpp) against reference §6: every unit exactly once, warmup
// counts, in-flight micro-batches exactly as the reference table, and the bubbles of the
// closed forms when every unit takes the same time.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <tuple>

#include "plan/schedule.hpp"

using namespace strata;

namespace {

ScheduleSpec spec(Schedule k, int p, int m, int v = 1) { return ScheduleSpec{k, p, m, v}; }

void expect_complete(const ScheduleSpec& s) {
  auto orders = all_stage_orders(s);
  ASSERT_EQ(int(orders.size()), s.stages);
  const bool split = splits_backward(s.kind);
  for (int st = 0; st < s.stages; ++st) {
    std::set<std::tuple<int, int, int>> seen;
    std::map<std::pair<int, int>, int> state;  // (mb, chunk) -> 0 none, 1 F, 2 B, 3 W
    for (const auto& u : orders[std::size_t(st)]) {
      EXPECT_TRUE(seen.insert({u.microbatch, u.chunk, int(u.phase)}).second) << "stage " << st << " repeats a unit";
      int& s0 = state[{u.microbatch, u.chunk}];
      if (u.phase == UnitPhase::F) { EXPECT_EQ(s0, 0); s0 = 1; }
      if (u.phase == UnitPhase::B) { EXPECT_EQ(s0, 1) << "backward before forward"; s0 = 2; }
      if (u.phase == UnitPhase::W) { EXPECT_EQ(s0, 2) << "W before B"; s0 = 3; }
    }
    EXPECT_EQ(int(seen.size()), s.microbatches * s.vpp * (split ? 3 : 2));
  }
}

}  // namespace

TEST(Schedule, EveryUnitOnceAndInDependencyOrder) {
  for (int p : {1, 2, 4, 8})
    for (int m : {1, 3, 8, 16}) {
      expect_complete(spec(Schedule::gpipe, p, m));
      expect_complete(spec(Schedule::one_f_one_b, p, m));
      expect_complete(spec(Schedule::zb_h1, p, m));
    }
  for (int p : {2, 4})
    for (int v : {2, 3})
      for (int m : {p, 2 * p, 4 * p}) expect_complete(spec(Schedule::interleaved, p, m, v));
}

TEST(Schedule, OneFOneBWarmupIsPMinusRankMinusOne) {
  const int p = 4, m = 8;
  for (int st = 0; st < p; ++st) {
    auto o = stage_order(spec(Schedule::one_f_one_b, p, m), st);
    int warm = 0;
    while (o[std::size_t(warm)].phase == UnitPhase::F) ++warm;
    // Warmup forwards, then the first steady-state forward before the first backward.
    EXPECT_EQ(warm, p - st - 1 + 1);
    EXPECT_EQ(warmup_units(spec(Schedule::one_f_one_b, p, m), st), p - st - 1);
  }
}

TEST(Schedule, InFlightMicroBatchesMatchReferenceTable) {
  const int p = 4, m = 16;
  for (int st = 0; st < p; ++st) {
    EXPECT_EQ(peak_in_flight_chunks(stage_order(spec(Schedule::gpipe, p, m), st)), m);
    EXPECT_EQ(peak_in_flight_chunks(stage_order(spec(Schedule::one_f_one_b, p, m), st)), p - st);
    EXPECT_EQ(peak_in_flight_chunks(stage_order(spec(Schedule::zb_h1, p, m), st)), p - st);
  }
  // Fewer micro-batches than stages: 1F1B holds at most m.
  EXPECT_EQ(peak_in_flight_chunks(stage_order(spec(Schedule::one_f_one_b, 8, 3), 0)), 3);
  // Interleaved: warmup 2(p−rank−1) + (v−1)p chunk-forwards, +1 in steady state; stage 0 holds
  // p(1 + (p−1)/(pv)) micro-batches' worth of activations (reference §6, §7.2).
  for (int v : {2, 4})
    for (int st = 0; st < p; ++st) {
      auto o = stage_order(spec(Schedule::interleaved, p, m, v), st);
      EXPECT_EQ(peak_in_flight_chunks(o), 2 * (p - st - 1) + (v - 1) * p + 1);
      if (st == 0) {
        EXPECT_DOUBLE_EQ(peak_in_flight_microbatches(o, v), p * (1.0 + (p - 1.0) / (p * v)));
      }
    }
  // m == p: everything is warmup.
  EXPECT_EQ(peak_in_flight_chunks(stage_order(spec(Schedule::interleaved, 4, 4, 2), 0)), 8);
}

TEST(Schedule, BubblesMatchClosedForms) {
  // Unit-time makespans: ideal m(F+B+W); 1F1B and GPipe add (p−1)(F+B+W); interleaved divides
  // that by v (per-chunk times are 1/v); ZB-H1 adds (p−1)(F+B−W).
  for (int p : {2, 4, 8})
    for (int m : {p, 2 * p, 4 * p}) {
      const double F = 1, B = 1, W = 1;
      auto s1 = spec(Schedule::one_f_one_b, p, m);
      EXPECT_DOUBLE_EQ(unit_time_makespan(s1, all_stage_orders(s1), F, B, W), m * 3.0 + (p - 1) * 3.0);
      auto sg = spec(Schedule::gpipe, p, m);
      EXPECT_DOUBLE_EQ(unit_time_makespan(sg, all_stage_orders(sg), F, B, W), m * 3.0 + (p - 1) * 3.0);
      auto sz = spec(Schedule::zb_h1, p, m);
      EXPECT_DOUBLE_EQ(unit_time_makespan(sz, all_stage_orders(sz), F, B, W), m * 3.0 + (p - 1) * (F + B - W));
      for (int v : {2, 4}) {
        auto si = spec(Schedule::interleaved, p, m, v);
        const double f = 1.0 / v, b = 2.0 / v;  // a stage's F = 1, B = 2 split over v chunks
        EXPECT_NEAR(unit_time_makespan(si, all_stage_orders(si), f, b, 0), m * 3.0 + (p - 1) * 3.0 / v, 1e-9)
            << "p=" << p << " m=" << m << " v=" << v;
      }
    }
}

TEST(Schedule, InterleavedChunkOrderFollowsMegatron) {
  // p = 2, v = 2, m = 4, stage 0: warmup 2·1 + 1·2 = 4 forwards: (mb0,c0) (mb1,c0) (mb0,c1) (mb1,c1).
  auto o = stage_order(spec(Schedule::interleaved, 2, 4, 2), 0);
  ASSERT_GE(o.size(), 5u);
  EXPECT_EQ(o[0], (ScheduleUnit{0, 0, UnitPhase::F}));
  EXPECT_EQ(o[1], (ScheduleUnit{1, 0, UnitPhase::F}));
  EXPECT_EQ(o[2], (ScheduleUnit{0, 1, UnitPhase::F}));
  EXPECT_EQ(o[3], (ScheduleUnit{1, 1, UnitPhase::F}));
  EXPECT_EQ(o[4], (ScheduleUnit{2, 0, UnitPhase::F}));
  EXPECT_EQ(o[5], (ScheduleUnit{0, 1, UnitPhase::B}));  // backward starts with the last chunk
}

TEST(Schedule, RejectsImpossibleSpecs) {
  EXPECT_THROW(stage_order(spec(Schedule::interleaved, 4, 6, 2), 0), std::invalid_argument);
  EXPECT_THROW(stage_order(spec(Schedule::one_f_one_b, 4, 8, 2), 0), std::invalid_argument);
}
