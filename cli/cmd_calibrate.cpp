// strata calibrate --backend cpu|cuda --out PROFILE.json [--quick] [--scenario S.json ...]
// Runs the backend's micro-benchmarks and writes a fitted hardware profile (exec/PROFILE.md).
#include <algorithm>
#include <cstdio>

#include "calibrate.hpp"
#include "commands.hpp"
#include "io/scenario.hpp"
#include "plan/planner.hpp"

namespace strata::cli {

void add_calibrate(CLI::App& app) {
  auto* cmd = app.add_subcommand("calibrate", "Run micro-benchmarks and fit a hardware profile");
  static std::string backend = "cpu", out;
  static std::vector<std::string> scenarios, sets;
  static bool quick = false, no_progress = false;
  static int max_ranks = 0;
  static double max_bytes = 0;
  cmd->add_option("--backend", backend, "Backend: cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  cmd->add_option("--out", out, "Write the profile (JSON) here")->required();
  cmd->add_option("--scenario", scenarios, "Also measure the exact GEMM and attention tasks of these scenarios' partition graphs");
  cmd->add_option("--set", sets, "Override a field of every --scenario, e.g. strategy.tp=4");
  cmd->add_flag("--quick", quick, "Small grids and few sizes (seconds; smoke tests)");
  cmd->add_option("--max-ranks", max_ranks, "Most ranks collectives use (default: all available)")->check(CLI::PositiveNumber);
  cmd->add_option("--max-bytes", max_bytes, "Largest collective size in bytes (default: cuda 1 GiB, cpu 64 MiB)")->check(CLI::PositiveNumber);
  cmd->add_flag("--no-progress", no_progress, "No progress bar on stderr");
  cmd->callback([] {
    exec::CalibrateOptions o;
    o.quick = quick;
    o.progress = !no_progress;
    o.max_ranks = max_ranks;
    o.max_coll_bytes = max_bytes;
    for (const auto& f : scenarios) {
      Scenario s = load_scenario(f, sets);
      PartitionGraph g = build_partition_graph(s);
      // The cpu backend runs every rank as a thread on this machine's cores at once.
      if (backend == "cpu") o.concurrency = std::clamp(std::max(o.concurrency, g.layout.world()), 1, 64);
      for (const auto& sh : exec::graph_gemm_shapes(g)) o.shapes.push_back(sh);
      for (const auto& a : exec::graph_attention_shapes(g)) o.attention_shapes.push_back(a);
      for (double b : exec::graph_memory_bytes(g, false)) o.elementwise_bytes.push_back(b);
      for (double b : exec::graph_memory_bytes(g, true)) o.optimizer_bytes.push_back(b);
    }
    auto bench = exec::make_bench(backend);
    exec::HardwareProfile p = exec::calibrate(*bench, o);
    exec::write_profile(p, out);
    std::printf("calibrated %s (%s) -> %s\n", p.device.c_str(), p.backend.c_str(), out.c_str());
    for (const auto& t : p.gemm) {
      const double best = t.tflops.empty() ? 0 : *std::max_element(t.tflops.begin(), t.tflops.end());
      std::printf("  gemm %s: best %.1f GFLOP/s over a %zux%zux%zu grid", dtype_name(t.dtype), best * 1e3, t.m.size(), t.n.size(), t.k.size());
      if (t.peak_tflops > 0) std::printf(" (%.0f%% of %.0f TFLOP/s peak)", 100 * best / t.peak_tflops, t.peak_tflops);
      std::printf("\n");
    }
    std::printf("  memcpy %.1f GB/s, launch overhead %.2f us, overlap slowdown %.3f\n", p.memcpy_GBps, p.launch_overhead_us, p.overlap_slowdown);
    for (const auto& l : p.links)
      std::printf("  link %s: latency %.2f us, send/recv %.2f GB/s, all-reduce busbw %.2f GB/s\n", l.name.c_str(), l.latency_us, l.bw_GBps,
                  l.allreduce_busbw_GBps);
    for (const auto& n : p.notes) std::printf("  note: %s\n", n.c_str());
  });
}

}  // namespace strata::cli
