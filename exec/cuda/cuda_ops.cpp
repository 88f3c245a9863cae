#include "cuda/cuda_ops.hpp"

#include <algorithm>
#include <cmath>

#include "ops.hpp"

namespace strata::exec::cuda {

void fail_cuda(cudaError_t e, const char* call, const std::string& context) {
  std::string msg = std::string("CUDA error ") + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ") in " + call;
  if (!context.empty()) msg += " for " + context;
  if (e == cudaErrorMemoryAllocation) msg = "out of GPU memory: " + msg;
  throw ExecError(msg);
}

void fail_cublas(cublasStatus_t e, const char* call, const std::string& context) {
  std::string msg = std::string("cuBLAS error ") + std::to_string(int(e)) + " in " + call;
  if (!context.empty()) msg += " for " + context;
  if (e == CUBLAS_STATUS_ALLOC_FAILED) msg = "out of GPU memory: " + msg;
  throw ExecError(msg);
}

void fail_nccl(ncclResult_t e, const char* call, const std::string& context) {
  std::string msg = std::string("NCCL error ") + ncclGetErrorString(e) + " in " + call;
  if (!context.empty()) msg += " for " + context;
  throw ExecError(msg);
}

std::size_t input_bytes(DType t) {
  switch (t) {
    case DType::fp32: return 4;
    case DType::bf16:
    case DType::fp16: return 2;
    case DType::fp8: return 1;
  }
  return 2;
}
std::size_t output_bytes(DType t) { return t == DType::fp32 ? 4 : 2; }
DType attention_dtype(DType t) { return t == DType::fp16 ? DType::fp16 : DType::bf16; }

GemmOp padded(const GemmOp& g) {
  if (g.dtype != DType::fp8) return g;
  GemmOp r = g;
  auto up = [](std::int64_t v) { return (std::max<std::int64_t>(v, 1) + 15) / 16 * 16; };
  r.m = up(g.m);
  r.n = up(g.n);
  r.k = up(g.k);
  return r;
}

LtGemm::LtGemm() { STRATA_CUBLAS(cublasLtCreate(&handle_), "cuBLASLt handle"); }

LtGemm::~LtGemm() {
  for (auto& [k, p] : plans_) {
    cublasLtMatrixLayoutDestroy(p.a);
    cublasLtMatrixLayoutDestroy(p.b);
    cublasLtMatrixLayoutDestroy(p.c);
    cublasLtMatmulDescDestroy(p.op);
  }
  if (handle_) cublasLtDestroy(handle_);
}

void LtGemm::matmul(cudaStream_t s, void* workspace, std::size_t workspace_bytes, bool trans_a, bool trans_b,
                    std::int64_t m, std::int64_t n, std::int64_t k, const void* A, std::int64_t lda, std::int64_t stride_a,
                    const void* B, std::int64_t ldb, std::int64_t stride_b, void* C, std::int64_t ldc, std::int64_t stride_c,
                    int batch, DType t, const std::string& context) {
  const Key key{trans_a, trans_b, m, n, k, lda, ldb, ldc, stride_a, stride_b, stride_c, batch, int(t)};
  auto it = plans_.find(key);
  if (it == plans_.end()) {
    Plan p;
    cudaDataType_t ab = CUDA_R_16BF, cd = CUDA_R_16BF;
    cublasComputeType_t ct = CUBLAS_COMPUTE_32F;
    switch (t) {
      case DType::bf16: break;
      case DType::fp16: ab = cd = CUDA_R_16F; break;
      case DType::fp8: ab = CUDA_R_8F_E4M3; cd = CUDA_R_16BF; break;
      case DType::fp32: ab = cd = CUDA_R_32F; ct = CUBLAS_COMPUTE_32F_FAST_TF32; break;
    }
    STRATA_CUBLAS(cublasLtMatmulDescCreate(&p.op, ct, CUDA_R_32F), context);
    const cublasOperation_t opa = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, opb = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
    STRATA_CUBLAS(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSA, &opa, sizeof opa), context);
    STRATA_CUBLAS(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSB, &opb, sizeof opb), context);
    STRATA_CUBLAS(cublasLtMatrixLayoutCreate(&p.a, ab, std::uint64_t(trans_a ? k : m), std::uint64_t(trans_a ? m : k), lda), context);
    STRATA_CUBLAS(cublasLtMatrixLayoutCreate(&p.b, ab, std::uint64_t(trans_b ? n : k), std::uint64_t(trans_b ? k : n), ldb), context);
    STRATA_CUBLAS(cublasLtMatrixLayoutCreate(&p.c, cd, std::uint64_t(m), std::uint64_t(n), ldc), context);
    if (batch > 1) {
      const std::int32_t bc = batch;
      const std::int64_t strides[3] = {stride_a, stride_b, stride_c};
      cublasLtMatrixLayout_t lays[3] = {p.a, p.b, p.c};
      for (int i = 0; i < 3; ++i) {
        STRATA_CUBLAS(cublasLtMatrixLayoutSetAttribute(lays[i], CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &bc, sizeof bc), context);
        STRATA_CUBLAS(cublasLtMatrixLayoutSetAttribute(lays[i], CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &strides[i],
                                                       sizeof strides[i]),
                      context);
      }
    }
    cublasLtMatmulPreference_t pref = nullptr;
    STRATA_CUBLAS(cublasLtMatmulPreferenceCreate(&pref), context);
    const std::uint64_t ws = workspace_bytes;
    STRATA_CUBLAS(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws), context);
    cublasLtMatmulHeuristicResult_t res{};
    int found = 0;
    const cublasStatus_t st = cublasLtMatmulAlgoGetHeuristic(handle_, p.op, p.a, p.b, p.c, p.c, pref, 1, &res, &found);
    cublasLtMatmulPreferenceDestroy(pref);
    if (st != CUBLAS_STATUS_SUCCESS || found == 0) {
      cublasLtMatrixLayoutDestroy(p.a);
      cublasLtMatrixLayoutDestroy(p.b);
      cublasLtMatrixLayoutDestroy(p.c);
      cublasLtMatmulDescDestroy(p.op);
      throw ExecError("cuBLASLt found no algorithm (status " + std::to_string(int(st)) + ") for a " + std::to_string(m) + "x" +
                      std::to_string(n) + "x" + std::to_string(k) + " x" + std::to_string(batch) + " " + dtype_name(t) +
                      " matmul, for " + context);
    }
    p.algo = res.algo;
    it = plans_.emplace(key, p).first;
  }
  const float alpha = 1.0f, beta = 0.0f;
  const Plan& p = it->second;
  STRATA_CUBLAS(cublasLtMatmul(handle_, p.op, &alpha, A, p.a, B, p.b, &beta, C, p.c, C, p.c, &p.algo, workspace,
                               workspace_bytes, s),
                context);
}

