#pragma once
// The per-rank memory model (reference §7): model states by training precision and ZeRO stage,
// activations (Korthikanti's per-layer formulas under tp / sp / recompute, times what the
// pipeline schedule keeps in flight — read off the planned task order itself), the KV cache for
// inference, communication buffers and a framework overhead; the verdict against the GPU.
#include <string>

#include "graph/partition_graph.hpp"
#include "model/model.hpp"
#include "plan/strategy.hpp"

namespace strata {

// CUDA context, cuBLAS/cuDNN workspaces and caching-allocator fragmentation per GPU: an
// estimate (derived; typically 1–3 GiB in PyTorch/Megatron jobs).
constexpr double kFrameworkOverheadBytes = 2.0 * 1024 * 1024 * 1024;
// NCCL buffers per communicator a rank uses: NCCL_BUFFSIZE 4 MiB per channel and peer [S2d],
// x 2 ring neighbours x 16 channels (derived).
constexpr double kNcclBytesPerCommunicator = 128.0 * 1024 * 1024;

// Bytes per parameter of mixed-precision Adam (Megatron layout, §7.1 [S7b][S7h]):
//   bf16/fp8: 2 (weights) + 4 (fp32 main grads) + 12 (fp32 master, m, v) = 18
//   fp16:     2 + 2 (fp16 grads) + 16 (fp32 main grads, master, m, v)    = 20
//   fp32:     4 + 4 + 8 (m, v)                                           = 16
// Without fp32 master weights the optimizer part loses 4 bytes (bf16/fp16).
struct StateBytes {
  double param = 2, grad = 4, optimizer = 12;
  double total() const { return param + grad + optimizer; }
};
StateBytes mixed_precision_state_bytes(DType training_dtype, bool fp32_master_weights = true);

// Weights, gradients and optimizer state of `params` parameters on one rank, sharded over `dp`
// ranks as ZeRO stage `zero` says (ZeRO paper [S12f]): 0 none; 1 optimizer; 2 + gradients;
// 3 + weights. (Stage 1 is Megatron's distributed optimizer: 6 + 12/d bytes/param for bf16.)
void add_model_states(MemoryBreakdown& m, double params, const StateBytes& b, int zero, int dp);

// Korthikanti et al. Table 2 [S12b] (§7.2), bytes per layer per micro-batch for a GPT layer
// (f = 4h, MHA, 16-bit activations): none 34 + 5as/h; tp 10 + 24/t + 5as/(ht); tp+sp
// (34 + 5as/h)/t; selective drops the 5as/h term (so does FlashAttention); full keeps 2sbh
// (/t with sp).
double korthikanti_layer_activation_bytes(double s, double b, double h, double a, int t, bool sp, Recompute rc,
                                          bool flash_attention = false);

// KV cache on one rank (§7.3): 2·layers·(kv heads per TP rank)·d·tokens·batch·bytes; with MLA the
// compressed latent (kv_lora_rank + qk_rope_head_dim per token per layer), replicated over TP.
double kv_cache_bytes(const ModelSpec& m, int layers, double tokens, double batch, int tp, double bytes_per_elem);

// Peak of the running sum of mem_delta along the compute stream (task order): the activation
// memory the planned schedule actually holds.
double peak_activation_bytes(const ClassTasks& tasks);

struct MemoryVerdict {
  int worst_class = 0;
  MemoryBreakdown worst;
  double peak_bytes = 0, capacity_bytes = 0;
  bool fits = true;
  std::string summary;  // "fits: 61.2 GiB of 80.0 GiB (weights ..., ...)" or "OOM: ..."
};
MemoryVerdict memory_verdict(const PartitionGraph& g, double capacity_bytes);

}  // namespace strata
