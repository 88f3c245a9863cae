#include "model/hf_config.hpp"

#include <filesystem>

namespace strata {

const std::vector<std::string>& hf_architectures() {
  static const std::vector<std::string> a = {
      "LlamaForCausalLM",    "MistralForCausalLM",   "MixtralForCausalLM",   "Qwen2ForCausalLM",
      "Qwen2MoeForCausalLM", "GPTNeoXForCausalLM",   "DeepseekV3ForCausalLM"};
  return a;
}

static DType hf_dtype(const JsonReader& c) {
  std::string t = c.get_string("torch_dtype", "bfloat16");
  if (t == "float16") return DType::fp16;
  if (t == "float32") return DType::fp32;
  return DType::bf16;
}

ModelSpec import_hf_config(const JsonReader& c) {
  c.expect_object();
  JsonReader archs = c.child("architectures");
  if (archs.array_size() == 0) archs.fail("expected at least one architecture name");
  std::string arch = archs.element(0).as_string();
  bool known = false;
  for (const auto& a : hf_architectures()) known = known || a == arch;
  if (!known) {
    std::string list;
    for (const auto& a : hf_architectures()) list += (list.empty() ? "" : ", ") + a;
    archs.element(0).fail("architecture \"" + arch + "\" is not supported (supported: " + list + ")");
  }
  constexpr std::int64_t big = std::int64_t(1) << 40;
  ModelSpec m;
  m.name = c.get_string("_name_or_path", arch);
  m.dtype = hf_dtype(c);
  m.layers = int(c.get_int("num_hidden_layers", 1, 100000));
  m.hidden = c.get_int("hidden_size", 1, big);
  m.heads = int(c.get_int("num_attention_heads", 1, 1 << 20));
  m.kv_heads = int(c.get_int("num_key_value_heads", 1, 1 << 20, m.heads));
  m.head_dim = c.get_int("head_dim", 1, 1 << 20, m.hidden / m.heads);
  m.vocab = c.get_int("vocab_size", 1, big);
  m.tie_embeddings = c.get_bool("tie_word_embeddings", false);
  m.activation = Activation::swiglu;
  m.norm = NormKind::rmsnorm;

  if (arch == "GPTNeoXForCausalLM") {
    // GPT-NeoX: LayerNorm, biases, GeLU MLP of intermediate_size, rotary, untied by default.
    m.activation = Activation::gelu;
    m.norm = NormKind::layernorm;
    m.linear_bias = true;
    m.ffn_hidden = c.get_int("intermediate_size", 1, big, 4 * m.hidden);
  } else {
    m.ffn_hidden = c.get_int("intermediate_size", 1, big);
  }
  if (arch == "Qwen2ForCausalLM" || arch == "Qwen2MoeForCausalLM") {
    // Qwen2 has biases on q/k/v only; counted here as attention bias (approximation: the
    // generic bias flag adds the out-projection bias too, h parameters per layer).
    m.linear_bias = false;
  }
  if (arch == "MixtralForCausalLM") {
    MoeSpec moe;
    moe.experts = int(c.get_int("num_local_experts", 1, 1 << 16));
    moe.top_k = int(c.get_int("num_experts_per_tok", 1, moe.experts));
    moe.expert_ffn_hidden = m.ffn_hidden;
    m.moe = moe;
  } else if (arch == "Qwen2MoeForCausalLM") {
    MoeSpec moe;
    moe.experts = int(c.get_int("num_experts", 1, 1 << 16));
    moe.top_k = int(c.get_int("num_experts_per_tok", 1, moe.experts));
    moe.expert_ffn_hidden = c.get_int("moe_intermediate_size", 1, big);
    // Qwen2-MoE's shared expert has its own width; expressed as whole experts of the routed width.
    std::int64_t shared = c.get_int("shared_expert_intermediate_size", 0, big, 0);
    moe.shared_experts = int((shared + moe.expert_ffn_hidden / 2) / moe.expert_ffn_hidden);
    moe.moe_layer_freq = int(c.get_int("decoder_sparse_step", 1, 1 << 16, 1));
    m.moe = moe;
  } else if (arch == "DeepseekV3ForCausalLM") {
    MoeSpec moe;
    moe.experts = int(c.get_int("n_routed_experts", 1, 1 << 16));
    moe.top_k = int(c.get_int("num_experts_per_tok", 1, moe.experts));
    moe.expert_ffn_hidden = c.get_int("moe_intermediate_size", 1, big);
    moe.shared_experts = int(c.get_int("n_shared_experts", 0, 1 << 16, 0));
    moe.first_dense_layers = int(c.get_int("first_k_dense_replace", 0, m.layers, 0));
    moe.moe_layer_freq = int(c.get_int("moe_layer_freq", 1, 1 << 16, 1));
    m.moe = moe;
    MlaSpec mla;
    mla.q_lora_rank = c.get_int("q_lora_rank", 0, big, 0);
    mla.kv_lora_rank = c.get_int("kv_lora_rank", 1, big);
    mla.qk_nope_head_dim = c.get_int("qk_nope_head_dim", 1, 1 << 20);
    mla.qk_rope_head_dim = c.get_int("qk_rope_head_dim", 0, 1 << 20);
    mla.v_head_dim = c.get_int("v_head_dim", 1, 1 << 20);
    m.mla = mla;
    m.head_dim = mla.qk_nope_head_dim + mla.qk_rope_head_dim;
    m.kv_heads = m.heads;
  }
  return m;
}

ModelSpec import_hf_config_file(const std::string& path) {
  Json j = read_json_file(path);
  ModelSpec m = import_hf_config(JsonReader(j, path));
  if (m.name.empty() || m.name.find("ForCausalLM") != std::string::npos)
    m.name = std::filesystem::path(path).parent_path().filename().string();
  return m;
}

}  // namespace strata
