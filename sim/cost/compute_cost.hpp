#pragma once
// Compute cost of one task on one GPU (reference/cost-models.md §4.6):
//   time = max(FLOPs / (peak · efficiency(shape)), bytes / (HBM bandwidth · hbm efficiency)) + launch
// Efficiency comes from a fitted hardware profile when one is given (EfficiencyTable,
// interpolated), else from the built-in curves below, which reproduce the measured ceilings of
// the reference (MAMF fractions, tile and wave quantization, small-K penalty).
#include <functional>
#include <memory>
#include <optional>

#include "cluster/gpu.hpp"
#include "graph/partition_graph.hpp"

namespace strata {

// Constants of the built-in curves; every one named with its source. A profile overrides them.
struct ComputeConstants {
  // Output tile cuBLAS uses for large bf16 GEMMs on Ampere/Hopper: 128x128 is the smallest of
  // the common CUTLASS/cuBLAS tiles (128x128, 128x256) named in NVIDIA's matmul guide [S11k].
  int tile_m = 128, tile_n = 128;
  // Skinny GEMMs (M below the tile) run kernels with shorter tiles, down to the tensor-core MMA
  // instruction's M = 16 (mma.m16n8k16 on Ampere and Hopper); the tile height is M rounded up to a
  // power of two, at least this.
  int mma_m = 16;
  // Small-K penalty f_K = K / (K + k_half): main-loop prologue/epilogue cost relative to the
  // K loop. The reference (§4.6) says to calibrate f_K; 64 (one k-tile of a 128x128x64 tile)
  // is an assumption until a profile replaces it.
  double k_half = 64;
  // Depth of the k-tile, in bytes of one operand row: the main loop advances K in steps of 128
  // bytes (64 fp16/bf16 elements: the 128x128x64 and 128x256x64 CUTLASS/cuBLAS tiles), and
  // NVIDIA's tensor-core requirements name multiples of 128 bytes as the fully efficient case on
  // A100 (NVIDIA "Matrix Multiplication Background User's Guide", Requirements to Use Tensor
  // Cores; quoted with the same figure by Anthony et al., "The Case for Co-Designing Model
  // Architectures with Hardware", arXiv:2401.14489, and stas00/ml-engineering
  // training/performance/README.md). A K that is not a multiple pays for a whole last k-tile, as a
  // partial output tile does (tile quantization [S11k] along K) — e.g. the head dimension 96 of
  // unfused attention's Q·K^T.
  double k_tile_bytes = 128;
  // Attention kernels: reference §4.5 gives eff_attn ≈ 0.5–0.75 (FlashAttention-3 at ~75% of
  // H100 peak [S12e]); the midpoint 0.6 is used for forward, and backward (2.5x the forward
  // FLOPs with recomputed scores [S7f-FA]) is taken at the same efficiency.
  double attn_efficiency = 0.6;
  // FlashAttention's backward recomputes S = QK^T and P: it executes 2.5x the forward FLOPs
  // [S7f-FA], where the model (and the planner's tasks) count 2x. Its measured efficiency is
  // quoted in that convention, so a backward task takes 2.5/2 of its model FLOPs' time.
  double attn_bwd_executed_per_model = 2.5 / 2.0;
  // Short sequences cannot fill the machine: eff scales by L / (L + attn_len_half) (assumption:
  // per-block rescaling overhead; calibrate).
  double attn_len_half = 256;
  // Achievable fraction of HBM bandwidth for streaming kernels (assumption, typical 0.8–0.9;
  // the profile's measured memcpy bandwidth replaces it).
  double hbm_efficiency = 0.85;
  // Kernel launch overhead per task: "a few microseconds" (reference §4.6, §9).
  double launch_s = 4e-6;
  // Compute slowdown while communication kernels share the GPU: NCCL kernels occupy SMs (one
  // per channel) and HBM bandwidth (each byte communicated is written to and read from HBM).
  // Measured: "overlapping computation and communication can result in an average computational
  // slowdown of 18.9%, with a maximum of 40.0%" (GEMM/attention kernels of GPT and LLaMA training
  // overlapped with NCCL collectives, on A100, H100, MI250 and MI210: "Characterizing
  // Compute-Communication Overlap in GPU-Accelerated Distributed Deep Learning: Performance and
  // Power Implications", arXiv:2507.03114, 2025, abstract). The engine applies it to a compute
  // task that starts while a collective or send of its rank is in flight. A profile's measured
  // overlap_slowdown replaces it.
  double overlap_slowdown = 0.189;
  // FlashAttention-2-class kernels (strategy.attention = "flash2": the flash-attn 2 package; and
  // "triton", below, which starts from this rate) on Hopper and later: they issue Ampere's synchronous mma instructions,
  // not Hopper's asynchronous wgmma/TMA, and "FlashAttention-2 achieves only 35% utilization on
  // H100" (Shah et al., FlashAttention-3, arXiv:2407.08608, abstract [S12e]) against 75% for the
  // Hopper-native FlashAttention-3. This fraction of peak replaces attn_efficiency for them; on
  // Ampere, FlashAttention-2 is the native kernel (50–73% of peak forward, Dao,
  // arXiv:2307.08691), which attn_efficiency already represents. Blackwell is given Hopper's
  // fraction (no published figure; the same instructions are used).
  double fa2_post_ampere_efficiency = 0.35;
  // Triton FlashAttention (strategy.attention = "triton"; flash_attn_triton.py, "Tested with
  // triton==2.0.0.dev20221202", the kernel of MPT's attn_impl 'triton'): FlashAttention-2 "is
  // around 1.3-1.5x faster than FlashAttention in Triton in the forward pass and around 2x faster
  // in the backward pass" (Dao, FlashAttention-2, arXiv:2307.08691, §4.1, A100 80GB; the midpoint
  // of the forward range is used). Applied on top of FlashAttention-2's rate on every GPU: the
  // Triton of those years had no Hopper instructions either.
  double triton_fa_fwd_slowdown = 1.4;
  double triton_fa_bwd_slowdown = 2.0;
};

// Sustained fraction of the burst matmul ceiling: MSMF / MAMF, [S10] (stas00/ml-engineering,
// compute/accelerator/benchmarks/README.md, the revision that adds MSMF). The MAMF of §1.1 is
// what a short burst reaches at the boost clock; under a training job's continuous load every GPU
// of the node sits at its power limit and the clock settles lower. [S10] measured both with all 8
// GPUs of a node computing ("the way a training job loads the node"; n = 40 runs): H200 bf16 MSMF
// 755.5 vs MAMF 852.1 TFLOP/s, B200 bf16 1437.5 vs 1746.7. Applied to every tensor-core kernel
// (GEMMs and attention) of the built-in curves; a fitted profile, measured under its own
// conditions, replaces it. 1 for GPUs without a measurement (generic).
inline constexpr double kSustainedMatmulHopper = 755.5 / 852.1;     // H200; H100 is the same die and TDP
inline constexpr double kSustainedMatmulBlackwell = 1437.5 / 1746.7;  // B200
// A100: no MSMF is published; the same effect measured directly: cuBLAS 8192^3 bf16 on A100 runs
// at 257 TFLOP/s with normally distributed inputs (295 with zeros: the 400 W power limit lowers
// the clock when more transistors switch), Horace He, "Strangely, Matrix Multiplications on GPUs
// Run Faster When Given 'Predictable' Data" (thonking.ai, 2024; measured 2022), against the
// A100 MAMF of 271.2 [S10].
inline constexpr double kSustainedMatmulAmpere = 257.0 / 271.2;
double sustained_matmul_fraction(GpuFamily family);

// Efficiency tables fitted by `strata calibrate` (see exec/PROFILE.md): GEMM efficiency sampled
// on a log grid of (M, N, K), attention efficiency by sequence length. Interpolated in log space.
struct HardwareProfile;  // cost/hardware_profile.hpp

struct EfficiencyTable {
  std::vector<double> gemm_m, gemm_n, gemm_k;  // sorted grid axes
  std::vector<double> gemm_eff;                // [im][in][ik] flattened, fraction of peak
  std::vector<double> attn_len, attn_eff;      // sorted axis, fraction of peak
  double hbm_GBps = 0;                         // measured copy bandwidth (0 = unknown)
  double launch_s = -1;                        // measured launch overhead (<0 = unknown)
  double overlap_slowdown = -1;
  double peak_scale = 1.0;                     // measured peak / datasheet peak (CPU profiles)
  // The whole profile when it holds exact measurements of the executor's kernels (GEMM and
  // attention points, element-wise/optimizer curves): they take precedence over the tables.
  std::shared_ptr<const HardwareProfile> measured;
  bool has_gemm() const { return !gemm_eff.empty(); }
  bool has_attn() const { return !attn_eff.empty(); }
};

class ComputeCostModel {
public:
  ComputeCostModel(const GpuSpec& gpu, ComputeConstants constants = {}, std::shared_ptr<const EfficiencyTable> profile = nullptr);

  double gemm_efficiency(const GemmShape& g) const;
  double attention_efficiency(const AttnShape& a) const;
  // Duration of compute/optimizer/memcpy task `t` of class `c`, seconds.
  double task_time(const ClassTasks& c, std::uint32_t t) const;
  double overlap_slowdown() const { return profile_ && profile_->overlap_slowdown >= 0 ? profile_->overlap_slowdown : k_.overlap_slowdown; }
  double hbm_Bps() const;
  double launch_s() const { return profile_ && profile_->launch_s >= 0 ? profile_->launch_s : k_.launch_s; }
  const ComputeConstants& constants() const { return k_; }
  const GpuSpec& gpu() const { return gpu_; }

private:
  GpuSpec gpu_;
  ComputeConstants k_;
  std::shared_ptr<const EfficiencyTable> profile_;
};

}  // namespace strata
