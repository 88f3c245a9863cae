#include "network/collective.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace strata {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Members grouped by node (ascending node id), each node's members by local index.
struct GroupLayout {
  std::vector<std::vector<int>> node_members;
  int n = 0, nodes = 0;
  int ppn = 1;          // most members on one node
  int channels = 1;     // NIC rails the group can spread its rings over
  bool uniform = true;  // the same member count on every node
};

GroupLayout make_layout(std::span<const int> members, const Topology& topo) {
  std::vector<int> sorted(members.begin(), members.end());
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    if (sorted[i] < 0 || sorted[i] >= topo.gpus()) throw std::invalid_argument("collective: member GPU out of range");
    if (i > 0 && sorted[i] == sorted[i - 1]) throw std::invalid_argument("collective: duplicate member GPU");
  }
  GroupLayout lay;
  lay.n = int(sorted.size());
  // One run of sorted ids per node (GPU ids sort node-major, local index within): each node's
  // list is allocated once, at its size (plans of 10^3-member groups call this often).
  std::size_t runs = 0;
  for (std::size_t i = 0; i < sorted.size(); ++i)
    if (i == 0 || topo.node_of(sorted[i]) != topo.node_of(sorted[i - 1])) ++runs;
  lay.node_members.reserve(runs);
  int min_rails = std::numeric_limits<int>::max();
  for (std::size_t i = 0; i < sorted.size();) {
    std::size_t j = i + 1;
    const int node = topo.node_of(sorted[i]);
    while (j < sorted.size() && topo.node_of(sorted[j]) == node) ++j;
    lay.node_members.emplace_back(sorted.begin() + std::ptrdiff_t(i), sorted.begin() + std::ptrdiff_t(j));
    // Distinct NICs of the node's members: nic_local is non-decreasing in the local index, and
    // the run is in ascending local order, so count the changes.
    int rails = 1;
    for (std::size_t m = i + 1; m < j; ++m)
      if (topo.nic_local(topo.local_index(sorted[m])) != topo.nic_local(topo.local_index(sorted[m - 1]))) ++rails;
    min_rails = std::min(min_rails, rails);
    i = j;
  }
  lay.nodes = int(lay.node_members.size());
  for (const auto& nm : lay.node_members) {
    lay.ppn = std::max(lay.ppn, int(nm.size()));
    if (nm.size() != lay.node_members.front().size()) lay.uniform = false;
  }
  lay.channels = lay.nodes > 1 ? std::max(1, min_rails) : 1;
  return lay;
}

// Node `nm` visited by channel c of C: rotated so that channel c enters on the c-th NIC group.
int rotation(std::size_t size, int c, int C) { return int((std::size_t(c) * size / std::size_t(C)) % size); }

std::vector<int> ring_sequence(const GroupLayout& lay, int c) {
  std::vector<int> seq;
  seq.reserve(std::size_t(lay.n));
  for (const auto& nm : lay.node_members) {
    const std::size_t r = std::size_t(rotation(nm.size(), c, lay.channels));
    for (std::size_t i = 0; i < nm.size(); ++i) seq.push_back(nm[(r + i) % nm.size()]);
  }
  return seq;
}

// How a phase's latency is composed from NCCL's constants (reference §2.5 [S2a]).
struct LatencyRecipe {
  NcclFamily family = NcclFamily::ring;
  bool base = true;
  double intra_steps = 0, inter_steps = 0;
  bool multi_node = false;         // intraLat = max(intraLat, netOverhead)
  bool one_rank_per_node = false;  // inter steps use Tree's NET latency
  bool plateau = false;            // ring all-reduce multi-node Simple x1.4
  double plateau_bytes = 0;        // bytes / (channels * ranks)
  // Filled from the routed flows.
  double intra_path_us = 0, inter_path_us = 0;
  double bw_time_s = 0;            // payload bytes on the busiest link / capacity
};

struct Draft {
  CollAlgo algo = CollAlgo::ring;
  std::vector<CollectivePhase> phases;  // payload bytes, latency not set
  std::vector<LatencyRecipe> recipes;
};

NcclLink intra_link(const Topology& topo) {
  return topo.spec().intra.kind == IntraKind::pcie ? NcclLink::pci : NcclLink::nvlink;
}

