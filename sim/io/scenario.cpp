#include "io/scenario.hpp"

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "model/hf_config.hpp"
#include "model/presets.hpp"

#ifndef STRATA_SOURCE_ROOT
#define STRATA_SOURCE_ROOT "."
#endif

namespace fs = std::filesystem;

namespace strata {

std::string project_root() {
  if (const char* r = std::getenv("STRATA_ROOT"); r && *r) return r;
  return STRATA_SOURCE_ROOT;
}

std::string resolve_path(const std::string& path, const std::string& scenario_dir) {
  fs::path p(path);
  if (p.is_absolute()) return p.string();
  if (!scenario_dir.empty() && fs::exists(fs::path(scenario_dir) / p)) return (fs::path(scenario_dir) / p).string();
  if (fs::exists(fs::path(project_root()) / p)) return (fs::path(project_root()) / p).string();
  if (fs::exists(p)) return p.string();
  return path;  // let the open fail with the original name
}

void apply_override(Json& root, const std::string& assignment, const std::string& file) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError(file, "--set", "expected key=value, got \"" + assignment + "\"");
  std::string key = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  Json value;
  try {
    value = Json::parse(text);
  } catch (const Json::parse_error&) {
    value = text;  // bare words are strings: --set strategy.schedule=interleaved
  }
  Json* node = &root;
  std::size_t start = 0;
  while (true) {
    auto dot = key.find('.', start);
    std::string part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (part.empty()) throw InputError(file, key, "empty component in --set path");
    if (!node->is_object()) throw InputError(file, key, "cannot set a field inside a non-object value");
    if (dot == std::string::npos) {
      (*node)[part] = value;
      return;
    }
    node = &(*node)[part];
    if (node->is_null()) *node = Json::object();
    start = dot + 1;
  }
}

namespace {

constexpr std::int64_t kBig = std::int64_t(1) << 40;

void parse_model_fields(const JsonReader& r, ModelSpec& m) {
  if (r.has("name")) m.name = r.get_string("name");
  if (r.has("layers")) m.layers = int(r.get_int("layers", 1, 100000));
  if (r.has("hidden")) m.hidden = r.get_int("hidden", 1, kBig);
  if (r.has("heads")) m.heads = int(r.get_int("heads", 1, 1 << 20));
  if (r.has("kv_heads")) m.kv_heads = int(r.get_int("kv_heads", 1, 1 << 20));
  if (r.has("head_dim")) m.head_dim = r.get_int("head_dim", 1, 1 << 20);
  if (r.has("ffn_hidden")) m.ffn_hidden = r.get_int("ffn_hidden", 1, kBig);
  if (r.has("vocab")) m.vocab = r.get_int("vocab", 1, kBig);
  if (r.has("activation")) m.activation = r.get_enum("activation", {"gelu", "swiglu"}) == "gelu" ? Activation::gelu : Activation::swiglu;
  if (r.has("dtype")) m.dtype = *parse_dtype(r.get_enum("dtype", {"bf16", "fp16", "fp8", "fp32"}));
  if (r.has("tie_embeddings")) m.tie_embeddings = r.get_bool("tie_embeddings", false);
  if (r.has("norm")) m.norm = r.get_enum("norm", {"layernorm", "rmsnorm"}) == "layernorm" ? NormKind::layernorm : NormKind::rmsnorm;
  if (r.has("linear_bias")) m.linear_bias = r.get_bool("linear_bias", false);
  if (r.has("hidden_dropout")) m.hidden_dropout = r.get_number("hidden_dropout", 0.0, 0.99, 0.0);
  if (r.has("position")) m.position = r.get_enum("position", {"rope", "learned"}) == "learned" ? PositionKind::learned : PositionKind::rope;
  if (r.has("max_position")) m.max_position = r.get_int("max_position", 1, kBig);
  if (r.has("moe")) {
    JsonReader mo = r.child("moe");
    mo.reject_unknown({"experts", "top_k", "expert_ffn_hidden", "shared_experts", "moe_layer_freq",
                       "first_dense_layers", "capacity_factor", "router_skew"});
    MoeSpec s = m.moe.value_or(MoeSpec{});
    s.experts = int(mo.get_int("experts", 1, 1 << 16, s.experts));
    if (s.experts == 0) mo.fail_at("experts", "missing required field");
    s.top_k = int(mo.get_int("top_k", 1, s.experts, s.top_k));
    s.expert_ffn_hidden = mo.get_int("expert_ffn_hidden", 1, kBig, s.expert_ffn_hidden ? s.expert_ffn_hidden : m.ffn_hidden);
    s.shared_experts = int(mo.get_int("shared_experts", 0, 1 << 16, s.shared_experts));
    s.moe_layer_freq = int(mo.get_int("moe_layer_freq", 1, 1 << 16, s.moe_layer_freq));
    s.first_dense_layers = int(mo.get_int("first_dense_layers", 0, 100000, s.first_dense_layers));
    s.capacity_factor = mo.get_number("capacity_factor", 0, 1000, s.capacity_factor);
    s.router_skew = mo.get_number("router_skew", 0, 10, s.router_skew);
    m.moe = s;
  }
}

}  // namespace

