#pragma once
// Internal to the planner: the facts every parallelism module shares (PlanDims), the task
// emitter that appends to one class's struct-of-arrays, and the per-class build context.
// Not part of the public interface (planner.hpp is).
#include <array>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "graph/partition_graph.hpp"
#include "io/scenario.hpp"
#include "plan/planner.hpp"
#include "plan/schedule.hpp"

namespace strata::plan {

inline constexpr std::uint32_t kNone = 0xffffffffu;

// Up to 8 dependencies (more is a planner bug: it throws); kNone entries are dropped.
struct Deps {
  std::array<std::uint32_t, 8> id{};
  int n = 0;
  Deps() = default;
  Deps(std::uint32_t a) { add(a); }  // NOLINT: implicit on purpose
  Deps(std::initializer_list<std::uint32_t> l) {
    for (auto x : l) add(x);
  }
  void add(std::uint32_t x) {
    if (x == kNone) return;
    for (int i = 0; i < n; ++i)
      if (id[std::size_t(i)] == x) return;
    if (n == int(id.size())) throw std::logic_error("planner: more than 8 dependencies on one task");
    id[std::size_t(n++)] = x;
  }
  void add(const Deps& o) {
    for (int i = 0; i < o.n; ++i) add(o.id[std::size_t(i)]);
  }
  bool empty() const { return n == 0; }
};

// Op names, interned in this order at the start of every graph (name id == enum value).
enum class Op : std::uint16_t {
  embedding, attn_norm, qkv_proj, attn_core, attn_out_proj, mlp_norm, mlp_fc1, mlp_act, mlp_fc2,
  final_norm, lm_head, cross_entropy, sample,
  router, moe_permute, expert_fc1, expert_act, expert_fc2, moe_unpermute, shared_fc1, shared_act, shared_fc2,
  tp_allreduce, tp_allgather, tp_reduce_scatter, ce_allreduce,
  cp_send_kv, cp_recv_kv, cp_send_dkv, cp_recv_dkv, cp_all_to_all, cp_attn_combine,
  ep_dispatch, ep_combine,
  pp_send_act, pp_recv_act, pp_send_grad, pp_recv_grad, pp_send_token, pp_recv_token,
  dp_allreduce, dp_reduce_scatter, dp_allgather, edp_allreduce, edp_reduce_scatter, edp_allgather,
  fsdp_allgather, fsdp_reduce_scatter, optimizer_step,
  attn_scores, attn_softmax, attn_context,  // unfused attention (strategy.attention = "unfused")
  grad_accumulate,                          // unfused gradient accumulation (data_parallel.cpp)
  pp_allgather,                             // strategy.pp_scatter_gather: TP all-gather of a received activation
  count
};
const char* op_name(Op o);

// Everything the modules need to know about the job, derived once from the scenario.
struct PlanDims {
  const Scenario* sc = nullptr;
  const ModelSpec* model = nullptr;
  bool train = true;
  // Degrees.
  int t = 1, c = 1, p = 1, dp = 1, e = 1, v = 1, m = 1;
  bool sp = false;
  CpKind cp_kind = CpKind::ring;
  Recompute recompute = Recompute::none;
  bool flash = true;                  // fused (FlashAttention-style) attention kernel; else unfused
  AttnKernel attn_kernel = AttnKernel::native;  // fused kernel generation (strategy.attention flash | flash2 | triton)
  Schedule schedule = Schedule::one_f_one_b;
  int zero = 0;
  bool overlap_grad = true, overlap_param = false;
  bool tp_async_grad = true;          // strategy.tp_async_grad_reduce
  bool grad_accum_fusion = true;      // strategy.grad_accumulation_fusion
  bool pp_scatter_gather = false;     // strategy.pp_scatter_gather (only without SP, t > 1)
  bool overlap_p2p = true;            // strategy.overlap_p2p_comm
  CollAlgo algo = CollAlgo::automatic;
  // Model.
  std::int64_t h = 0, a = 0, g = 0, d_qk = 0, d_v = 0, f = 0, V = 0;
  bool swiglu = true, bias = false;
  bool hidden_dropout = false;    // model.hidden_dropout > 0 in training: masks written and read
  bool legacy_layernorm = false;  // strategy.norm_kernel = apex_2020 (LayerNorm models)
  std::int64_t a_t = 1, g_t = 1;      // query / kv heads per TP rank (kv replicated when t > g)
  std::int64_t qkv_n_total = 0;       // qkv projection width, all ranks (MLA: FLOP-equivalent width)
  // MoE.
  int E = 0, k = 1, E_local = 0, shared = 0;
  std::int64_t f_e = 0;
  double cf = 0, skew = 0;
  std::vector<double> expert_frac;    // tokens choosing each expert (sum k), from router_skew
  // Numbers.
  DType gemm_dtype = DType::bf16;
  double act_B = 2;                   // bytes per activation element
  double param_B = 2, grad_B = 4, opt_K = 12;  // model-state bytes per parameter (memory.cpp)
  // Workload.
  std::int64_t b = 1;                 // sequences per micro-batch (inference: per DP replica)
  std::int64_t seq = 0;               // training sequence length
  std::int64_t prompt = 0, gen = 0;   // inference
  // Data-parallel groups.
  GroupKind dense_dp_group = GroupKind::dp;
  int dense_dp_size = 1, edp_size = 1;
  double bucket_params = 0;           // DDP bucket size in parameters
  bool bucket_explicit = false;       // strategy.bucket_bytes given: bucket every stage and chunk
  PlanOptions options;
};

PlanDims derive_dims(const Scenario& sc, const PlanOptions& opt);

// One forward (or backward) pass of a chunk over a micro-batch, as the layer functions see it.
struct Pass {
  std::int64_t b = 1;       // sequences
  std::int64_t q = 0;       // query tokens per sequence on this rank
  std::int64_t kv = 0;      // key/value tokens per sequence attended on this rank
  bool causal = true;
  bool sp = false;          // sequence parallel active in this pass
  bool decode = false;      // inference decode step (cp: combine partial attention outputs)
  std::int32_t mb = 0, chunk = 0;
  double tokens() const { return double(b) * double(q); }  // tokens per rank (before SP split)
};

// A weight-gradient GEMM whose emission may be deferred (zb-h1 W units).
struct PendingW {
  Op op = Op::mlp_fc1;
  OpKind kind = OpKind::gemm;
  GemmShape shape;
  double flops = 0;
  double bytes = 0;         // element-wise W (embedding gradient): HBM bytes
  double mem = 0;           // activation bytes it frees (negative)
  Deps deps;
  std::int32_t layer = -1;
  int group = -1;           // parameter group (data_parallel.cpp) whose gradient it completes
};

// Appends tasks to one class.
class Emitter {
public:
  explicit Emitter(ClassTasks& ct) : ct_(ct) {}
  ClassTasks& tasks() { return ct_; }
  std::uint32_t next_id() const { return std::uint32_t(ct_.size()); }
  std::uint32_t last_compute() const { return last_compute_; }

