// strata calibrate on the cpu backend (quick grids) and the hardware profile format:
// interpolation rules, JSON round trip, malformed files rejected with the field's path.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <filesystem>

#include "calibrate.hpp"
#include "compare.hpp"
#include "engine/simulate.hpp"
#include "io/scenario.hpp"
#include "plan/planner.hpp"
#include "demo_graph.hpp"
#include "executor.hpp"
#include "io/input_error.hpp"
#include "profile.hpp"

using namespace strata;
using namespace strata::exec;

namespace {

const HardwareProfile& cpu_profile() {
  static HardwareProfile p = [] {
    auto bench = make_bench("cpu");
    CalibrateOptions o;
    o.quick = true;
    o.progress = false;
    o.max_ranks = 2;
    o.shapes = graph_gemm_shapes(make_demo_graph({}));
    return calibrate(*bench, o);
  }();
  return p;
}

}  // namespace

TEST(Calibrate, CpuProfileHasEveryPart) {
  const HardwareProfile& p = cpu_profile();
  EXPECT_EQ(p.backend, "cpu");
  EXPECT_FALSE(p.device.empty());
  EXPECT_FALSE(p.date.empty());
  ASSERT_EQ(p.gemm.size(), 1u);
  const GemmTable& t = p.gemm[0];
  EXPECT_EQ(t.tflops.size(), t.m.size() * t.n.size() * t.k.size());
  for (double x : t.tflops) EXPECT_GT(x, 0.0);
  EXPECT_FALSE(p.gemm_points.empty());
  for (const auto& q : p.gemm_points) EXPECT_GT(q.seconds, 0.0);
  ASSERT_EQ(p.attention.size(), 2u);
  for (const auto& a : p.attention)
    for (double x : a.tflops) EXPECT_GT(x, 0.0);
  EXPECT_GT(p.memcpy_GBps, 0.0);
  EXPECT_GT(p.launch_overhead_us, 0.0);
  EXPECT_LT(p.launch_overhead_us, 10000.0);
  // Collectives by size on 2 ranks, with nccl-tests' busbw = algbw * factor.
  const CollectiveFit* ar = p.collective("all_reduce", 2);
  ASSERT_NE(ar, nullptr);
  EXPECT_GE(ar->points.size(), 3u);
  for (const auto& q : ar->points) EXPECT_NEAR(q.busbw_GBps, q.algbw_GBps * 2.0 * (2 - 1) / 2, 1e-9 * q.algbw_GBps);
  const CollectiveFit* ag = p.collective("all_gather", 2);
  ASSERT_NE(ag, nullptr);
  for (const auto& q : ag->points) EXPECT_NEAR(q.busbw_GBps, q.algbw_GBps * 0.5, 1e-9 * q.algbw_GBps);
  EXPECT_GT(ar->busbw_GBps, 0.0);
  EXPECT_GT(ar->latency_us, 0.0);
  ASSERT_NE(p.collective("sendrecv", 2), nullptr);
  ASSERT_EQ(p.links.size(), 1u);
  EXPECT_EQ(p.links[0].name, "shared_memory");
  EXPECT_GT(p.links[0].bw_GBps, 0.0);
  EXPECT_GT(p.overlap_slowdown, 0.0);
  EXPECT_FALSE(p.overlap_method.empty());
}

TEST(Calibrate, CpuGemmEfficiencyGrowsWithSize) {
#ifdef STRATA_SANITIZED
  GTEST_SKIP() << "timing checks are meaningless in a sanitizer build";
#endif
  // Monotone-ish: along the diagonal M = N = K throughput grows from the smallest to the
  // largest grid point, and for every (N, K) the largest M is faster than the smallest.
  const GemmTable& t = cpu_profile().gemm[0];
  const std::size_t s = t.m.size();
  auto at = [&](std::size_t i, std::size_t j, std::size_t l) { return t.tflops[(i * s + j) * s + l]; };
  EXPECT_GT(at(s - 1, s - 1, s - 1), 1.5 * at(0, 0, 0)) << "8^3 vs 128^3";
  const double best = *std::max_element(t.tflops.begin(), t.tflops.end());
  EXPECT_GT(at(s - 1, s - 1, s - 1), 0.4 * best);
  int grows = 0, total = 0;
  for (std::size_t j = 0; j < s; ++j)
    for (std::size_t l = 0; l < s; ++l) {
      ++total;
      grows += at(s - 1, j, l) > at(0, j, l);
    }
  EXPECT_GE(grows, total - 2);
}

