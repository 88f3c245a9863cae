#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "cuda_kernels.hpp"

namespace strata::exec::cuda {

namespace {

__device__ __forceinline__ std::uint32_t hash32(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return std::uint32_t(x);
}

__device__ __forceinline__ std::uint32_t safe_bytes(std::uint32_t r) {
  // Per byte: keep the sign bit and the low nibble, force 0x30.
  return (r & 0x8f8f8f8fu) | 0x30303030u;
}

__global__ void fill_kernel(std::uint32_t* p, std::size_t words, std::uint64_t seed) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < words; i += std::size_t(gridDim.x) * blockDim.x)
    p[i] = safe_bytes(hash32(seed * 0x9E3779B97F4A7C15ULL + i));
}

__global__ void fill_tail_kernel(unsigned char* p, std::size_t n, std::uint64_t seed) {
  std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
  if (i < n) p[i] = (unsigned char)(safe_bytes(hash32(seed + 0x5151 + i)) & 0xffu);
}

template <class T>
__device__ __forceinline__ float to_f(T v) {
  return float(v);
}
template <>
__device__ __forceinline__ float to_f<__nv_bfloat16>(__nv_bfloat16 v) {
  return __bfloat162float(v);
}
template <>
__device__ __forceinline__ float to_f<__half>(__half v) {
  return __half2float(v);
}
template <class T>
__device__ __forceinline__ T from_f(float v) {
  return T(v);
}
template <>
__device__ __forceinline__ __nv_bfloat16 from_f<__nv_bfloat16>(float v) {
  return __float2bfloat16(v);
}
template <>
__device__ __forceinline__ __half from_f<__half>(float v) {
  return __float2half(v);
}

constexpr int kSoftmaxThreads = 256;

__device__ __forceinline__ float block_reduce(float v, bool is_max, float* shared) {
  for (int o = 16; o > 0; o >>= 1) {
    float other = __shfl_xor_sync(0xffffffffu, v, o);
    v = is_max ? fmaxf(v, other) : v + other;
  }
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < (kSoftmaxThreads / 32) ? shared[lane] : (is_max ? -INFINITY : 0.0f);
    for (int o = 16; o > 0; o >>= 1) {
      float other = __shfl_xor_sync(0xffffffffu, v, o);
      v = is_max ? fmaxf(v, other) : v + other;
    }
    if (lane == 0) shared[0] = v;
  }
  __syncthreads();
  float r = shared[0];
  __syncthreads();
  return r;
}

template <class T>
__global__ void softmax_kernel(T* S, std::int64_t len, std::int64_t cols, std::int64_t causal_base, float scale) {
  __shared__ float shared[32];
  const std::int64_t j = blockIdx.x;
  T* col = S + (std::int64_t(blockIdx.y) * cols + j) * len;
  const std::int64_t visible = causal_base >= 0 ? min(len, causal_base + j + 1) : len;
  float mx = -INFINITY;
  for (std::int64_t i = threadIdx.x; i < visible; i += blockDim.x) mx = fmaxf(mx, to_f(col[i]) * scale);
  mx = block_reduce(mx, true, shared);
  float sum = 0;
  for (std::int64_t i = threadIdx.x; i < visible; i += blockDim.x) sum += __expf(to_f(col[i]) * scale - mx);
  sum = block_reduce(sum, false, shared);
  const float inv = sum > 0 ? 1.0f / sum : 0.0f;
  for (std::int64_t i = threadIdx.x; i < len; i += blockDim.x)
    col[i] = i < visible ? from_f<T>(__expf(to_f(col[i]) * scale - mx) * inv) : from_f<T>(0.0f);
}

__global__ void elementwise_kernel(const __nv_bfloat162* x, __nv_bfloat162* y, std::size_t pairs) {
  const __nv_bfloat162 a = __floats2bfloat162_rn(0.5f, 0.5f), b = __floats2bfloat162_rn(0.25f, 0.25f);
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < pairs; i += std::size_t(gridDim.x) * blockDim.x)
    y[i] = __hfma2(x[i], a, b);
}

__global__ void elementwise_tail_kernel(const __nv_bfloat16* x, __nv_bfloat16* y) {
  y[0] = __float2bfloat16(__bfloat162float(x[0]) * 0.5f + 0.25f);
}

