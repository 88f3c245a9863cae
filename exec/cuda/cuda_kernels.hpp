#pragma once
// The few kernels the cuda backend writes itself (cuda_kernels.cu); GEMMs are cuBLASLt's and
// collectives NCCL's. Each launcher returns the launch's cudaError_t.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace strata::exec::cuda {

enum class Elem : int { f32, bf16, f16 };

// Random bytes in {0x30..0x3f, 0xb0..0xbf}: whatever dtype reads the buffer (fp32, bf16, fp16,
// fp8 e4m3), every value is a normal, non-zero number of magnitude below 2 (never zeros, no
// NaN/Inf that could change kernel speed).
cudaError_t fill_random_bytes(void* p, std::size_t bytes, std::uint64_t seed, cudaStream_t s);

// Softmax down each column of `batch` column-major matrices of `len` rows x `cols` columns
// (column j = one query row's scores, contiguous), scaled by `scale`. With causal_base >= 0
// only the first min(len, causal_base + j + 1) entries of column j are kept, the rest zeroed.
cudaError_t softmax_columns(void* S, Elem t, std::int64_t len, std::int64_t cols, std::int64_t batch,
                            std::int64_t causal_base, float scale, cudaStream_t s);

// y = 0.5 x + 0.25 over n bf16 elements (reads 2n bytes, writes 2n bytes).
cudaError_t elementwise_bf16(const void* x, void* y, std::size_t n, cudaStream_t s);

// One Adam step over n fp32 parameters (reads p, g, m, v; writes p, m, v: 28 bytes each).
cudaError_t adam_f32(float* p, float* m, float* v, const float* g, std::size_t n, cudaStream_t s);

// One thread busy for about `seconds` (at the GPU's base clock rate: at boost clocks it ends
// sooner): holds a stream while the host queues the work to time behind it.
cudaError_t spin(double seconds, cudaStream_t s);

// An empty kernel (launch overhead).
cudaError_t empty_kernel(cudaStream_t s);

}  // namespace strata::exec::cuda
