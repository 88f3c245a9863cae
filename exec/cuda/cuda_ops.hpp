#pragma once
// Shared pieces of the cuda backend and the cuda micro-benchmarks: return-code checks that
// name the call and the task, cuBLASLt GEMMs (plain, strided-batched, fp8) with a plan cache,
// attention as batched GEMMs + the softmax kernel, and the workspace layouts of every op.
#include <cublasLt.h>
#include <cuda_runtime.h>
#include <nccl.h>

#include <map>
#include <string>
#include <tuple>

#include "backend.hpp"
#include "cuda/cuda_kernels.hpp"

namespace strata::exec::cuda {

[[noreturn]] void fail_cuda(cudaError_t e, const char* call, const std::string& context);
[[noreturn]] void fail_cublas(cublasStatus_t e, const char* call, const std::string& context);
[[noreturn]] void fail_nccl(ncclResult_t e, const char* call, const std::string& context);

#define STRATA_CUDA(call, ctx)                                                      \
  do {                                                                              \
    cudaError_t strata_e_ = (call);                                                 \
    if (strata_e_ != cudaSuccess) ::strata::exec::cuda::fail_cuda(strata_e_, #call, (ctx)); \
  } while (0)
#define STRATA_CUBLAS(call, ctx)                                                      \
  do {                                                                                \
    cublasStatus_t strata_e_ = (call);                                                \
    if (strata_e_ != CUBLAS_STATUS_SUCCESS) ::strata::exec::cuda::fail_cublas(strata_e_, #call, (ctx)); \
  } while (0)
#define STRATA_NCCL(call, ctx)                                                      \
  do {                                                                              \
    ncclResult_t strata_e_ = (call);                                                \
    if (strata_e_ != ncclSuccess) ::strata::exec::cuda::fail_nccl(strata_e_, #call, (ctx)); \
  } while (0)

// Storage of each dtype on the GPU: GEMM inputs in the graph's dtype; fp8 GEMMs write bf16.
std::size_t input_bytes(DType t);
std::size_t output_bytes(DType t);
// Attention runs in bf16 (fp16 when the graph says fp16; fp8/fp32 graphs: bf16, documented).
DType attention_dtype(DType t);
// fp8 GEMMs need every dimension a multiple of 16: pad up (the FLOPs that ran are recorded).
GemmOp padded(const GemmOp& g);

constexpr std::size_t kLtWorkspaceBytes = 32u << 20;

class LtGemm {
public:
  LtGemm();
  ~LtGemm();
  LtGemm(const LtGemm&) = delete;
  LtGemm& operator=(const LtGemm&) = delete;

  // D(m x n, column-major, ldc) = op(A) op(B), `batch` times with the given strides (elements).
  void matmul(cudaStream_t s, void* workspace, std::size_t workspace_bytes, bool trans_a, bool trans_b, std::int64_t m,
              std::int64_t n, std::int64_t k, const void* A, std::int64_t lda, std::int64_t stride_a, const void* B,
              std::int64_t ldb, std::int64_t stride_b, void* C, std::int64_t ldc, std::int64_t stride_c, int batch, DType t,
              const std::string& context);

private:
  struct Plan {
    cublasLtMatmulDesc_t op = nullptr;
    cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
    cublasLtMatmulAlgo_t algo{};
  };
  using Key = std::tuple<bool, bool, std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t,
                         std::int64_t, std::int64_t, std::int64_t, int, int>;
  cublasLtHandle_t handle_ = nullptr;
  std::map<Key, Plan> plans_;
};

// Workspace layouts (bytes).
WorkspaceNeed gemm_need(const GemmOp& g);
WorkspaceNeed attention_need(const AttnOp& a);
WorkspaceNeed mem_need(const MemOp& m);

// Enqueue one op on `s`. `lt_ws` is the stream's cuBLASLt workspace.
void run_gemm(LtGemm& lt, cudaStream_t s, void* lt_ws, const GemmOp& g, const void* in, void* out, const std::string& ctx);
void run_attention(LtGemm& lt, cudaStream_t s, void* lt_ws, const AttnOp& a, const void* in, void* out, const std::string& ctx);
void run_mem(cudaStream_t s, const MemOp& m, const void* in, void* out, const std::string& ctx);
std::size_t mem_elements(const MemOp& m);

// NCCL element counts (bf16 elements carry the graph's bytes), nccl-tests conventions.
struct NcclCounts {
  std::size_t count = 0;        // per-rank (all-reduce, broadcast), send count (all-gather), recv count (reduce-scatter), per-peer (all-to-all)
  std::size_t in = 0, out = 0;  // elements
  std::vector<std::size_t> send, recv;  // all-to-all(-v): per peer
};
NcclCounts nccl_counts(const CollOp& c);
// Enqueues the collective on `comm` (n members, this one at `position`).
void run_collective(ncclComm_t comm, cudaStream_t s, const CollOp& c, int n, const void* in, void* out, const std::string& ctx);

std::string cuda_versions_text();  // "driver 12080, runtime 13000, cuBLASLt 130100, NCCL 22809"

}  // namespace strata::exec::cuda
