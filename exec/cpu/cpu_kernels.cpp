#include "cpu/cpu_kernels.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>

#include "ops.hpp"

namespace strata::exec::cpu {

namespace {
using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using CMap = Eigen::Map<const RowMat>;
using MMap = Eigen::Map<RowMat>;

std::size_t sz(std::int64_t v) { return std::size_t(std::max<std::int64_t>(0, v)); }
}  // namespace

std::size_t mem_elements(const MemOp& m) {
  const double b = std::max(0.0, m.bytes);
  switch (m.kind) {
    case MemOp::Kind::elementwise: return std::size_t(std::ceil(b / 8.0));
    case MemOp::Kind::optimizer: return std::size_t(std::ceil(b / 28.0));
    case MemOp::Kind::memcpy: return std::size_t(std::ceil(b / 4.0));
  }
  return 0;
}

WorkspaceNeed gemm_need(const GemmOp& g) {
  const std::size_t b = sz(g.batch);
  return {4 * b * (sz(g.m) * sz(g.k) + sz(g.k) * sz(g.n)), 4 * b * sz(g.m) * sz(g.n)};
}

WorkspaceNeed attention_need(const AttnOp& a) {
  const auto& s = a.shape;
  const std::size_t bh = sz(s.batch) * sz(s.heads), d = sz(s.head_dim);
  const std::size_t qb = std::min(sz(a.q_block > 0 ? a.q_block : s.q_len), sz(s.q_len));
  return {4 * bh * (sz(s.q_len) + 2 * sz(s.kv_len)) * d, 4 * (qb * sz(s.kv_len) + bh * sz(s.q_len) * d)};
}

WorkspaceNeed mem_need(const MemOp& m) {
  const std::size_t n = mem_elements(m);
  if (m.kind == MemOp::Kind::optimizer) return {4 * n, 12 * n};
  return {4 * n, 4 * n};
}

void run_gemm(const GemmOp& g, const float* in, float* out) {
  const std::int64_t m = g.m, n = g.n, k = g.k;
  const float* A0 = in;
  const float* B0 = in + sz(g.batch) * sz(m) * sz(k);
  for (std::int32_t b = 0; b < g.batch; ++b) {
    CMap A(A0 + std::size_t(b) * sz(m) * sz(k), m, k);
    CMap B(B0 + std::size_t(b) * sz(k) * sz(n), k, n);
    MMap C(out + std::size_t(b) * sz(m) * sz(n), m, n);
    C.noalias() = A * B;
  }
}

void run_attention(const AttnOp& a, const float* in, float* out) {
  const auto& s = a.shape;
  const std::int64_t q = s.q_len, kv = s.kv_len, d = s.head_dim;
  const std::size_t bh = sz(s.batch) * sz(s.heads);
  const float* Q = in;
  const float* K = Q + bh * sz(q) * sz(d);
  const float* V = K + bh * sz(kv) * sz(d);
  float* S = out;
  const std::int64_t qb = std::min(a.q_block > 0 ? a.q_block : q, q);
  float* O = out + sz(qb) * sz(kv);
  const auto blocks = attention_blocks(s, a.q_block);
  const float scale = 1.0f / std::sqrt(float(std::max<std::int64_t>(1, d)));
  const std::int64_t offset = std::max<std::int64_t>(0, kv - q);
  auto slice = [&](std::size_t h) {
    CMap Qh(Q + h * sz(q) * sz(d), q, d);
    CMap Kh(K + h * sz(kv) * sz(d), kv, d);
    CMap Vh(V + h * sz(kv) * sz(d), kv, d);
    MMap Oh(O + h * sz(q) * sz(d), q, d);
    for (const auto& blk : blocks) {
      MMap Sb(S, blk.rows, blk.cols);
      Sb.noalias() = Qh.middleRows(blk.q_begin, blk.rows) * Kh.topRows(blk.cols).transpose();
      for (std::int64_t r = 0; r < blk.rows; ++r) {
        float* row = S + std::size_t(r) * sz(blk.cols);
        const std::int64_t visible = s.causal ? std::min(blk.cols, offset + blk.q_begin + r + 1) : blk.cols;
        float mx = row[0] * scale;
        for (std::int64_t j = 1; j < visible; ++j) mx = std::max(mx, row[j] * scale);
        float sum = 0;
        for (std::int64_t j = 0; j < visible; ++j) {
          row[j] = std::exp(row[j] * scale - mx);
          sum += row[j];
        }
        const float inv = 1.0f / sum;
        for (std::int64_t j = 0; j < visible; ++j) row[j] *= inv;
        for (std::int64_t j = visible; j < blk.cols; ++j) row[j] = 0.0f;
      }
      Oh.middleRows(blk.q_begin, blk.rows).noalias() = Sb * Vh.topRows(blk.cols);
    }
  };
  for (int p = 0; p < a.full_passes; ++p)
    for (std::size_t h = 0; h < bh; ++h) slice(h);
  for (int h = 0; h < a.extra_heads && std::size_t(h) < bh; ++h) slice(std::size_t(h));
}

void run_mem(const MemOp& m, const float* in, float* out) {
  const std::size_t n = mem_elements(m);
  switch (m.kind) {
    case MemOp::Kind::elementwise:
      for (std::size_t i = 0; i < n; ++i) out[i] = in[i] * 0.5f + 0.25f;
      break;
    case MemOp::Kind::optimizer: {
      const float b1 = 0.9f, b2 = 0.95f, lr = 1e-4f, eps = 1e-8f;
      float* p = out;
      float* mm = out + n;
      float* v = out + 2 * n;
      for (std::size_t i = 0; i < n; ++i) {
        const float g = in[i];
        mm[i] = b1 * mm[i] + (1 - b1) * g;
        v[i] = b2 * v[i] + (1 - b2) * g * g;
        p[i] -= lr * mm[i] / (std::sqrt(std::fabs(v[i])) + eps);
      }
      break;
    }
    case MemOp::Kind::memcpy:
      std::memcpy(out, in, n * sizeof(float));
      break;
  }
}

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) {
      auto p = line.find(':');
      if (p != std::string::npos) return line.substr(p + 2);
    }
  return "unknown cpu";
}

void fill_random(float* p, std::size_t n, std::uint64_t seed) {
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
  if (x == 0) x = 1;
  for (std::size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    // 24 random bits -> (k + 0.5) / 2^23 - 1: uniform in [-1, 1), never exactly zero.
    p[i] = float((double(x >> 40) + 0.5) * (1.0 / 8388608.0) - 1.0);
  }
}

}  // namespace strata::exec::cpu
