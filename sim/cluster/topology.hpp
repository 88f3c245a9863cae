#pragma once
// The concrete cluster: GPUs, one switch per node (NVSwitch, or the host PCIe switch), NICs and
// the fabric's leaf / spine / core switches, with directed links between them. Generated from a
// ClusterSpec (never listed GPU by GPU). The Boost graph is the description (for inspection and
// drawing); routing is arithmetic on flat link-id blocks, so 100,000 GPUs build in milliseconds.
//
// Links (each physical connection is two directed links, one per direction):
//  - GPU <-> node switch: `nvlink` (nvswitch, nvlink-mesh) or `pcie` (intra kind pcie), capacity
//    intra.bw_GBps per direction. NVSwitch is a non-blocking core [ref §3.1], so a GPU->GPU path
//    inside a node is exactly [gpu up, dst down]. nvlink-mesh is approximated the same way (each
//    GPU's NVLink ports pooled into one port of intra.bw_GBps; a real mesh splits them per peer).
//  - GPU <-> NIC: `pcie`, pcie_GBps, one link pair per GPU (its own path to its NIC). GPU g of a
//    node uses NIC g / (gpus_per_node / nic.per_node) [ref §1.4].
//  - NIC <-> first switch: `nic`, nic.bw_GBps.
//  - fabric (all at NIC speed): `leaf_up` leaf->spine, `leaf_down` spine->leaf, `spine_up`
//    spine->core, `spine_down` core->spine. `core_up` / `core_down` are reserved (no fabric
//    built here has a tier above the core).
//
// Fabrics [ref §3.4]:
//  - ideal: every NIC on one non-blocking core switch; contention only on NIC and PCIe links.
//  - fat-tree: leaves of switch_radix/2 NIC ports; uplinks per leaf = round(ports /
//    oversubscription), >= 1, each at NIC speed. 2 levels: uplink j of every leaf goes to spine j
//    (spine radix not enforced). 3 levels: pods of switch_radix/2 leaves, each pod with one spine
//    per leaf uplink; spine j of a pod has switch_radix/2 uplinks, uplink m to core (j, m), which
//    joins spine j of every pod (k-ary fat-tree; core radix not enforced). Tiers no route would
//    use are not built (a single leaf has no spines; a single pod has no cores).
//  - rail-optimized: NIC k of every node goes to rail k's leaf; a rail has ceil(nodes /
//    (radix/2)) leaves; with more than one, every leaf has round(ports / oversubscription)
//    uplinks, uplink j to spine j shared by all rails. Cross-rail traffic first moves over the
//    node switch to the source-node GPU on the destination's rail (NCCL PXN) [ref §1.4][S3].
//
// Up/down routing picks the uplink with a deterministic ECMP function of (src, dst, flow_key):
//  - EcmpMode::balanced (default): destination-mod-k, as InfiniBand's static fat-tree routing
//    does: uplink = (destination NIC's port index on its leaf + hash(flow_key)) mod uplinks. One
//    source's flows to distinct destinations spread evenly; distinct keys shift the choice by an
//    independent hash, so two flows can still collide on an uplink.
//  - EcmpMode::random: uplink = hash(src, dst, flow_key) mod uplinks, the RoCE 5-tuple ECMP of
//    [ref §3.4] (low-entropy collisions between elephant flows).
//
// Latencies: intra.latency_us is GPU-to-GPU through the node switch (half on each link of the
// pair); nic.latency_us is paid at each NIC (on nic up and on nic down); fabric.latency_us once
// per switch traversed (on the link leaving the switch). PCIe GPU<->NIC links carry no latency of
// their own (the NIC figure covers the host path).
#include <boost/graph/adjacency_list.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "cluster/cluster.hpp"

namespace strata {

using LinkId = std::uint32_t;

enum class LinkKind : std::uint8_t { nvlink, pcie, nic, leaf_up, leaf_down, spine_up, spine_down, core_up, core_down };
enum class VertexKind : std::uint8_t { gpu, node_switch, nic, leaf, spine, core };
enum class EcmpMode : std::uint8_t { balanced, random };

const char* link_kind_name(LinkKind k);
const char* vertex_kind_name(VertexKind k);

struct Link {
  double capacity_Bps;  // line rate; capacities() holds the achievable rate (x link efficiency)
  double latency_s;
  LinkKind kind;
  std::int32_t from, to;  // vertex ids
};

struct TopoVertex {
  VertexKind kind = VertexKind::gpu;
  std::int32_t index = 0;  // index within its kind (GPU id, node, global NIC, leaf, spine, core)
};

struct TopoEdge {
  LinkId link = 0;
};

using TopologyGraph =
    boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, TopoVertex, TopoEdge>;

struct TopologyOptions {
  EcmpMode ecmp = EcmpMode::balanced;
};

class Topology {
 public:
  explicit Topology(const ClusterSpec& spec, TopologyOptions options = {});

