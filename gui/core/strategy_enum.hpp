#pragma once
// The explorer's strategies: the sweep's automatic search space (sweep::auto_search_space) when
// the library has it, else a built-in enumeration of tp, pp, ep and micro-batch over the GPU
// count. Every candidate is validated by the scenario parser itself, so that what the table
// shows is exactly what `strata simulate` accepts.
#include <string>
#include <vector>

#include "io/scenario.hpp"

namespace strata::gui {

struct ExplorerInputs {
  std::string model_preset = "llama3-8b";
  std::string hf_config;                            // a config.json path; replaces the preset when set
  std::string topology = "topologies/dgx-h100.json";  // absolute, or relative to the project root
  int nodes = 2;
  bool inference = false;
  long long seq_len = 4096;
  int global_batch = 64;
  int batch = 8;
  long long prompt_len = 1024, gen_len = 128;
};

struct Candidate {
  Json json;         // the scenario, ready for parse_scenario / simulate
  Scenario scenario; // parsed and validated
  std::string label; // "tp4 pp2 dp2 mb1"
};

struct Rejected {
  std::string label, reason;
};

struct Enumeration {
  int gpus = 0;
  std::string source;  // "sweep search space" or "built-in enumeration"
  std::string model_name, cluster_name;
  std::vector<Candidate> valid;
  std::vector<Rejected> rejected;
  std::size_t available = 0;  // valid strategies before the cap (>= valid.size())
};

// Throws InputError when the model or the topology itself is bad.
Enumeration enumerate_strategies(const ExplorerInputs& in, std::size_t max_candidates = 240);
// The built-in enumeration alone (tests; the fallback).
Enumeration builtin_strategies(const ExplorerInputs& in, std::size_t max_candidates = 240);
std::string strategy_label(const Strategy& s);
std::vector<std::string> list_topologies();   // topologies/*.json under the project root, sorted
std::string resolve_topology(const std::string& path);

}  // namespace strata::gui