TEST(Calibrate, ProfileRoundTripsThroughJson) {
  const HardwareProfile& p = cpu_profile();
  const std::string path = (std::filesystem::temp_directory_path() / "strata_test_profile.json").string();
  write_profile(p, path);
  HardwareProfile q = read_profile(path);
  std::filesystem::remove(path);
  EXPECT_EQ(q.device, p.device);
  ASSERT_EQ(q.gemm.size(), p.gemm.size());
  EXPECT_EQ(q.gemm[0].tflops, p.gemm[0].tflops);
  EXPECT_EQ(q.gemm[0].m, p.gemm[0].m);
  EXPECT_EQ(q.gemm_points.size(), p.gemm_points.size());
  EXPECT_EQ(q.attention.size(), p.attention.size());
  EXPECT_EQ(q.collectives.size(), p.collectives.size());
  EXPECT_DOUBLE_EQ(q.memcpy_GBps, p.memcpy_GBps);
  EXPECT_DOUBLE_EQ(q.overlap_slowdown, p.overlap_slowdown);
  const GemmShape g{100, 100, 100, 1, DType::fp32};
  EXPECT_DOUBLE_EQ(q.gemm_time_s(g), p.gemm_time_s(g));
}

// The host's time to queue an attention task's kernels is recorded and survives the JSON round
// trip; predictions keep the GPU's time (hardware_profile.hpp says why); profiles without the
// field read as before and are written without it.
TEST(Profile, AttentionPointsRecordTheHostTimeToQueueThem) {
  HardwareProfile p;
  p.backend = "cuda";
  p.launch_overhead_us = 8;
  AttnPoint a;
  a.shape.q_len = a.shape.kv_len = 256;
  a.flops = 1e9;
  a.seconds = 60e-6;
  a.host_seconds = 90e-6;
  p.attention_points.push_back(a);
  HardwareProfile q = profile_from_json(profile_to_json(p), "p.json");
  ASSERT_EQ(q.attention_points.size(), 1u);
  EXPECT_DOUBLE_EQ(q.attention_points[0].host_seconds, 90e-6);
  EXPECT_DOUBLE_EQ(q.attention_point_s(a.shape, a.flops), 60e-6);
  p.attention_points[0].host_seconds = 0;  // not measured
  Json j = profile_to_json(p);
  EXPECT_FALSE(j["attention_points"][0].contains("host_seconds"));
  EXPECT_DOUBLE_EQ(profile_from_json(j, "p.json").attention_point_s(a.shape, a.flops), 60e-6);
}

