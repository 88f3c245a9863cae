#pragma once
// The partition graph: the spine of Strata. The simulator and the executor consume this very
// graph. Tasks live in flat arrays (struct of arrays) per *rank class*; a task id is its index
// in its class's arrays. Ranks whose task lists are identical up to peers and groups share one
// class, so a 16,384-GPU job is as small as its distinct work (see DESIGN.md).
//
// Cross-rank semantics:
//  - A collective task names a GroupKind; the concrete members are the rank's group of that kind
//    (Layout). All members execute the same collectives in the same order on the same stream.
//  - A send names a GroupKind and an offset along that group's ring (pp: +1 next stage, -1
//    previous; cp: +1 next ring neighbour). `match` is the task id of the matching recv in the
//    peer's class; a recv's `match` is the task id of the send in its peer's class.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "graph/layout.hpp"
#include "model/dtype.hpp"
#include "plan/strategy.hpp"

namespace strata {

enum class TaskKind : std::uint8_t { compute, collective, send, recv, optimizer, memcpy };
enum class Phase : std::uint8_t { forward, backward_input, backward_weight, recompute, optimizer, none };
// What the time is spent on; the timeline `cat` and the report's breakdown use it.
enum class Category : std::uint8_t { compute, tp, cp, ep, pp, dp, optimizer, bubble, count };
enum class OpKind : std::uint8_t { gemm, grouped_gemm, attention, elementwise, comm, optimizer };
enum class CollKind : std::uint8_t { all_reduce, all_gather, reduce_scatter, all_to_all, all_to_all_v, broadcast };
// Streams execute their tasks in order, like CUDA streams. Receives wait on no stream (they are
// posted as soon as their dependencies are done and complete when the data arrives); they are
// drawn on the recv streams.
enum class Stream : std::uint8_t { compute, tp, cp, ep, dp, pp_send, pp_recv_fwd, pp_recv_bwd, cp_recv, count };
constexpr int kStreams = static_cast<int>(Stream::count);

const char* task_kind_name(TaskKind k);
const char* phase_name(Phase p);
const char* category_name(Category c);
const char* op_kind_name(OpKind k);
const char* coll_kind_name(CollKind k);
const char* stream_name(Stream s);

struct GemmShape {
  std::int64_t m = 0, n = 0, k = 0;
  std::int32_t batch = 1;  // independent GEMMs of this shape (grouped expert GEMMs: experts)
  DType dtype = DType::bf16;
};

// Fused attention kernel generation: native to the GPU (FlashAttention-2 on Ampere,
// FlashAttention-3 / cuDNN on Hopper), a FlashAttention-2-class kernel on any GPU
// (strategy.attention = "flash2"; it is not Hopper-native, cost/compute_cost.hpp), or the 2022-23
// Triton FlashAttention ("triton"), slower than FlashAttention-2 forward and backward.
enum class AttnKernel : std::uint8_t { native, fa2, triton };

struct AttnShape {
  std::int32_t batch = 1, heads = 1, kv_heads = 1;
  std::int64_t q_len = 0, kv_len = 0;
  std::int32_t head_dim = 128;
  bool causal = true;
  bool backward = false;
  DType dtype = DType::bf16;
  AttnKernel kernel = AttnKernel::native;
};

// Collective size convention (nccl-tests, reference/cost-models.md §2.4): `bytes` is the per-rank
// buffer for all-reduce and broadcast, the total gathered/scattered buffer for all-gather and
// reduce-scatter, and the per-rank send buffer (all peers together) for all-to-all.
struct CollInfo {
  CollKind kind = CollKind::all_reduce;
  GroupKind group = GroupKind::tp;
  CollAlgo algo = CollAlgo::automatic;
  double bytes = 0;
  std::int32_t a2av = -1;  // all-to-all-v: index into ClassTasks::a2av_bytes (per-peer bytes), else -1
};

// An element-wise task part of whose traffic goes through a kernel with its own published rate
// (e.g. Megatron-LM 2021's LayerNorm, layer_ops.cpp): `bytes` of the task's bytes move at
// `hbm_fraction` of the GPU's datasheet HBM bandwidth; the rest at the element-wise rate.
struct KernelRate {
  double bytes = 0;
  double hbm_fraction = 1;
};

struct P2PInfo {
  GroupKind group = GroupKind::pp;
  std::int8_t offset = 1;    // along the group ring
  std::uint32_t match = 0;   // task id of the matching send/recv in the peer's class
  double bytes = 0;
};

// The task arrays of one rank class.
struct ClassTasks {
  std::vector<TaskKind> kind;
  std::vector<Stream> stream;
  std::vector<Category> category;
  std::vector<Phase> phase;
  std::vector<OpKind> op;
  std::vector<std::uint32_t> name;     // index into PartitionGraph::names
  std::vector<std::int32_t> layer;     // -1 when not tied to a layer
  std::vector<std::int32_t> microbatch;// -1 when not tied to a micro-batch
  std::vector<std::int32_t> chunk;     // virtual pipeline chunk (0 without interleaving)
  std::vector<double> flops;           // floating-point operations
  std::vector<double> bytes;           // compute: HBM bytes moved; comm: CollInfo/P2PInfo bytes
  std::vector<double> mem_delta;       // bytes this task leaves allocated (+) or frees (-)
  std::vector<std::int32_t> detail;    // index into gemms/attns (compute), colls, p2ps; -1 none
  std::vector<std::uint32_t> dep_begin{0};  // CSR: deps of task i = deps[dep_begin[i] .. dep_begin[i+1])
  std::vector<std::uint32_t> deps;

  std::vector<GemmShape> gemms;
  std::vector<AttnShape> attns;
  std::vector<CollInfo> colls;
  std::vector<P2PInfo> p2ps;
  std::vector<KernelRate> kernel_rates;  // detail of an element-wise task with its own rate (-1: none)
  std::vector<std::vector<double>> a2av_bytes;  // per-peer bytes sent, by position in the group

  std::size_t size() const { return kind.size(); }
  std::span<const std::uint32_t> deps_of(std::uint32_t t) const {
    return {deps.data() + dep_begin[t], deps.data() + dep_begin[t + 1]};
  }
};

// Per-rank memory estimate (bytes), worst rank of each class.
struct MemoryBreakdown {
  double weights = 0, grads = 0, optimizer = 0, activations = 0, kv_cache = 0;
  double comm_buffers = 0, framework = 0;
  double peak() const { return weights + grads + optimizer + activations + kv_cache + comm_buffers + framework; }
};

struct PartitionGraph {
  Layout layout;
  std::vector<std::string> names;        // interned op names
  std::vector<ClassTasks> classes;
  std::vector<std::int32_t> rank_class;  // rank -> class
  std::vector<std::int32_t> class_rep;   // class -> representative rank
  std::vector<std::int32_t> class_stage; // class -> pipeline stage
  std::vector<MemoryBreakdown> class_memory;
  bool expanded = false;                 // one class per rank

  // Whole-job facts for the report.
  double model_flops_per_step = 0;       // model FLOPs (no recompute), all ranks together
  double tokens_per_step = 0;
  int micro_batches = 0;

  const ClassTasks& tasks_of_rank(int rank) const { return classes[std::size_t(rank_class[std::size_t(rank)])]; }
  std::size_t total_tasks() const;
  std::uint32_t intern(const std::string& name);
};

}  // namespace strata
