// Real-GPU measurements in traces/ (issue 5): a profile fitted on the card predicts the timelines
// the executor measured there. Runs on every machine, GPU or not: each scenario is simulated
// with the committed profile.json and compared with the committed measured timeline by
// `strata compare`'s own code. The bounds are the errors measured when the traces were made
// (traces/README.md), with a margin for model changes that should not move them much; a
// change to the cost model, the planner's task list or the profile reader that breaks the
// calibrated prediction fails here.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "compare.hpp"
#include "cost/hardware_profile.hpp"
#include "engine/simulate.hpp"
#include "io/scenario.hpp"
#include "report/timeline_json.hpp"

using namespace strata;

namespace {

const std::string kRoot = STRATA_SOURCE_ROOT;
const std::string kH100 = kRoot + "/traces/h100-80gb-hbm3-2026-11-25";
const std::string kH200 = kRoot + "/traces/h200-2026-11-26";

exec::CompareResult compare_timelines_of(const std::string& scenario, const std::vector<std::string>& sets,
                                         const std::string& measured_file) {
  Scenario s = load_scenario(kRoot + "/scenarios/" + scenario + ".json", sets);
  SimResult sim = simulate(s);
  const Timeline measured = read_timeline(measured_file);
  exec::CompareResult r = exec::compare_timelines(sim.timeline, measured);
  std::printf("%s: step predicted %.4g s, measured %.4g s (%+.1f%%); compute %+.1f%%\n", measured_file.c_str(),
              r.predicted_step_s, r.measured_step_s, 100 * r.step_rel_error,
              r.kind("compute") ? 100 * r.kind("compute")->rel_error : 0.0);
  return r;
}

// The scenario predicted with the card's fitted profile against the timeline measured there.
exec::CompareResult compare_with_profile(const std::string& scenario, const std::string& card = kH100) {
  return compare_timelines_of(scenario, {"profile=" + card + "/profile.json"}, card + "/" + scenario + ".measured.json");
}

void expect_whole_calibration(const std::string& card, const std::string& name, const std::string& gpu) {
  const HardwareProfile p = read_profile(card + "/profile.json");
  EXPECT_EQ(p.backend, "cuda");
  EXPECT_NE(p.device.find(name), std::string::npos);
  EXPECT_EQ(p.gpu, gpu);
  // The scenarios' own tasks were measured, not only the grids.
  EXPECT_GE(p.gemm_points.size(), 30u);
  EXPECT_GE(p.attention_points.size(), 8u);
  EXPECT_GE(p.elementwise.points.size(), 10u);
  EXPECT_GE(p.optimizer.points.size(), 10u);
  // One GPU: no links or collectives were invented.
  EXPECT_TRUE(p.links.empty());
  EXPECT_TRUE(p.collectives.empty());
  // Sanity of what an H100 / H200 does (KINDS.md: ~800 TFLOP/s bf16 on 8192^3, ~3 TB/s copy r+w).
  const GemmTable* bf16 = p.gemm_table(DType::bf16);
  ASSERT_NE(bf16, nullptr);
  EXPECT_GT(bf16->tflops_at(8192, 8192, 8192), 600.0);
  EXPECT_LT(bf16->tflops_at(8192, 8192, 8192), 989.5);
  EXPECT_GT(p.memcpy_GBps, 1000.0);
}

}  // namespace

TEST(Traces, H100ProfileIsAWholeCalibration) { expect_whole_calibration(kH100, "H100", "H100-SXM"); }
TEST(Traces, H200ProfileIsAWholeCalibration) { expect_whole_calibration(kH200, "H200", "H200-SXM"); }

// Every task of these runs was measured for real on the one GPU (tp = pp = dp = 1): the whole
// step is comparable. `min_matched` > 0 also checks how many tasks were aligned.
static void expect_whole_one_gpu_steps(const std::string& card, std::size_t min_matched) {
  for (const char* sc : {"one-gpu-llama-1b", "one-gpu-moe"}) {
    const exec::CompareResult r = compare_with_profile(sc, card);
    EXPECT_EQ(r.excluded_unmeasured, 0u) << sc;
    if (min_matched) {
      EXPECT_GT(r.matched, min_matched) << sc;
    }
    EXPECT_EQ(r.measured_only + r.predicted_only, 0u) << sc << ": the simulated and executed graphs differ";
    EXPECT_LT(std::abs(r.step_rel_error), 0.04) << sc;
    ASSERT_NE(r.kind("compute"), nullptr);
    EXPECT_LT(std::abs(r.kind("compute")->rel_error), 0.04) << sc;
  }
}

