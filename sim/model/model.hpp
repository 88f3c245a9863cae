#pragma once
// A transformer model: the architecture fields of CONTRACT §2 plus the facts derived from them
// once (parameter counts, FLOPs per token). Dense and Mixture-of-Experts decoders.
#include <cstdint>
#include <optional>
#include <string>

#include "model/dtype.hpp"

namespace strata {

enum class Activation : std::uint8_t { gelu, swiglu };
enum class NormKind : std::uint8_t { layernorm, rmsnorm };
enum class PositionKind : std::uint8_t { rope, learned };

struct MoeSpec {
  int experts = 0;                  // routed experts per MoE layer
  int top_k = 1;                    // experts chosen per token
  std::int64_t expert_ffn_hidden = 0;
  int shared_experts = 0;           // always-on experts of the same width
  int moe_layer_freq = 1;           // every k-th layer is MoE (1 = all)
  int first_dense_layers = 0;       // leading dense layers (DeepSeek-V3: 3)
  double capacity_factor = 0;       // 0 = dropless
  double router_skew = 0;           // Zipf exponent of expert popularity (0 = uniform)
};

// Multi-head latent attention (DeepSeek-V2/V3). When present, attention projections are counted
// exactly from these ranks; the attention core is modelled as MHA with q/k head dim
// qk_nope + qk_rope and v head dim v_head_dim (see model.cpp).
struct MlaSpec {
  std::int64_t q_lora_rank = 0;     // 0 = no low-rank query
  std::int64_t kv_lora_rank = 0;
  std::int64_t qk_nope_head_dim = 0;
  std::int64_t qk_rope_head_dim = 0;
  std::int64_t v_head_dim = 0;
};

struct ModelSpec {
  std::string name;
  int layers = 0;
  std::int64_t hidden = 0;
  int heads = 0;
  int kv_heads = 0;
  std::int64_t head_dim = 0;
  std::int64_t ffn_hidden = 0;      // dense FFN width
  std::int64_t vocab = 0;
  Activation activation = Activation::swiglu;
  DType dtype = DType::bf16;
  bool tie_embeddings = false;
  NormKind norm = NormKind::rmsnorm;
  bool linear_bias = false;         // GPT-2/3 style biases on every linear layer
  double hidden_dropout = 0;        // dropout on each block's output before the residual add (training)
  PositionKind position = PositionKind::rope;
  std::int64_t max_position = 0;    // learned position table length
  std::optional<MoeSpec> moe;
  std::optional<MlaSpec> mla;

  bool is_moe_layer(int layer) const;
  int moe_layer_count() const;
  std::int64_t q_width() const { return heads * head_dim; }        // query projection width
  std::int64_t kv_width() const { return kv_heads * head_dim; }    // one of K or V
};

// Parameter counts, exact for the architecture as described.
struct ParamCounts {
  double embedding = 0;       // token (+ position) embedding
  double lm_head = 0;         // 0 when tied
  double attention = 0;       // all layers
  double dense_ffn = 0;       // all dense FFN layers
  double routed_experts = 0;  // all routed experts, all layers
  double shared_experts = 0;
  double router = 0;
  double norms = 0;
  double total() const { return embedding + lm_head + attention + dense_ffn + routed_experts + shared_experts + router + norms; }
  // Parameters a token touches (MoE: top-k experts only).
  double active = 0;
};

ParamCounts count_params(const ModelSpec& m);

// Per-layer parameter figures the planner and the memory model share.
double attention_params_per_layer(const ModelSpec& m);
double dense_ffn_params_per_layer(const ModelSpec& m);
double expert_params(const ModelSpec& m);  // one routed expert
double norm_params_per_layer(const ModelSpec& m);

// Model FLOPs for one token at context length `seq_len` (causal attention counts half the
// scores, as Megatron's num_floating_point_operations does). Backward = 2 x forward.
double forward_flops_per_token(const ModelSpec& m, std::int64_t seq_len);
inline double train_flops_per_token(const ModelSpec& m, std::int64_t seq_len) {
  return 3.0 * forward_flops_per_token(m, seq_len);
}

}  // namespace strata