WorkspaceNeed gemm_need(const GemmOp& g0) {
  const GemmOp g = padded(g0);
  const std::size_t b = std::size_t(std::max(1, g.batch));
  return {b * (std::size_t(g.k) * std::size_t(g.m) + std::size_t(g.k) * std::size_t(g.n)) * input_bytes(g.dtype),
          b * std::size_t(g.m) * std::size_t(g.n) * output_bytes(g.dtype)};
}

WorkspaceNeed attention_need(const AttnOp& a) {
  const auto& s = a.shape;
  const std::size_t e = input_bytes(attention_dtype(s.dtype));
  const std::size_t bh = std::size_t(s.batch) * std::size_t(s.heads), d = std::size_t(s.head_dim);
  const std::size_t qb = std::size_t(std::min<std::int64_t>(a.q_block > 0 ? a.q_block : s.q_len, s.q_len));
  return {bh * (std::size_t(s.q_len) + 2 * std::size_t(s.kv_len)) * d * e,
          bh * (qb * std::size_t(s.kv_len) + std::size_t(s.q_len) * d) * e};
}

std::size_t mem_elements(const MemOp& m) {
  const double b = std::max(0.0, m.bytes);
  switch (m.kind) {
    case MemOp::Kind::elementwise: return std::size_t(std::ceil(b / 4.0));   // bf16 read + write
    case MemOp::Kind::optimizer: return std::size_t(std::ceil(b / 28.0));    // fp32 Adam
    case MemOp::Kind::memcpy: return std::size_t(std::ceil(b));              // bytes copied
  }
  return 0;
}