ModelSpec parse_model(const JsonReader& r, const std::string& scenario_dir) {
  r.expect_object();
  r.reject_unknown({"preset", "hf_config", "name", "layers", "hidden", "heads", "kv_heads", "head_dim",
                    "ffn_hidden", "vocab", "activation", "dtype", "tie_embeddings", "moe", "norm",
                    "linear_bias", "hidden_dropout", "position", "max_position"});
  ModelSpec m;
  bool base = false;
  if (r.has("preset")) {
    std::string name = r.get_string("preset");
    const ModelPreset* p = find_model_preset(name);
    if (!p) {
      std::string list;
      for (const auto& q : model_presets()) list += (list.empty() ? "" : ", ") + q.spec.name;
      r.fail_at("preset", "unknown preset \"" + name + "\" (known: " + list + ")");
    }
    m = p->spec;
    base = true;
  } else if (r.has("hf_config")) {
    m = import_hf_config_file(resolve_path(r.get_string("hf_config"), scenario_dir));
    base = true;
  }
  if (!base) {
    // Inline: the architecture fields are required.
    for (const char* f : {"layers", "hidden", "heads", "ffn_hidden", "vocab"})
      if (!r.has(f)) r.fail_at(f, "missing required field (or give \"preset\" or \"hf_config\")");
    m.name = "custom";
  }
  parse_model_fields(r, m);
  if (!base || !r.has("head_dim")) {
    if (!base || r.has("hidden") || r.has("heads")) m.head_dim = r.has("head_dim") ? m.head_dim : m.hidden / m.heads;
  }
  if (!base && !r.has("kv_heads")) m.kv_heads = m.heads;
  if (m.kv_heads > m.heads) r.fail_at("kv_heads", std::to_string(m.kv_heads) + " exceeds heads = " + std::to_string(m.heads));
  if (m.heads % m.kv_heads != 0)
    r.fail_at("kv_heads", std::to_string(m.kv_heads) + " does not divide heads = " + std::to_string(m.heads));
  if (m.head_dim <= 0) r.fail_at("head_dim", "must be positive (hidden / heads = 0)");
  if (m.position == PositionKind::learned && m.max_position == 0) m.max_position = 2048;
  return m;
}

