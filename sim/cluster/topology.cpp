#include "cluster/topology.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace strata {

namespace {

constexpr double kGB = 1e9;
constexpr double kUs = 1e-6;

// SplitMix64 finalizer: a fixed, well-mixed 64-bit hash (0 maps to 0).
std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

int ceil_div(std::int64_t a, std::int64_t b) { return int((a + b - 1) / b); }

}  // namespace

const char* link_kind_name(LinkKind k) {
  switch (k) {
    case LinkKind::nvlink: return "nvlink";
    case LinkKind::pcie: return "pcie";
    case LinkKind::nic: return "nic";
    case LinkKind::leaf_up: return "leaf_up";
    case LinkKind::leaf_down: return "leaf_down";
    case LinkKind::spine_up: return "spine_up";
    case LinkKind::spine_down: return "spine_down";
    case LinkKind::core_up: return "core_up";
    case LinkKind::core_down: return "core_down";
  }
  return "nvlink";
}

const char* vertex_kind_name(VertexKind k) {
  switch (k) {
    case VertexKind::gpu: return "gpu";
    case VertexKind::node_switch: return "node_switch";
    case VertexKind::nic: return "nic";
    case VertexKind::leaf: return "leaf";
    case VertexKind::spine: return "spine";
    case VertexKind::core: return "core";
  }
  return "gpu";
}