double recipe_latency_us(const LatencyRecipe& r, NcclProto p, NcclLink intra) {
  const bool simple = p == NcclProto::simple;
  double intra_lat = nccl_hw_latency_us(intra, r.family, p) + r.intra_path_us;
  if (r.multi_node) intra_lat = std::max(intra_lat, kNcclNetOverheadUs * (simple ? kNcclNetOverheadSimpleFactor : 1.0));
  const NcclFamily net_family = r.one_rank_per_node && r.family != NcclFamily::nvls ? NcclFamily::tree : r.family;
  const double inter_lat = nccl_hw_latency_us(NcclLink::net, net_family, p) + r.inter_path_us * (simple ? 2.0 : 1.0);
  double lat = (r.base ? nccl_base_latency_us(r.family, p) : 0.0) + r.intra_steps * intra_lat + r.inter_steps * inter_lat;
  if (r.plateau && simple && r.plateau_bytes >= kNcclRingPlateauBytes) lat *= kNcclRingPlateauFactor;
  return lat;
}

struct Scratch {
  std::vector<double> load;
  std::vector<LinkId> touched, path;
};

Scratch& scratch(const Topology& topo) {
  thread_local Scratch s;
  if (s.load.size() < topo.link_count()) s.load.assign(topo.link_count(), 0.0);
  return s;
}

// Routes the phase's flows: busiest-link time and the largest intra / inter-node path latency.
void measure_phase(const CollectivePhase& phase, const Topology& topo, LatencyRecipe* recipe, double* bw_time) {
  Scratch& s = scratch(topo);
  s.touched.clear();
  double intra_path = 0, inter_path = 0;
  for (const FlowSpec& f : phase.flows) {
    if (f.src == f.dst || !(f.bytes > 0)) continue;
    topo.route(f.src, f.dst, 0, s.path);
    const double lat = topo.path_latency(s.path);
    if (topo.node_of(f.src) == topo.node_of(f.dst)) intra_path = std::max(intra_path, lat);
    else inter_path = std::max(inter_path, lat);
    for (LinkId l : s.path) {
      if (s.load[l] == 0) s.touched.push_back(l);
      s.load[l] += f.bytes;
    }
  }
  double t = 0;
  for (LinkId l : s.touched) {
    const double cap = topo.capacities()[l];
    t = std::max(t, cap > 0 ? s.load[l] / cap : kInf);
    s.load[l] = 0;
  }
  if (recipe) {
    recipe->intra_path_us = intra_path * 1e6;
    recipe->inter_path_us = inter_path * 1e6;
    recipe->bw_time_s = t;
  }
  if (bw_time) *bw_time = t;
}

void add_ring_flows(const GroupLayout& lay, double per_flow_total, std::vector<FlowSpec>& out) {
  const double b = per_flow_total / lay.channels;
  for (int c = 0; c < lay.channels; ++c) {
    const std::vector<int> seq = ring_sequence(lay, c);
    for (std::size_t i = 0; i < seq.size(); ++i) out.push_back(FlowSpec{seq[i], seq[(i + 1) % seq.size()], b});
  }
}

LatencyRecipe ring_recipe(const GroupLayout& lay, bool all_reduce, double bytes) {
  LatencyRecipe r;
  r.family = NcclFamily::ring;
  const double steps = all_reduce ? 2.0 * (lay.n - 1) : double(lay.n - 1);
  const double inter = all_reduce ? 2.0 * (lay.nodes - 1) : double(lay.nodes - 1);
  r.intra_steps = steps - inter;
  r.inter_steps = inter;
  r.multi_node = lay.nodes > 1;
  r.one_rank_per_node = lay.nodes > 1 && lay.ppn == 1;
  r.plateau = all_reduce && lay.nodes > 1;
  r.plateau_bytes = bytes / (double(lay.channels) * lay.n);
  return r;
}

LatencyRecipe direct_recipe(const GroupLayout& lay) {
  LatencyRecipe r;
  r.family = NcclFamily::ring;
  r.intra_steps = lay.nodes > 1 ? 0 : 1;
  r.inter_steps = lay.nodes > 1 ? 1 : 0;
  r.multi_node = lay.nodes > 1;
  r.one_rank_per_node = lay.nodes > 1 && lay.ppn == 1;
  return r;
}

void push_phase(Draft& d, std::vector<FlowSpec>&& flows, const LatencyRecipe& r) {
  d.phases.push_back(CollectivePhase{std::move(flows), 0.0});
  d.recipes.push_back(r);
}

