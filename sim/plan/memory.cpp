// The memory model (reference §7). Public formulas here; the per-class assembly (which parameters
// a rank holds, what its schedule keeps in flight) is class_memory() below.
#include "plan/memory.hpp"

#include <algorithm>
#include <cstdio>

#include "plan/plan_internal.hpp"

namespace strata {

StateBytes mixed_precision_state_bytes(DType dtype, bool master) {
  StateBytes b;
  switch (dtype) {
    case DType::fp32: b = {4, 4, 8}; break;
    case DType::fp16: b = {2, 2, master ? 16.0 : 12.0}; break;
    case DType::bf16:
    case DType::fp8: b = {2, 4, master ? 12.0 : 8.0}; break;
  }
  return b;
}

void add_model_states(MemoryBreakdown& m, double params, const StateBytes& b, int zero, int dp) {
  const double d = std::max(1, dp);
  m.weights += params * b.param / (zero >= 3 ? d : 1.0);
  m.grads += params * b.grad / (zero >= 2 ? d : 1.0);
  m.optimizer += params * b.optimizer / (zero >= 1 ? d : 1.0);
}

double korthikanti_layer_activation_bytes(double s, double b, double h, double a, int t, bool sp, Recompute rc, bool flash) {
  const double sbh = s * b * h;
  const double scores = (rc == Recompute::none && !flash) ? 5.0 * a * s / h : 0.0;
  if (rc == Recompute::full) return 2.0 * sbh / (sp ? t : 1);
  if (sp) return sbh / t * (34.0 + scores);
  return sbh * (10.0 + 24.0 / t + scores / t);
}

double kv_cache_bytes(const ModelSpec& m, int layers, double tokens, double batch, int tp, double bytes) {
  if (m.mla) return double(layers) * double(m.mla->kv_lora_rank + m.mla->qk_rope_head_dim) * tokens * batch * bytes;
  const double kv_per_rank = std::max(1.0, double(m.kv_heads) / tp);
  return 2.0 * layers * kv_per_rank * double(m.head_dim) * tokens * batch * bytes;
}

double peak_activation_bytes(const ClassTasks& ct) {
  double cur = 0, peak = 0;
  for (std::size_t i = 0; i < ct.size(); ++i) {
    if (ct.stream[i] != Stream::compute) continue;
    cur += ct.mem_delta[i];
    peak = std::max(peak, cur);
  }
  return peak;
}

MemoryVerdict memory_verdict(const PartitionGraph& g, double capacity) {
  MemoryVerdict v;
  v.capacity_bytes = capacity;
  for (std::size_t c = 0; c < g.class_memory.size(); ++c) {
    double p = g.class_memory[c].peak();
    if (c == 0 || p > v.peak_bytes) {
      v.peak_bytes = p;
      v.worst = g.class_memory[c];
      v.worst_class = int(c);
    }
  }
  v.fits = v.peak_bytes <= capacity;
  constexpr double GiB = 1024.0 * 1024 * 1024;
  char buf[512];
  const MemoryBreakdown& w = v.worst;
  std::snprintf(buf, sizeof buf,
                "%s: %.1f GiB of %.1f GiB on rank %d (weights %.1f, grads %.1f, optimizer %.1f, activations %.1f, "
                "kv cache %.1f, comm buffers %.1f, framework %.1f GiB)",
                v.fits ? "fits" : "OOM", v.peak_bytes / GiB, capacity / GiB,
                g.class_rep.empty() ? 0 : g.class_rep[std::size_t(v.worst_class)], w.weights / GiB, w.grads / GiB,
                w.optimizer / GiB, w.activations / GiB, w.kv_cache / GiB, w.comm_buffers / GiB, w.framework / GiB);
  v.summary = buf;
  return v;
}

namespace plan {

MemoryBreakdown class_memory(const PlanDims& d, const StageLayout& sl, int stage, const ClassTasks& ct) {
  MemoryBreakdown m;
  DataParallel dp(d, sl, stage);
  if (d.train) {
    StateBytes b{d.param_B, d.grad_B, d.opt_K};
    add_model_states(m, dp.dense_params(), b, d.zero, d.dense_dp_size);
    add_model_states(m, dp.expert_params(), b, d.zero, d.edp_size);
    if (d.zero == 3) {
      // The gathered parameters of the layer being computed and the prefetched next one.
      double biggest = 0;
      for (const auto& gl : dp.groups())
        for (const auto& g : gl) biggest = std::max(biggest, g.dense + g.expert);
      m.weights += 2.0 * biggest * d.param_B;
    }
    m.activations = peak_activation_bytes(ct);
  } else {
    m.weights = (dp.dense_params() + dp.expert_params()) * d.param_B;
    // Working set of one layer at the prefill plus the last stage's logits.
    Pass ps;
    ps.b = d.b;
    ps.q = d.prompt / d.c;
    ps.kv = ps.q;
    double worst_layer = 0;
    int layers = 0;
    for (const auto& cl : sl.layers[std::size_t(stage)]) {
      layers += cl.count;
      for (int l = cl.first; l < cl.first + cl.count; ++l)
        worst_layer = std::max(worst_layer, layer_activation(d, ps, l, 0).total());
    }
    m.activations = worst_layer + (stage == d.p - 1 ? double(ps.tokens()) * double(d.V) / d.t * 4.0 : 0.0);
    m.kv_cache = kv_cache_bytes(*d.model, layers, double(d.prompt + d.gen) / d.c, double(d.b), d.t, d.act_B);
  }
  int comms = 0;
  for (int size : {d.t, d.c, d.e, d.p, d.train ? d.dense_dp_size : 1, d.train && d.E > 0 ? d.edp_size : 1})
    comms += size > 1 ? 1 : 0;
  m.comm_buffers = comms * kNcclBytesPerCommunicator;
  m.framework = kFrameworkOverheadBytes;
  return m;
}

}  // namespace plan

}  // namespace strata
