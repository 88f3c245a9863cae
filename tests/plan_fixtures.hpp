#pragma once
// Small scenarios for the planner tests, built in memory with an inline topology, plus helpers
// that count and sum tasks of a partition graph.
#include <functional>
#include <string>
#include <vector>

#include "graph/partition_graph.hpp"
#include "io/scenario.hpp"
#include "plan/planner.hpp"

namespace strata::testing {

// GPT-style layer (f = 4h, GeLU, MHA) unless overridden: the reference formulas' own setting.
inline Json base_scenario_json() {
  return Json::parse(R"({
    "name": "plan-test",
    "model": {"layers": 4, "hidden": 1024, "heads": 16, "kv_heads": 16, "ffn_hidden": 4096, "vocab": 32768,
              "activation": "gelu", "dtype": "bf16"},
    "cluster": {"topology": {"name": "t", "gpu": "H100-SXM", "gpus_per_node": 8, "nodes": 1,
                             "intra_node": {"kind": "nvswitch", "bw_GBps": 450},
                             "nic": {"per_node": 1, "bw_GBps": 50}}},
    "strategy": {"tp": 1, "pp": 1, "dp": 1, "cp": 1, "micro_batch": 1, "global_batch": 4},
    "workload": {"kind": "train", "seq_len": 1024}
  })");
}

// Applies "a.b=value" overrides, then sizes the cluster to dp·tp·pp·cp GPUs.
inline Scenario make_scenario(const std::vector<std::string>& sets, Json j = base_scenario_json()) {
  for (const auto& s : sets) apply_override(j, s, "test.json");
  const Json& st = j["strategy"];
  auto get = [&](const char* k) { return st.contains(k) ? st[k].get<long long>() : 1LL; };
  long long gpus = get("dp") * get("tp") * get("pp") * get("cp");
  auto& topo = j["cluster"]["topology"];
  long long per_node = gpus >= 8 ? 8 : gpus;
  topo["gpus_per_node"] = per_node;
  topo["nodes"] = gpus / per_node;
  topo["nic"]["per_node"] = 1;
  return parse_scenario(j, "test.json");
}

inline PartitionGraph plan_graph(const std::vector<std::string>& sets, const PlanOptions& o = {}) {
  return build_partition_graph(make_scenario(sets), o);
}

inline std::vector<int> ranks_per_class(const PartitionGraph& g) {
  std::vector<int> n(g.classes.size(), 0);
  for (auto c : g.rank_class) ++n[std::size_t(c)];
  return n;
}

inline bool is_math(OpKind k) { return k == OpKind::gemm || k == OpKind::grouped_gemm || k == OpKind::attention; }

// Sum over every rank of the FLOPs of GEMM and attention tasks.
inline double job_math_flops(const PartitionGraph& g, std::function<bool(const ClassTasks&, std::size_t)> pred = nullptr) {
  auto n = ranks_per_class(g);
  double total = 0;
  for (std::size_t c = 0; c < g.classes.size(); ++c) {
    const ClassTasks& t = g.classes[c];
    for (std::size_t i = 0; i < t.size(); ++i)
      if (is_math(t.op[i]) && (!pred || pred(t, i))) total += t.flops[i] * n[c];
  }
  return total;
}

inline std::uint32_t name_id(const PartitionGraph& g, const std::string& n) {
  for (std::size_t i = 0; i < g.names.size(); ++i)
    if (g.names[i] == n) return std::uint32_t(i);
  return 0xffffffffu;
}

// Tasks of one class with the given name (and optional filter).
inline std::vector<std::size_t> find_tasks(const PartitionGraph& g, std::size_t cls, const std::string& name,
                                           std::function<bool(const ClassTasks&, std::size_t)> pred = nullptr) {
  std::vector<std::size_t> out;
  const auto id = name_id(g, name);
  const ClassTasks& t = g.classes[cls];
  for (std::size_t i = 0; i < t.size(); ++i)
    if (t.name[i] == id && (!pred || pred(t, i))) out.push_back(i);
  return out;
}

}  // namespace strata::testing
