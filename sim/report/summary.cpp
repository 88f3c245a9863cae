#include "report/summary.hpp"

#include <cmath>
#include <cstdio>

#include "io/scenario.hpp"

namespace strata {

std::string format_bytes(double b) {
  char buf[32];
  const char* unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int i = 0;
  while (std::fabs(b) >= 1024 && i < 4) {
    b /= 1024;
    ++i;
  }
  std::snprintf(buf, sizeof buf, "%.2f %s", b, unit[i]);
  return buf;
}

std::string format_seconds(double s) {
  char buf[32];
  if (s >= 1) std::snprintf(buf, sizeof buf, "%.3f s", s);
  else if (s >= 1e-3) std::snprintf(buf, sizeof buf, "%.3f ms", s * 1e3);
  else std::snprintf(buf, sizeof buf, "%.3f us", s * 1e6);
  return buf;
}

std::string format_summary(const Scenario& s, const Report& r) {
  std::string out;
  char line[256];
  auto row = [&](const char* k, const std::string& v) {
    std::snprintf(line, sizeof line, "  %-22s %s\n", k, v.c_str());
    out += line;
  };
  const Strategy& st = s.strategy;
  std::snprintf(line, sizeof line, "%s: %s on %lld x %s (%d nodes, %s)\n", s.name.c_str(), s.model.name.c_str(),
                (long long)s.cluster.gpus(), s.cluster.gpu.name.c_str(), s.cluster.nodes, fabric_kind_name(s.cluster.fabric.kind));
  out += line;
  std::snprintf(line, sizeof line, "  strategy               dp %d · tp %d · pp %d · cp %d · ep %d, %s%s, mb %d, gb %d, zero %d, recompute %s\n",
                st.dp, st.tp, st.pp, st.cp, st.ep, schedule_name(st.schedule),
                st.vpp > 1 ? (" vpp " + std::to_string(st.vpp)).c_str() : "", st.micro_batch, st.global_batch, st.zero,
                recompute_name(st.recompute));
  out += line;
  row("step time", format_seconds(r.step_time_s));
  std::snprintf(line, sizeof line, "%.4g", r.tokens_per_s);
  row("tokens/s", line);
  std::snprintf(line, sizeof line, "%.1f", r.tflops_per_gpu);
  row("TFLOP/s per GPU", line);
  std::snprintf(line, sizeof line, "%.1f %%", r.mfu * 100);
  row("MFU", line);
  std::snprintf(line, sizeof line, "%.1f %%", r.bubble_fraction * 100);
  row("pipeline bubble", line);
  std::snprintf(line, sizeof line, "tp %s · cp %s · ep %s · pp %s · dp %s", format_seconds(r.exposed_tp_s).c_str(),
                format_seconds(r.exposed_cp_s).c_str(), format_seconds(r.exposed_ep_s).c_str(),
                format_seconds(r.exposed_pp_s).c_str(), format_seconds(r.exposed_dp_s).c_str());
  row("exposed comm", line);
  std::snprintf(line, sizeof line, "%s of %s (%s) — weights %s, grads %s, optimizer %s, activations %s%s",
                format_bytes(r.memory.peak_bytes).c_str(), format_bytes(r.memory.capacity_bytes).c_str(),
                r.memory.fits ? "fits" : "OUT OF MEMORY", format_bytes(r.memory.weights_bytes).c_str(),
                format_bytes(r.memory.grads_bytes).c_str(), format_bytes(r.memory.optimizer_bytes).c_str(),
                format_bytes(r.memory.activations_bytes).c_str(),
                r.memory.kv_cache_bytes > 0 ? (", kv cache " + format_bytes(r.memory.kv_cache_bytes)).c_str() : "");
  row("memory per GPU", line);
  if (r.inference) {
    row("time to first token", format_seconds(r.ttft_s));
    row("time per output token", format_seconds(r.tpot_s));
  }
  return out;
}

}  // namespace strata