Draft draft_ring(CollKind kind, const GroupLayout& lay, double bytes) {
  Draft d;
  d.algo = CollAlgo::ring;
  const bool ar = kind == CollKind::all_reduce;
  const double factor = ar ? 2.0 * (lay.n - 1) / lay.n : double(lay.n - 1) / lay.n;
  std::vector<FlowSpec> flows;
  add_ring_flows(lay, factor * bytes, flows);
  push_phase(d, std::move(flows), ring_recipe(lay, ar, bytes));
  return d;
}

// NCCL's binary tree (src/graph/trees.cc): parent of `rank`, -1 for the root.
int btree_parent(int nranks, int rank) {
  if (rank == 0) return -1;
  int bit = 1;
  while (!(bit & rank)) bit <<= 1;
  int up = (rank ^ bit) | (bit << 1);
  if (up >= nranks) up = rank ^ bit;
  return up;
}

// Double binary tree: the second tree mirrors the first (even n) or shifts it by one (odd n), so
// that a rank is interior in at most one of them [S3 2.4.2].
int dtree_parent(int nranks, int rank, int tree) {
  if (tree == 0) return btree_parent(nranks, rank);
  if (nranks % 2 == 1) {
    const int u = btree_parent(nranks, (rank - 1 + nranks) % nranks);
    return u == -1 ? -1 : (u + 1) % nranks;
  }
  const int u = btree_parent(nranks, nranks - 1 - rank);
  return u == -1 ? -1 : nranks - 1 - u;
}

int dtree_depth(int nranks) {
  int depth = 0;
  for (int t = 0; t < 2; ++t)
    for (int r = 0; r < nranks; ++r) {
      int d = 0;
      for (int x = r; (x = dtree_parent(nranks, x, t)) != -1;) ++d;
      depth = std::max(depth, d);
    }
  return depth;
}

Draft draft_tree(const GroupLayout& lay, double bytes) {
  Draft d;
  d.algo = CollAlgo::tree;
  const int C = lay.channels;
  const double chain_bytes = bytes / C, tree_bytes = bytes / (2.0 * C);
  std::vector<FlowSpec> flows;
  for (int c = 0; c < C; ++c) {
    std::vector<int> reps;
    for (const auto& nm : lay.node_members) {
      const std::size_t r = std::size_t(rotation(nm.size(), c, C));
      for (std::size_t i = 0; i + 1 < nm.size(); ++i) {
        const int u = nm[(r + i) % nm.size()], v = nm[(r + i + 1) % nm.size()];
        flows.push_back(FlowSpec{v, u, chain_bytes});  // reduce towards the chain head
        flows.push_back(FlowSpec{u, v, chain_bytes});  // broadcast back down
      }
      reps.push_back(nm[r]);
    }
    for (int t = 0; t < 2; ++t)
      for (int i = 0; i < lay.nodes; ++i) {
        const int p = dtree_parent(lay.nodes, i, t);
        if (p < 0) continue;
        flows.push_back(FlowSpec{reps[std::size_t(i)], reps[std::size_t(p)], tree_bytes});
        flows.push_back(FlowSpec{reps[std::size_t(p)], reps[std::size_t(i)], tree_bytes});
      }
  }
  LatencyRecipe r;
  r.family = NcclFamily::tree;
  // NCCL: base + 2 * ((ppn - 1) * intraLat + log2(nNodes) * interLat); the inter hops here are
  // the built trees' depth (= log2(nNodes) for powers of two).
  r.intra_steps = 2.0 * (lay.ppn - 1);
  r.inter_steps = 2.0 * dtree_depth(lay.nodes);
  r.multi_node = lay.nodes > 1;
  r.one_rank_per_node = lay.nodes > 1 && lay.ppn == 1;
  push_phase(d, std::move(flows), r);
  return d;
}

Draft draft_nvls(const GroupLayout& lay, double bytes) {
  Draft d;
  d.algo = CollAlgo::nvls;
  const std::vector<int>& m = lay.node_members.front();
  const double per_gpu = (1.0 + 1.0 / lay.n) * bytes;
  std::vector<FlowSpec> flows;
  for (std::size_t i = 0; i < m.size(); ++i) flows.push_back(FlowSpec{m[i], m[(i + 1) % m.size()], per_gpu});
  LatencyRecipe r;
  r.family = NcclFamily::nvls;  // NVLS: intraLat only [S2a]
  r.base = false;
  r.intra_steps = 1;
  push_phase(d, std::move(flows), r);
  return d;
}

