#include "cluster/cluster.hpp"

namespace strata {

const char* intra_kind_name(IntraKind k) {
  switch (k) {
    case IntraKind::nvswitch: return "nvswitch";
    case IntraKind::nvlink_mesh: return "nvlink-mesh";
    case IntraKind::pcie: return "pcie";
  }
  return "nvswitch";
}

const char* fabric_kind_name(FabricKind k) {
  switch (k) {
    case FabricKind::ideal: return "ideal";
    case FabricKind::fat_tree: return "fat-tree";
    case FabricKind::rail_optimized: return "rail-optimized";
  }
  return "fat-tree";
}

}  // namespace strata