Topology::Topology(const ClusterSpec& spec, TopologyOptions options) : spec_(spec), options_(options) {
  if (spec.gpus_per_node < 1 || spec.nodes < 1) throw std::invalid_argument("topology: empty cluster");
  if (spec.gpus() > std::int64_t(1) << 30) throw std::invalid_argument("topology: too many GPUs");
  gpn_ = spec.gpus_per_node;
  nodes_ = spec.nodes;
  gpus_ = gpn_ * nodes_;
  nics_per_node_ = std::max(1, spec.nic.per_node);
  // GPU g of a node uses NIC g / (gpus_per_node / per_node) [ref §1.4]; extra NICs (per_node >
  // gpus_per_node) stay idle.
  gpus_per_nic_ = std::max(1, gpn_ / nics_per_node_);
  nics_ = nics_per_node_ * nodes_;

  const FabricSpec& fab = spec.fabric;
  ports_ = std::max(1, fab.switch_radix / 2);
  const double over = fab.oversubscription > 0 ? fab.oversubscription : 1.0;
  uplinks_ = std::max(1, int(std::lround(double(ports_) / over)));
  switch (fab.kind) {
    case FabricKind::ideal:
      levels_ = 1;
      cores_ = 1;
      break;
    case FabricKind::fat_tree:
      leaves_ = ceil_div(nics_, ports_);
      levels_ = 1;
      if (leaves_ > 1) {
        has_spines_ = true;
        levels_ = 2;
        spines_ = uplinks_;
        pods_ = 1;
        pod_leaves_ = leaves_;
        if (fab.levels >= 3) {
          const int per_pod = ports_;  // k-ary fat-tree: radix/2 leaves per pod
          const int pods = ceil_div(leaves_, per_pod);
          if (pods > 1) {
            has_cores_ = true;
            levels_ = 3;
            pods_ = pods;
            pod_leaves_ = per_pod;
            spines_ = pods_ * uplinks_;
            cores_ = uplinks_ * pod_leaves_;
          }
        }
      }
      break;
    case FabricKind::rail_optimized:
      pxn_ = true;
      rail_leaves_ = ceil_div(nodes_, ports_);
      leaves_ = nics_per_node_ * rail_leaves_;
      levels_ = 1;
      if (rail_leaves_ > 1) {
        has_spines_ = true;
        levels_ = 2;
        spines_ = uplinks_;
      }
      break;
  }

  // Vertex blocks.
  v_switch_ = gpus_;
  v_nic_ = v_switch_ + nodes_;
  v_leaf_ = v_nic_ + nics_;
  v_spine_ = v_leaf_ + leaves_;
  v_core_ = v_spine_ + spines_;
  vertex_kinds_total_ = std::size_t(v_core_) + std::size_t(cores_);

  // Link blocks.
  std::size_t n = 0;
  b_gpu_up_ = n;    n += std::size_t(gpus_);
  b_gpu_down_ = n;  n += std::size_t(gpus_);
  b_pcie_up_ = n;   n += std::size_t(gpus_);
  b_pcie_down_ = n; n += std::size_t(gpus_);
  b_nic_up_ = n;    n += std::size_t(nics_);
  b_nic_down_ = n;  n += std::size_t(nics_);
  const std::size_t fabric_links = has_spines_ ? std::size_t(leaves_) * std::size_t(uplinks_) : 0;
  b_leaf_up_ = n;   n += fabric_links;
  b_leaf_down_ = n; n += fabric_links;
  const std::size_t core_links =
      has_cores_ ? std::size_t(pods_) * std::size_t(uplinks_) * std::size_t(pod_leaves_) : 0;
  b_spine_up_ = n;   n += core_links;
  b_spine_down_ = n; n += core_links;
  if (n > std::size_t(UINT32_MAX)) throw std::invalid_argument("topology: too many links");
  links_.reserve(n);
  capacities_.reserve(n);

  const double intra_bw = spec.intra.bw_GBps * kGB;
  const double intra_half_lat = 0.5 * spec.intra.latency_us * kUs;
  const LinkKind intra_kind = spec.intra.kind == IntraKind::pcie ? LinkKind::pcie : LinkKind::nvlink;
  const double pcie_bw = spec.pcie_GBps * kGB;
  const double nic_bw = spec.nic.bw_GBps * kGB;
  const double nic_lat = spec.nic.latency_us * kUs;
  const double hop_lat = fab.latency_us * kUs;
  // Link efficiencies (cluster.hpp): the node's links (NVLink, or PCIe for a PCIe node) at the
  // intra-node figure, the NICs and every fabric link at the NIC's (same protocol end to end);
  // the GPU <-> NIC PCIe hop is not the bottleneck of a NIC path and stays at its line rate.
  const double intra_eff = spec.intra.efficiency, net_eff = spec.nic.efficiency;

  for (int g = 0; g < gpus_; ++g) add_link(intra_kind, g, v_switch_ + node_of(g), intra_bw, intra_half_lat, intra_eff);
  for (int g = 0; g < gpus_; ++g) add_link(intra_kind, v_switch_ + node_of(g), g, intra_bw, intra_half_lat, intra_eff);
  for (int g = 0; g < gpus_; ++g) add_link(LinkKind::pcie, g, v_nic_ + nic_of(g), pcie_bw, 0.0, 1.0);
  for (int g = 0; g < gpus_; ++g) add_link(LinkKind::pcie, v_nic_ + nic_of(g), g, pcie_bw, 0.0, 1.0);
  // NIC -> first switch (a leaf, or the ideal fabric's core).
  auto first_switch = [&](int nic) { return fab.kind == FabricKind::ideal ? v_core_ : v_leaf_ + leaf_of_nic(nic); };
  for (int c = 0; c < nics_; ++c) add_link(LinkKind::nic, v_nic_ + c, first_switch(c), nic_bw, nic_lat, net_eff);
  for (int c = 0; c < nics_; ++c) add_link(LinkKind::nic, first_switch(c), v_nic_ + c, nic_bw, nic_lat + hop_lat, net_eff);
  if (has_spines_) {
    auto spine_of = [&](int leaf, int j) { return v_spine_ + (has_cores_ ? (leaf / pod_leaves_) * uplinks_ + j : j); };
    for (int l = 0; l < leaves_; ++l)
      for (int j = 0; j < uplinks_; ++j) add_link(LinkKind::leaf_up, v_leaf_ + l, spine_of(l, j), nic_bw, hop_lat, net_eff);
    for (int l = 0; l < leaves_; ++l)
      for (int j = 0; j < uplinks_; ++j) add_link(LinkKind::leaf_down, spine_of(l, j), v_leaf_ + l, nic_bw, hop_lat, net_eff);
  }
  if (has_cores_) {
    for (int p = 0; p < pods_; ++p)
      for (int j = 0; j < uplinks_; ++j)
        for (int m = 0; m < pod_leaves_; ++m)
          add_link(LinkKind::spine_up, v_spine_ + p * uplinks_ + j, v_core_ + j * pod_leaves_ + m, nic_bw, hop_lat, net_eff);
    for (int p = 0; p < pods_; ++p)
      for (int j = 0; j < uplinks_; ++j)
        for (int m = 0; m < pod_leaves_; ++m)
          add_link(LinkKind::spine_down, v_core_ + j * pod_leaves_ + m, v_spine_ + p * uplinks_ + j, nic_bw, hop_lat, net_eff);
  }

}

const TopologyGraph& Topology::graph() const {
  std::call_once(graph_cache_->once, [&] { build_graph(graph_cache_->graph); });
  return graph_cache_->graph;
}

// The Boost graph: the description of the same vertices and links.
void Topology::build_graph(TopologyGraph& graph) const {
  graph = TopologyGraph(vertex_kinds_total_);
  auto set_block = [&](std::int32_t begin, int count, VertexKind kind) {
    for (int i = 0; i < count; ++i) graph[std::size_t(begin + i)] = TopoVertex{kind, i};
  };
  set_block(0, gpus_, VertexKind::gpu);
  set_block(v_switch_, nodes_, VertexKind::node_switch);
  set_block(v_nic_, nics_, VertexKind::nic);
  set_block(v_leaf_, leaves_, VertexKind::leaf);
  set_block(v_spine_, spines_, VertexKind::spine);
  set_block(v_core_, cores_, VertexKind::core);
  for (std::size_t id = 0; id < links_.size(); ++id)
    boost::add_edge(std::size_t(links_[id].from), std::size_t(links_[id].to), TopoEdge{LinkId(id)}, graph);
}

