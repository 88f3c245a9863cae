#pragma once
// The cpu backend's compute: Eigen GEMMs (fp32 whatever the graph's dtype), attention as
// per-head GEMMs + a causal softmax, and memory-bound loops moving the graph's byte counts.
// Workspace layouts (element counts in floats) are defined next to the kernels so that the
// sizing and the use cannot drift apart.
#include <cstddef>
#include <string>

#include "backend.hpp"

namespace strata::exec::cpu {

WorkspaceNeed gemm_need(const GemmOp& g);
WorkspaceNeed attention_need(const AttnOp& a);
WorkspaceNeed mem_need(const MemOp& m);

void run_gemm(const GemmOp& g, const float* in, float* out);
void run_attention(const AttnOp& a, const float* in, float* out);
void run_mem(const MemOp& m, const float* in, float* out);

// Elements a memory op touches: elementwise reads and writes n floats (bytes = 8n);
// optimizer is Adam over fp32 p, g, m, v (reads 4, writes 3: bytes = 28n); memcpy copies n
// floats (bytes = the size copied = 4n).
std::size_t mem_elements(const MemOp& m);

std::string cpu_model();  // from /proc/cpuinfo

// Fills with uniform values in [-1, 1), never zero.
void fill_random(float* p, std::size_t n, std::uint64_t seed);

}  // namespace strata::exec::cpu
