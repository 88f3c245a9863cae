// Topology generation and routing: link counts, paths by fabric, PXN, ECMP, build speed.
#include <gtest/gtest.h>

#include <ctime>
#include <map>
#include <set>

#include "cluster/topology.hpp"
#include "io/json_reader.hpp"
#include "io/scenario.hpp"

using namespace strata;

namespace {

ClusterSpec dgx_h100(int nodes) {
  ClusterSpec c;
  c.name = "dgx-h100";
  c.gpus_per_node = 8;
  c.nodes = nodes;
  c.intra = {IntraKind::nvswitch, 450, 0.7, true};
  c.nic = {8, 50, 2.0};
  c.fabric = {FabricKind::rail_optimized, 2, 1.0, 64, 1.0};
  c.pcie_GBps = 64;
  return c;
}

ClusterSpec fat_tree(int gpn, int nics, int nodes, int radix, double over, int levels) {
  ClusterSpec c = dgx_h100(nodes);
  c.gpus_per_node = gpn;
  c.nic.per_node = nics;
  c.fabric = {FabricKind::fat_tree, levels, over, radix, 1.0};
  return c;
}

std::map<LinkKind, int> count_kinds(const Topology& t) {
  std::map<LinkKind, int> m;
  for (const Link& l : t.links()) ++m[l.kind];
  return m;
}

// Every path is a chain of links from the source GPU to the destination GPU.
void expect_connected(const Topology& t, int src, int dst, const std::vector<LinkId>& path) {
  ASSERT_FALSE(path.empty());
  EXPECT_EQ(t.link(path.front()).from, src);
  EXPECT_EQ(t.link(path.back()).to, dst);
  for (std::size_t i = 0; i + 1 < path.size(); ++i)
    EXPECT_EQ(t.link(path[i]).to, t.link(path[i + 1]).from) << t.describe_link(path[i]) << " -> " << t.describe_link(path[i + 1]);
  std::set<LinkId> unique(path.begin(), path.end());
  EXPECT_EQ(unique.size(), path.size());
}

bool has_kind(const Topology& t, const std::vector<LinkId>& path, LinkKind k) {
  for (LinkId id : path)
    if (t.link(id).kind == k) return true;
  return false;
}

}  // namespace

TEST(Topology, DgxH100TwoNodeLinkCounts) {
  // Shipped file, 2 nodes: 16 GPUs, 2 NVSwitches, 16 NICs, 8 rail leaves (one per rail; 2 nodes
  // fit one leaf's 32 ports, so no spines). Links: 16+16 NVLink, 16+16 GPU<->NIC PCIe, 16+16 NIC.
  Json j = read_json_file(std::string(STRATA_SOURCE_ROOT) + "/topologies/dgx-h100.json");
  ClusterSpec spec = parse_cluster(JsonReader(j, "dgx-h100.json"));
  spec.nodes = 2;
  Topology t(spec);
  EXPECT_EQ(t.gpus(), 16);
  EXPECT_EQ(t.link_count(), 96u);
  EXPECT_EQ(t.vertex_count(), 16u + 2u + 16u + 8u);
  EXPECT_EQ(boost::num_vertices(t.graph()), 42u);
  EXPECT_EQ(boost::num_edges(t.graph()), 96u);
  auto k = count_kinds(t);
  EXPECT_EQ(k[LinkKind::nvlink], 32);
  EXPECT_EQ(k[LinkKind::pcie], 32);
  EXPECT_EQ(k[LinkKind::nic], 32);
  EXPECT_EQ(k[LinkKind::leaf_up], 0);
  EXPECT_EQ(t.leaves(), 8);
  EXPECT_EQ(t.spines(), 0);
  EXPECT_DOUBLE_EQ(t.link(t.gpu_up(3)).capacity_Bps, 450e9);
  EXPECT_DOUBLE_EQ(t.link(t.pcie_up(3)).capacity_Bps, 64e9);
  EXPECT_DOUBLE_EQ(t.link(t.nic_up(3)).capacity_Bps, 50e9);
  EXPECT_EQ(t.capacities().size(), t.link_count());
  // Boost graph edges carry the link ids with the right endpoints.
  for (auto [it, end] = boost::edges(t.graph()); it != end; ++it) {
    const Link& l = t.link(t.graph()[*it].link);
    EXPECT_EQ(std::int32_t(boost::source(*it, t.graph())), l.from);
    EXPECT_EQ(std::int32_t(boost::target(*it, t.graph())), l.to);
  }
}