// Sub-layouts of a uniform multi-node group: one per node (intra) and one per local position.
GroupLayout sub_layout(std::vector<std::vector<int>> groups_by_node, const Topology& topo) {
  std::vector<int> all;
  for (const auto& g : groups_by_node) all.insert(all.end(), g.begin(), g.end());
  return make_layout(all, topo);
}

Draft draft_hierarchical(CollKind kind, const GroupLayout& lay, double bytes, const Topology& topo) {
  Draft d;
  d.algo = CollAlgo::hierarchical;
  const int k = lay.ppn, N = lay.nodes;
  const double S = bytes;
  // Intra-node ring over each node (all nodes in parallel), total S.
  auto intra_phase = [&]() {
    std::vector<FlowSpec> flows;
    for (const auto& nm : lay.node_members) {
      const GroupLayout one = sub_layout({nm}, topo);
      add_ring_flows(one, double(k - 1) / k * S, flows);
    }
    LatencyRecipe r = ring_recipe(sub_layout({lay.node_members.front()}, topo), false, S);
    push_phase(d, std::move(flows), r);
  };
  // Inter-node ring per local position (rails in parallel) on the 1/k shard.
  auto inter_phase = [&](bool all_reduce) {
    std::vector<FlowSpec> flows;
    GroupLayout first;
    for (int p = 0; p < k; ++p) {
      std::vector<std::vector<int>> rail;
      for (const auto& nm : lay.node_members) rail.push_back({nm[std::size_t(p)]});
      const GroupLayout ring = sub_layout(rail, topo);
      const double factor = all_reduce ? 2.0 * (N - 1) / N : double(N - 1) / N;
      add_ring_flows(ring, factor * S / k, flows);
      if (p == 0) first = ring;
    }
    push_phase(d, std::move(flows), ring_recipe(first, all_reduce, S / k));
  };
  switch (kind) {
    case CollKind::all_reduce:
      intra_phase();
      inter_phase(true);
      intra_phase();
      break;
    case CollKind::all_gather:
      inter_phase(false);
      intra_phase();
      break;
    default:  // reduce_scatter
      intra_phase();
      inter_phase(false);
      break;
  }
  return d;
}

Draft draft_direct(CollKind kind, std::span<const int> members, const GroupLayout& lay, double bytes,
                   const std::vector<std::vector<double>>* a2av) {
  Draft d;
  d.algo = CollAlgo::direct;
  const std::size_t n = members.size();
  auto all_pairs = [&](double b) {
    std::vector<FlowSpec> flows;
    flows.reserve(n * (n - 1));
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j)
        if (i != j) flows.push_back(FlowSpec{members[i], members[j], b});
    return flows;
  };
  switch (kind) {
    case CollKind::all_reduce:  // direct reduce-scatter, then direct all-gather
      push_phase(d, all_pairs(bytes / double(n)), direct_recipe(lay));
      push_phase(d, all_pairs(bytes / double(n)), direct_recipe(lay));
      break;
    case CollKind::broadcast: {
      std::vector<FlowSpec> flows;
      for (std::size_t j = 1; j < n; ++j) flows.push_back(FlowSpec{members[0], members[j], bytes});
      push_phase(d, std::move(flows), direct_recipe(lay));
      break;
    }
    case CollKind::all_to_all_v:
      if (a2av) {
        if (a2av->size() != n) throw std::invalid_argument("all_to_all_v: byte matrix must be members x members");
        std::vector<FlowSpec> flows;
        for (std::size_t i = 0; i < n; ++i) {
          if ((*a2av)[i].size() != n) throw std::invalid_argument("all_to_all_v: byte matrix must be members x members");
          for (std::size_t j = 0; j < n; ++j)
            if (i != j && (*a2av)[i][j] > 0) flows.push_back(FlowSpec{members[i], members[j], (*a2av)[i][j]});
        }
        push_phase(d, std::move(flows), direct_recipe(lay));
        break;
      }
      [[fallthrough]];
    default:  // all_gather, reduce_scatter, all_to_all: S / n between every ordered pair
      push_phase(d, all_pairs(bytes / double(n)), direct_recipe(lay));
      break;
  }
  return d;
}