void Topology::add_link(LinkKind kind, std::int32_t from, std::int32_t to, double cap_Bps, double lat_s, double efficiency) {
  links_.push_back(Link{cap_Bps, lat_s, kind, from, to});
  capacities_.push_back(cap_Bps * efficiency);
}

int Topology::nic_local(int local_gpu) const {
  return std::min(local_gpu / gpus_per_nic_, nics_per_node_ - 1);
}

int Topology::leaf_of_nic(int nic) const {
  switch (spec_.fabric.kind) {
    case FabricKind::ideal: return -1;
    case FabricKind::fat_tree: return nic / ports_;
    case FabricKind::rail_optimized: {
      const int rail = nic % nics_per_node_, node = nic / nics_per_node_;
      return rail * rail_leaves_ + node / ports_;
    }
  }
  return -1;
}

int Topology::ecmp_pick(int src, int dst, int pos, std::uint64_t flow_key, int ways, int salt) const {
  if (ways <= 1) return 0;
  const std::uint64_t salt_mix = salt == 0 ? 0 : 0x9e3779b97f4a7c15ULL * std::uint64_t(salt);
  if (options_.ecmp == EcmpMode::balanced) {
    // Destination-mod-k, rotated by a hash of the key (key 0 and salt 0: plain D-mod-k).
    const std::uint64_t h = mix64(flow_key ^ salt_mix);
    return int((std::uint64_t(pos) + h % std::uint64_t(ways)) % std::uint64_t(ways));
  }
  std::uint64_t h = mix64(std::uint64_t(std::uint32_t(src)) * 0x100000001b3ULL ^ mix64(std::uint64_t(std::uint32_t(dst)) + 1));
  h = mix64(h ^ mix64(flow_key + 0x632be59bd9b4e019ULL) ^ salt_mix);
  return int(h % std::uint64_t(ways));
}

void Topology::route(int src, int dst, std::uint64_t flow_key, std::vector<LinkId>& path) const {
  path.clear();
  if (src == dst) return;
  const int a = node_of(src), b = node_of(dst);
  if (a == b) {
    path.push_back(gpu_up(src));
    path.push_back(gpu_down(dst));
    return;
  }
  const int i = local_index(src), j = local_index(dst);
  int x = nic_local(i);
  const int y = nic_local(j);
  int injector = src;
  if (pxn_ && x != y) {
    // PXN: move the data over the node switch to the GPU on the destination's rail [S3].
    injector = a * gpn_ + j;
    path.push_back(gpu_up(src));
    path.push_back(gpu_down(injector));
    x = y;
  }
  const int ns = a * nics_per_node_ + x, nd = b * nics_per_node_ + y;
  path.push_back(pcie_up(injector));
  path.push_back(nic_up(ns));
  if (has_spines_) {
    const int ls = leaf_of_nic(ns), ld = leaf_of_nic(nd);
    if (ls != ld) {
      // The destination's port index on its leaf (the "D" of D-mod-k).
      const int pos = spec_.fabric.kind == FabricKind::rail_optimized ? b % ports_ : nd % ports_;
      const int up = ecmp_pick(src, dst, pos, flow_key, uplinks_, 0);
      path.push_back(LinkId(b_leaf_up_ + std::size_t(ls) * std::size_t(uplinks_) + std::size_t(up)));
      if (has_cores_ && ls / pod_leaves_ != ld / pod_leaves_) {
        const int ps = ls / pod_leaves_, pd = ld / pod_leaves_;
        const int m = ecmp_pick(src, dst, pos / uplinks_ + ld, flow_key, pod_leaves_, 1);
        const std::size_t per_pod = std::size_t(uplinks_) * std::size_t(pod_leaves_);
        path.push_back(LinkId(b_spine_up_ + std::size_t(ps) * per_pod + std::size_t(up) * std::size_t(pod_leaves_) + std::size_t(m)));
        path.push_back(LinkId(b_spine_down_ + std::size_t(pd) * per_pod + std::size_t(up) * std::size_t(pod_leaves_) + std::size_t(m)));
      }
      path.push_back(LinkId(b_leaf_down_ + std::size_t(ld) * std::size_t(uplinks_) + std::size_t(up)));
    }
  }
  path.push_back(nic_down(nd));
  path.push_back(pcie_down(dst));
}