TEST(Topology, IntraNodePathIsOneSwitchHop) {
  Topology t(dgx_h100(2));
  std::vector<LinkId> path;
  t.route(9, 13, 0, path);
  ASSERT_EQ(path.size(), 2u);
  EXPECT_EQ(path[0], t.gpu_up(9));
  EXPECT_EQ(path[1], t.gpu_down(13));
  EXPECT_NEAR(t.path_latency(path), 0.7e-6, 1e-18);
  EXPECT_EQ(t.describe_link(path[0]), "node 1 gpu 1 nvlink up");
  EXPECT_EQ(t.describe_link(path[1]), "node 1 gpu 5 nvlink down");
  t.route(4, 4, 0, path);
  EXPECT_TRUE(path.empty());
}

TEST(Topology, RailOptimizedSameRailStaysOnLeafCrossRailUsesPxn) {
  Topology t(dgx_h100(2));
  std::vector<LinkId> path;
  // node 0 gpu 3 -> node 1 gpu 3: rail 3 only.
  t.route(3, 11, 0, path);
  expect_connected(t, 3, 11, path);
  ASSERT_EQ(path.size(), 4u);
  EXPECT_EQ(path[0], t.pcie_up(3));
  EXPECT_EQ(path[1], t.nic_up(3));
  EXPECT_EQ(path[2], t.nic_down(11));
  EXPECT_EQ(path[3], t.pcie_down(11));
  EXPECT_FALSE(has_kind(t, path, LinkKind::leaf_up));
  EXPECT_FALSE(has_kind(t, path, LinkKind::nvlink));
  // 2 us NIC + 1 us leaf + 2 us NIC.
  EXPECT_NEAR(t.path_latency(path), 5e-6, 1e-15);
  // node 0 gpu 1 -> node 1 gpu 6: NVLink to node 0 gpu 6 (PXN), then rail 6.
  t.route(1, 14, 0, path);
  expect_connected(t, 1, 14, path);
  ASSERT_EQ(path.size(), 6u);
  EXPECT_EQ(path[0], t.gpu_up(1));
  EXPECT_EQ(path[1], t.gpu_down(6));
  EXPECT_EQ(path[2], t.pcie_up(6));
  EXPECT_EQ(path[3], t.nic_up(6));
  EXPECT_EQ(path[4], t.nic_down(14));
  EXPECT_FALSE(has_kind(t, path, LinkKind::leaf_up));
  EXPECT_EQ(t.describe_link(path[3]), "node 0 nic 6 up");
}