Draft draft_broadcast_chain(std::span<const int> members, const GroupLayout& lay, double bytes, const Topology& topo) {
  Draft d;
  d.algo = CollAlgo::ring;
  const int root = members[0];
  std::vector<FlowSpec> flows;
  int crossings = 0;
  for (int c = 0; c < lay.channels; ++c) {
    const std::vector<int> seq = ring_sequence(lay, c);
    const std::size_t at = std::size_t(std::find(seq.begin(), seq.end(), root) - seq.begin());
    for (std::size_t i = 0; i + 1 < seq.size(); ++i) {
      const int u = seq[(at + i) % seq.size()], v = seq[(at + i + 1) % seq.size()];
      flows.push_back(FlowSpec{u, v, bytes / lay.channels});
      if (c == 0 && topo.node_of(u) != topo.node_of(v)) ++crossings;
    }
  }
  LatencyRecipe r;
  r.family = NcclFamily::ring;
  r.inter_steps = crossings;
  r.intra_steps = double(lay.n - 1 - crossings);
  r.multi_node = lay.nodes > 1;
  r.one_rank_per_node = lay.nodes > 1 && lay.ppn == 1;
  push_phase(d, std::move(flows), r);
  return d;
}

bool nvls_applies(CollKind kind, const GroupLayout& lay, const Topology& topo) {
  const IntraNodeSpec& intra = topo.spec().intra;
  return kind == CollKind::all_reduce && intra.nvls && intra.kind == IntraKind::nvswitch && lay.nodes == 1 && lay.n > 1;
}

bool hierarchical_applies(CollKind kind, const GroupLayout& lay) {
  return (kind == CollKind::all_reduce || kind == CollKind::all_gather || kind == CollKind::reduce_scatter) &&
         lay.nodes > 1 && lay.uniform && lay.ppn > 1;
}

// The applicable algorithm for a request; CollAlgo::automatic stays automatic.
CollAlgo applicable(CollKind kind, const GroupLayout& lay, CollAlgo requested, const Topology& topo) {
  switch (kind) {
    case CollKind::all_to_all:
    case CollKind::all_to_all_v: return CollAlgo::direct;
    case CollKind::broadcast:
      return requested == CollAlgo::direct ? CollAlgo::direct : CollAlgo::ring;
    case CollKind::all_gather:
    case CollKind::reduce_scatter:
      switch (requested) {
        case CollAlgo::automatic: return CollAlgo::automatic;
        case CollAlgo::direct: return CollAlgo::direct;
        case CollAlgo::hierarchical: return hierarchical_applies(kind, lay) ? CollAlgo::hierarchical : CollAlgo::ring;
        default: return CollAlgo::ring;
      }
    case CollKind::all_reduce:
      switch (requested) {
        case CollAlgo::hierarchical: return hierarchical_applies(kind, lay) ? CollAlgo::hierarchical : CollAlgo::ring;
        case CollAlgo::nvls: return nvls_applies(kind, lay, topo) ? CollAlgo::nvls : CollAlgo::automatic;
        default: return requested;
      }
  }
  return CollAlgo::ring;
}

std::vector<CollAlgo> candidates(CollKind kind, const GroupLayout& lay, const Topology& topo) {
  switch (kind) {
    case CollKind::all_to_all:
    case CollKind::all_to_all_v: return {CollAlgo::direct};
    case CollKind::broadcast: return {CollAlgo::ring};
    case CollKind::all_gather:
    case CollKind::reduce_scatter:
      if (hierarchical_applies(kind, lay)) return {CollAlgo::ring, CollAlgo::hierarchical};
      return {CollAlgo::ring};
    case CollKind::all_reduce: {
      std::vector<CollAlgo> c{CollAlgo::ring, CollAlgo::tree};
      if (hierarchical_applies(kind, lay)) c.push_back(CollAlgo::hierarchical);
      if (nvls_applies(kind, lay, topo)) c.push_back(CollAlgo::nvls);
      return c;
    }
  }
  return {CollAlgo::ring};
}

Draft draft(CollKind kind, CollAlgo algo, std::span<const int> members, const GroupLayout& lay, double bytes,
            const Topology& topo, const std::vector<std::vector<double>>* a2av) {
  switch (algo) {
    case CollAlgo::tree: return draft_tree(lay, bytes);
    case CollAlgo::nvls: return draft_nvls(lay, bytes);
    case CollAlgo::hierarchical: return draft_hierarchical(kind, lay, bytes, topo);
    case CollAlgo::direct: return draft_direct(kind, members, lay, bytes, a2av);
    default:
      if (kind == CollKind::broadcast) return draft_broadcast_chain(members, lay, bytes, topo);
      return draft_ring(kind, lay, bytes);
  }
}

