#pragma once
// Strategy search spaces (CONTRACT §2 "search"): a scenario's search block expands into points,
// each point into a scenario; invalid combinations are pruned with a count per reason.
//
// A search block is either
//   {"tp": [1, 2, 4, 8], "pp": [1, 2, 4], "micro_batch": [1, 2]}   the product of value sets;
//   "auto" or {"auto": true, ...}                                   the automatic space for the
//       model, cluster and global batch (auto_points); value sets listed next to "auto" replace
//       (or add) those dimensions.
// Bare keys are strategy fields ("tp"; "strategy.tp" is the same); dotted keys set any scenario
// field ("cluster.nodes", "workload.seq_len"). Derived rules keep a point consistent with the
// base scenario (apply_point): dp follows from the GPU count unless it is listed; a layer_split
// is dropped when pp or vpp vary; the schedule follows vpp (interleaved when vpp > 1).
#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "io/json_reader.hpp"
#include "io/scenario.hpp"

namespace strata::sweep {

// The fields one point sets, in canonical order (strategy fields first, in CONTRACT order).
using Point = std::vector<std::pair<std::string, Json>>;

// "tp=8 pp=4 recompute=selective": the point's identity in outputs and for --resume ("" when empty).
std::string point_label(const Point& p);

struct SearchSpec {
  bool automatic = false;
  std::vector<std::pair<std::string, std::vector<Json>>> dims;  // explicit value sets, canonical order
  bool empty() const { return !automatic && dims.empty(); }
};

// Parses a search block (null = no search). Throws InputError naming "search.KEY".
SearchSpec parse_search(const Json& block, const std::string& file);

// The product of the explicit value sets (one empty point when there are none).
std::vector<Point> product_points(const SearchSpec& spec);

// The automatic ("sensible") space of a valid scenario: tp within a node dividing heads and FFN,
// pp dividing the layers (or a power of two with a balanced layer_split), at least two layers per stage, cp for long sequences,
// ep for MoE, vpp (interleaved), micro-batch, ZeRO 1/3 and recompute; spec.dims replace or add
// dimensions. Points whose degrees cannot tile the GPU count are left out here; everything else
// is left to validate_scenario (expand) so that pruning is counted the same way for every space.
std::vector<Point> auto_points(const Scenario& base, const SearchSpec& spec = {});

// The scenario JSON of one point (base without its "search" block) after the derived rules.
Json apply_point(const Json& base, const Point& point);

struct PruneBucket {
  std::size_t count = 0;
  std::string example;  // the first message seen for this reason
};

struct Candidate {
  Point point;
  Scenario scenario;  // parsed and validated
};

struct Expansion {
  std::size_t combinations = 0;               // points enumerated
  std::vector<Candidate> valid;               // in enumeration order
  std::map<std::string, PruneBucket> pruned;  // invalid points by the JSON path validation names
  std::size_t pruned_total() const;
};

// Applies, parses and validates every point; `jobs` threads (0 = all cores). Deterministic.
Expansion expand(const Json& base, const std::string& file, const std::vector<Point>& points, int jobs = 1);

// The automatic space of a scenario as complete strategy blocks, valid ones only, in a fixed
// order: what the GUI's "what should we run" button lists and simulates.
std::vector<Json> auto_search_space(const Scenario& s);

// Every field of a strategy, as the scenario file spells it.
Json strategy_to_json(const Strategy& s);

}  // namespace strata::sweep