// Full-size Llama-3-8B (tp 4, pp 2, dp 2) with one representative rank per class on the one
// GPU: compute is real, communication is not (measured=false, left out). The step reads long:
// the prediction includes the job's real tensor-parallel traffic and the GEMM slowdown when it
// overlaps, which one GPU cannot show (traces/README.md).
static void expect_compute_of_representative_ranks(const std::string& card, std::size_t min_matched) {
  const exec::CompareResult r = compare_with_profile("default", card);
  EXPECT_GT(r.excluded_unmeasured, 1000u);
  if (min_matched) {
    EXPECT_GT(r.matched, min_matched);
  }
  ASSERT_NE(r.kind("compute"), nullptr);
  EXPECT_LT(std::abs(r.kind("compute")->rel_error), 0.08);
  EXPECT_GT(r.step_rel_error, 0.0) << "the prediction carries communication the one-GPU run did not";
  EXPECT_LT(r.step_rel_error, 0.25);
}

// H100: measured +1.2 % and -0.7 %; four runs of the same binary spread ±2 %.
TEST(Traces, H100CalibratedPredictionOfWholeOneGpuSteps) { expect_whole_one_gpu_steps(kH100, 800); }
// H100: per-kind compute measured +3.5 %, the step +17 %.
TEST(Traces, H100CalibratedComputeOfRepresentativeRanks) { expect_compute_of_representative_ranks(kH100, 10000); }

// The tiny tp 2 x pp 2 model is launch-bound: its kernels last a few microseconds and the
// executor's host issues a task every ~6 us (the profile's launch_overhead_us), so the measured
// step moved 3.3-5.3 ms between runs of the same binary. Measured -10.4 % (step).
TEST(Traces, H100CalibratedPredictionOfALaunchBoundModel) {
  const exec::CompareResult r = compare_with_profile("exec-small");
  EXPECT_LT(std::abs(r.step_rel_error), 0.2);
}

// The same runs on an H200 (traces/h200-2026-11-26): measured +0.2 % and -1.5 % (whole steps);
// default: compute +1.8 %, step +16.1 %.
TEST(Traces, H200CalibratedPredictionOfWholeOneGpuSteps) { expect_whole_one_gpu_steps(kH200, 0); }
TEST(Traces, H200CalibratedComputeOfRepresentativeRanks) { expect_compute_of_representative_ranks(kH200, 0); }

// Unfused attention as Megatron-LM 2021 ran it (scenarios/one-gpu-gpt-unfused.json: batched
// GEMMs for the scores and the context, softmax over the s x s scores), measured on an H200 and on
// an H100 with the 1.7B row's head dimension 96 and with 128, and predicted by the BUILT-IN tables
// of the card (no profile): this checks the model the published-run validation of issue 8 relies
// on. Measured steps: H200 -2.6 % / -6.2 %, H100 +2.6 % / +2.0 % (two runs each, within 1 %); the
// batched score/context GEMMs -3 to -10 % (traces/README.md).
static void expect_builtin_unfused_attention(const std::string& dir, const std::string& gpu) {
  const std::vector<std::string> card = {"cluster.gpu=" + gpu};
  std::vector<std::string> hd128 = card;
  for (const char* f : {"model.hidden=4096", "model.heads=32", "model.kv_heads=32", "model.ffn_hidden=16384"}) hd128.push_back(f);
  for (const auto& [name, sets] : {std::pair{std::string("hd96"), card}, std::pair{std::string("hd128"), hd128}}) {
    const exec::CompareResult r = compare_timelines_of("one-gpu-gpt-unfused", sets, dir + "/unfused/" + name + ".measured1.json");
    EXPECT_EQ(r.measured_only + r.predicted_only, 0u) << name << ": the simulated and executed graphs differ";
    EXPECT_LT(std::abs(r.step_rel_error), 0.10) << name;
    for (const char* op : {"attn_scores", "attn_context"}) {
      const auto* o = r.op(op);
      ASSERT_NE(o, nullptr) << name << " " << op;
      EXPECT_LT(std::abs(o->rel_error), 0.15) << name << " " << op;
    }
  }
}

TEST(Traces, H200BuiltinModelOfUnfusedAttention) { expect_builtin_unfused_attention(kH200, "H200-SXM"); }
TEST(Traces, H100BuiltinModelOfUnfusedAttention) {
  expect_builtin_unfused_attention(kRoot + "/traces/h100-80gb-hbm3-2026-11-26", "H100-SXM");
}

// The H200 profile records the host's time to queue each attention task: the executor's
// attention is many small kernels, and for the tiny exec-small model the host is slower than the
// GPU (not yet used by predictions: exec/PROFILE.md).
TEST(Traces, H200ProfileRecordsHostBoundAttention) {
  const HardwareProfile p = read_profile(kH200 + "/profile.json");
  int host_bound = 0;
  for (const auto& a : p.attention_points) host_bound += a.host_seconds > a.seconds;
  EXPECT_GT(host_bound, 0);
}