ClusterSpec parse_cluster(const JsonReader& t) {
  t.expect_object();
  t.reject_unknown({"name", "gpu", "gpus_per_node", "nodes", "intra_node", "nic", "fabric", "pcie_GBps", "topology", "description"});
  ClusterSpec c;
  c.name = t.get_string("name", "custom");
  JsonReader g = t.child("gpu");
  if (g.json().is_string()) {
    const GpuSpec* spec = find_gpu(g.as_string());
    if (!spec) {
      std::string list;
      for (const auto& q : gpu_table()) list += (list.empty() ? "" : ", ") + q.name;
      g.fail("unknown GPU \"" + g.as_string() + "\" (known: " + list + ")");
    }
    c.gpu = *spec;
  } else {
    g.expect_object();
    g.reject_unknown({"name", "peak_tflops", "hbm_bytes", "hbm_GBps", "nvlink_GBps", "sms", "base"});
    if (g.has("base")) {
      const GpuSpec* spec = find_gpu(g.get_string("base"));
      if (!spec) g.fail_at("base", "unknown GPU \"" + g.get_string("base") + "\"");
      c.gpu = *spec;
    } else {
      c.gpu.sms = 132;
      c.gpu.mamf_fraction_16 = 0.8;  // H100-like default ceiling [S10]
      c.gpu.mamf_fraction_fp8 = 0.7;
    }
    c.gpu.name = g.get_string("name", c.gpu.name.empty() ? "custom-gpu" : c.gpu.name);
    if (g.has("peak_tflops")) {
      JsonReader p = g.child("peak_tflops");
      p.reject_unknown({"bf16", "fp16", "fp8", "fp32"});
      c.gpu.peak_bf16_tflops = p.get_number("bf16", 0.001, 1e6, c.gpu.peak_bf16_tflops);
      c.gpu.peak_fp16_tflops = p.get_number("fp16", 0.001, 1e6, c.gpu.peak_fp16_tflops ? c.gpu.peak_fp16_tflops : c.gpu.peak_bf16_tflops);
      c.gpu.peak_fp8_tflops = p.get_number("fp8", 0, 1e6, c.gpu.peak_fp8_tflops);
      c.gpu.peak_fp32_tflops = p.get_number("fp32", 0.001, 1e6, c.gpu.peak_fp32_tflops ? c.gpu.peak_fp32_tflops : c.gpu.peak_bf16_tflops / 2);
    }
    if (c.gpu.peak_bf16_tflops <= 0) g.fail_at("peak_tflops", "missing: an inline GPU needs peak_tflops.bf16");
    c.gpu.hbm_bytes = g.get_number("hbm_bytes", 1e6, 1e15, c.gpu.hbm_bytes);
    if (c.gpu.hbm_bytes <= 0) g.fail_at("hbm_bytes", "missing required field");
    c.gpu.hbm_GBps = g.get_number("hbm_GBps", 1, 1e6, c.gpu.hbm_GBps);
    if (c.gpu.hbm_GBps <= 0) g.fail_at("hbm_GBps", "missing required field");
    c.gpu.nvlink_GBps = g.get_number("nvlink_GBps", 0, 1e6, c.gpu.nvlink_GBps);
    c.gpu.sms = int(g.get_int("sms", 1, 100000, c.gpu.sms));
  }
  c.gpus_per_node = int(t.get_int("gpus_per_node", 1, 1024));
  c.nodes = int(t.get_int("nodes", 1, 1 << 20, 1));
  c.pcie_GBps = t.get_number("pcie_GBps", 0.1, 1e9, c.pcie_GBps);
  if (auto in = t.maybe_child("intra_node")) {
    in->reject_unknown({"kind", "bw_GBps", "latency_us", "nvls", "efficiency"});
    std::string k = in->get_enum("kind", {"nvswitch", "nvlink-mesh", "pcie"});
    c.intra.kind = k == "nvswitch" ? IntraKind::nvswitch : k == "pcie" ? IntraKind::pcie : IntraKind::nvlink_mesh;
    c.intra.bw_GBps = in->get_number("bw_GBps", 0.01, 1e9);
    c.intra.latency_us = in->get_number("latency_us", 0, 1e6, c.intra.latency_us);
    c.intra.nvls = in->get_bool("nvls", false);
    c.intra.efficiency = in->get_number("efficiency", 0.01, 1.0, c.intra.efficiency);
    if (c.intra.nvls && c.intra.kind != IntraKind::nvswitch) in->fail_at("nvls", "NVLS needs an nvswitch node");
  }
  if (auto n = t.maybe_child("nic")) {
    n->reject_unknown({"per_node", "bw_GBps", "latency_us", "efficiency"});
    c.nic.per_node = int(n->get_int("per_node", 1, 1024));
    c.nic.bw_GBps = n->get_number("bw_GBps", 0.01, 1e9);
    c.nic.latency_us = n->get_number("latency_us", 0, 1e6, c.nic.latency_us);
    c.nic.efficiency = n->get_number("efficiency", 0.01, 1.0, c.nic.efficiency);
  }
  if (auto f = t.maybe_child("fabric")) {
    f->reject_unknown({"kind", "levels", "oversubscription", "switch_radix", "latency_us"});
    std::string k = f->get_enum("kind", {"ideal", "fat-tree", "rail-optimized"});
    c.fabric.kind = k == "ideal" ? FabricKind::ideal : k == "fat-tree" ? FabricKind::fat_tree : FabricKind::rail_optimized;
    c.fabric.levels = int(f->get_int("levels", 1, 3, c.fabric.levels));
    c.fabric.oversubscription = f->get_number("oversubscription", 1.0, 64.0, c.fabric.oversubscription);
    c.fabric.switch_radix = int(f->get_int("switch_radix", 4, 4096, c.fabric.switch_radix));
    c.fabric.latency_us = f->get_number("latency_us", 0, 1e6, c.fabric.latency_us);
  }
  if (c.nic.per_node > c.gpus_per_node)
    t.fail_at("nic.per_node", std::to_string(c.nic.per_node) + " NICs exceed gpus_per_node = " + std::to_string(c.gpus_per_node));
  if (c.gpus_per_node % c.nic.per_node != 0)
    t.fail_at("nic.per_node", std::to_string(c.nic.per_node) + " does not divide gpus_per_node = " + std::to_string(c.gpus_per_node));
  return c;
}