TEST(Profile, InterpolatesInLogSpace) {
  GemmTable t;
  t.dtype = DType::bf16;
  t.peak_tflops = 100;
  t.m = t.n = t.k = {64, 256};
  // tflops = 10 at every 64-corner, 40 at every 256-corner along M only.
  for (double m : t.m)
    for (double n : t.n)
      for (double k : t.k) {
        (void)n;
        (void)k;
        t.tflops.push_back(m == 64 ? 10 : 40);
      }
  EXPECT_DOUBLE_EQ(t.tflops_at(64, 64, 64), 10);
  EXPECT_DOUBLE_EQ(t.tflops_at(256, 100, 200), 40);
  EXPECT_DOUBLE_EQ(t.tflops_at(128, 64, 64), 25);    // halfway in log2
  EXPECT_DOUBLE_EQ(t.tflops_at(1024, 64, 64), 40);   // above: the edge
  EXPECT_DOUBLE_EQ(t.tflops_at(32, 64, 64), 5);      // below: proportional to the dimension
  EXPECT_DOUBLE_EQ(t.efficiency(256, 64, 64), 0.4);
  HardwareProfile p;
  p.gemm.push_back(t);
  p.launch_overhead_us = 2;
  const GemmShape g{256, 64, 64, 1, DType::bf16};
  EXPECT_DOUBLE_EQ(p.gemm_time_s(g), 2.0 * 256 * 64 * 64 / 40e12 + 2e-6);
  p.gemm_points.push_back({256, 64, 64, 1, DType::bf16, 1e-3, 0});
  EXPECT_DOUBLE_EQ(p.gemm_time_s(g), 1e-3);  // an exact measured shape wins
  CollectiveFit f;
  f.op = "all_reduce";
  f.ranks = 4;
  f.latency_us = 10;
  f.busbw_GBps = 100;
  EXPECT_DOUBLE_EQ(f.time_s(1e9), 10e-6 + 1e9 * 1.5 / 100e9);
}

TEST(Profile, MalformedFileNamesTheField) {
  Json j = profile_to_json(cpu_profile());
  j["gemm"][0]["tflops"].erase(0);
  try {
    profile_from_json(j, "bad.json");
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("gemm[0].tflops"), std::string::npos) << e.what();
  }
  Json k = profile_to_json(cpu_profile());
  k["backend"] = "tpu";
  EXPECT_THROW(profile_from_json(k, "bad.json"), InputError);
}

// The profile predicts what the executor then measures: every GEMM of a one-rank graph, timed
// by `strata exec` on the cpu backend, against the profile's time for that exact shape
// (gemm_points). Same Eigen kernel, same shapes, same process, measured minutes apart at most;
// what differs is cache warmth (calibration repeats one shape, the step interleaves different
// ops) and the scheduler of a shared machine, which can preempt any single task for 10x its
// time (seen here with a load average of 10 on 2 cores). Bound: the median task within a
// factor 2, and half of the tasks within a factor 2 — loose enough for a loaded CI machine,
// tight enough to catch a wrong FLOP count, a wrong shape or a broken timer (each >> 2x).
// Measured on the 2-core development machine under load: median 0.95-0.98.
TEST(Calibrate, CpuProfilePredictsExecutedGemms) {
#ifdef STRATA_SANITIZED
  GTEST_SKIP() << "timing checks are meaningless in a sanitizer build";
#endif
  PartitionGraph g = make_demo_graph({.tp = 1, .pp = 1, .layers_per_stage = 2, .micro_batches = 2, .seq = 128, .hidden = 256, .ffn = 512});
  auto bench = make_bench("cpu");
  CalibrateOptions o;
  o.quick = true;
  o.progress = false;
  o.max_ranks = 2;
  o.shapes = graph_gemm_shapes(g);
  const HardwareProfile p = calibrate(*bench, o);
  ExecOptions eo;
  eo.warmup = 1;
  eo.timeout_s = 60;
  ExecResult r = execute(g, eo);
  const ClassTasks& c = g.tasks_of_rank(0);
  std::vector<double> ratios;
  for (const auto& e : r.timeline.events) {
    const auto t = std::size_t(e.task);
    if (c.op[t] != OpKind::gemm) continue;
    const double predicted = p.gemm_time_s(c.gemms[std::size_t(c.detail[t])]);
    ASSERT_GT(predicted, 0.0);
    ratios.push_back(e.dur_s / predicted);
    if (std::getenv("STRATA_TEST_VERBOSE")) {
      const auto& sh = c.gemms[std::size_t(c.detail[t])];
      std::printf("  task %d %lldx%lldx%lld predicted %.3g s measured %.3g s\n", e.task, (long long)sh.m, (long long)sh.n,
                  (long long)sh.k, predicted, e.dur_s);
    }
  }
  ASSERT_GE(ratios.size(), 20u);
  std::sort(ratios.begin(), ratios.end());
  const double median = ratios[ratios.size() / 2];
  std::size_t within2 = 0;
  for (double x : ratios) within2 += x > 0.5 && x < 2.0;
  EXPECT_GT(median, 0.5) << "measured/predicted median";
  EXPECT_LT(median, 2.0) << "measured/predicted median";
  EXPECT_GE(double(within2), 0.5 * double(ratios.size()));
  std::printf("cpu GEMM tasks: measured/predicted median %.3f, min %.3f, max %.3f over %zu tasks\n", median, ratios.front(), ratios.back(),
              ratios.size());
}