__global__ void adam_kernel(float* p, float* m, float* v, const float* g, std::size_t n) {
  const float b1 = 0.9f, b2 = 0.95f, lr = 1e-4f, eps = 1e-8f;
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n; i += std::size_t(gridDim.x) * blockDim.x) {
    const float gi = g[i];
    const float mi = b1 * m[i] + (1 - b1) * gi;
    const float vi = b2 * v[i] + (1 - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] -= lr * mi / (sqrtf(fabsf(vi)) + eps);
  }
}

__global__ void empty() {}

__global__ void spin_kernel(long long cycles) {
  const long long start = clock64();
  while (clock64() - start < cycles) {
  }
}

unsigned grid_for(std::size_t n, unsigned threads) {
  std::size_t blocks = (n + threads - 1) / threads;
  if (blocks > 65536u * 8u) blocks = 65536u * 8u;  // grid-stride loops do the rest
  return unsigned(blocks > 0 ? blocks : 1);
}

}  // namespace

cudaError_t fill_random_bytes(void* p, std::size_t bytes, std::uint64_t seed, cudaStream_t s) {
  const std::size_t words = bytes / 4, tail = bytes % 4;
  if (words) fill_kernel<<<grid_for(words, 256), 256, 0, s>>>(static_cast<std::uint32_t*>(p), words, seed);
  if (tail) fill_tail_kernel<<<1, 4, 0, s>>>(static_cast<unsigned char*>(p) + words * 4, tail, seed);
  return cudaGetLastError();
}

cudaError_t softmax_columns(void* S, Elem t, std::int64_t len, std::int64_t cols, std::int64_t batch,
                            std::int64_t causal_base, float scale, cudaStream_t s) {
  if (len <= 0 || cols <= 0 || batch <= 0) return cudaSuccess;
  // grid.y is limited to 65535: launch in chunks of the batch.
  for (std::int64_t b0 = 0; b0 < batch; b0 += 65535) {
    const std::int64_t nb = batch - b0 < 65535 ? batch - b0 : 65535;
    const dim3 grid{static_cast<unsigned>(cols), static_cast<unsigned>(nb), 1u};
    const std::int64_t off = b0 * cols * len;
    switch (t) {
      case Elem::bf16:
        softmax_kernel<<<grid, kSoftmaxThreads, 0, s>>>(static_cast<__nv_bfloat16*>(S) + off, len, cols, causal_base, scale);
        break;
      case Elem::f16:
        softmax_kernel<<<grid, kSoftmaxThreads, 0, s>>>(static_cast<__half*>(S) + off, len, cols, causal_base, scale);
        break;
      case Elem::f32:
        softmax_kernel<<<grid, kSoftmaxThreads, 0, s>>>(static_cast<float*>(S) + off, len, cols, causal_base, scale);
        break;
    }
  }
  return cudaGetLastError();
}

cudaError_t elementwise_bf16(const void* x, void* y, std::size_t n, cudaStream_t s) {
  const std::size_t pairs = n / 2;
  if (pairs)
    elementwise_kernel<<<grid_for(pairs, 256), 256, 0, s>>>(static_cast<const __nv_bfloat162*>(x),
                                                            static_cast<__nv_bfloat162*>(y), pairs);
  if (n % 2)
    elementwise_tail_kernel<<<1, 1, 0, s>>>(static_cast<const __nv_bfloat16*>(x) + (n - 1), static_cast<__nv_bfloat16*>(y) + (n - 1));
  return cudaGetLastError();
}

cudaError_t adam_f32(float* p, float* m, float* v, const float* g, std::size_t n, cudaStream_t s) {
  if (n) adam_kernel<<<grid_for(n, 256), 256, 0, s>>>(p, m, v, g, n);
  return cudaGetLastError();
}

cudaError_t spin(double seconds, cudaStream_t s) {
  int khz = 0;
  const cudaError_t e = cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, 0);
  if (e != cudaSuccess) return e;
  spin_kernel<<<1, 1, 0, s>>>((long long)(seconds * double(khz) * 1e3));
  return cudaGetLastError();
}

cudaError_t empty_kernel(cudaStream_t s) {
  empty<<<1, 1, 0, s>>>();
  return cudaGetLastError();
}

}  // namespace strata::exec::cuda