namespace {

Strategy parse_strategy(const JsonReader& r, std::int64_t gpus) {
  r.expect_object();
  r.reject_unknown({"dp", "tp", "pp", "cp", "ep", "sequence_parallel", "vpp", "schedule", "cp_kind", "micro_batch",
                    "global_batch", "zero", "recompute", "attention", "norm_kernel", "tp_async_grad_reduce", "grad_accumulation_fusion",
                    "pp_scatter_gather", "overlap_p2p_comm",
                    "overlap_grad_reduce", "overlap_param_gather", "dtype", "layer_split", "order", "bucket_bytes",
                    "algorithm"});
  Strategy s;
  s.tp = int(r.get_int("tp", 1, 1 << 20, 1));
  s.pp = int(r.get_int("pp", 1, 1 << 20, 1));
  s.cp = int(r.get_int("cp", 1, 1 << 20, 1));
  s.ep = int(r.get_int("ep", 1, 1 << 20, 1));
  if (r.has("dp")) {
    s.dp = int(r.get_int("dp", 1, 1 << 24));
  } else {
    std::int64_t rest = std::int64_t(s.tp) * s.pp * s.cp;
    if (gpus % rest != 0)
      r.fail_at("dp", "missing, and cannot follow from the GPU count: tp·pp·cp = " + std::to_string(rest) +
                          " does not divide " + std::to_string(gpus) + " GPUs");
    s.dp = int(gpus / rest);
  }
  s.sequence_parallel = r.get_bool("sequence_parallel", false);
  s.vpp = int(r.get_int("vpp", 1, 1024, 1));
  std::string sch = r.get_enum("schedule", {"gpipe", "1f1b", "interleaved", "zb-h1"}, s.vpp > 1 ? "interleaved" : "1f1b");
  s.schedule = sch == "gpipe" ? Schedule::gpipe : sch == "1f1b" ? Schedule::one_f_one_b
             : sch == "interleaved" ? Schedule::interleaved : Schedule::zb_h1;
  s.cp_kind = r.get_enum("cp_kind", {"ring", "ulysses"}, "ring") == "ring" ? CpKind::ring : CpKind::ulysses;
  s.micro_batch = int(r.get_int("micro_batch", 1, 1 << 20, 1));
  s.global_batch = int(r.get_int("global_batch", 1, 1 << 30, std::int64_t(s.micro_batch) * s.dp));
  s.zero = int(r.get_int("zero", 0, 3, 0));
  std::string rc = r.get_enum("recompute", {"none", "selective", "full"}, "none");
  s.recompute = rc == "none" ? Recompute::none : rc == "selective" ? Recompute::selective : Recompute::full;
  const std::string att = r.get_enum("attention", {"flash", "flash2", "triton", "unfused"}, "flash");
  s.attention = att == "flash"    ? AttentionKind::flash
              : att == "flash2"   ? AttentionKind::flash2
              : att == "triton"   ? AttentionKind::triton
                                  : AttentionKind::unfused;
  s.norm_kernel = r.get_enum("norm_kernel", {"current", "apex_2020"}, "current") == "current" ? NormKernel::current
                                                                                              : NormKernel::apex_2020;
  s.tp_async_grad_reduce = r.get_bool("tp_async_grad_reduce", true);
  s.grad_accumulation_fusion = r.get_bool("grad_accumulation_fusion", true);
  s.pp_scatter_gather = r.get_bool("pp_scatter_gather", false);
  s.overlap_p2p_comm = r.get_bool("overlap_p2p_comm", true);
  s.overlap_grad_reduce = r.get_bool("overlap_grad_reduce", true);
  s.overlap_param_gather = r.get_bool("overlap_param_gather", false);
  if (r.has("dtype")) s.dtype = *parse_dtype(r.get_enum("dtype", {"bf16", "fp16", "fp8"}));
  if (r.has("layer_split")) {
    for (auto v : r.get_int_list("layer_split", 1, 100000)) s.layer_split.push_back(int(v));
  }
  s.order = r.get_string("order", s.order);
  s.bucket_bytes = r.get_number("bucket_bytes", 0, 1e13, 0);
  std::string al = r.get_enum("algorithm", {"auto", "ring", "tree", "hierarchical", "nvls", "direct"}, "auto");
  s.algorithm = al == "auto" ? CollAlgo::automatic : al == "ring" ? CollAlgo::ring : al == "tree" ? CollAlgo::tree
              : al == "hierarchical" ? CollAlgo::hierarchical : al == "nvls" ? CollAlgo::nvls : CollAlgo::direct;
  return s;
}

Workload parse_workload(const JsonReader& r) {
  r.expect_object();
  r.reject_unknown({"kind", "seq_len", "batch", "prompt_len", "gen_len"});
  Workload w;
  w.kind = r.get_enum("kind", {"train", "inference"}) == "train" ? WorkloadKind::train : WorkloadKind::inference;
  if (w.kind == WorkloadKind::train) {
    w.seq_len = r.get_int("seq_len", 1, 1 << 24);
  } else {
    w.batch = int(r.get_int("batch", 1, 1 << 20));
    w.prompt_len = r.get_int("prompt_len", 1, 1 << 24);
    w.gen_len = r.get_int("gen_len", 0, 1 << 20);
    w.seq_len = w.prompt_len + w.gen_len;
  }
  return w;
}

std::string str(std::int64_t v) { return std::to_string(v); }

}  // namespace

