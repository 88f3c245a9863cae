#include "model/presets.hpp"

namespace strata {
namespace {

ModelSpec dense(const char* name, int L, std::int64_t h, int a, int g, std::int64_t f, std::int64_t V,
                Activation act, bool tied) {
  ModelSpec m;
  m.name = name;
  m.layers = L;
  m.hidden = h;
  m.heads = a;
  m.kv_heads = g;
  m.head_dim = h / a;
  m.ffn_hidden = f;
  m.vocab = V;
  m.activation = act;
  m.tie_embeddings = tied;
  return m;
}

ModelSpec gpt_style(const char* name, int L, std::int64_t h, int a, std::int64_t V, std::int64_t max_pos) {
  // GPT-2/3 and Megatron's GPT: LayerNorm, biases, learned positions, tied embeddings, f = 4h.
  ModelSpec m = dense(name, L, h, a, a, 4 * h, V, Activation::gelu, true);
  m.norm = NormKind::layernorm;
  m.linear_bias = true;
  m.position = PositionKind::learned;
  m.max_position = max_pos;
  return m;
}

ModelSpec mixtral(const char* name, int L, std::int64_t h, int a, std::int64_t f, std::int64_t V) {
  ModelSpec m = dense(name, L, h, a, 8, f, V, Activation::swiglu, false);
  MoeSpec moe;
  moe.experts = 8;
  moe.top_k = 2;
  moe.expert_ffn_hidden = f;
  m.moe = moe;
  return m;
}

ModelSpec deepseek_v3() {
  // config.json of deepseek-ai/DeepSeek-V3. MLA attention is counted exactly (MlaSpec); the
  // attention core is simulated as 128 heads of q/k dim 192 and v dim 128. The multi-token
  // prediction module (14B) is not part of the 671B main model and is left out.
  ModelSpec m = dense("deepseek-v3", 61, 7168, 128, 128, 18432, 129280, Activation::swiglu, false);
  m.head_dim = 192;  // qk_nope 128 + qk_rope 64
  MlaSpec mla;
  mla.q_lora_rank = 1536;
  mla.kv_lora_rank = 512;
  mla.qk_nope_head_dim = 128;
  mla.qk_rope_head_dim = 64;
  mla.v_head_dim = 128;
  m.mla = mla;
  MoeSpec moe;
  moe.experts = 256;
  moe.top_k = 8;
  moe.expert_ffn_hidden = 2048;
  moe.shared_experts = 1;
  moe.first_dense_layers = 3;
  m.moe = moe;
  return m;
}

std::vector<ModelPreset> build() {
  std::vector<ModelPreset> v;
  v.push_back({gpt_style("gpt3-175b", 96, 12288, 96, 50257, 2048), 175e9,
               "Brown et al. 2020, GPT-3 paper Table 2.1 (175.0B)"});
  v.push_back({dense("llama2-70b", 80, 8192, 64, 8, 28672, 32000, Activation::swiglu, false), 68.98e9,
               "meta-llama/Llama-2-70b-hf safetensors index: 68,976,648,192 parameters"});
  v.push_back({dense("llama3-8b", 32, 4096, 32, 8, 14336, 128256, Activation::swiglu, false), 8.03e9,
               "meta-llama/Meta-Llama-3-8B model card: 8.03B parameters"});
  v.push_back({dense("llama3-70b", 80, 8192, 64, 8, 28672, 128256, Activation::swiglu, false), 70.6e9,
               "meta-llama/Meta-Llama-3-70B model card: 70.6B parameters"});
  v.push_back({dense("llama3-405b", 126, 16384, 128, 8, 53248, 128256, Activation::swiglu, false), 405e9,
               "Llama 3 Herd of Models (arXiv:2407.21783) Table 3: 405B"});
  v.push_back({mixtral("mixtral-8x7b", 32, 4096, 32, 14336, 32000), 46.7e9,
               "Mistral AI, 'Mixtral of experts' (2023): 46.7B total parameters"});
  v.push_back({mixtral("mixtral-8x22b", 56, 6144, 48, 16384, 32768), 141e9,
               "Mistral AI, 'Cheaper, Better, Faster, Stronger' (2024): 141B total parameters"});
  v.push_back({deepseek_v3(), 671e9, "DeepSeek-V3 Technical Report (arXiv:2412.19437): 671B total"});
  v.push_back({gpt_style("gpt-1t", 128, 25600, 160, 51200, 2048), 1008e9,
               "Narayanan et al. SC'21 (arXiv:2104.04473) Table 1: 1008.0B"});
  return v;
}

}  // namespace

const std::vector<ModelPreset>& model_presets() {
  static const std::vector<ModelPreset> presets = build();
  return presets;
}

const ModelPreset* find_model_preset(const std::string& name) {
  for (const auto& p : model_presets())
    if (p.spec.name == name) return &p;
  return nullptr;
}

}  // namespace strata