// Issue 5's cpu loop, as a user runs it on a CI machine: calibrate the cpu backend on the tiny
// tp 2 x pp 2 scenario (its own GEMM, attention and memory-bound tasks, timed with 4 copies at
// once because its 4 ranks share this machine's cores), execute the scenario, predict it with
// the profile and compare the step.
// Bound, |step error| < 75 %: measured -53 % to -56 % on the 2-core development machine (under
// load from parallel builds), with compute within -15..-31 %. What stays unpredicted is the
// oversubscription: 4 ranks x 3-4 stream threads on 2 cores make every collective and message
// wait for scheduler wake-ups of the peers' threads, which a 2-rank calibration on otherwise
// idle cores does not see. Before calibration measured the scenario's own tasks under
// contention, the prediction was 10x too fast (-90 %); the bound catches that, a wrong FLOP or
// byte count, and a broken timer.
TEST(Calibrate, CpuProfilePredictsExecSmallStep) {
#ifdef STRATA_SANITIZED
  GTEST_SKIP() << "timing checks are meaningless in a sanitizer build";
#endif
  Scenario s = load_scenario(std::string(STRATA_SOURCE_ROOT) + "/scenarios/exec-small.json");
  PlanOptions po;
  po.expand_ranks = true;
  const PartitionGraph g = build_partition_graph(s, po);
  const PartitionGraph sym = build_partition_graph(s);
  auto bench = make_bench("cpu");
  CalibrateOptions o;
  o.quick = true;
  o.progress = false;
  o.max_ranks = 2;
  o.concurrency = g.layout.world();
  o.shapes = graph_gemm_shapes(sym);
  o.attention_shapes = graph_attention_shapes(sym);
  o.elementwise_bytes = graph_memory_bytes(sym, false);
  o.optimizer_bytes = graph_memory_bytes(sym, true);
  const HardwareProfile p = calibrate(*bench, o);
  const std::string path = (std::filesystem::temp_directory_path() / "strata-test-cpu-exec-small-profile.json").string();
  write_profile(p, path);

  ExecOptions eo;
  eo.backend = "cpu";
  eo.timeout_s = 120;
  eo.representatives = sym.class_rep;
  ExecResult run = execute(g, eo);
  ASSERT_EQ(run.scale, 1.0) << "exec-small must run unscaled on the cpu for the exact points to apply";
  for (auto& tr : run.timeline.ranks) tr.rank_class = sym.rank_class[std::size_t(tr.rank)];

  s.profile_path = path;
  const SimResult pred = simulate(s);
  const CompareResult r = compare_timelines(pred.timeline, run.timeline);
  std::printf("cpu exec-small: step predicted %.4g s, measured %.4g s (%+.1f%%); compute %+.1f%%\n", r.predicted_step_s, r.measured_step_s,
              100 * r.step_rel_error, r.kind("compute") ? 100 * r.kind("compute")->rel_error : 0.0);
  EXPECT_EQ(r.measured_only + r.predicted_only, 0u);
  EXPECT_LT(std::abs(r.step_rel_error), 0.75);
  ASSERT_NE(r.kind("compute"), nullptr);
  EXPECT_LT(std::abs(r.kind("compute")->rel_error), 0.5);
  std::filesystem::remove(path);
}