WorkspaceNeed mem_need(const MemOp& m) {
  const std::size_t n = mem_elements(m);
  switch (m.kind) {
    case MemOp::Kind::elementwise: return {2 * n, 2 * n};
    case MemOp::Kind::optimizer: return {4 * n, 12 * n};
    case MemOp::Kind::memcpy: return {n, n};
  }
  return {};
}

void run_gemm(LtGemm& lt, cudaStream_t s, void* lt_ws, const GemmOp& g0, const void* in, void* out, const std::string& ctx) {
  const GemmOp g = padded(g0);
  const std::size_t e = input_bytes(g.dtype);
  const int batch = std::max(1, g.batch);
  const char* A = static_cast<const char*>(in);
  const char* B = A + std::size_t(batch) * std::size_t(g.k) * std::size_t(g.m) * e;
  // TN: A stored k x m (row-major m x k), B stored k x n; the fastest layout, and fp8's only one.
  lt.matmul(s, lt_ws, kLtWorkspaceBytes, true, false, g.m, g.n, g.k, A, g.k, g.k * g.m, B, g.k, g.k * g.n, out, g.m, g.m * g.n,
            batch, g.dtype, ctx);
}

void run_attention(LtGemm& lt, cudaStream_t s, void* lt_ws, const AttnOp& a, const void* in, void* out, const std::string& ctx) {
  const auto& sh = a.shape;
  const DType t = attention_dtype(sh.dtype);
  const Elem el = t == DType::fp16 ? Elem::f16 : Elem::bf16;
  const std::size_t e = input_bytes(t);
  const std::int64_t q = sh.q_len, kv = sh.kv_len, d = sh.head_dim;
  const std::int64_t bh = std::int64_t(sh.batch) * sh.heads;
  const std::int64_t qb = std::min<std::int64_t>(a.q_block > 0 ? a.q_block : q, q);
  const char* Q = static_cast<const char*>(in);
  const char* K = Q + std::size_t(bh * q * d) * e;
  const char* V = K + std::size_t(bh * kv * d) * e;
  char* S = static_cast<char*>(out);
  char* O = S + std::size_t(bh * qb * kv) * e;
  const auto blocks = attention_blocks(sh, a.q_block);
  const std::int64_t offset = std::max<std::int64_t>(0, kv - q);
  const float scale = 1.0f / std::sqrt(float(std::max<std::int64_t>(1, d)));
  auto pass = [&](int slices) {
    for (const auto& b : blocks) {
      // S^T (cols x rows) = K_blk (cols x d) . Q_blk^T: each query row's scores contiguous.
      lt.matmul(s, lt_ws, kLtWorkspaceBytes, true, false, b.cols, b.rows, d, K, d, kv * d, Q + std::size_t(b.q_begin * d) * e, d,
                q * d, S, b.cols, b.cols * b.rows, slices, t, ctx);
      const cudaError_t ce = softmax_columns(S, el, b.cols, b.rows, slices, sh.causal ? offset + b.q_begin : -1, scale, s);
      if (ce != cudaSuccess) fail_cuda(ce, "softmax_columns", ctx);
      // O^T (d x rows) = V^T (d x cols) . P^T (cols x rows).
      lt.matmul(s, lt_ws, kLtWorkspaceBytes, false, false, d, b.rows, b.cols, V, d, kv * d, S, b.cols, b.cols * b.rows,
                O + std::size_t(b.q_begin * d) * e, d, q * d, slices, t, ctx);
    }
  };
  for (int p = 0; p < a.full_passes; ++p) pass(int(bh));
  if (a.extra_heads > 0) pass(std::min<int>(a.extra_heads, int(bh)));
}

