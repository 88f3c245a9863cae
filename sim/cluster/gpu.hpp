#pragma once
// GPU figures: one table, every figure with its source (reference/cost-models.md §1.1-1.2).
#include <optional>
#include <string>
#include <vector>

#include "model/dtype.hpp"

namespace strata {

enum class GpuFamily : std::uint8_t { ampere, hopper, blackwell, generic };

struct GpuSpec {
  std::string name;
  GpuFamily family = GpuFamily::generic;
  // Dense (no 2:4 sparsity) tensor-core peaks, TFLOP/s. 0 = not supported.
  double peak_fp32_tflops = 0;  // TF32 tensor-core peak used for fp32 GEMMs
  double peak_bf16_tflops = 0;
  double peak_fp16_tflops = 0;
  double peak_fp8_tflops = 0;
  double hbm_bytes = 0;
  double hbm_GBps = 0;
  double nvlink_GBps = 0;       // per GPU, per direction, line rate
  int sms = 0;                  // streaming multiprocessors (wave quantization)
  double mamf_fraction_16 = 0;  // measured best-GEMM fraction of the bf16/fp16 peak
  double mamf_fraction_fp8 = 0; // same for fp8
  const char* source = "";

  double peak_tflops(DType t) const;
  double mamf_fraction(DType t) const;
};

const std::vector<GpuSpec>& gpu_table();
const GpuSpec* find_gpu(const std::string& name);

}  // namespace strata