Scenario parse_scenario(const Json& j, const std::string& file) {
  JsonReader root(j, file);
  root.expect_object();
  root.reject_unknown({"name", "description", "model", "cluster", "strategy", "workload", "profile", "search"});
  std::string dir = file.empty() ? std::string() : fs::path(file).parent_path().string();
  Scenario s;
  s.file = file;
  s.resolved = j;
  s.name = root.get_string("name", file.empty() ? "scenario" : fs::path(file).stem().string());
  s.model = parse_model(root.child("model"), dir);

  // Cluster: a topology (file or inline object) with the scenario's own fields merged over it.
  JsonReader cl = root.child("cluster");
  cl.expect_object();
  JsonReader topo_ref = cl.child("topology");
  Json topo;
  std::string topo_file = file;
  if (topo_ref.json().is_string()) {
    topo_file = resolve_path(topo_ref.as_string(), dir);
    topo = read_json_file(topo_file);
  } else {
    topo_ref.expect_object();
    topo = topo_ref.json();
  }
  if (!topo.is_object()) throw InputError(topo_file, "", "a topology must be a JSON object");
  for (auto it = cl.json().begin(); it != cl.json().end(); ++it) {
    if (it.key() == "topology") continue;
    if (it->is_object() && topo.contains(it.key()) && topo[it.key()].is_object()) topo[it.key()].merge_patch(*it);
    else topo[it.key()] = *it;
  }
  // Messages about merged fields name the scenario's cluster block when the scenario set them.
  try {
    s.cluster = parse_cluster(JsonReader(topo, topo_file, topo_file == file ? "cluster.topology" : ""));
  } catch (const InputError& e) {
    std::string path = e.path();
    std::string top = path.substr(0, path.find('.'));
    if (topo_file != file && cl.has(top)) throw InputError(file, "cluster." + path, e.detail());
    throw;
  }

  s.strategy = parse_strategy(root.child("strategy"), s.cluster.gpus());
  s.workload = parse_workload(root.child("workload"));
  if (root.has("profile")) s.profile_path = resolve_path(root.get_string("profile"), dir);
  if (root.has("search")) {
    // A value-set object, or "auto" (the sweep enumerates the sensible space itself).
    JsonReader sr = root.child("search");
    if (sr.json().is_string()) sr.as_enum({"auto"});
    else sr.expect_object();
    s.search = j["search"];
  }
  validate_scenario(s);
  return s;
}