void run_mem(cudaStream_t s, const MemOp& m, const void* in, void* out, const std::string& ctx) {
  const std::size_t n = mem_elements(m);
  if (n == 0) return;
  switch (m.kind) {
    case MemOp::Kind::elementwise: {
      const cudaError_t e = elementwise_bf16(in, out, n, s);
      if (e != cudaSuccess) fail_cuda(e, "elementwise_bf16", ctx);
      break;
    }
    case MemOp::Kind::optimizer: {
      float* p = static_cast<float*>(out);
      const cudaError_t e = adam_f32(p, p + n, p + 2 * n, static_cast<const float*>(in), n, s);
      if (e != cudaSuccess) fail_cuda(e, "adam_f32", ctx);
      break;
    }
    case MemOp::Kind::memcpy: STRATA_CUDA(cudaMemcpyAsync(out, in, n, cudaMemcpyDeviceToDevice, s), ctx); break;
  }
}

NcclCounts nccl_counts(const CollOp& c) {
  NcclCounts r;
  const std::size_t n = std::size_t(std::max(1, c.size));
  const std::size_t e = c.bytes > 0 ? std::size_t(std::ceil(c.bytes / 2.0)) : 0;
  switch (c.kind) {
    case CollKind::all_reduce:
    case CollKind::broadcast: r.count = r.in = r.out = e; break;
    case CollKind::all_gather: r.count = e / n; r.in = r.count; r.out = r.count * n; break;
    case CollKind::reduce_scatter: r.count = e / n; r.in = r.count * n; r.out = r.count; break;
    case CollKind::all_to_all:
      r.count = e / n;
      r.send.assign(n, r.count);
      r.recv.assign(n, r.count);
      r.in = r.out = r.count * n;
      break;
    case CollKind::all_to_all_v:
      for (double b : c.send_bytes) r.send.push_back(b > 0 ? std::size_t(std::ceil(b / 2.0)) : 0);
      for (double b : c.recv_bytes) r.recv.push_back(b > 0 ? std::size_t(std::ceil(b / 2.0)) : 0);
      r.send.resize(n, 0);
      r.recv.resize(n, 0);
      for (auto x : r.send) r.in += x;
      for (auto x : r.recv) r.out += x;
      break;
  }
  return r;
}

void run_collective(ncclComm_t comm, cudaStream_t s, const CollOp& c, int n, const void* in, void* out, const std::string& ctx) {
  const NcclCounts k = nccl_counts(c);
  switch (c.kind) {
    case CollKind::all_reduce: STRATA_NCCL(ncclAllReduce(in, out, k.count, ncclBfloat16, ncclSum, comm, s), ctx); break;
    case CollKind::broadcast: STRATA_NCCL(ncclBroadcast(in, out, k.count, ncclBfloat16, 0, comm, s), ctx); break;
    case CollKind::all_gather: STRATA_NCCL(ncclAllGather(in, out, k.count, ncclBfloat16, comm, s), ctx); break;
    case CollKind::reduce_scatter: STRATA_NCCL(ncclReduceScatter(in, out, k.count, ncclBfloat16, ncclSum, comm, s), ctx); break;
    case CollKind::all_to_all:
    case CollKind::all_to_all_v: {
      // Grouped point-to-point: one send and one receive per peer, launched together.
      const char* src = static_cast<const char*>(in);
      char* dst = static_cast<char*>(out);
      std::size_t so = 0, ro = 0;
      STRATA_NCCL(ncclGroupStart(), ctx);
      for (int p = 0; p < n && std::size_t(p) < k.send.size(); ++p) {
        if (k.send[std::size_t(p)]) STRATA_NCCL(ncclSend(src + 2 * so, k.send[std::size_t(p)], ncclBfloat16, p, comm, s), ctx);
        if (k.recv[std::size_t(p)]) STRATA_NCCL(ncclRecv(dst + 2 * ro, k.recv[std::size_t(p)], ncclBfloat16, p, comm, s), ctx);
        so += k.send[std::size_t(p)];
        ro += k.recv[std::size_t(p)];
      }
      STRATA_NCCL(ncclGroupEnd(), ctx);
      break;
    }
  }
}

std::string cuda_versions_text() {
  int drv = 0, rt = 0, nccl = 0;
  cudaDriverGetVersion(&drv);
  cudaRuntimeGetVersion(&rt);
  ncclGetVersion(&nccl);
  return "driver API " + std::to_string(drv) + ", runtime " + std::to_string(rt) + ", cuBLASLt " +
         std::to_string(cublasLtGetVersion()) + ", NCCL " + std::to_string(nccl);
}

}  // namespace strata::exec::cuda
