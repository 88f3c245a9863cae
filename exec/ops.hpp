#pragma once
#include "cost/hardware_profile.hpp"
// From a partition-graph task to the Op a backend runs: shapes, byte counts, group members,
// message keys, and the down-scaling the cpu backend applies to graphs too big for it.
//
// Scaling (documented in exec/README.md): a factor s in (0, 1] multiplies the work of every
// task. GEMM dimensions are multiplied by s^(1/3) each (so FLOPs scale by ~s), attention
// sequence lengths by s^(1/2), byte counts (memory ops, collectives, messages) by s. The
// FLOPs and bytes an Op records are the ones it really executes after rounding.
#include <cstdint>
#include <vector>

#include "backend.hpp"

namespace strata::exec {

// Attention as GEMMs: per (batch, head) slice, the queries are cut into blocks of q_block rows;
// block b multiplies by the kv columns it can see (causal: up to its last row), so causal
// attention runs about half the FLOPs of the full square, as FlashAttention does. One pass =
// S = Q K^T, softmax(S), O = P V over every block: 4 * head_dim * sum(rows * cols) FLOPs per
// slice. The number of passes is chosen so the executed FLOPs match the graph's claim (the
// backward pass claims about 2.5x the forward); a final partial pass over fewer slices takes up
// the fraction. K and V are materialised per query head (GQA shares them; the FLOPs are equal).
struct AttnBlock {
  std::int64_t q_begin = 0, rows = 0, cols = 0;
};
std::vector<AttnBlock> attention_blocks(const AttnShape& s, std::int64_t q_block);
double attention_slice_flops(const AttnShape& s, std::int64_t q_block);  // one pass, one slice
AttnOp plan_attention(const AttnShape& s, double claimed_flops);

// Applies the factor to shapes and byte counts (see above).
GemmShape scale_gemm(const GemmShape& g, double s);
AttnShape scale_attention(const AttnShape& a, double s);

// Builds the Op of `task` on `rank`. `seq` is the task's index among the rank's collectives
// on its (group kind, stream); `recv_bytes` is the all-to-all-v bytes this rank receives from
// each group position (empty otherwise).
Op build_op(const PartitionGraph& g, int rank, std::uint32_t task, double scale, std::uint64_t seq,
            std::vector<double> recv_bytes = {});

// FLOPs the graph claims for a rank's whole step (all its tasks).
double rank_flops(const PartitionGraph& g, int rank);

// nccl-tests busbw factor for a collective of n ranks (reference/cost-models.md §2.4).
using strata::busbw_factor;  // sim/cost/hardware_profile.hpp

}  // namespace strata::exec
