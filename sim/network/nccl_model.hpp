#pragma once
// NCCL's tuning-model constants (reference §2.5, NCCL 2.30.7 src/graph/tuning.cc [S2a], protocol
// line formats src/include/device.h [S2d]). Only latencies and the protocols' wire efficiency are
// used: bandwidth comes from the flow network on the real links.
#include <cstdint>

namespace strata {

enum class NcclProto : std::uint8_t { ll, ll128, simple };
// NCCL algorithm whose latency constants apply (ring also serves chains and direct steps).
enum class NcclFamily : std::uint8_t { tree, ring, nvls };
// NCCL's link classes for per-hop latency.
enum class NcclLink : std::uint8_t { nvlink, pci, net };

const char* nccl_proto_name(NcclProto p);

// base[algo][proto], microseconds [S2a]: Tree {6.8, 14.0, 8.4}, Ring {6.6, 14.0, 8.4}, NVLS 0.
double nccl_base_latency_us(NcclFamily f, NcclProto p);
// hw[link][algo][proto], microseconds [S2a] (reference §2.5 table).
double nccl_hw_latency_us(NcclLink l, NcclFamily f, NcclProto p);
// Payload fraction of the bytes on the wire [S2d]: LL 4 of every 8 bytes, LL128 120 of every
// 128, Simple all. Flows of a plan carry payload / efficiency.
double nccl_wire_efficiency(NcclProto p);
// Whether NCCL implements the protocol for the family (NVLS: Simple only) [S2a].
bool nccl_proto_supported(NcclFamily f, NcclProto p);

// Multi-node: intraLat = max(intraLat, netOverhead), 1 us (Intel CPUs; AMD 2 us), x3 for Simple [S2a].
inline constexpr double kNcclNetOverheadUs = 1.0;
inline constexpr double kNcclNetOverheadSimpleFactor = 3.0;
// Ring + Simple multi-node all-reduce latency x1.4 (Ampere and later) once
// bytes / (channels * ranks) >= 64 ("plateau effect") [S2b].
inline constexpr double kNcclRingPlateauFactor = 1.4;
inline constexpr double kNcclRingPlateauBytes = 64;

}  // namespace strata