  const ClusterSpec& spec() const { return spec_; }
  const TopologyOptions& options() const { return options_; }
  int gpus() const { return gpus_; }
  int nodes() const { return nodes_; }
  int gpus_per_node() const { return gpn_; }
  int node_of(int gpu) const { return gpu / gpn_; }
  int local_index(int gpu) const { return gpu % gpn_; }
  int nics_per_node() const { return nics_per_node_; }
  int nic_local(int local_gpu) const;           // the node-local NIC index a GPU uses
  int nic_of(int gpu) const { return node_of(gpu) * nics_per_node_ + nic_local(local_index(gpu)); }

  std::size_t link_count() const { return links_.size(); }
  const Link& link(LinkId id) const { return links_[id]; }
  const std::vector<Link>& links() const { return links_; }
  // Achievable bytes/s per link: line rate x the link class's efficiency (IntraNodeSpec /
  // NicSpec::efficiency; 1 unless the cluster sets it). What the flow network shares out.
  const std::vector<double>& capacities() const { return capacities_; }

  // Directed links a flow from GPU src to GPU dst crosses (src != dst; src == dst gives an empty
  // path). Same flow_key -> same path.
  void route(int src, int dst, std::uint64_t flow_key, std::vector<LinkId>& path) const;
  double path_latency(std::span<const LinkId> path) const;
  // False only when route(s1, d1, *) and route(s2, d2, *) can share no link, whatever the keys: a
  // route uses links of its two nodes, of its two leaves and of its two pods (Topology::route).
  // Cheaper than routing; lets symmetric weights skip flows that cannot touch a given path.
  bool routes_may_share(int s1, int d1, int s2, int d2) const;
  std::string describe_link(LinkId id) const;  // e.g. "node 3 gpu 2 nvlink up"

  // Built on first use (routing never needs it): a job simulation does not pay for the description.
  const TopologyGraph& graph() const;
  std::size_t vertex_count() const { return vertex_kinds_total_; }

  // Link ids by role (the flat blocks routing is made of).
  LinkId gpu_up(int gpu) const { return LinkId(b_gpu_up_ + gpu); }
  LinkId gpu_down(int gpu) const { return LinkId(b_gpu_down_ + gpu); }
  LinkId pcie_up(int gpu) const { return LinkId(b_pcie_up_ + gpu); }      // GPU -> its NIC
  LinkId pcie_down(int gpu) const { return LinkId(b_pcie_down_ + gpu); }  // NIC -> GPU
  LinkId nic_up(int nic) const { return LinkId(b_nic_up_ + nic); }
  LinkId nic_down(int nic) const { return LinkId(b_nic_down_ + nic); }

  // Fabric shape (0 where the tier is absent).
  int leaves() const { return leaves_; }
  int leaf_ports() const { return ports_; }           // NIC ports per leaf
  int uplinks_per_leaf() const { return has_spines_ ? uplinks_ : 0; }
  int spines() const { return spines_; }
  int cores() const { return cores_; }
  int fabric_levels() const { return levels_; }       // switch tiers built (0 ideal, 1..3)
  int leaf_of_nic(int nic) const;                     // -1 for the ideal fabric

 private:
  void add_link(LinkKind kind, std::int32_t from, std::int32_t to, double cap_Bps, double lat_s, double efficiency);
  int ecmp_pick(int src, int dst, int dst_nic, std::uint64_t flow_key, int ways, int salt) const;

  ClusterSpec spec_;
  TopologyOptions options_;
  int gpus_ = 0, nodes_ = 0, gpn_ = 1, nics_per_node_ = 1, gpus_per_nic_ = 1, nics_ = 0;
  bool pxn_ = false;        // rail-optimized: cross-rail traffic relayed over the node switch
  bool has_spines_ = false, has_cores_ = false;
  int ports_ = 0;           // NIC ports per leaf
  int uplinks_ = 0;         // per leaf
  int leaves_ = 0, rail_leaves_ = 0, pod_leaves_ = 0, pods_ = 0, spines_ = 0, cores_ = 0, levels_ = 0;
  // Link id blocks.
  std::size_t b_gpu_up_ = 0, b_gpu_down_ = 0, b_pcie_up_ = 0, b_pcie_down_ = 0, b_nic_up_ = 0,
              b_nic_down_ = 0, b_leaf_up_ = 0, b_leaf_down_ = 0, b_spine_up_ = 0, b_spine_down_ = 0;
  // Vertex id blocks.
  std::int32_t v_switch_ = 0, v_nic_ = 0, v_leaf_ = 0, v_spine_ = 0, v_core_ = 0;
  std::size_t vertex_kinds_total_ = 0;

  std::vector<Link> links_;
  std::vector<double> capacities_;
  struct GraphCache {
    std::once_flag once;
    TopologyGraph graph;
  };
  std::unique_ptr<GraphCache> graph_cache_ = std::make_unique<GraphCache>();
  void build_graph(TopologyGraph& g) const;
};

}  // namespace strata
