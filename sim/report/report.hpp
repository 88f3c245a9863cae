#pragma once
// The report (CONTRACT §3): computed from the simulated (or measured) timeline itself.
#include <array>
#include <string>

#include "graph/partition_graph.hpp"
#include "io/json_reader.hpp"

namespace strata {

struct Scenario;

struct MemoryReport {
  double peak_bytes = 0, weights_bytes = 0, grads_bytes = 0, optimizer_bytes = 0, activations_bytes = 0;
  double kv_cache_bytes = 0, capacity_bytes = 0;
  bool fits = true;
};

struct Report {
  std::string scenario;
  Json strategy;
  long long gpus = 0;
  double step_time_s = 0;
  double tokens_per_s = 0;
  double tflops_per_gpu = 0;
  double mfu = 0;
  double bubble_fraction = 0;
  // Exposed communication (not hidden behind compute), seconds, on the worst rank, by kind.
  double exposed_tp_s = 0, exposed_cp_s = 0, exposed_ep_s = 0, exposed_pp_s = 0, exposed_dp_s = 0;
  MemoryReport memory;
  bool inference = false;
  double ttft_s = 0, tpot_s = 0;
  // Busy time per category on the critical (slowest) rank, seconds.
  std::array<double, std::size_t(Category::count)> busy_s{};
  Json extra;  // more fields: per-op breakdown, simulation statistics, ...

  Json to_json() const;
};

}  // namespace strata
