// Whole-scenario simulations (issue 9): plan + simulate + report, without the timeline (as
// `strata simulate` runs without --trace). Each benchmark reports
//   Time / CPU        wall and CPU time per run (the CPU figure is the stable one on a shared machine)
//   events, flows     the engine's events and flows per run
//   sim_ranks, gpus   ranks simulated (one per rank class; every rank with --full) of the job's GPUs
//   peak_rss_MB       the process's peak resident set (VmHWM) while the benchmark ran: the peak is
//                     reset when it starts (/proc/self/clear_refs), so it is this job's peak plus
//                     what the process already held (the scenario, the benchmark library; ~10 MB)
// and the data-parallel doubling benchmarks report time(2·dp) / time(dp) of a symmetric job.
//   cmake --build build-perf --target bench
//   build-perf/bench/strata_bench --benchmark_filter='Scenario|DoubleDp'
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <time.h>

#include <fstream>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "engine/simulate.hpp"
#include "io/scenario.hpp"

using namespace strata;

namespace {

std::string path(const char* rel) { return std::string(STRATA_SOURCE_ROOT) + "/" + rel; }

// Peak resident set size of this process, in MB (VmHWM from /proc/self/status; 0 if unreadable).
double peak_rss_mb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // kB
  return 0;
}

// Resets VmHWM to the current RSS (Linux: "5" in clear_refs), after handing freed memory back to
// the system, so that the next peak_rss_mb() is the peak of what runs in between.
void reset_peak_rss() {
  ::malloc_trim(0);
  std::ofstream("/proc/self/clear_refs") << "5";
}

double thread_cpu_s() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

struct Job {
  const char* name;
  const char* file;
  std::vector<std::string> overrides;
  bool full;
};

// The 1,024-GPU job for --full: the default scenario (tp 4, pp 2) at dp 128 on 128 nodes, 16
// micro-batches per replica as in the default.
const std::vector<std::string> kDefault1024 = {"strategy.dp=128", "cluster.nodes=128", "strategy.global_batch=2048"};

void BM_Scenario(benchmark::State& state, const Job& job) {
  const Scenario s = load_scenario(path(job.file), job.overrides);
  SimOptions opt;
  opt.full = job.full;
  opt.want_timeline = false;
  reset_peak_rss();
  SimStats st;
  for (auto _ : state) {
    SimResult r = simulate(s, opt);
    st = r.stats;
    benchmark::DoNotOptimize(r.report.step_time_s);
  }
  state.counters["peak_rss_MB"] = peak_rss_mb();
  state.counters["events"] = double(st.events);
  state.counters["flows"] = double(st.flows);
  state.counters["sim_ranks"] = st.simulated_ranks;
  state.counters["gpus"] = s.cluster.gpus_per_node * s.cluster.nodes;
}

// Doubling dp of a symmetric job (seed-1t-3d: 1T parameters, dp 64 on 8,192 GPUs -> dp 128 on
// 16,384 GPUs, global batch doubled so each replica keeps its micro-batches). Both jobs run in
// every iteration; the counters are CPU seconds per run and their ratio. `engine_only`: the
// engine alone (run_engine on prepared inputs); else the whole simulate() (plan, topology,
// engine, report).
void BM_DoubleDp(benchmark::State& state, bool engine_only) {
  const char* file = "scenarios/seed-1t-3d.json";
  const Scenario a = load_scenario(path(file));
  const Scenario b = load_scenario(path(file), {"strategy.dp=128", "cluster.nodes=2048", "strategy.global_batch=6144"});
  SimOptions opt;
  opt.want_timeline = false;
  EngineInputs ia, ib;
  if (engine_only) {
    ia = prepare_engine_inputs(a, opt);
    ib = prepare_engine_inputs(b, opt);
  }
  auto run = [&](const Scenario& s, const EngineInputs& in) {
    const double t0 = thread_cpu_s();
    if (engine_only) {
      EngineResult r = run_engine(in.graph, *in.topo, in.durations, in.config);
      benchmark::DoNotOptimize(r.makespan);
    } else {
      SimResult r = simulate(s, opt);
      benchmark::DoNotOptimize(r.report.step_time_s);
    }
    return thread_cpu_s() - t0;
  };
  // Best of the iterations: the least disturbed run of each on a shared machine.
  double ta = 1e300, tb = 1e300;
  for (auto _ : state) {
    ta = std::min(ta, run(a, ia));
    tb = std::min(tb, run(b, ib));
  }
  state.counters["dp64_cpu_s"] = ta;
  state.counters["dp128_cpu_s"] = tb;
  state.counters["ratio"] = tb / ta;
}

}  // namespace

// Registered at start-up: the job list does not fit BENCHMARK_CAPTURE's macro arguments.
[[maybe_unused]] static const int kRegistered = [] {
  static const std::vector<Job> jobs = {
      {"default_16gpu", "scenarios/default.json", {}, false},
      {"seed_1t_8192gpu", "scenarios/seed-1t-3d.json", {}, false},
      {"llama3_405b_16384gpu_cp", "scenarios/scale-llama3-405b-16k-cp.json", {}, false},
      {"deepseek_v3_2048gpu_ep", "scenarios/scale-deepseek-v3-2048.json", {}, false},
      {"dense_100352gpu", "scenarios/scale-dense-100k.json", {}, false},
      {"full_default_1024gpu", "scenarios/default.json", kDefault1024, true},
      {"symmetric_default_1024gpu", "scenarios/default.json", kDefault1024, false},
  };
  for (const Job& j : jobs)
    benchmark::RegisterBenchmark((std::string("BM_Scenario/") + j.name).c_str(), [&j](benchmark::State& st) { BM_Scenario(st, j); })
        ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_DoubleDp/simulate", [](benchmark::State& st) { BM_DoubleDp(st, false); })
      ->Unit(benchmark::kMillisecond)
      ->Iterations(3);
  benchmark::RegisterBenchmark("BM_DoubleDp/engine", [](benchmark::State& st) { BM_DoubleDp(st, true); })
      ->Unit(benchmark::kMillisecond)
      ->Iterations(3);
  return 0;
}();
