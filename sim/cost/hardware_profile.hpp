#pragma once
// A hardware profile: what `strata calibrate` measured on one machine, in a form a cost model
// can interpolate. The JSON format and the interpolation rules are documented in
// exec/PROFILE.md; the reader (hardware_profile.cpp) rejects malformed files with the JSON path.
//
// Interpolation (also in PROFILE.md):
//  - GEMM throughput (TFLOP/s) is tabulated on a grid of M, N, K (ascending axes) per dtype and
//    interpolated linearly in (log2 M, log2 N, log2 K). Above an axis' last value the edge is
//    kept (throughput plateaus); below its first value the throughput falls in proportion to
//    the dimension (a GEMM that small is launch/latency bound: its time stays about constant).
//  - Attention throughput is tabulated over (sequence length, head dim) per dtype and direction,
//    interpolated the same way in (log2 seq, log2 head_dim).
//  - A collective of S bytes (nccl-tests size convention) on n ranks takes
//    latency + S * busbw_factor(op, n) / busbw; the fit for the nearest measured n is used.
#include <cstdint>
#include <string>
#include <vector>

#include "graph/partition_graph.hpp"
#include "io/json_reader.hpp"

namespace strata {

struct GemmTable {
  DType dtype = DType::bf16;
  double peak_tflops = 0;           // the reference the efficiencies divide by (0 = unknown)
  std::vector<double> m, n, k;      // ascending grid axes
  std::vector<double> tflops;       // achieved; index (i * n.size() + j) * k.size() + l
  double tflops_at(double M, double N, double K) const;
  double efficiency(double M, double N, double K) const;  // tflops_at / peak (0 without a peak)
};

struct GemmPoint {  // a measured shape (the planner's own shapes), exact
  std::int64_t m = 0, n = 0, k = 0;
  int batch = 1;
  DType dtype = DType::bf16;
  double seconds = 0, tflops = 0;
};

struct AttnTable {
  DType dtype = DType::bf16;
  bool backward = false;
  bool causal = true;
  int batch = 1, heads = 1;
  std::vector<double> seq, head_dim;  // ascending
  std::vector<double> tflops;         // index i * head_dim.size() + j; FLOPs per PROFILE.md convention
  double tflops_at(double seq_len, double hd) const;
};

struct BandwidthPoint {
  double bytes = 0, seconds = 0, GBps = 0;
};

// Whether two attention tasks do the same work on the executor (every field but the kernel
// generation, which only the cost model's built-in tables distinguish): the key of AttnPoint.
bool same_attention_work(const AttnShape& a, const AttnShape& b);

// A measured attention task (the planner's own shapes, --scenario), exact: the executor's
// attention implementation run on this shape with the FLOPs the graph claims for it.
struct AttnPoint {
  AttnShape shape;
  double flops = 0;    // what the graph claims (model FLOPs)
  double seconds = 0;
  // The host's time to queue the task's kernels (the executor runs attention as many kernels).
  // Recorded, not used by predictions yet: as a floor on the task it fixes launch-bound steps
  // (H200 exec-small -45 % -> -21 %) but over-predicts tasks the host queues while the GPU is
  // still busy with earlier ones (one-gpu-moe -1.0 % -> +2.1 %); using it needs the host's own
  // timeline in the engine. 0 when not measured (cpu backend, older profiles).
  double host_seconds = 0;
};

// Time of a memory-bound kernel by the bytes the graph counts for it (read + written), measured
// with the executor's own kernel at several sizes; interpolated in log-log between points,
// proportional to bytes above the largest and constant below the smallest (launch bound).
struct BandwidthCurve {
  std::vector<BandwidthPoint> points;  // ascending bytes
  bool empty() const { return points.empty(); }
  double time_s(double bytes) const;
};

struct CollectivePoint {
  double bytes = 0, seconds = 0, algbw_GBps = 0, busbw_GBps = 0;
};

struct CollectiveFit {
  std::string op;    // all_reduce | all_gather | reduce_scatter | all_to_all | broadcast | sendrecv
  std::string link;  // link class the ranks were connected by
  int ranks = 2;
  double latency_us = 0;
  double busbw_GBps = 0;  // asymptotic bus bandwidth
  std::vector<CollectivePoint> points;
  double time_s(double bytes) const;  // latency + bytes * factor / busbw
};

struct LinkProfile {
  std::string name;       // "shared_memory" (cpu), "nvlink", "pcie", ...
  double latency_us = 0;  // one message, smallest size
  double bw_GBps = 0;     // per rank, per direction (send/recv busbw asymptote)
  double allreduce_busbw_GBps = 0;
};

struct HardwareProfile {
  int format_version = 1;
  std::string backend;    // cpu | cuda
  std::string device;     // card (or cpu model) name
  std::string gpu;        // Strata GPU table name when recognised, else ""
  std::string driver;
  std::string date;       // ISO 8601 UTC
  std::string host;
  Json libraries = Json::object();  // name -> version
  std::vector<std::string> notes;

  std::vector<GemmTable> gemm;
  std::vector<GemmPoint> gemm_points;
  std::vector<AttnTable> attention;
  std::vector<AttnPoint> attention_points;
  std::vector<BandwidthPoint> memcpy;
  double memcpy_GBps = 0;           // best measured copy bandwidth (bytes copied / s)
  BandwidthCurve elementwise;       // the executor's element-wise/norm kernel (bytes r + w)
  BandwidthCurve optimizer;         // the executor's Adam step (bytes r + w, as the graph counts)
  double launch_overhead_us = 0;    // per kernel (cuda) / per task (cpu)
  std::vector<LinkProfile> links;
  std::vector<CollectiveFit> collectives;
  double overlap_slowdown = 1.0;    // compute time with communication beside it / alone
  std::string overlap_method;

  const GemmTable* gemm_table(DType t) const;  // that dtype's, else the first (cpu: one fp32 table)
  const AttnTable* attention_table(DType t, bool backward) const;
  const CollectiveFit* collective(const std::string& op, int ranks) const;  // nearest rank count
  // Time of one GEMM: an exact measured point when there is one, else the table plus overhead.
  double gemm_time_s(const GemmShape& g) const;
  // Exact measured points (0 when this shape was not measured).
  double gemm_point_s(const GemmShape& g) const;
  double attention_point_s(const AttnShape& a, double flops) const;
};

// nccl-tests bus-bandwidth factor of a collective on n ranks (reference §2.4 [S1]).
double busbw_factor(CollKind k, int n);

Json profile_to_json(const HardwareProfile& p);
HardwareProfile profile_from_json(const Json& j, const std::string& file);
HardwareProfile read_profile(const std::string& path);        // throws InputError
void write_profile(const HardwareProfile& p, const std::string& path);  // atomic

}  // namespace strata
