#pragma once
// A scenario: model x cluster x strategy x workload (+ optional hardware profile), parsed and
// validated once, at the edge (CONTRACT §2). Inside the libraries a Scenario is always valid.
#include <optional>
#include <string>
#include <vector>

#include "cluster/cluster.hpp"
#include "io/json_reader.hpp"
#include "model/model.hpp"
#include "plan/strategy.hpp"

namespace strata {

struct Scenario {
  std::string name;
  std::string file;          // where it came from ("" if built in code)
  ModelSpec model;
  ClusterSpec cluster;
  Strategy strategy;
  Workload workload;
  std::string profile_path;  // resolved path of the hardware profile, or ""
  Json search;               // the raw "search" block (null when absent)
  Json resolved;             // the scenario JSON after --set overrides

  DType compute_dtype() const { return strategy.dtype.value_or(model.dtype); }
};

// Project root used to resolve shipped relative paths (topologies/, scenarios/): the
// STRATA_ROOT environment variable, else the source tree the binary was built from.
std::string project_root();

// Applies "a.b.c=value" overrides; the value is parsed as JSON when it parses, else a string.
void apply_override(Json& root, const std::string& assignment, const std::string& file);

// Parses a scenario file (plus overrides) and validates it. Throws InputError.
Scenario load_scenario(const std::string& file, const std::vector<std::string>& overrides = {});
// Parses an in-memory scenario JSON; `file` is used for messages and relative paths.
Scenario parse_scenario(const Json& j, const std::string& file);

// Topology file (CONTRACT §2) parsing, shared with `strata topologies`.
ClusterSpec parse_cluster(const JsonReader& topo);
// Model block parsing (preset / hf_config / inline).
ModelSpec parse_model(const JsonReader& model, const std::string& scenario_dir);

// Consistency of strategy vs model, cluster and workload; messages show the arithmetic.
void validate_scenario(const Scenario& s);

std::string resolve_path(const std::string& path, const std::string& scenario_dir);

}  // namespace strata
