#pragma once
// Turns a fitted hardware profile (`strata calibrate`, sim/cost/hardware_profile.hpp, format in
// exec/PROFILE.md) into what the simulator's cost models consume: the compute efficiency tables
// for the scenario's GPU and dtype, and the measured intra-node link.
#include <memory>
#include <string>

#include "cluster/cluster.hpp"
#include "cost/compute_cost.hpp"
#include "cost/hardware_profile.hpp"

namespace strata {

// Efficiencies are the profile's achieved TFLOP/s over `gpu`'s peak for `dtype`, so that the
// cost model's time = FLOPs / (peak · efficiency) reproduces the measured throughput.
std::shared_ptr<const EfficiencyTable> efficiency_from_profile(const HardwareProfile& p, const GpuSpec& gpu, DType dtype);

// Duration of compute/optimizer task `t` of class `c` from the profile's exact measurements of
// the executor's own kernels (calibrate --scenario): a measured GEMM or attention shape, or the
// element-wise / optimizer bandwidth curve. 0 when the profile has no measurement that applies
// (the cost model then uses its tables). The task classification mirrors exec/ops.cpp build_op.
double measured_task_time(const HardwareProfile& p, const ClassTasks& c, std::uint32_t t);

// Replaces the node's intra-node link bandwidth and latency with the profile's measured link
// (e.g. NVLink on a GPU machine, shared memory for the cpu backend), when it has one.
void apply_profile_links(const HardwareProfile& p, ClusterSpec& cluster);

}  // namespace strata
