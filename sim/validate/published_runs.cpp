#include "validate/published_runs.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "cost/compute_cost.hpp"
#include "io/scenario.hpp"
#include "model/model.hpp"
#include "plan/strategy.hpp"

namespace fs = std::filesystem;

namespace strata {

std::string default_validation_file() {
  if (const char* f = std::getenv("STRATA_VALIDATION_FILE"); f && *f) return f;
  fs::path root(project_root());
  for (fs::path p : {root / ".." / "shared" / "validation" / "published_runs.json",
                     root / "scenarios" / "validation" / "published_runs.json"})
    if (fs::exists(p)) return p.lexically_normal().string();
  return (root / "scenarios" / "validation" / "published_runs.json").string();
}

namespace {

bool contains(const std::string& s, const char* sub) { return s.find(sub) != std::string::npos; }

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// FlashAttention (Dao et al., arXiv:2205.14135 [S12d]) appeared in May 2022: software released
// before 2022 ran attention unfused (scores materialised, softmax and dropout kernels over them).
constexpr int kFlashAttentionYear = 2022;
// Megatron-LM's --hidden-dropout default (megatron/arguments.py, 2021 and since).
constexpr double kMegatronDefaultHiddenDropout = 0.1;
// Megatron-LM's asynchronous TP gradient all-reduce (ColumnParallelLinear overlapping the input-
// gradient all-reduce with the weight-gradient GEMM) and its gradient accumulation fusion (the
// weight-gradient GEMM adding into main_grad) are absent from its 2021 code (the SC'21 scripts,
// Aug 2021: LocalDDP's hook does main_grad.add_(grad), torch DDP accumulates through autograd)
// and present from 2022 on.
constexpr int kAsyncTpGradReduceYear = 2022;

// Year of the software a row measured, when the row says: "(2021)" in `software`, else the
// arXiv identifier (YYMM.NNNNN) of the citation or URL. 0 when unknown.
int software_year(const Json& r) {
  const std::string sw = r.contains("software") && r["software"].is_string() ? r["software"].get<std::string>() : "";
  for (std::size_t i = 0; i + 5 < sw.size(); ++i)
    if (sw[i] == '(' && std::isdigit((unsigned char)sw[i + 1]) && sw[i + 5] == ')') return std::atoi(sw.c_str() + i + 1);
  std::string cite;
  if (r.contains("source") && r["source"].is_object())
    for (const char* k : {"citation", "url"})
      if (r["source"].contains(k) && r["source"][k].is_string()) cite += r["source"][k].get<std::string>() + " ";
  for (const char* tag : {"arXiv:", "arxiv.org/abs/"}) {
    auto at = cite.find(tag);
    if (at == std::string::npos) continue;
    at += std::string(tag).size();
    if (at + 4 < cite.size() && std::isdigit((unsigned char)cite[at]) && std::isdigit((unsigned char)cite[at + 1]))
      return 2000 + (cite[at] - '0') * 10 + (cite[at + 1] - '0');
  }
  return 0;
}

std::string str_or(const Json& j, const char* key, const std::string& def = "") {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : def;
}
double num_or(const Json& j, const char* key, double def) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : def;
}

// The model block: Megatron GPT rows are GPT-2/3 style (LayerNorm, biases, learned positions,
// tied embeddings); MPT has no biases, ALiBi (no position table) and tied embeddings; Mixtral
// is Llama-style (RMSNorm, SwiGLU, untied).
Json model_block(const Json& m, std::vector<std::string>& assumptions) {
  Json out = {{"name", str_or(m, "name", "model")},
              {"layers", m["num_layers"]},
              {"hidden", m["hidden_size"]},
              {"heads", m["num_attention_heads"]},
              {"kv_heads", m.value("num_kv_heads", m["num_attention_heads"])},
              {"ffn_hidden", m["ffn_hidden_size"]},
              {"vocab", m["vocab_size"]},
              {"activation", str_or(m, "ffn_activation", "gelu") == "swiglu" ? "swiglu" : "gelu"}};
  std::string name = str_or(m, "name"), other = str_or(m, "other");
  if (contains(name, "GPT")) {
    out["norm"] = "layernorm";
    out["linear_bias"] = true;
    out["position"] = "learned";
    out["max_position"] = m.value("seq_length", 2048);
    out["tie_embeddings"] = true;
  } else if (contains(name, "MPT")) {
    out["norm"] = "layernorm";
    out["linear_bias"] = false;
    out["tie_embeddings"] = true;
    assumptions.push_back("MPT: ALiBi (no position table), tied embeddings, no biases (llm-foundry yaml)");
  } else {
    out["norm"] = "rmsnorm";
    out["tie_embeddings"] = false;
  }
  if (m.contains("moe") && m["moe"].is_object()) {
    const Json& e = m["moe"];
    out["moe"] = {{"experts", e["num_experts"]},
                  {"top_k", e["top_k"]},
                  {"expert_ffn_hidden", e.value("expert_ffn_hidden_size", m["ffn_hidden_size"].get<long long>())},
                  {"shared_experts", e.value("shared_experts", 0)}};
  }
  return out;
}

// Megatron-Core's num_floating_point_operations as of 2024 (megatron/training/training.py, the
// v0.8/v0.9 releases whose MoE figures the Mixtral rows quote), per step of B sequences:
//   12·B·s·L·h² · [ (1 + g/a + s/h)·(a·d/h) + (f/h)·k·(3/2 if SwiGLU) + (f_shared/h)·(3/2 if SwiGLU)
//                   + V/(2·L·h) ]
// with V the vocabulary padded to a multiple of 128·tp (--make-vocab-size-divisible-by 128). Its
// attention term s/h counts every score of the s x s matrix; the causal halving (seq_len / 2) that
// Strata's own count follows (reference §4.2) came later. Deriving the step with Strata's count
// would shorten it by the causal half of the attention FLOPs (4% for Mixtral at s = 4096).
double mcore_2024_flops_per_step(const Scenario& sc) {
  const ModelSpec& m = sc.model;
  const double B = sc.strategy.global_batch, s = double(sc.workload.seq_len), L = m.layers, h = double(m.hidden);
  const double a = double(m.heads), g = double(m.kv_heads), q_ratio = double(m.heads * m.head_dim) / h;
  const double glu = m.activation == Activation::swiglu ? 1.5 : 1.0;
  double mlp = double(m.ffn_hidden) / h * glu, shared = 0;
  if (m.moe) {
    mlp = double(m.moe->expert_ffn_hidden) / h * m.moe->top_k * glu;
    shared = double(m.moe->expert_ffn_hidden) * m.moe->shared_experts / h * glu;
  }
  const double div = 128.0 * sc.strategy.tp;
  const double V = std::ceil(double(m.vocab) / div) * div;
  return 12.0 * B * s * L * h * h * ((1 + g / a + s / h) * q_ratio + mlp + shared + V / (2 * L * h));
}

// "fp16" / "bf16" when the precision text names exactly one of them, else "" (not stated).
std::string stated_dtype(const std::string& prec) {
  const bool f = contains(prec, "fp16"), b = contains(prec, "bf16");
  if (f == b) return "";
  return f ? "fp16" : "bf16";
}

}  // namespace

