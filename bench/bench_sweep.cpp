// Sweep throughput: strategies evaluated per second (items_per_second), with the simulator as
// the evaluator (one representative per rank class, no timeline, as `strata sweep` runs it;
// with and without skipping the simulation of strategies that do not fit in memory),
// on every core, for a 1,024-GPU job (Llama-3-70B on 128 DGX H100 nodes) and a 16,384-GPU job
// (Llama-3-405B on 2,048 DGX H100 nodes); and the machinery alone (expansion, validation, rows,
// journal) with a trivial evaluator.
//   cmake --build build --target strata_bench && build/bench/strata_bench --benchmark_filter=Sweep
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "io/atomic_file.hpp"
#include "sweep/evaluate.hpp"
#include "sweep/sweep.hpp"

using namespace strata;
namespace fs = std::filesystem;

namespace {

Json job(int nodes) {
  bool big = nodes >= 2048;
  Json j = {{"name", big ? "llama3-405b-16384" : "llama3-70b-1024"},
            {"model", {{"preset", big ? "llama3-405b" : "llama3-70b"}}},
            {"cluster", {{"topology", "topologies/dgx-h100.json"}, {"nodes", nodes}}},
            {"strategy", {{"tp", 8}, {"pp", big ? 2 : 4}, {"sequence_parallel", true}, {"micro_batch", 1},
                          {"global_batch", big ? 2048 : 512}, {"zero", 1}, {"recompute", "selective"}}},
            {"workload", {{"kind", "train"}, {"seq_len", 8192}}}};
  // A slice of the automatic space around what such jobs run: tp 8, every pipeline depth the
  // auto space offers (uneven layer splits included for 405B's 126 layers), cp, vpp, two
  // micro-batch sizes and two recompute policies.
  j["search"] = {{"auto", true}, {"tp", {8}}, {"cp", {1, 2}}, {"vpp", {1, 2}}, {"micro_batch", {1, 2}},
                 {"zero", {1}}, {"recompute", {"selective", "full"}}};
  return j;
}

std::string write_job(int nodes) {
  fs::path p = fs::temp_directory_path() / ("strata-bench-sweep-" + std::to_string(::getpid()) + "-" + std::to_string(nodes) + ".json");
  write_file_atomic(p.string(), job(nodes).dump(2));
  return p.string();
}


// CPU seconds of the whole process (every thread): a rate per CPU-second does not depend on how
// busy the machine is, which wall-clock rates on a shared machine do.
double process_cpu_s() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

void run(benchmark::State& state, const sweep::Evaluator& ev, int jobs) {
  std::string file = write_job(int(state.range(0)));
  sweep::SweepOptions o;
  o.inputs = {file};
  o.jobs = jobs;
  std::size_t rows = 0, ok = 0, oom = 0, errors = 0;
  const double cpu0 = process_cpu_s();
  for (auto _ : state) {
    sweep::SweepResult r = sweep::run_sweep(o, ev);
    rows += r.rows.size();
    for (const auto& row : r.rows) {
      std::string st = row.status();
      (st == "ok" ? ok : st == "oom" ? oom : errors)++;
    }
  }
  const double cpu = process_cpu_s() - cpu0;
  fs::remove(file);
  state.counters["per_cpu_s"] = cpu > 0 ? double(rows) / cpu : 0;
  state.SetItemsProcessed(std::int64_t(rows));
  state.counters["gpus"] = double(state.range(0) * 8);
  state.counters["strategies"] = double(rows) / double(state.iterations());
  state.counters["oom"] = double(oom) / double(state.iterations());
  state.counters["errors"] = double(errors) / double(state.iterations());
  state.counters["jobs"] = jobs;
}

int all_cores() { return int(std::max(1u, std::thread::hardware_concurrency())); }

// As `strata sweep` runs: strategies that do not fit are planned (memory verdict) but not simulated.
void BM_SweepSimulate(benchmark::State& state) { run(state, sweep::simulator_evaluator(), all_cores()); }
// Every strategy simulated (`--simulate-oom`): the simulator's own rate.
void BM_SweepSimulateEveryStrategy(benchmark::State& state) { run(state, sweep::simulator_evaluator(true), all_cores()); }
void BM_SweepSimulateEveryStrategyOneCore(benchmark::State& state) { run(state, sweep::simulator_evaluator(true), 1); }
void BM_SweepMachinery(benchmark::State& state) {
  sweep::Evaluator ev;
  ev.report = [](const Scenario&) {
    return Json{{"step_time_s", 1.0}, {"tokens_per_s", 1.0}, {"memory", {{"peak_bytes", 1.0}, {"fits", true}}}};
  };
  run(state, ev, all_cores());
}

}  // namespace

BENCHMARK(BM_SweepSimulate)->Arg(128)->Arg(2048)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_SweepSimulateEveryStrategy)->Arg(128)->Arg(2048)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_SweepSimulateEveryStrategyOneCore)->Arg(128)->Arg(2048)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_SweepMachinery)->Arg(128)->Arg(2048)->Unit(benchmark::kMillisecond)->UseRealTime();
