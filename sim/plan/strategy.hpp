#pragma once
// How a job is split (CONTRACT §2 "strategy") and what it runs ("workload").
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/dtype.hpp"

namespace strata {

enum class Schedule : std::uint8_t { gpipe, one_f_one_b, interleaved, zb_h1 };
enum class CpKind : std::uint8_t { ring, ulysses };
enum class Recompute : std::uint8_t { none, selective, full };
// The attention kernel: `flash` is a fused FlashAttention-style kernel (no s x s scores in HBM;
// FlashAttention [S12d], 2022, and its successors); `unfused` is the pre-FlashAttention
// implementation of Megatron-LM 2021: a batched GEMM writes the scores QK^T, a fused
// scale-mask-softmax kernel and a dropout kernel pass over them, a second batched GEMM applies
// them to V (reference §4.5, §7.2). `flash2` is a fused kernel of the FlashAttention-2 generation
// (the flash-attn 2 package): on Ampere it is the native kernel (same cost as `flash`); on Hopper
// and later it does not use the asynchronous tensor-core instructions and runs at a lower
// fraction of peak (compute_cost.hpp, fa2_post_ampere_efficiency). `triton` is the Triton
// FlashAttention of 2022-2023 (flash_attn_triton.py, from Phil Tillet's Triton tutorial; MPT's
// attn_impl 'triton'): FlashAttention-2's rate divided by the slowdowns measured against it
// (compute_cost.hpp). `flash` on Hopper is a Hopper-native kernel (FlashAttention-3, cuDNN
// through Transformer Engine).
enum class AttentionKind : std::uint8_t { flash, unfused, flash2, triton };
// LayerNorm kernel: `current` runs at the element-wise rate (today's fused kernels: Transformer
// Engine, apex's fast_layer_norm, PyTorch's); `apex_2020` is apex's FusedLayerNorm as it was
// until 2021, which Megatron-LM 2021 copied into megatron/fused_kernels, at its measured rate
// (layer_ops.cpp).
enum class NormKernel : std::uint8_t { current, apex_2020 };
// apex's 2020 FusedLayerNorm on GA100 (NVIDIA/apex PR #1037, 2021-01-27: B=32, S=512, fp16).
inline constexpr double kApex2020LayerNormFwdGBps = 895.8;
inline constexpr double kApex2020LayerNormBwdGBps = 572.2;
// Collective algorithm choice: auto picks as NCCL's tuner would (size and topology).
enum class CollAlgo : std::uint8_t { automatic, ring, tree, hierarchical, nvls, direct };

struct Strategy {
  int dp = 1, tp = 1, pp = 1, cp = 1, ep = 1;
  bool sequence_parallel = false;
  int vpp = 1;
  Schedule schedule = Schedule::one_f_one_b;
  CpKind cp_kind = CpKind::ring;
  int micro_batch = 1;
  int global_batch = 1;
  int zero = 0;                        // 0 none, 1 distributed optimizer, 2 +grads, 3 FSDP
  Recompute recompute = Recompute::none;
  AttentionKind attention = AttentionKind::flash;
  NormKernel norm_kernel = NormKernel::current;
  // Backward of a column-parallel layer: the all-reduce (reduce-scatter with SP) of its input
  // gradient runs concurrently with its weight-gradient GEMM (Megatron's
  // async_tensor_model_parallel_allreduce); false: after it, as autograd orders them when the
  // reduction is a separate node (Megatron-LM 2021).
  bool tp_async_grad_reduce = true;
  // Weight-gradient GEMMs accumulate into the gradient buffer across micro-batches (Megatron's
  // gradient_accumulation_fusion); false: every micro-batch after the first adds its gradients
  // into the buffer with an element-wise kernel (autograd / Megatron-LM 2021 DDP accumulation).
  bool grad_accumulation_fusion = true;
  // Pipeline sends without sequence parallelism: each TP rank sends 1/t of the activation and the
  // receiving stage all-gathers it over the TP group (NVLink): Megatron-LM's scatter/gather
  // optimization (Narayanan et al. SC'21 §4.1 [S12a]; --scatter-gather-tensors-in-pipeline,
  // on by default in Megatron-LM 2021). With SP the activation is already sharded.
  bool pp_scatter_gather = false;
  // Pipeline sends overlap the compute that follows them; false: every pipeline exchange completes
  // before the stage computes again (Megatron's p2p_communication: batch_isend_irecv, wait on the
  // requests, then torch.cuda.synchronize(), without --overlap-p2p-communication).
  bool overlap_p2p_comm = true;
  bool overlap_grad_reduce = true;
  bool overlap_param_gather = false;
  std::optional<DType> dtype;          // compute dtype; default the model's
  std::vector<int> layer_split;        // layers per pipeline stage (optional)
  std::string order = "tp-cp-dp-pp";   // rank order, innermost first
  double bucket_bytes = 0;             // DP gradient bucket; 0 = Megatron default
  CollAlgo algorithm = CollAlgo::automatic;

  int gpus() const { return dp * tp * pp * cp; }
  int micro_batches() const { return global_batch / (micro_batch * dp); }
};

enum class WorkloadKind : std::uint8_t { train, inference };

struct Workload {
  WorkloadKind kind = WorkloadKind::train;
  std::int64_t seq_len = 4096;     // train
  int batch = 1;                   // inference: concurrent sequences
  std::int64_t prompt_len = 0;     // inference
  std::int64_t gen_len = 0;        // inference
};

const char* schedule_name(Schedule s);
const char* cp_kind_name(CpKind k);
const char* recompute_name(Recompute r);
const char* attention_kind_name(AttentionKind a);
const char* norm_kernel_name(NormKernel k);
const char* coll_algo_name(CollAlgo a);

}  // namespace strata