  // Context stamped on the following tasks.
  std::int32_t mb = -1, chunk = 0;

  std::uint32_t gemm(Op op, Phase ph, std::int32_t layer, const GemmShape& s, double flops, double mem, const Deps& deps,
                     OpKind kind = OpKind::gemm);
  std::uint32_t attention(Op op, Phase ph, std::int32_t layer, const AttnShape& s, double flops, double bytes, const Deps& deps);
  std::uint32_t elementwise(Op op, Phase ph, std::int32_t layer, double bytes, double mem, const Deps& deps,
                            const KernelRate* rate = nullptr);
  std::uint32_t optimizer(Op op, double flops, double bytes, const Deps& deps);
  std::uint32_t collective(Op op, Category cat, Stream st, Phase ph, std::int32_t layer, const CollInfo& ci, const Deps& deps);
  std::uint32_t send(Op op, Category cat, Stream st, Phase ph, std::int32_t layer, const P2PInfo& pi, const Deps& deps);
  std::uint32_t recv(Op op, Category cat, Stream st, Phase ph, std::int32_t layer, const P2PInfo& pi, const Deps& deps);
  void set_match(std::uint32_t task, std::uint32_t match);

private:
  std::uint32_t push(TaskKind kind, Stream st, Category cat, Phase ph, OpKind ok, Op op, std::int32_t layer, double flops,
                     double bytes, double mem, std::int32_t detail, const Deps& deps);
  ClassTasks& ct_;
  std::uint32_t last_compute_ = kNone;
};

double gemm_flops(const GemmShape& s);
double gemm_bytes(const GemmShape& s);

// ---- Stages and chunks (pipeline_parallel.cpp) ----
struct ChunkLayers {
  int first = 0, count = 0;  // global layer indices [first, first+count)
};
struct StageLayout {
  // layers[stage][chunk]
  std::vector<std::vector<ChunkLayers>> layers;
  int virtual_stage(int stage, int chunk, int p) const { return chunk * p + stage; }
};
StageLayout stage_layout(const PlanDims& d);

// ---- Expert routing (expert_parallel.cpp) ----
struct MoeLoad {
  // Per EP rank (position in the EP group): the fraction of a source rank's token-expert
  // assignments (T_r·k) that is sent to it, after capacity drops. Identical for every source.
  std::vector<double> share;
  double kept = 1;            // fraction of assignments not dropped (sum of share)
};
// Tokens choosing each expert (fractions summing to k, each at most 1): Zipf(skew) popularity
// water-filled under the top-k constraint.
std::vector<double> expert_token_fractions(int experts, int top_k, double skew);
// Loads when `router_tokens` tokens enter the router on each rank (capacity per expert and source
// rank: ceil(router_tokens·k/E·capacity_factor), Megatron's get_capacity [S7c]).
MoeLoad moe_load(const PlanDims& d, double router_tokens);

// ---- Point-to-point bookkeeping for matching across classes ----
struct P2PKey {
  // dir: 0 activation (forward), 1 gradient (backward), 2 sampled token (inference)
  static std::uint64_t make(int dir, int mb, int vs) {
    return (std::uint64_t(dir) << 56) | (std::uint64_t(std::uint32_t(mb)) << 24) | std::uint64_t(std::uint32_t(vs));
  }
};
struct P2PBook {
  std::unordered_map<std::uint64_t, std::uint32_t> sends, recvs;  // key (receiving unit) -> task
};

// ---- Data parallelism (data_parallel.cpp) ----
// A parameter group: what becomes ready together in backward (a layer, the LM head, the
// embedding). Listed per chunk in backward order.
struct ParamGroup {
  int layer = -1;            // global layer, or -1 (LM head) / -2 (embedding)
  double dense = 0;          // parameters on this rank (TP-sharded)
  double expert = 0;
};
struct Bucket {
  int chunk = 0;
  int last_group = 0;        // index in the chunk's group list that completes it
  int first_group = 0;
  double params = 0;
  bool expert = false;
  std::uint32_t prefetch_ag = kNone;  // overlap_param_gather: the all-gather at step start
};

class DataParallel {
public:
  DataParallel(const PlanDims& d, const StageLayout& sl, int stage);
  const std::vector<std::vector<ParamGroup>>& groups() const { return groups_; }
  double dense_params() const { return dense_; }
  double expert_params() const { return expert_; }
  const std::vector<Bucket>& buckets() const { return buckets_; }

