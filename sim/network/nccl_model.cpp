#include "network/nccl_model.hpp"

namespace strata {

const char* nccl_proto_name(NcclProto p) {
  switch (p) {
    case NcclProto::ll: return "LL";
    case NcclProto::ll128: return "LL128";
    case NcclProto::simple: return "Simple";
  }
  return "Simple";
}

double nccl_base_latency_us(NcclFamily f, NcclProto p) {
  // [S2a] baseLat[NCCL_NUM_ALGORITHMS][NCCL_NUM_PROTOCOLS]
  static constexpr double tree[3] = {6.8, 14.0, 8.4};
  static constexpr double ring[3] = {6.6, 14.0, 8.4};
  switch (f) {
    case NcclFamily::tree: return tree[int(p)];
    case NcclFamily::ring: return ring[int(p)];
    case NcclFamily::nvls: return 0.0;
  }
  return 0.0;
}

double nccl_hw_latency_us(NcclLink l, NcclFamily f, NcclProto p) {
  // [S2a] hwLat[NCCL_HW_*][algo][proto]; NVLS is Simple only.
  static constexpr double tree[3][3] = {{0.6, 1.25, 4.0}, {1.0, 1.9, 4.0}, {5.0, 8.5, 14.0}};
  static constexpr double ring[3][3] = {{0.6, 1.9, 3.4}, {1.0, 2.5, 5.7}, {2.7, 4.0, 14.0}};
  static constexpr double nvls[3] = {25.0, 0.0, 18.0};
  switch (f) {
    case NcclFamily::tree: return tree[int(l)][int(p)];
    case NcclFamily::ring: return ring[int(l)][int(p)];
    case NcclFamily::nvls: return nvls[int(l)];
  }
  return 0.0;
}

double nccl_wire_efficiency(NcclProto p) {
  switch (p) {
    case NcclProto::ll: return 0.5;             // 8-byte line: 4 bytes data + 4 bytes flag [S2d]
    case NcclProto::ll128: return 120.0 / 128;  // 128-byte line: 120 data + 8 flag [S2d]
    case NcclProto::simple: return 1.0;
  }
  return 1.0;
}

bool nccl_proto_supported(NcclFamily f, NcclProto p) { return f != NcclFamily::nvls || p == NcclProto::simple; }

}  // namespace strata
