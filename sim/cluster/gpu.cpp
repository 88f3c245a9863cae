#include "cluster/gpu.hpp"

namespace strata {

double GpuSpec::peak_tflops(DType t) const {
  switch (t) {
    case DType::fp32: return peak_fp32_tflops;
    case DType::bf16: return peak_bf16_tflops;
    case DType::fp16: return peak_fp16_tflops;
    case DType::fp8: return peak_fp8_tflops;
  }
  return peak_bf16_tflops;
}

double GpuSpec::mamf_fraction(DType t) const {
  return t == DType::fp8 ? mamf_fraction_fp8 : mamf_fraction_16;
}

namespace {
std::vector<GpuSpec> build() {
  std::vector<GpuSpec> v;
  // A100: peaks [S11a]; MAMF 271.2 TFLOP/s = 86.9% [S10]; NVLink3 12 x 25 GB/s [S11f]; 108 SMs.
  // TF32 dense peak 156 TFLOP/s [S11a].
  GpuSpec a100_40{"A100-40-SXM", GpuFamily::ampere, 156, 312, 312, 0, 40e9, 1555, 300, 108, 0.869, 0,
                  "[S11a] A100 datasheet; [S10] MAMF"};
  GpuSpec a100_80 = a100_40;
  a100_80.name = "A100-80-SXM";
  a100_80.hbm_bytes = 80e9;
  a100_80.hbm_GBps = 2039;
  // H100 SXM5: 989 bf16 / 1979 fp8 dense, TF32 494.7 [S11b][S10]; MAMF 80.3% bf16, 70.9% fp8 [S10];
  // 80 GB HBM3 at 3.35 TB/s; NVLink4 18 x 25 GB/s = 450 GB/s per direction [S11f]; 132 SMs.
  GpuSpec h100{"H100-SXM", GpuFamily::hopper, 494.7, 989.4, 989.4, 1979, 80e9, 3350, 450, 132, 0.803, 0.709,
               "[S11b][S10] H100 SXM5 datasheet and MAMF table"};
  // H200 SXM: same die as H100; 141 GB HBM3e at 4.8 TB/s [S11c]; fp8 MAMF 73.4% [S10].
  GpuSpec h200 = h100;
  h200.name = "H200-SXM";
  h200.hbm_bytes = 141e9;
  h200.hbm_GBps = 4800;
  h200.mamf_fraction_fp8 = 0.734;
  h200.source = "[S11c][S10] H200 SXM";
  // B200 (HGX, 1000 W): 2250 bf16 / 4500 fp8 dense, 180 GB usable HBM3e, 8 TB/s [S11d][S10];
  // NVLink5 18 x 50 GB/s = 900 GB/s per direction [S11f]; SM count unverified (148 as commonly
  // reported, cost-models.md §10); MAMF 77.6% bf16, 76.3% fp8 [S10]. TF32 1125 [S11d].
  GpuSpec b200{"B200", GpuFamily::blackwell, 1125, 2250, 2250, 4500, 180e9, 8000, 900, 148, 0.776, 0.763,
               "[S11d][S10] B200 HGX"};
  // B200 inside GB200 (1200 W): 2500 / 5000, 186 GB [S11d]; MAMF 72.9% / 72.3% [S10].
  GpuSpec gb200{"GB200", GpuFamily::blackwell, 1250, 2500, 2500, 5000, 186e9, 8000, 900, 148, 0.729, 0.723,
                "[S11d][S10] B200 in GB200"};
  v = {a100_40, a100_80, h100, h200, b200, gb200};
  return v;
}
}  // namespace

const std::vector<GpuSpec>& gpu_table() {
  static const std::vector<GpuSpec> t = build();
  return t;
}

const GpuSpec* find_gpu(const std::string& name) {
  for (const auto& g : gpu_table())
    if (g.name == name) return &g;
  // Friendly aliases.
  if (name == "H100" || name == "H100-SXM5") return find_gpu("H100-SXM");
  if (name == "H200") return find_gpu("H200-SXM");
  if (name == "A100" || name == "A100-80" || name == "A100-SXM4-80GB") return find_gpu("A100-80-SXM");
  if (name == "A100-40" || name == "A100-SXM4-40GB") return find_gpu("A100-40-SXM");
  return nullptr;
}

}  // namespace strata