TEST(Topology, RailOptimizedWithSpines) {
  // Radix 8: 4 node ports per rail leaf; 10 nodes -> 3 leaves per rail, 24 leaves, 2:1 at the leaf
  // -> 2 uplinks each, 2 spines shared by the rails.
  ClusterSpec c = dgx_h100(10);
  c.fabric.switch_radix = 8;
  c.fabric.oversubscription = 2.0;
  Topology t(c);
  EXPECT_EQ(t.leaves(), 24);
  EXPECT_EQ(t.uplinks_per_leaf(), 2);
  EXPECT_EQ(t.spines(), 2);
  auto k = count_kinds(t);
  EXPECT_EQ(k[LinkKind::leaf_up], 48);
  EXPECT_EQ(k[LinkKind::leaf_down], 48);
  std::vector<LinkId> path;
  // Same rail, same leaf (nodes 0 and 3): no spine.
  t.route(0 * 8 + 2, 3 * 8 + 2, 0, path);
  expect_connected(t, 2, 26, path);
  EXPECT_FALSE(has_kind(t, path, LinkKind::leaf_up));
  // Same rail, other leaf (nodes 0 and 5): up to a spine and down, no NVLink.
  t.route(0 * 8 + 2, 5 * 8 + 2, 0, path);
  expect_connected(t, 2, 42, path);
  EXPECT_TRUE(has_kind(t, path, LinkKind::leaf_up));
  EXPECT_TRUE(has_kind(t, path, LinkKind::leaf_down));
  EXPECT_FALSE(has_kind(t, path, LinkKind::nvlink));
  EXPECT_NEAR(t.path_latency(path), (2 + 1 + 1 + 1 + 2) * 1e-6, 1e-15);
  // Cross rail, other leaf: PXN hop then the destination's rail.
  t.route(0 * 8 + 1, 9 * 8 + 7, 0, path);
  expect_connected(t, 1, 79, path);
  EXPECT_EQ(t.link(path[0]).kind, LinkKind::nvlink);
  EXPECT_EQ(path[1], t.gpu_down(7));
  EXPECT_EQ(path[3], t.nic_up(7));
}

TEST(Topology, FatTreeShapesAndPaths) {
  // 2 levels, radix 16: 8 NIC ports per leaf; 2:1 -> 4 uplinks; 8 nodes x 8 NICs -> 8 leaves.
  Topology t2(fat_tree(8, 8, 8, 16, 2.0, 2));
  EXPECT_EQ(t2.leaves(), 8);
  EXPECT_EQ(t2.uplinks_per_leaf(), 4);
  EXPECT_EQ(t2.spines(), 4);
  EXPECT_EQ(t2.fabric_levels(), 2);
  std::vector<LinkId> path;
  t2.route(0, 8, 0, path);  // node 0 gpu 0 -> node 1 gpu 0: different leaves
  expect_connected(t2, 0, 8, path);
  EXPECT_EQ(path.size(), 6u);
  t2.route(0, 15, 0, path);  // no PXN on a fat-tree: straight out of gpu 0's own NIC
  EXPECT_EQ(path[0], t2.pcie_up(0));
  // 3 levels, radix 8: 4 ports per leaf, 4 leaves per pod; 64 NICs -> 16 leaves, 4 pods,
  // 4 spines per pod (16), 4 x 4 cores.
  Topology t3(fat_tree(8, 8, 8, 8, 1.0, 3));
  EXPECT_EQ(t3.leaves(), 16);
  EXPECT_EQ(t3.spines(), 16);
  EXPECT_EQ(t3.cores(), 16);
  EXPECT_EQ(t3.fabric_levels(), 3);
  t3.route(0, 2, 0, path);  // same node
  EXPECT_EQ(path.size(), 2u);
  t3.route(0, 8 + 0, 0, path);  // node 0 -> node 1: NICs 0 and 8 on leaves 0 and 2, same pod
  expect_connected(t3, 0, 8, path);
  EXPECT_EQ(path.size(), 6u);
  EXPECT_FALSE(has_kind(t3, path, LinkKind::spine_up));
  t3.route(0, 7 * 8 + 5, 0, path);  // node 7: NIC 61 on leaf 15, pod 3
  expect_connected(t3, 0, 61, path);
  EXPECT_EQ(path.size(), 8u);
  EXPECT_TRUE(has_kind(t3, path, LinkKind::spine_up));
  EXPECT_TRUE(has_kind(t3, path, LinkKind::spine_down));
  EXPECT_NEAR(t3.path_latency(path), (2 + 5 + 2) * 1e-6, 1e-15);  // 5 switches
  // Small 3-level clusters do not build unused cores.
  Topology small(fat_tree(8, 8, 2, 64, 1.0, 3));
  EXPECT_EQ(small.cores(), 0);
  EXPECT_EQ(small.leaves(), 1);
  EXPECT_EQ(small.spines(), 0);
}

