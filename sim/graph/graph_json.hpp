#pragma once
// The partition graph as JSON (`strata graph --out G.json`): columnar task arrays per class,
// enum legends, layout and group summary. Format: sim/graph/FORMAT.md.
#include <string>

#include "graph/partition_graph.hpp"

namespace strata {

struct GraphJsonInfo {
  std::string scenario;          // scenario name
  double gpu_capacity_bytes = 0; // for the memory verdict fields (0: omitted)
};

std::string graph_to_json(const PartitionGraph& g, const GraphJsonInfo& info = {});

}  // namespace strata
