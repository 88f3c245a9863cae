#include "core/strategy_enum.hpp"

#include <algorithm>
#include <filesystem>

#include "model/presets.hpp"
#if STRATA_GUI_HAVE_SWEEP
#include "sweep/search_space.hpp"
#endif

namespace fs = std::filesystem;

namespace strata::gui {

std::string strategy_label(const Strategy& s) {
  std::string l = "tp" + std::to_string(s.tp) + " pp" + std::to_string(s.pp) + " dp" + std::to_string(s.dp);
  if (s.cp > 1) l += " cp" + std::to_string(s.cp);
  if (s.ep > 1) l += " ep" + std::to_string(s.ep);
  if (s.vpp > 1) l += " vpp" + std::to_string(s.vpp);
  l += " mb" + std::to_string(s.micro_batch);
  // Choices that differ from the built-in enumeration's defaults (ZeRO-1, selective recompute).
  if (s.zero != 1) l += " z" + std::to_string(s.zero);
  if (s.recompute != Recompute::selective) l += std::string(" rc-") + recompute_name(s.recompute);
  if (s.schedule == Schedule::gpipe || s.schedule == Schedule::zb_h1) l += std::string(" ") + schedule_name(s.schedule);
  if (s.cp > 1 && s.cp_kind == CpKind::ulysses) l += " ulysses";
  if (s.tp > 1 && !s.sequence_parallel) l += " no-sp";
  return l;
}

std::vector<std::string> list_topologies() {
  std::vector<std::string> out;
  std::error_code ec;
  fs::path dir = fs::path(project_root()) / "topologies";
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().extension() == ".json") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string resolve_topology(const std::string& path) {
  fs::path p(path);
  if (p.is_absolute() || fs::exists(p)) return fs::absolute(p).string();
  return (fs::path(project_root()) / p).string();
}

namespace {

std::vector<int> powers_of_two(int max) {
  std::vector<int> v;
  for (int x = 1; x <= max; x *= 2) v.push_back(x);
  return v;
}

}  // namespace

Enumeration builtin_strategies(const ExplorerInputs& in, std::size_t max_candidates) {
  Enumeration out;
  out.source = "built-in enumeration";
  const std::string file = (fs::path(project_root()) / "scenarios" / "explorer.json").string();
  Json model = in.hf_config.empty() ? Json{{"preset", in.model_preset}} : Json{{"hf_config", fs::absolute(in.hf_config).string()}};
  std::string topo_path = resolve_topology(in.topology);

  // The model and the cluster on their own first: their errors are the user's to fix, not a
  // property of one strategy.
  ModelSpec m = parse_model(JsonReader(model, file, "model"), project_root());
  Json topo = read_json_file(topo_path);
  if (!topo.is_object()) throw InputError(topo_path, "", "a topology must be a JSON object");
  topo["nodes"] = in.nodes;
  ClusterSpec cl = parse_cluster(JsonReader(topo, topo_path));
  out.gpus = int(cl.gpus());
  out.model_name = m.name;
  out.cluster_name = cl.name;

  Json workload = in.inference ? Json{{"kind", "inference"}, {"batch", in.batch}, {"prompt_len", in.prompt_len}, {"gen_len", in.gen_len}}
                               : Json{{"kind", "train"}, {"seq_len", in.seq_len}};
  const int gpn = cl.gpus_per_node;
  for (int tp : powers_of_two(std::min(gpn, out.gpus))) {
    for (int pp : powers_of_two(std::min(out.gpus / tp, std::max(1, m.layers)))) {
      if (out.gpus % (tp * pp) != 0) continue;
      int dp = out.gpus / (tp * pp);
      std::vector<int> eps = m.moe ? powers_of_two(std::min(dp, m.moe->experts)) : std::vector<int>{1};
      for (int ep : eps) {
        for (int mb : in.inference ? std::vector<int>{1} : std::vector<int>{1, 2, 4}) {
          Json st = {{"dp", dp}, {"tp", tp}, {"pp", pp}, {"cp", 1}, {"ep", ep},
                     {"sequence_parallel", tp > 1}, {"schedule", "1f1b"}, {"micro_batch", mb},
                     {"global_batch", in.inference ? std::max(1, dp) : in.global_batch},
                     {"zero", 1}, {"recompute", "selective"}, {"overlap_grad_reduce", true}};
          std::string label = "tp" + std::to_string(tp) + " pp" + std::to_string(pp) + " dp" + std::to_string(dp) +
                              (ep > 1 ? " ep" + std::to_string(ep) : "") + " mb" + std::to_string(mb);
          Json j = {{"name", m.name + " " + label}, {"model", model},
                    {"cluster", {{"topology", topo_path}, {"nodes", in.nodes}}},
                    {"strategy", st}, {"workload", workload}};
          try {
            Candidate c;
            c.scenario = parse_scenario(j, file);
            c.json = std::move(j);
            c.label = strategy_label(c.scenario.strategy);
            out.valid.push_back(std::move(c));
          } catch (const InputError& e) {
            out.rejected.push_back({label, e.detail().empty() ? e.what() : e.path() + ": " + e.detail()});
          }
          if (out.valid.size() >= max_candidates) {
            out.available = out.valid.size();
            return out;
          }
        }
      }
    }
  }
  return out;
}

Enumeration enumerate_strategies(const ExplorerInputs& in, std::size_t max_candidates) {
  Enumeration out = builtin_strategies(in, max_candidates);
  out.available = std::max(out.available, out.valid.size());
#if STRATA_GUI_HAVE_SWEEP
  // The sweep's automatic space, seeded with any valid strategy (it keeps the model, cluster and
  // workload and varies the strategy).
  if (!out.valid.empty()) {
    try {
      const Candidate& seed = out.valid.front();
      std::vector<Json> blocks = sweep::auto_search_space(seed.scenario);
      Enumeration sw;
      sw.gpus = out.gpus;
      sw.model_name = out.model_name;
      sw.cluster_name = out.cluster_name;
      sw.source = "sweep search space";
      for (const Json& b : blocks) {
        Json j = seed.json;
        j["strategy"] = b;
        try {
          Candidate c;
          c.scenario = parse_scenario(j, seed.scenario.file);
          c.label = strategy_label(c.scenario.strategy);
          c.json = std::move(j);
          c.json["name"] = out.model_name + " " + c.label;
          sw.valid.push_back(std::move(c));
        } catch (const InputError& e) {
          sw.rejected.push_back({b.dump(), e.what()});
        }
      }
      sw.available = sw.valid.size();
      if (sw.valid.size() > max_candidates) sw.valid.resize(max_candidates);
      if (!sw.valid.empty()) return sw;
    } catch (const std::exception&) {
      // Keep the built-in list.
    }
  }
#endif
  return out;
}

}  // namespace strata::gui
