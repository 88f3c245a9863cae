#include "cost/compute_cost.hpp"
#include "cost/profile_loader.hpp"

#include <algorithm>
#include <cmath>

namespace strata {

double sustained_matmul_fraction(GpuFamily family) {
  switch (family) {
    case GpuFamily::hopper: return kSustainedMatmulHopper;
    case GpuFamily::blackwell: return kSustainedMatmulBlackwell;
    case GpuFamily::ampere: return kSustainedMatmulAmpere;
    case GpuFamily::generic: break;
  }
  return 1.0;
}

ComputeCostModel::ComputeCostModel(const GpuSpec& gpu, ComputeConstants constants, std::shared_ptr<const EfficiencyTable> profile)
    : gpu_(gpu), k_(constants), profile_(std::move(profile)) {}

double ComputeCostModel::hbm_Bps() const {
  if (profile_ && profile_->hbm_GBps > 0) return profile_->hbm_GBps * 1e9;
  return gpu_.hbm_GBps * 1e9 * k_.hbm_efficiency;
}

namespace {

// Linear interpolation on a sorted axis in log space; clamps outside the grid.
struct AxisPos {
  std::size_t i0 = 0, i1 = 0;
  double w = 0;
};
AxisPos locate(const std::vector<double>& axis, double x) {
  AxisPos p;
  if (axis.size() == 1 || x <= axis.front()) return p;
  if (x >= axis.back()) {
    p.i0 = p.i1 = axis.size() - 1;
    return p;
  }
  auto it = std::upper_bound(axis.begin(), axis.end(), x);
  p.i1 = std::size_t(it - axis.begin());
  p.i0 = p.i1 - 1;
  p.w = (std::log(x) - std::log(axis[p.i0])) / (std::log(axis[p.i1]) - std::log(axis[p.i0]));
  return p;
}

double table_gemm(const EfficiencyTable& t, double m, double n, double k) {
  AxisPos pm = locate(t.gemm_m, m), pn = locate(t.gemm_n, n), pk = locate(t.gemm_k, k);
  const std::size_t N = t.gemm_n.size(), K = t.gemm_k.size();
  auto at = [&](std::size_t a, std::size_t b, std::size_t c) { return t.gemm_eff[(a * N + b) * K + c]; };
  double r = 0;
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b)
      for (int c = 0; c < 2; ++c) {
        double w = (a ? pm.w : 1 - pm.w) * (b ? pn.w : 1 - pn.w) * (c ? pk.w : 1 - pk.w);
        if (w == 0) continue;
        r += w * at(a ? pm.i1 : pm.i0, b ? pn.i1 : pn.i0, c ? pk.i1 : pk.i0);
      }
  return r;
}

}  // namespace

double ComputeCostModel::gemm_efficiency(const GemmShape& g) const {
  if (profile_ && profile_->has_gemm()) return std::clamp(table_gemm(*profile_, double(g.m), double(g.n), double(g.k)), 1e-4, 1.0);
  const double mamf = (gpu_.mamf_fraction(g.dtype) > 0 ? gpu_.mamf_fraction(g.dtype) : 0.8) * sustained_matmul_fraction(gpu_.family);
  // Tile quantization [S11k]: partly filled output tiles still cost a whole tile.
  int tile_m = k_.tile_m;
  if (g.m < tile_m) {
    tile_m = k_.mma_m;
    while (tile_m < g.m) tile_m *= 2;
  }
  const double tm = std::ceil(double(g.m) / tile_m), tn = std::ceil(double(g.n) / k_.tile_n);
  const double tile_eff = (double(g.m) / tile_m) * (double(g.n) / k_.tile_n) / (tm * tn);
  // Wave quantization [S11k]: tiles run in waves of #SMs; the last wave may be partial.
  double wave_eff = 1.0;
  if (gpu_.sms > 0) {
    const double tiles = tm * tn * std::max(1, g.batch);
    const double waves = tiles / gpu_.sms;
    wave_eff = waves / std::ceil(waves);
  }
  const double k_tile = std::max(1.0, std::floor(k_.k_tile_bytes / dtype_bytes(g.dtype)));
  const double k_quant = double(g.k) / (std::ceil(double(g.k) / k_tile) * k_tile);
  const double k_eff = double(g.k) / (double(g.k) + k_.k_half);
  return std::max(1e-4, mamf * tile_eff * wave_eff * k_eff * k_quant);
}

double ComputeCostModel::attention_efficiency(const AttnShape& a) const {
  if (profile_ && profile_->has_attn()) {
    AxisPos p = locate(profile_->attn_len, double(a.q_len));
    double e = profile_->attn_eff[p.i0] * (1 - p.w) + profile_->attn_eff[p.i1] * p.w;
    return std::clamp(e, 1e-4, 1.0);
  }
  const double len = double(std::min(a.q_len, a.kv_len));
  const bool post_ampere = gpu_.family == GpuFamily::hopper || gpu_.family == GpuFamily::blackwell;
  const bool fa2_class = a.kernel == AttnKernel::fa2 || a.kernel == AttnKernel::triton;
  double base = fa2_class && post_ampere ? k_.fa2_post_ampere_efficiency : k_.attn_efficiency;
  if (a.kernel == AttnKernel::triton) base /= a.backward ? k_.triton_fa_bwd_slowdown : k_.triton_fa_fwd_slowdown;
  const double eff = base * sustained_matmul_fraction(gpu_.family) * len / (len + k_.attn_len_half);
  // Efficiency per model FLOP: the backward executes more FLOPs than the model counts.
  return a.backward ? eff / k_.attn_bwd_executed_per_model : eff;
}

double ComputeCostModel::task_time(const ClassTasks& c, std::uint32_t t) const {
  // A measured kernel time, unless the host's per-task dispatch (the profile's launch overhead)
  // is longer: then the device waits for the host.
  if (profile_ && profile_->measured)
    if (const double s = measured_task_time(*profile_->measured, c, t); s > 0) return std::max(s, launch_s());
  const double flops = c.flops[t], bytes = c.bytes[t];
  double peak_scale = profile_ ? profile_->peak_scale : 1.0;
  double compute_s = 0;
  switch (c.op[t]) {
    case OpKind::gemm:
    case OpKind::grouped_gemm: {
      const GemmShape& g = c.gemms[std::size_t(c.detail[t])];
      const double peak = gpu_.peak_tflops(g.dtype) * 1e12 * peak_scale;
      compute_s = flops / (peak * gemm_efficiency(g));
      break;
    }
    case OpKind::attention: {
      const AttnShape& a = c.attns[std::size_t(c.detail[t])];
      const double peak = gpu_.peak_tflops(a.dtype) * 1e12 * peak_scale;
      compute_s = flops / (peak * attention_efficiency(a));
      break;
    }
    default:
      // Element-wise, optimizer, memcpy: memory bound; their FLOPs run on CUDA cores at a small
      // fraction of tensor peak, which the bytes term dominates.
      break;
  }
  double memory_s = bytes / hbm_Bps();
  if (c.op[t] == OpKind::elementwise && c.detail[t] >= 0 && std::size_t(c.detail[t]) < c.kernel_rates.size()) {
    // Part of the traffic runs through a kernel with its own published rate (KernelRate).
    const KernelRate& k = c.kernel_rates[std::size_t(c.detail[t])];
    const double own = std::min(bytes, k.bytes);
    memory_s = (bytes - own) / hbm_Bps() + own / (gpu_.hbm_GBps * 1e9 * k.hbm_fraction);
  }
  return std::max(compute_s, memory_s) + launch_s();
}

}  // namespace strata
