#pragma once
// A cluster as the topology file describes it (CONTRACT §2): node shape, NICs and fabric.
// The concrete graph of GPUs, switches and links is built from this by topology.hpp.
#include <cstdint>
#include <string>

#include "cluster/gpu.hpp"

namespace strata {

enum class IntraKind : std::uint8_t { nvswitch, nvlink_mesh, pcie };
enum class FabricKind : std::uint8_t { ideal, fat_tree, rail_optimized };

// Link efficiency: the fraction of the line rate that NCCL's transfers achieve on a link class
// (protocol headers, flags, flow control), reference §3.2 and §9 item 2. The topology applies it
// once, to the capacities the flow network and the collective planner use (Topology::capacities);
// 1 = line rate, the default, so a cluster written without it is simulated at line rate. The
// shipped topology files set the measured figures with their sources.
struct IntraNodeSpec {
  IntraKind kind = IntraKind::nvswitch;
  double bw_GBps = 450;      // per GPU, per direction
  double latency_us = 0.7;
  bool nvls = false;         // NVLink SHARP in-switch reduction
  double efficiency = 1.0;   // achievable fraction of bw_GBps (see above)
};

struct NicSpec {
  int per_node = 8;
  double bw_GBps = 50;       // per NIC, per direction
  double latency_us = 2.0;
  double efficiency = 1.0;   // achievable fraction of bw_GBps, also on the fabric's links (same protocol)
};

struct FabricSpec {
  FabricKind kind = FabricKind::fat_tree;
  int levels = 2;                 // 2: leaf/spine, 3: leaf/spine/core
  double oversubscription = 1.0;  // leaf downlink : uplink capacity
  int switch_radix = 64;
  double latency_us = 1.0;        // per switch hop
};

struct ClusterSpec {
  std::string name;
  GpuSpec gpu;
  int gpus_per_node = 8;
  int nodes = 1;
  IntraNodeSpec intra;
  NicSpec nic;
  FabricSpec fabric;
  double pcie_GBps = 32;          // per GPU, per direction (Gen4 x16; Gen5 = 64) [§1.3]

  std::int64_t gpus() const { return std::int64_t(gpus_per_node) * nodes; }
};

const char* intra_kind_name(IntraKind k);
const char* fabric_kind_name(FabricKind k);

}  // namespace strata