std::vector<PublishedRun> load_published_runs(const std::string& path) {
  Json all = read_json_file(path);
  if (!all.is_array()) throw InputError(path, "", "expected an array of published runs");
  // The 16-bit format each source states (first row that states one), for its rows that do not.
  std::map<std::string, std::string> source_dtype;
  for (const Json& r : all) {
    if (!r.is_object() || !r.contains("source")) continue;
    const std::string d = stated_dtype(str_or(r, "precision"));
    if (!d.empty()) source_dtype.emplace(str_or(r["source"], "citation"), d);
  }
  std::vector<PublishedRun> runs;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const Json& r = all[i];
    if (!r.is_object() || str_or(r, "measurement_kind") != "training_throughput") continue;
    PublishedRun run;
    run.id = str_or(r, "id", "row" + std::to_string(i));
    run.source = r.contains("source") ? str_or(r["source"], "citation") : "";
    const Json& m = r["model"];
    const Json& p = r["parallel"];
    const Json& hw = r["hardware"];
    // Published step time: measured, else derived by the source file from published figures.
    if (r.contains("result") && num_or(r["result"], "step_time_s", 0) > 0) {
      run.published_step_s = r["result"]["step_time_s"].get<double>();
      run.step_basis = "published step time";
    } else if (r.contains("derived") && num_or(r["derived"], "step_time_s", 0) > 0) {
      run.published_step_s = r["derived"]["step_time_s"].get<double>();
      run.step_basis = "derived from published throughput (" + str_or(r["derived"], "note", "see file") + ")";
    }
    try {
      // GPU and fabric.
      std::string gpu = str_or(hw, "gpu");
      std::string topo, gpu_name;
      if (contains(gpu, "A100")) {
        topo = "topologies/dgx-a100.json";
        gpu_name = contains(gpu, "40") ? "A100-40-SXM" : "A100-80-SXM";
      } else if (contains(gpu, "H100")) {
        topo = "topologies/dgx-h100.json";
        gpu_name = "H100-SXM";
      } else {
        run.unsupported = "GPU \"" + gpu + "\" is not in Strata's GPU table";
      }
      int gpus = hw.value("gpu_count", 0), per_node = hw.value("gpus_per_node", 8);
      std::string inter = str_or(hw, "inter_node");
      if (inter.empty() || contains(inter, "not stated"))
        run.assumptions.push_back("fabric not stated: assumed " + topo.substr(11) + " (8 NICs per node, non-blocking)");
      Json cluster = {{"topology", topo}, {"nodes", gpus / std::max(1, per_node)}, {"gpu", gpu_name}};
      if (contains(inter, "8x400") || contains(gpu, "H100")) cluster["fabric"] = {{"kind", "rail-optimized"}};
      if (contains(inter, "fat tree") || contains(inter, "fat-tree"))
        cluster["fabric"] = {{"kind", "fat-tree"}, {"levels", contains(inter, "3-level") ? 3 : 2}};
      // Strategy.
      int vpp = p.contains("virtual_pipeline_chunks_per_rank") && p["virtual_pipeline_chunks_per_rank"].is_number()
                    ? p["virtual_pipeline_chunks_per_rank"].get<int>() : 1;
      std::string rec = str_or(p, "activation_recompute", "none");
      std::string shard = str_or(p, "dp_sharding");
      int zero = contains(shard, "FSDP") || contains(shard, "FULL_SHARD") ? 3 : contains(shard, "distributed optimizer") ? 1 : 0;
      Json strategy = {{"tp", p.value("tp", 1)},
                       {"pp", p.value("pp", 1)},
                       {"dp", p.value("dp", 1)},
                       {"cp", p["cp"].is_number() ? p["cp"].get<int>() : 1},
                       {"ep", p["ep"].is_number() ? p["ep"].get<int>() : 1},
                       {"sequence_parallel", p["sequence_parallel"].is_boolean() && p["sequence_parallel"].get<bool>()},
                       {"vpp", vpp},
                       {"schedule", vpp > 1 ? "interleaved" : "1f1b"},
                       {"micro_batch", p.value("micro_batch_size", 1)},
                       {"global_batch", p.value("global_batch_size_seqs", 1)},
                       {"zero", zero},
                       {"recompute", contains(rec, "full") ? "full" : contains(rec, "selective") ? "selective" : "none"}};
      double hidden_dropout = 0;  // set below where the software's default is known
      // Attention kernel: unfused for software older than FlashAttention, else fused.
      const int year = software_year(r);
      if (year > 0 && year < kFlashAttentionYear) {
        strategy["attention"] = "unfused";
        run.assumptions.push_back("software from " + std::to_string(year) +
                                  ", before FlashAttention (2022): unfused attention (scores, softmax, dropout in HBM)");
      } else if (contains(str_or(r, "software"), "llm-foundry")) {
        // llm-foundry's benchmark runs set the model's attn_impl from their script's --attn_impl,
        // whose default was 'triton' (Triton FlashAttention, flash_attn_triton.py) until 2024
        // (scripts/train/benchmarking/submit_benchmarks.py; the MPT tables were measured in 2023).
        strategy["attention"] = "triton";
        const ComputeConstants k;
        run.assumptions.push_back("llm-foundry: attn_impl 'triton' (its benchmark script's default until 2024): Triton "
                                  "FlashAttention, slower than FlashAttention-2 (" + fixed(k.triton_fa_fwd_slowdown, 1) +
                                  "x forward, " + fixed(k.triton_fa_bwd_slowdown, 1) + "x backward), not Hopper-native");
      }
      // Megatron-LM before 2022 reduced a column-parallel layer's input gradient after its weight
      // gradient (the asynchronous overlap, async_tensor_model_parallel_allreduce, is later).
      if (year > 0 && year < kAsyncTpGradReduceYear && contains(str_or(r, "software"), "Megatron")) {
        strategy["tp_async_grad_reduce"] = false;
        strategy["grad_accumulation_fusion"] = false;
        run.assumptions.push_back("Megatron-LM " + std::to_string(year) +
                                  ": TP input-gradient all-reduce after the weight gradient (no async overlap); gradients "
                                  "accumulated across micro-batches by an element-wise add (no gradient accumulation fusion)");
        // Its LayerNorm is apex's FusedLayerNorm of 2020 (megatron/fused_kernels), at that
        // kernel's measured rate; its GPT runs keep the default --hidden-dropout 0.1
        // (megatron/arguments.py; the SC'21 scripts, examples/sc21/CONFIG.sh, do not change it).
        strategy["norm_kernel"] = "apex_2020";
        hidden_dropout = kMegatronDefaultHiddenDropout;
        // The rates as the model applies them: fractions of the A100-40GB's bandwidth (the card
        // the PR measured, assumed) times this GPU's (plan/layer_ops.cpp).
        const double scale = find_gpu(gpu_name)->hbm_GBps / find_gpu("A100-40-SXM")->hbm_GBps;
        run.assumptions.push_back(
            "Megatron-LM " + std::to_string(year) + ": apex's 2020 FusedLayerNorm kernel, measured at " +
            fixed(kApex2020LayerNormFwdGBps, 1) + " / " + fixed(kApex2020LayerNormBwdGBps, 1) +
            " GB/s forward / backward on an A100 (NVIDIA/apex PR #1037), applied as the same share of this GPU's bandwidth: " +
            fixed(kApex2020LayerNormFwdGBps * scale, 0) + " / " + fixed(kApex2020LayerNormBwdGBps * scale, 0) +
            " GB/s; hidden dropout " + fixed(hidden_dropout, 1) + " (Megatron's default) with its masks");
        // Megatron-LM 2021 pipeline exchanges (megatron/p2p_communication.py, _communicate): with
        // --scatter-gather-tensors-in-pipeline (on unless --no-scatter-gather-tensors-in-pipeline;
        // the paper's §4.1 optimization) each TP rank sends 1/t of the activation and the receiver
        // all-gathers it over the TP group; batch_isend_irecv is waited on and followed by
        // torch.cuda.synchronize(), so no exchange overlaps the stage's next compute.
        if (p.value("pp", 1) > 1) {
          strategy["pp_scatter_gather"] = true;
          strategy["overlap_p2p_comm"] = false;
          run.assumptions.push_back("Megatron-LM " + std::to_string(year) +
                                    ": pipeline activations scattered over the TP ranks and all-gathered on arrival; each "
                                    "pipeline exchange completes before the next compute (no p2p overlap)");
        }
      }
      // Megatron-LM's 'local' DDP (2021) all-reduces the gradients after the whole backward pass,
      // with no overlap: megatron/training.py train_step calls model.allreduce_gradients() once
      // forward_backward_func has returned ("backward-params-all-reduce" timer). torch DDP
      // (the other rows) overlaps its buckets with the backward through autograd hooks.
      if (contains(shard, "DDP impl 'local'")) {
        strategy["overlap_grad_reduce"] = false;
        run.assumptions.push_back("Megatron 'local' DDP: gradient all-reduce after the backward, not overlapped");
      }
      std::string prec = str_or(r, "precision");
      std::string dtype = stated_dtype(prec);
      if (dtype.empty()) {
        // Unstated: the precision the same source states for its other rows (same paper, same
        // code), else bf16.
        auto it = source_dtype.find(run.source);
        dtype = it != source_dtype.end() ? it->second : "bf16";
        run.assumptions.push_back("precision not stated: " + dtype + (it != source_dtype.end() ? ", as the source's other rows" : ""));
      }
      strategy["dtype"] = dtype;
      if (zero == 3) run.assumptions.push_back("FSDP FULL_SHARD modelled as ZeRO-3 with per-layer all-gathers");
      Json model = model_block(m, run.assumptions);
      if (hidden_dropout > 0) model["hidden_dropout"] = hidden_dropout;
      run.scenario = {{"name", run.id},
                      {"model", model},
                      {"cluster", cluster},
                      {"strategy", strategy},
                      {"workload", {{"kind", "train"}, {"seq_len", m.value("seq_length", 2048)}}}};
      if (run.published_step_s <= 0 && r.contains("result") && num_or(r["result"], "tflops_per_gpu", 0) > 0) {
        // Derive the step from published TFLOP/s with the source's own FLOP convention.
        Scenario sc = parse_scenario(run.scenario, path);
        double tokens = double(sc.strategy.global_batch) * double(sc.workload.seq_len);
        double flops = tokens * train_flops_per_token(sc.model, sc.workload.seq_len);
        run.step_basis = "derived here: model FLOPs per step / (GPUs x published TFLOP/s per GPU)";
        if (str_or(r, "flop_formula_id") == "mcore_model_flops") {
          flops = mcore_2024_flops_per_step(sc);
          run.step_basis = "derived here: Megatron-Core 2024 num_floating_point_operations (full s^2 attention) per step / "
                           "(GPUs x published TFLOP/s per GPU)";
          run.assumptions.push_back("published TFLOP/s counted with Megatron-Core's 2024 formula, which counts every "
                                    "attention score (no causal halving); the step is derived with it");
        }
        run.published_step_s = flops / (double(gpus) * r["result"]["tflops_per_gpu"].get<double>() * 1e12);
      }
    } catch (const std::exception& e) {
      run.unsupported = e.what();
    }
    if (run.unsupported.empty() && run.published_step_s <= 0) run.unsupported = "no published step time or throughput";
    if (!run.unsupported.empty()) run.scenario = nullptr;
    runs.push_back(std::move(run));
  }
  return runs;
}

}  // namespace strata