TEST(Topology, EveryFabricRoutesEveryPairAsAChain) {
  std::vector<ClusterSpec> specs{dgx_h100(6), fat_tree(8, 8, 6, 8, 2.0, 2), fat_tree(4, 2, 12, 4, 1.0, 3),
                                 fat_tree(8, 8, 6, 8, 1.0, 2)};
  specs[0].fabric.switch_radix = 8;
  specs.back().fabric.kind = FabricKind::ideal;
  ClusterSpec pcie = fat_tree(8, 2, 3, 8, 1.0, 2);
  pcie.intra = {IntraKind::pcie, 64, 1.5, false};
  specs.push_back(pcie);
  std::vector<LinkId> path;
  for (const ClusterSpec& c : specs) {
    for (EcmpMode mode : {EcmpMode::balanced, EcmpMode::random}) {
      Topology t(c, TopologyOptions{mode});
      for (int s = 0; s < t.gpus(); s += 3)
        for (int d = 0; d < t.gpus(); d += 5) {
          if (s == d) continue;
          t.route(s, d, std::uint64_t(s * 31 + d), path);
          expect_connected(t, s, d, path);
          for (LinkId id : path) ASSERT_LT(id, t.link_count());
        }
    }
  }
  Topology p(pcie);
  EXPECT_EQ(p.link(p.gpu_up(0)).kind, LinkKind::pcie);
  EXPECT_EQ(p.nic_of(3), 0);  // 8 GPUs share 2 NICs: GPU g uses NIC g / 4
  EXPECT_EQ(p.nic_of(4), 1);
  EXPECT_EQ(p.nic_of(8 + 5), 3);
}

TEST(Topology, EcmpIsDeterministicAndSpreads) {
  Topology t(fat_tree(1, 1, 16, 8, 1.0, 2));  // 4 NICs per leaf, 4 uplinks
  std::vector<LinkId> a, b;
  std::set<LinkId> uplinks;
  for (std::uint64_t key = 0; key < 64; ++key) {
    t.route(0, 9, key, a);
    t.route(0, 9, key, b);
    EXPECT_EQ(a, b);
    uplinks.insert(a[2]);
  }
  EXPECT_EQ(uplinks.size(), 4u);  // different keys reach every uplink
  // Balanced (D-mod-k): with one key, one source's flows to the 4 NICs of a leaf use 4 uplinks.
  uplinks.clear();
  for (int d = 8; d < 12; ++d) {
    t.route(0, d, 0, a);
    uplinks.insert(a[2]);
  }
  EXPECT_EQ(uplinks.size(), 4u);
}

TEST(Topology, DescribesLinks) {
  ClusterSpec c = dgx_h100(10);
  c.fabric.switch_radix = 8;
  Topology t(c);
  EXPECT_EQ(t.describe_link(t.gpu_down(3 * 8 + 2)), "node 3 gpu 2 nvlink down");
  EXPECT_EQ(t.describe_link(t.pcie_up(9)), "node 1 gpu 1 pcie to nic 1");
  EXPECT_EQ(t.describe_link(t.nic_down(12)), "node 1 nic 4 down");
  std::vector<LinkId> path;
  t.route(2, 5 * 8 + 2, 0, path);
  EXPECT_EQ(t.describe_link(path[2]).rfind("rail 2 leaf 0 uplink", 0), 0u) << t.describe_link(path[2]);
}

TEST(Topology, HundredThousandGpusBuild) {
  // Speed is measured in bench/bench_network.cpp (BM_TopologyBuild), not asserted here.
  for (FabricKind kind : {FabricKind::rail_optimized, FabricKind::fat_tree}) {
    ClusterSpec c = dgx_h100(12500);
    c.fabric.kind = kind;
    c.fabric.levels = 3;
    Topology t(c);
    EXPECT_EQ(t.gpus(), 100000);
    std::vector<LinkId> path;
    t.route(0, 99999, 7, path);
    expect_connected(t, 0, 99999, path);
  }
}
