#include "cost/profile_loader.hpp"

namespace strata {

std::shared_ptr<const EfficiencyTable> efficiency_from_profile(const HardwareProfile& p, const GpuSpec& gpu, DType dtype) {
  auto t = std::make_shared<EfficiencyTable>();
  const double peak = gpu.peak_tflops(dtype) > 0 ? gpu.peak_tflops(dtype) : gpu.peak_bf16_tflops;
  if (const GemmTable* g = p.gemm_table(dtype)) {
    t->gemm_m = g->m;
    t->gemm_n = g->n;
    t->gemm_k = g->k;
    t->gemm_eff.reserve(g->tflops.size());
    for (double v : g->tflops) t->gemm_eff.push_back(v / peak);
  }
  if (const AttnTable* a = p.attention_table(dtype, false)) {
    // Efficiency by sequence length at the table's largest head dim (128 on GPUs).
    const double hd = a->head_dim.empty() ? 128.0 : a->head_dim.back();
    t->attn_len = a->seq;
    for (double s : a->seq) t->attn_eff.push_back(a->tflops_at(s, hd) / peak);
  }
  // PROFILE.md: memcpy counts bytes copied (each read and written once): a kernel moving B bytes
  // of traffic takes B / (2 · memcpy_GBps).
  if (p.memcpy_GBps > 0) t->hbm_GBps = 2.0 * p.memcpy_GBps;
  t->launch_s = p.launch_overhead_us * 1e-6;
  if (!p.gemm_points.empty() || !p.attention_points.empty() || !p.elementwise.empty() || !p.optimizer.empty())
    t->measured = std::make_shared<HardwareProfile>(p);
  t->overlap_slowdown = p.overlap_slowdown > 0 ? p.overlap_slowdown - 1.0 : -1;
  return t;
}

double measured_task_time(const HardwareProfile& p, const ClassTasks& c, std::uint32_t t) {
  const TaskKind kind = c.kind[t];
  const OpKind op = c.op[t];
  const std::int32_t d = c.detail[t];
  if (kind == TaskKind::compute && (op == OpKind::gemm || op == OpKind::grouped_gemm))
    return d >= 0 && std::size_t(d) < c.gemms.size() ? p.gemm_point_s(c.gemms[std::size_t(d)]) : 0.0;
  if (kind == TaskKind::compute && op == OpKind::attention)
    return d >= 0 && std::size_t(d) < c.attns.size() ? p.attention_point_s(c.attns[std::size_t(d)], c.flops[t]) : 0.0;
  if (kind == TaskKind::optimizer || op == OpKind::optimizer) return p.optimizer.time_s(c.bytes[t]);
  if (kind == TaskKind::compute) return p.elementwise.time_s(c.bytes[t]);
  return 0;  // memcpy: the copy bandwidth of the tables
}

void apply_profile_links(const HardwareProfile& p, ClusterSpec& cluster) {
  for (const LinkProfile& l : p.links) {
    if (l.bw_GBps <= 0) continue;
    cluster.intra.bw_GBps = l.bw_GBps;
    cluster.intra.latency_us = l.latency_us;
    cluster.intra.nvls = false;  // a measured point-to-point link says nothing about NVLS
    return;
  }
}

}  // namespace strata