// Routes the draft, picks the protocol with the least predicted time, sets latencies and wire
// bytes.
CollectivePlan finish(Draft&& d, const Topology& topo) {
  for (std::size_t i = 0; i < d.phases.size(); ++i) measure_phase(d.phases[i], topo, &d.recipes[i], nullptr);
  const NcclLink intra = intra_link(topo);
  NcclProto best = NcclProto::simple;
  double best_t = kInf;
  for (NcclProto p : {NcclProto::ll, NcclProto::ll128, NcclProto::simple}) {
    bool ok = true;
    double t = 0;
    for (const LatencyRecipe& r : d.recipes) {
      ok = ok && nccl_proto_supported(r.family, p);
      t += recipe_latency_us(r, p, intra) * 1e-6 + r.bw_time_s / nccl_wire_efficiency(p);
    }
    if (ok && t < best_t) {
      best_t = t;
      best = p;
    }
  }
  CollectivePlan plan;
  plan.algo = d.algo;
  plan.proto = best;
  plan.predicted_s = best_t == kInf ? 0.0 : best_t;
  const double inflate = 1.0 / nccl_wire_efficiency(best);
  for (std::size_t i = 0; i < d.phases.size(); ++i) {
    CollectivePhase& ph = d.phases[i];
    ph.latency_s = recipe_latency_us(d.recipes[i], best, intra) * 1e-6;
    if (inflate != 1.0)
      for (FlowSpec& f : ph.flows) f.bytes *= inflate;
    plan.phases.push_back(std::move(ph));
  }
  return plan;
}

CollectivePlan plan_auto(CollKind kind, std::span<const int> members, const GroupLayout& lay, double bytes,
                         const Topology& topo, const std::vector<std::vector<double>>* a2av) {
  CollectivePlan best;
  bool have = false;
  for (CollAlgo a : candidates(kind, lay, topo)) {
    CollectivePlan p = finish(draft(kind, a, members, lay, bytes, topo, a2av), topo);
    if (!have || p.predicted_s < best.predicted_s) {
      best = std::move(p);
      have = true;
    }
  }
  return best;
}

}  // namespace

double phase_bandwidth_time(const CollectivePhase& phase, const Topology& topo) {
  double t = 0;
  measure_phase(phase, topo, nullptr, &t);
  return t;
}

CollAlgo resolve_algorithm(CollKind kind, std::span<const int> members, double bytes, CollAlgo requested,
                           const Topology& topo) {
  if (members.size() < 2) return requested == CollAlgo::automatic ? CollAlgo::ring : requested;
  const GroupLayout lay = make_layout(members, topo);
  const CollAlgo a = applicable(kind, lay, requested, topo);
  if (a != CollAlgo::automatic) return a;
  if (!(bytes > 0)) return candidates(kind, lay, topo).front();
  return plan_auto(kind, members, lay, bytes, topo, nullptr).algo;
}

CollAlgo choose_algorithm(CollKind kind, std::span<const int> members, double bytes, const Topology& topo) {
  return resolve_algorithm(kind, members, bytes, CollAlgo::automatic, topo);
}

CollectivePlan plan_collective(CollKind kind, std::span<const int> members, double bytes, CollAlgo requested,
                               const Topology& topo, const std::vector<std::vector<double>>* a2av) {
  CollectivePlan plan;
  const bool has_matrix = kind == CollKind::all_to_all_v && a2av != nullptr;
  if (members.size() < 2 || (!has_matrix && !(bytes > 0))) {
    plan.algo = requested == CollAlgo::automatic ? CollAlgo::ring : requested;
    return plan;  // nothing to move: NCCL returns at once for count 0
  }
  const GroupLayout lay = make_layout(members, topo);
  const CollAlgo a = applicable(kind, lay, requested, topo);
  if (a == CollAlgo::automatic) return plan_auto(kind, members, lay, bytes, topo, has_matrix ? a2av : nullptr);
  return finish(draft(kind, a, members, lay, bytes, topo, has_matrix ? a2av : nullptr), topo);
}

}  // namespace strata
