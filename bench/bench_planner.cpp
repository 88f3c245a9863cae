// Planner speed and size at scale: a Llama-3-405B-like training job on 16,384 GPUs
// (tp 8 x cp 2 x pp 16 x dp 64, interleaved with vpp 2, 126 layers split 6 + 15 x 8, sequence
// parallel, distributed optimizer, seq 8192, 1024 sequences per step = 16 micro-batches per
// pipeline). Target (issue 3): under 1 s and under 200 MB. Cost grows with the rank classes (here
// one per pipeline stage), not with the GPUs.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include "graph/graph_json.hpp"
#include "io/scenario.hpp"
#include "plan/planner.hpp"

namespace {

strata::Scenario llama405b_16k(const char* schedule = "interleaved", int vpp = 2) {
  strata::Json j = strata::Json::parse(R"({
    "name": "llama3-405b-16k",
    "model": {"preset": "llama3-405b"},
    "cluster": {"topology": {"name": "dgx-h100", "gpu": "H100-SXM", "gpus_per_node": 8, "nodes": 2048,
                             "intra_node": {"kind": "nvswitch", "bw_GBps": 450, "nvls": true},
                             "nic": {"per_node": 8, "bw_GBps": 50},
                             "fabric": {"kind": "rail-optimized", "levels": 3}}},
    "strategy": {"tp": 8, "cp": 2, "pp": 16, "dp": 64, "sequence_parallel": true,
                 "micro_batch": 1, "global_batch": 1024, "zero": 1, "recompute": "none",
                 "layer_split": [6, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8]},
    "workload": {"kind": "train", "seq_len": 8192}
  })");
  j["strategy"]["schedule"] = schedule;
  j["strategy"]["vpp"] = vpp;
  return strata::parse_scenario(j, "bench_planner");
}

template <class T>
double vbytes(const std::vector<T>& v) {
  return double(v.capacity() * sizeof(T));
}

// Heap bytes the graph holds (task arrays, shapes, layout tables are not counted beyond ranks).
double graph_bytes(const strata::PartitionGraph& g) {
  double b = vbytes(g.rank_class) + vbytes(g.class_rep) + vbytes(g.class_stage) + vbytes(g.class_memory);
  for (const auto& c : g.classes) {
    b += vbytes(c.kind) + vbytes(c.stream) + vbytes(c.category) + vbytes(c.phase) + vbytes(c.op) + vbytes(c.name) +
         vbytes(c.layer) + vbytes(c.microbatch) + vbytes(c.chunk) + vbytes(c.flops) + vbytes(c.bytes) + vbytes(c.mem_delta) +
         vbytes(c.detail) + vbytes(c.dep_begin) + vbytes(c.deps) + vbytes(c.gemms) + vbytes(c.attns) + vbytes(c.colls) +
         vbytes(c.p2ps);
    for (const auto& v : c.a2av_bytes) b += vbytes(v);
  }
  return b;
}

double max_rss_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) * 1024.0;  // Linux: kilobytes
}

void BM_PlanLlama405b16k(benchmark::State& state) {
  const strata::Scenario sc = llama405b_16k();
  std::size_t tasks = 0, classes = 0;
  double bytes = 0;
  for (auto _ : state) {
    strata::PartitionGraph g = strata::build_partition_graph(sc);
    tasks = g.total_tasks();
    classes = g.classes.size();
    bytes = graph_bytes(g);
    benchmark::DoNotOptimize(g);
  }
  state.counters["gpus"] = double(sc.cluster.gpus());
  state.counters["classes"] = double(classes);
  state.counters["tasks"] = double(tasks);
  state.counters["graph_MB"] = bytes / 1e6;
  state.counters["max_rss_MB"] = max_rss_bytes() / 1e6;
}
BENCHMARK(BM_PlanLlama405b16k)->Unit(benchmark::kMillisecond);

void BM_PlanLlama405b16k_1F1B(benchmark::State& state) {
  const strata::Scenario sc = llama405b_16k("1f1b", 1);
  for (auto _ : state) {
    strata::PartitionGraph g = strata::build_partition_graph(sc);
    benchmark::DoNotOptimize(g);
  }
}
BENCHMARK(BM_PlanLlama405b16k_1F1B)->Unit(benchmark::kMillisecond);

void BM_GraphJsonLlama405b16k(benchmark::State& state) {
  const strata::Scenario sc = llama405b_16k();
  const strata::PartitionGraph g = strata::build_partition_graph(sc);
  std::size_t size = 0;
  for (auto _ : state) {
    std::string s = strata::graph_to_json(g, {sc.name, sc.cluster.gpu.hbm_bytes});
    size = s.size();
    benchmark::DoNotOptimize(s);
  }
  state.counters["json_MB"] = double(size) / 1e6;
}
BENCHMARK(BM_GraphJsonLlama405b16k)->Unit(benchmark::kMillisecond);

}  // namespace