Scenario load_scenario(const std::string& file, const std::vector<std::string>& overrides) {
  Json j = read_json_file(file);
  for (const auto& o : overrides) apply_override(j, o, file);
  return parse_scenario(j, file);
}

void validate_scenario(const Scenario& sc) {
  const Strategy& s = sc.strategy;
  const ModelSpec& m = sc.model;
  const std::string& f = sc.file;
  auto fail = [&](const std::string& path, const std::string& what) { throw InputError(f, path, what); };
  std::int64_t gpus = sc.cluster.gpus();
  std::int64_t prod = std::int64_t(s.dp) * s.tp * s.pp * s.cp;
  if (prod != gpus)
    fail("strategy", "dp·tp·pp·cp = " + str(s.dp) + "·" + str(s.tp) + "·" + str(s.pp) + "·" + str(s.cp) + " = " +
                         str(prod) + " ≠ " + str(gpus) + " GPUs (" + str(sc.cluster.nodes) + " nodes × " +
                         str(sc.cluster.gpus_per_node) + ")");
  if (m.heads % s.tp != 0) fail("strategy.tp", str(s.tp) + " does not divide heads = " + str(m.heads));
  if (m.kv_heads % s.tp != 0 && s.tp % m.kv_heads != 0)
    fail("strategy.tp", str(s.tp) + " and kv_heads = " + str(m.kv_heads) + " do not divide one another");
  if (m.ffn_hidden % s.tp != 0) fail("strategy.tp", str(s.tp) + " does not divide ffn_hidden = " + str(m.ffn_hidden));
  if (s.vpp > 1 && s.schedule != Schedule::interleaved)
    fail("strategy.vpp", "vpp = " + str(s.vpp) + " needs schedule \"interleaved\" (got \"" + schedule_name(s.schedule) + "\")");
  if (s.schedule == Schedule::interleaved && s.vpp < 2)
    fail("strategy.schedule", "\"interleaved\" needs vpp > 1 (got vpp = " + str(s.vpp) + ")");
  if (s.schedule == Schedule::interleaved && s.pp < 2)
    fail("strategy.schedule", "\"interleaved\" needs pp > 1 (got pp = " + str(s.pp) + ")");
  if (!s.layer_split.empty()) {
    if (int(s.layer_split.size()) != s.pp)
      fail("strategy.layer_split", "lists " + str(s.layer_split.size()) + " stages but pp = " + str(s.pp));
    std::int64_t sum = 0;
    for (std::size_t i = 0; i < s.layer_split.size(); ++i) {
      sum += s.layer_split[i];
      if (s.layer_split[i] % s.vpp != 0)
        fail("strategy.layer_split[" + str(i) + "]", str(s.layer_split[i]) + " layers do not divide into vpp = " + str(s.vpp) + " chunks");
    }
    if (sum != m.layers) fail("strategy.layer_split", "sums to " + str(sum) + " layers but the model has " + str(m.layers));
  } else if (m.layers % (s.pp * s.vpp) != 0) {
    fail("strategy.pp", "pp·vpp = " + str(s.pp) + "·" + str(s.vpp) + " = " + str(s.pp * s.vpp) +
                            " does not divide layers = " + str(m.layers) + " (give strategy.layer_split for an uneven split)");
  }
  if (m.moe) {
    if (m.moe->experts % s.ep != 0) fail("strategy.ep", str(s.ep) + " does not divide experts = " + str(m.moe->experts));
    if ((std::int64_t(s.dp) * s.cp) % s.ep != 0)
      fail("strategy.ep", str(s.ep) + " does not divide dp·cp = " + str(s.dp) + "·" + str(s.cp) + " = " + str(std::int64_t(s.dp) * s.cp));
  } else if (s.ep != 1) {
    fail("strategy.ep", "ep = " + str(s.ep) + " needs a Mixture-of-Experts model (" + m.name + " is dense)");
  }
  if (s.cp_kind == CpKind::ulysses && (m.heads / s.tp) % s.cp != 0)
    fail("strategy.cp", "ulysses needs cp to divide heads per tp rank: " + str(m.heads) + "/" + str(s.tp) + " = " +
                            str(m.heads / s.tp) + " is not divisible by cp = " + str(s.cp));
  if (s.zero == 3 && s.pp > 1) fail("strategy.zero", "ZeRO-3/FSDP with pp > 1 is not supported (pp = " + str(s.pp) + ")");
  DType dt = sc.compute_dtype();
  if (sc.cluster.gpu.peak_tflops(dt) <= 0)
    fail(s.dtype ? "strategy.dtype" : "model.dtype", std::string(dtype_name(dt)) + " is not supported by " + sc.cluster.gpu.name);
  if (sc.workload.kind == WorkloadKind::train) {
    std::int64_t seq = sc.workload.seq_len;
    std::int64_t chunk = s.cp_kind == CpKind::ring && s.cp > 1 ? 2 * s.cp : s.cp;
    if (seq % chunk != 0)
      fail("workload.seq_len", str(seq) + " is not divisible by " + (chunk == s.cp ? "cp = " + str(s.cp) : "2·cp = " + str(chunk) + " (causal load balancing)"));
    if (s.sequence_parallel && (seq / s.cp) % s.tp != 0)
      fail("workload.seq_len", "with sequence_parallel, seq_len/cp = " + str(seq / s.cp) + " must be divisible by tp = " + str(s.tp));
    std::int64_t per = std::int64_t(s.micro_batch) * s.dp;
    if (s.global_batch % per != 0)
      fail("strategy.global_batch", str(s.global_batch) + " is not divisible by micro_batch·dp = " + str(s.micro_batch) + "·" + str(s.dp) + " = " + str(per));
    int mbs = s.micro_batches();
    if (s.schedule == Schedule::interleaved && mbs % s.pp != 0)
      fail("strategy.global_batch", "interleaved needs micro-batches per pipeline (" + str(mbs) + ") to be a multiple of pp = " + str(s.pp));
    if (m.position == PositionKind::learned && seq > m.max_position)
      fail("workload.seq_len", str(seq) + " exceeds the model's learned positions (" + str(m.max_position) + ")");
  } else {
    if (s.cp > 1 && (sc.workload.prompt_len % s.cp) != 0)
      fail("workload.prompt_len", str(sc.workload.prompt_len) + " is not divisible by cp = " + str(s.cp));
    if (s.dp > 1 && sc.workload.batch % s.dp != 0)
      fail("workload.batch", str(sc.workload.batch) + " is not divisible by dp = " + str(s.dp));
  }
}

}  // namespace strata