  // Called at step start (param all-gathers when overlapping them with the forward).
  void begin_step(Emitter& E);
  // Dependencies a layer's first forward task needs (prefetched params).
  Deps before_forward(Emitter& E, int chunk, int group, bool first_unit_of_chunk, std::uint32_t prev_task);
  Deps before_backward(Emitter& E, int chunk, int group, std::uint32_t prev_task);
  // A group's gradients are complete for this micro-batch (task = last task producing them).
  void grads_done(Emitter& E, int chunk, int group, std::uint32_t task, bool last_microbatch);
  // After the last backward: remaining reductions, the optimizer step, parameter all-gathers.
  void end_step(Emitter& E);

private:
  void emit_bucket(Emitter& E, const Bucket& b, std::uint32_t dep);
  const PlanDims& d_;
  int stage_;
  std::vector<std::vector<ParamGroup>> groups_;  // [chunk][group in backward order]
  std::vector<Bucket> buckets_;
  double dense_ = 0, expert_ = 0;
  std::uint32_t last_dp_ = kNone;
  std::vector<std::vector<int>> grads_seen_;  // [chunk][group]: micro-batches whose gradients are done
  // ZeRO-3 prefetch: all-gather task per (chunk, group) for the current pass.
  std::vector<std::vector<std::uint32_t>> fsdp_ag_;
};

// ---- Per-class build context ----
struct ClassCtx {
  const PlanDims& d;
  const StageLayout& sl;
  Emitter& E;
  int stage = 0;
  int ep_index = 0;                   // position in the EP group (MoE load of this class)
  DataParallel* dp = nullptr;         // nullptr for inference
  P2PBook* book = nullptr;
  // Last task of each forward unit, by P2PKey::make(0, micro-batch, chunk): the loss's backward
  // waits for the loss reductions of its forward.
  std::unordered_map<std::uint64_t, std::uint32_t> fwd_end{};
  // strategy.overlap_p2p_comm = false (Megatron's blocking exchanges): the sends of the last
  // exchange, which the next unit waits for; and, in the interleaved schedule's steady state, a
  // forward unit's send held back until the backward unit that follows it (Megatron sends both in
  // one send_forward_backward_recv_forward_backward after running F and B back to back).
  Deps last_exchange{};
  bool defer_fwd_send = false;  // set by the planner for the forward unit it emits next
  struct DeferredSend {
    bool active = false;
    double bytes = 0;
    std::uint64_t key = 0;
    Deps deps{};
    std::int32_t mb = 0, chunk = 0;
  } deferred_fwd_send{};
};

// ---- Layer ops (layer_ops.cpp) ----
struct LayerActivation {
  double attn = 0, mlp = 0, norms = 0, checkpoint = 0;
  double total() const { return attn + mlp + norms; }
};
// Activation bytes one layer keeps per micro-batch (Korthikanti, generalised; memory.cpp).
LayerActivation layer_activation(const PlanDims& d, const Pass& ps, int layer, int ep_index);

// Forward of one transformer layer. `phase` forward or recompute. Returns the task producing its output.
Deps layer_forward(ClassCtx& C, const Pass& ps, int layer, Phase phase, const Deps& in, const Deps& pre);
// Backward of one layer (input gradients); weight gradients are emitted inline unless `defer`,
// in which case they are appended to `wq`. Returns the task producing the input gradient.
Deps layer_backward(ClassCtx& C, const Pass& ps, int layer, const Deps& grad_in, bool defer, std::vector<PendingW>& wq,
                    int group, const Deps& pre);
std::uint32_t emit_wgrad(ClassCtx& C, const PendingW& w);

// ---- Tensor parallel (tensor_parallel.cpp) ----
// Activation bytes of [tokens, h] on this rank's TP group (the full tensor, before any SP split).
double tp_tensor_bytes(const PlanDims& d, const Pass& ps);
Deps tp_gather_input(ClassCtx& C, const Pass& ps, int layer, Phase ph, const Deps& in);     // SP: all-gather before column-parallel
Deps tp_reduce_output(ClassCtx& C, const Pass& ps, int layer, Phase ph, const Deps& in);    // AR (no SP) / RS (SP) after row-parallel
Deps tp_grad_output(ClassCtx& C, const Pass& ps, int layer, const Deps& in);               // backward of the above: SP all-gather
Deps tp_grad_input(ClassCtx& C, const Pass& ps, int layer, const Deps& in);                // backward of gather: AR / RS
Deps tp_regather_for_wgrad(ClassCtx& C, const Pass& ps, int layer, const Deps& in);        // SP: input again for wgrad [S7d]
Deps tp_vocab_reductions(ClassCtx& C, const Pass& ps, Phase ph, const Deps& in);           // cross-entropy max/sum/target

// ---- Context parallel / attention core (context_parallel.cpp) ----
double attention_fwd_flops(const PlanDims& d, std::int64_t batch, std::int64_t heads, std::int64_t q, std::int64_t kv, bool causal);
Deps attention_forward(ClassCtx& C, const Pass& ps, int layer, Phase ph, const Deps& in);
Deps attention_backward(ClassCtx& C, const Pass& ps, int layer, const Deps& in);

// ---- Expert parallel (expert_parallel.cpp) ----
Deps moe_forward(ClassCtx& C, const Pass& ps, int layer, Phase ph, const Deps& in);
Deps moe_backward(ClassCtx& C, const Pass& ps, int layer, const Deps& in, bool defer, std::vector<PendingW>& wq, int group);
// Dense (or shared-expert) MLP, TP-split, with its TP collectives.
Deps mlp_forward(ClassCtx& C, const Pass& ps, int layer, Phase ph, const Deps& in, std::int64_t width, Op fc1, Op act, Op fc2);
Deps mlp_backward(ClassCtx& C, const Pass& ps, int layer, const Deps& in, std::int64_t width, Op fc1, Op act, Op fc2,
                  bool defer, std::vector<PendingW>& wq, int group);

// ---- Pipeline units (pipeline_parallel.cpp) ----
double pp_message_bytes(const PlanDims& d, const Pass& ps);
// Forward of one chunk for one micro-batch (or inference step): receive or embed, layers, send or head.
// `in` adds dependencies to the unit's first task (inference: the sampled token from the last stage).
std::uint32_t emit_forward_unit(ClassCtx& C, const Pass& ps, bool first_unit_of_chunk, const Deps& in = {});
// Activation bytes the embedding (first virtual stage) and the output layer + loss (last) keep per
// micro-batch (Megatron's theoretical_memory_usage [S7b]).
double embedding_activation(const PlanDims& d, const Pass& ps);
double output_activation(const PlanDims& d, const Pass& ps);
// Backward (B, with W inline unless the schedule splits it). Deferred W's go to `wq`.
std::uint32_t emit_backward_unit(ClassCtx& C, const Pass& ps, bool split, bool last_microbatch, std::vector<PendingW>& wq);
// W unit: the deferred weight gradients of one (micro-batch, chunk).
std::uint32_t emit_weight_unit(ClassCtx& C, const Pass& ps, std::vector<PendingW>& wq, bool last_microbatch);

// ---- Memory (memory.cpp) ----
MemoryBreakdown class_memory(const PlanDims& d, const StageLayout& sl, int stage, const ClassTasks& ct);

// ---- Inference (inference.cpp) ----
void build_inference_class(ClassCtx& C);

// LayerNorm traffic: forward reads x, writes y; backward reads dy and x, writes dx. With
// strategy.norm_kernel = apex_2020 (LayerNorm models) these bytes move at that kernel's measured
// rate (layer_ops.cpp); otherwise the returned rate is empty (the element-wise rate).
inline constexpr double kLayerNormFwdTensors = 2;
inline constexpr double kLayerNormBwdTensors = 3;
double apex_2020_layernorm_fraction(bool backward);
KernelRate layernorm_rate(const PlanDims& d, double elems, bool backward);

}  // namespace strata::plan
