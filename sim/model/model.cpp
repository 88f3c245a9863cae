#include "model/model.hpp"

namespace strata {

bool ModelSpec::is_moe_layer(int layer) const {
  if (!moe) return false;
  if (layer < moe->first_dense_layers) return false;
  return (layer - moe->first_dense_layers) % moe->moe_layer_freq == 0;
}

int ModelSpec::moe_layer_count() const {
  int n = 0;
  for (int l = 0; l < layers; ++l) n += is_moe_layer(l) ? 1 : 0;
  return n;
}

static double ffn_params(const ModelSpec& m, double width) {
  const double h = static_cast<double>(m.hidden);
  const double mats = m.activation == Activation::swiglu ? 3.0 : 2.0;  // gate+up+down vs fc1+fc2
  double p = mats * h * width;
  if (m.linear_bias) p += (mats - 1.0) * width + h;
  return p;
}

double attention_params_per_layer(const ModelSpec& m) {
  const double h = static_cast<double>(m.hidden);
  if (m.mla) {
    // DeepSeek-V3 MLA: q_a (h x q_lora) [+ norm], q_b (q_lora x heads*(nope+rope)),
    // kv_a (h x (kv_lora + rope)) [+ norm], kv_b (kv_lora x heads*(nope+v)), o (heads*v x h).
    const MlaSpec& a = *m.mla;
    const double H = m.heads;
    const double qk = static_cast<double>(a.qk_nope_head_dim + a.qk_rope_head_dim);
    double q = a.q_lora_rank > 0 ? h * a.q_lora_rank + a.q_lora_rank + a.q_lora_rank * H * qk : h * H * qk;
    double kv = h * (a.kv_lora_rank + a.qk_rope_head_dim) + a.kv_lora_rank +
                a.kv_lora_rank * H * (a.qk_nope_head_dim + a.v_head_dim);
    double o = H * a.v_head_dim * h;
    return q + kv + o;
  }
  const double q = static_cast<double>(m.q_width()), kv = static_cast<double>(m.kv_width());
  double p = h * (q + 2 * kv) + q * h;
  if (m.linear_bias) p += q + 2 * kv + h;
  return p;
}

double dense_ffn_params_per_layer(const ModelSpec& m) { return ffn_params(m, static_cast<double>(m.ffn_hidden)); }

double expert_params(const ModelSpec& m) {
  return m.moe ? ffn_params(m, static_cast<double>(m.moe->expert_ffn_hidden)) : 0.0;
}

double norm_params_per_layer(const ModelSpec& m) {
  const double per_norm = m.norm == NormKind::layernorm ? 2.0 * m.hidden : 1.0 * m.hidden;
  return 2 * per_norm;  // pre-attention and pre-FFN norms
}

ParamCounts count_params(const ModelSpec& m) {
  ParamCounts c;
  const double h = static_cast<double>(m.hidden), V = static_cast<double>(m.vocab);
  c.embedding = V * h + (m.position == PositionKind::learned ? static_cast<double>(m.max_position) * h : 0.0);
  c.lm_head = m.tie_embeddings ? 0.0 : V * h;
  const double final_norm = m.norm == NormKind::layernorm ? 2.0 * h : h;
  c.norms = m.layers * norm_params_per_layer(m) + final_norm;
  c.attention = m.layers * attention_params_per_layer(m);
  const int moe_layers = m.moe_layer_count();
  c.dense_ffn = (m.layers - moe_layers) * dense_ffn_params_per_layer(m);
  double active_experts = 0;
  if (m.moe) {
    c.routed_experts = double(moe_layers) * m.moe->experts * expert_params(m);
    c.shared_experts = double(moe_layers) * m.moe->shared_experts * expert_params(m);
    c.router = double(moe_layers) * h * m.moe->experts;
    active_experts = double(moe_layers) * m.moe->top_k * expert_params(m);
  }
  c.active = c.total() - c.routed_experts + active_experts;
  return c;
}

double forward_flops_per_token(const ModelSpec& m, std::int64_t seq_len) {
  // Every weight GEMM is 2 FLOPs per parameter per token; the embedding lookup is not a GEMM
  // but the LM head is (tied or not).
  ParamCounts c = count_params(m);
  const double h = static_cast<double>(m.hidden), V = static_cast<double>(m.vocab);
  double gemm_params = c.attention + c.dense_ffn + c.shared_experts + c.router + V * h;
  if (m.moe) {
    gemm_params += m.moe_layer_count() * double(m.moe->top_k) * expert_params(m);
  }
  // Attention core: QK^T and PV, 2*s*q_width each per token, causal halves (Megatron [S7a]).
  double qk_dim = m.mla ? double(m.heads) * (m.mla->qk_nope_head_dim + m.mla->qk_rope_head_dim)
                        : double(m.q_width());
  double v_dim = m.mla ? double(m.heads) * m.mla->v_head_dim : double(m.q_width());
  double attn_core = m.layers * (2.0 * seq_len * qk_dim + 2.0 * seq_len * v_dim) * 0.5;
  return 2.0 * gemm_params + attn_core;
}

}  // namespace strata
