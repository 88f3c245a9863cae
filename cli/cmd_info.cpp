// strata presets | topologies | gpus: list what ships.
#include <cstdio>
#include <filesystem>

#include "cluster/gpu.hpp"
#include "commands.hpp"
#include "io/scenario.hpp"
#include "model/presets.hpp"

namespace strata::cli {

void add_info_commands(CLI::App& app) {
  app.add_subcommand("presets", "List the built-in model presets with parameter counts")->callback([] {
    std::printf("%-14s %8s %8s %6s %6s %8s %12s %12s\n", "preset", "layers", "hidden", "heads", "kv", "experts",
                "params", "published");
    for (const auto& p : model_presets()) {
      const ModelSpec& m = p.spec;
      std::printf("%-14s %8d %8lld %6d %6d %8d %11.2fB %11.2fB\n", m.name.c_str(), m.layers, (long long)m.hidden,
                  m.heads, m.kv_heads, m.moe ? m.moe->experts : 0, count_params(m).total() / 1e9,
                  p.published_params / 1e9);
    }
  });
  app.add_subcommand("gpus", "List the built-in GPU table")->callback([] {
    std::printf("%-12s %10s %10s %10s %10s %10s %6s\n", "gpu", "bf16_tflops", "fp8_tflops", "hbm_GB", "hbm_GBps",
                "nvlink_GBps", "sms");
    for (const auto& g : gpu_table())
      std::printf("%-12s %10.1f %10.1f %10.0f %10.0f %10.0f %6d\n", g.name.c_str(), g.peak_bf16_tflops,
                  g.peak_fp8_tflops, g.hbm_bytes / 1e9, g.hbm_GBps, g.nvlink_GBps, g.sms);
  });
  app.add_subcommand("topologies", "List the shipped cluster topologies")->callback([] {
    namespace fs = std::filesystem;
    fs::path dir = fs::path(project_root()) / "topologies";
    std::vector<fs::path> files;
    if (fs::exists(dir))
      for (const auto& e : fs::directory_iterator(dir))
        if (e.path().extension() == ".json") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    std::printf("%-28s %-12s %6s %-10s %-15s %s\n", "file", "gpu", "g/node", "intra", "fabric", "nic");
    for (const auto& f : files) {
      try {
        Json j = read_json_file(f.string());
        ClusterSpec c = parse_cluster(JsonReader(j, f.string()));
        std::printf("%-28s %-12s %6d %-10s %-15s %dx%.0f GB/s\n", ("topologies/" + f.filename().string()).c_str(),
                    c.gpu.name.c_str(), c.gpus_per_node, intra_kind_name(c.intra.kind),
                    fabric_kind_name(c.fabric.kind), c.nic.per_node, c.nic.bw_GBps);
      } catch (const std::exception& e) {
        std::printf("%-28s (invalid: %s)\n", f.filename().string().c_str(), e.what());
      }
    }
  });
}

}  // namespace strata::cli
