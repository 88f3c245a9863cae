#pragma once
// Collectives expanded into phases of concurrent point-to-point flows on the topology: the
// engine pays a phase's latency, then runs its flows through the FlowNetwork (routes from
// Topology::route); the next phase starts when the last flow of this one finishes.
//
// Size convention (nccl-tests, reference §2.4 [S1]): `bytes` is the per-rank buffer for
// all-reduce and broadcast, the total gathered buffer for all-gather / reduce-scatter, the
// per-rank send buffer (all peers) for all-to-all.
//
// Algorithms (reference §2.2; n ranks, N nodes, k ranks per node):
//  - ring: one phase of the ring's flows i -> i+1, each carrying the whole ring's bytes
//    (all-reduce 2(n-1)/n S, all-gather / reduce-scatter (n-1)/n S). Bandwidth-equivalent to the
//    n-1 pipelined steps: a large ring all-reduce's busbw is the bottleneck link bandwidth.
//    Multi-node groups use one ring per NIC rail, as NCCL's channels do: ring c visits each node's
//    members rotated so that it enters the node on NIC c, and carries S / rails; the node
//    boundary crossings then spread over all NICs.
//  - tree (all-reduce): NCCL's double binary tree over nodes [S3 2.4.2], each tree carrying half
//    the data, plus a chain inside each node; reduce (up) and broadcast (down) run pipelined, so
//    all their flows form one phase. One tree set per NIC rail, as for rings.
//  - hierarchical: intra-node reduce-scatter, inter-node all-reduce of the 1/k shard (one ring per
//    local rank, all rails in parallel), intra-node all-gather: 3 phases (all-gather /
//    reduce-scatter: the 2-phase analogues). Needs the same k > 1 local ranks on every node;
//    otherwise ring.
//  - nvls (all-reduce, one node, intra_node.nvls): the switch reduces and multicasts; each GPU
//    sends and receives (1 + 1/n) S (reference §2.2, unverified §10). Modelled as the equivalent
//    flow per GPU: GPU i sends (1 + 1/n) S to GPU i+1, which loads every GPU's switch up and down
//    link with exactly that traffic (the NVSwitch core is non-blocking). Elsewhere: automatic.
//  - direct: every rank to every other rank (all-to-all: the only algorithm; all-reduce: direct
//    reduce-scatter then direct all-gather, 2 phases; broadcast: the root sends to all).
//  - broadcast (ring): a pipelined chain from the root (members[0]), one chain per NIC rail.
// Requests that do not apply (tree for all-gather, ring for all-to-all...) fall back as listed.
//
// Latency (per phase, paid before its bandwidth part): NCCL's tuning model [S2a] (reference
// §2.5): base + per-step hardware latency by link class (NVLink / PCI / NET) and protocol, plus
// the topology's path latency of the step (for NET steps with Simple twice: NCCL's flush).
// The protocol (LL / LL128 / Simple) is the one with the least predicted time; flows carry the
// protocol's wire bytes (payload / efficiency: LL 1/2, LL128 120/128 [S2d]). Link capacities are
// used as given (line rate unless the caller scales them); NCCL's per-channel bandwidth caps and
// small-message channel reduction are not modelled.
//
// choose_algorithm: like NCCL's tuner [S2b], the argmin over the applicable algorithms of the
// predicted time, sum over phases of latency + busiest-link wire bytes / capacity (the time the
// phase takes on an otherwise idle network when its flows share links evenly).
#include <cstdint>
#include <span>
#include <vector>

#include "cluster/topology.hpp"
#include "graph/partition_graph.hpp"
#include "network/nccl_model.hpp"
#include "plan/strategy.hpp"

namespace strata {

struct FlowSpec {
  int src, dst;
  double bytes;
};

struct CollectivePhase {
  std::vector<FlowSpec> flows;
  double latency_s = 0;  // paid before the phase's bandwidth part
};

struct CollectivePlan {
  CollAlgo algo = CollAlgo::ring;
  std::vector<CollectivePhase> phases;
  NcclProto proto = NcclProto::simple;  // protocol the latencies and wire bytes assume
  double predicted_s = 0;               // sum over phases of latency + busiest link bytes / capacity
};

CollAlgo choose_algorithm(CollKind kind, std::span<const int> members, double bytes, const Topology& topo);

// members: GPU ids (distinct). a2av (all_to_all_v): [i][j] bytes member i sends member j (the
// diagonal is ignored); without it all_to_all_v is the uniform all-to-all of `bytes`.
CollectivePlan plan_collective(CollKind kind, std::span<const int> members, double bytes, CollAlgo requested,
                               const Topology& topo, const std::vector<std::vector<double>>* a2av = nullptr);

// Time one phase takes alone on the network: busiest link (wire bytes / capacity), flows routed
// with flow_key 0. Latency not included.
double phase_bandwidth_time(const CollectivePhase& phase, const Topology& topo);

// Runs plans concurrently on an otherwise idle network (FlowNetwork over the topology's links,
// flows routed with flow_key 0): each plan pays a phase's latency, starts its flows, and moves
// to the next phase when they have all finished. Returns each plan's completion time. A reference
// for tests and calibration; the engine interleaves collectives with everything else itself.
std::vector<double> simulate_collectives(std::span<const CollectivePlan> plans, const Topology& topo,
                                         double start_s = 0);

// The algorithm plan_collective builds for a request (after fallbacks; automatic = choose).
CollAlgo resolve_algorithm(CollKind kind, std::span<const int> members, double bytes, CollAlgo requested,
                           const Topology& topo);

}  // namespace strata