bool Topology::routes_may_share(int s1, int d1, int s2, int d2) const {
  if (s1 == d1 || s2 == d2) return false;  // empty paths
  const int a1 = node_of(s1), b1 = node_of(d1), a2 = node_of(s2), b2 = node_of(d2);
  if (a1 == a2 || a1 == b2 || b1 == a2 || b1 == b2) return true;
  // No node in common: only fabric links (leaf and spine tiers) can be shared, and only by two
  // routes that both leave their nodes and climb above their leaves.
  if (a1 == b1 || a2 == b2 || !has_spines_) return false;
  auto leaves = [&](int src, int dst, int& ls, int& ld) {
    const int y = nic_local(local_index(dst));
    const int x = pxn_ ? y : nic_local(local_index(src));
    ls = leaf_of_nic(node_of(src) * nics_per_node_ + x);
    ld = leaf_of_nic(node_of(dst) * nics_per_node_ + y);
  };
  int ls1, ld1, ls2, ld2;
  leaves(s1, d1, ls1, ld1);
  leaves(s2, d2, ls2, ld2);
  if (ls1 == ld1 || ls2 == ld2) return false;  // stays under one leaf
  if (ls1 == ls2 || ld1 == ld2) return true;   // leaf_up of ls, leaf_down of ld
  if (!has_cores_) return false;               // (leaf_up and leaf_down are distinct links)
  const int ps1 = ls1 / pod_leaves_, pd1 = ld1 / pod_leaves_, ps2 = ls2 / pod_leaves_, pd2 = ld2 / pod_leaves_;
  if (ps1 == pd1 || ps2 == pd2) return false;  // no spine_up / spine_down links
  return ps1 == ps2 || pd1 == pd2;
}

double Topology::path_latency(std::span<const LinkId> path) const {
  double s = 0;
  for (LinkId id : path) s += links_[id].latency_s;
  return s;
}

std::string Topology::describe_link(LinkId id) const {
  if (id >= links_.size()) return "link " + std::to_string(id) + " (none)";
  const std::size_t k = id;
  auto gpu_name = [&](std::size_t g) {
    return "node " + std::to_string(node_of(int(g))) + " gpu " + std::to_string(local_index(int(g)));
  };
  auto nic_name = [&](std::size_t c) {
    return "node " + std::to_string(c / std::size_t(nics_per_node_)) + " nic " + std::to_string(c % std::size_t(nics_per_node_));
  };
  auto leaf_name = [&](std::size_t l) {
    if (spec_.fabric.kind == FabricKind::rail_optimized)
      return "rail " + std::to_string(l / std::size_t(rail_leaves_)) + " leaf " + std::to_string(l % std::size_t(rail_leaves_));
    return "leaf " + std::to_string(l);
  };
  const char* intra = spec_.intra.kind == IntraKind::pcie ? "pcie (host switch)" : "nvlink";
  if (k < b_gpu_down_) return gpu_name(k - b_gpu_up_) + " " + intra + " up";
  if (k < b_pcie_up_) return gpu_name(k - b_gpu_down_) + " " + intra + " down";
  if (k < b_pcie_down_) {
    const std::size_t g = k - b_pcie_up_;
    return gpu_name(g) + " pcie to nic " + std::to_string(nic_local(local_index(int(g))));
  }
  if (k < b_nic_up_) {
    const std::size_t g = k - b_pcie_down_;
    return "node " + std::to_string(node_of(int(g))) + " nic " + std::to_string(nic_local(local_index(int(g)))) +
           " pcie to gpu " + std::to_string(local_index(int(g)));
  }
  if (k < b_nic_down_) return nic_name(k - b_nic_up_) + " up";
  if (k < b_leaf_up_) return nic_name(k - b_nic_down_) + " down";
  const std::size_t U = std::size_t(std::max(1, uplinks_));
  auto spine_name = [&](std::size_t leaf, std::size_t j) {
    if (has_cores_) return "pod " + std::to_string(leaf / std::size_t(pod_leaves_)) + " spine " + std::to_string(j);
    return "spine " + std::to_string(j);
  };
  if (k < b_leaf_down_) {
    const std::size_t r = k - b_leaf_up_;
    return leaf_name(r / U) + " uplink " + std::to_string(r % U) + " to " + spine_name(r / U, r % U);
  }
  if (k < b_spine_up_) {
    const std::size_t r = k - b_leaf_down_;
    return spine_name(r / U, r % U) + " down to " + leaf_name(r / U);
  }
  const std::size_t P = std::size_t(std::max(1, pod_leaves_));
  auto core_part = [&](std::size_t r, const char* dir) {
    const std::size_t pod = r / (U * P), j = (r / P) % U, m = r % P;
    return "pod " + std::to_string(pod) + " spine " + std::to_string(j) + " " + dir + " core " +
           std::to_string(j * P + m);
  };
  if (k < b_spine_down_) return core_part(k - b_spine_up_, "up to");
  return core_part(k - b_spine_down_, "down from");
}

}  // namespace strata
