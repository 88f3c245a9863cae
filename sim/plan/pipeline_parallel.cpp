// Pipeline parallelism (reference §5.6, §6): stages of consecutive layers (even, or
// strategy.layer_split), v chunks per stage when interleaved (virtual stage = chunk·p + stage,
// Megatron's layout), the embedding on the first virtual stage and the output layer + loss on the
// last, and the activation / gradient sends between neighbouring virtual stages (the last stage's
// chunk c feeds the first stage's chunk c+1, one step further along the pp ring). With TP + SP
// each TP rank sends its 1/t shard of b·s·h; so it does without SP under strategy.pp_scatter_gather
// (Megatron's scatter/gather optimization, SC'21 §4.1 [S12a]: the receiving stage then all-gathers
// the shards over the TP group, which is NVLink when TP is inside the node). Under
// strategy.overlap_p2p_comm = false a stage computes again only once its last exchange completed
// (Megatron's p2p_communication waits on its requests and synchronizes the device).
#include <numeric>

#include "plan/plan_internal.hpp"

namespace strata::plan {

StageLayout stage_layout(const PlanDims& d) {
  const int p = d.p, v = d.v, L = d.model->layers;
  std::vector<int> per_stage(std::size_t(p), L / p);
  const auto& split = d.sc->strategy.layer_split;
  if (!split.empty()) per_stage.assign(split.begin(), split.end());
  StageLayout sl;
  sl.layers.assign(std::size_t(p), std::vector<ChunkLayers>(std::size_t(v)));
  int next = 0;
  for (int c = 0; c < v; ++c)
    for (int s = 0; s < p; ++s) {
      int n = per_stage[std::size_t(s)] / v;
      sl.layers[std::size_t(s)][std::size_t(c)] = {next, n};
      next += n;
    }
  return sl;
}

namespace {
bool pp_gathers(const PlanDims& d, const Pass& ps) { return d.pp_scatter_gather && !ps.sp && d.t > 1; }
}  // namespace

double pp_message_bytes(const PlanDims& d, const Pass& ps) {
  return ps.tokens() * double(d.h) * d.act_B / (ps.sp || pp_gathers(d, ps) ? double(d.t) : 1.0);
}

double embedding_activation(const PlanDims& d, const Pass& ps) {
  // Input ids (8 bytes per token) and the embedding dropout mask (s·b·h), divided by t [S7b].
  const double T = ps.tokens();
  return (8.0 * T + T * double(d.h)) / d.t;
}

double output_activation(const PlanDims& d, const Pass& ps) {
  // Final norm output and the fp32 logits / softmax of the vocabulary-parallel loss [S7b]:
  // 4·s·b·h·(1 + V/h) / t.
  const double T = ps.tokens();
  return 4.0 * T * double(d.h) * (1.0 + double(d.V) / double(d.h)) / d.t;
}

namespace {

// HBM bytes per logit (vocabulary-parallel shard element) of the loss, as Megatron computes it
// (megatron/core/tensor_parallel/cross_entropy.py, _VocabParallelCrossEntropy; the same passes in
// Megatron-LM 2021, mpu/cross_entropy.py), on the 16-bit logits cast to fp32 (the default, without
// --fp16-lm-cross-entropy or --cross-entropy-loss-fusion), every pass a separate kernel over the
// [T, V/t] tensor:
//   forward:  cast to fp32 (read 2, write 4), max (read 4), subtract the max in place (read 4,
//             write 4), exp (read 4, write 4), sum (read 4), divide in place, kept as the softmax
//             for backward (read 4, write 4)                                     = 38 bytes
//   backward: scale the softmax by the loss gradient in place (read 4, write 4), cast back to 16
//             bits (read 4, write 2)                                             = 14 bytes
// PyTorch's own cross_entropy under autocast (cast to fp32, log_softmax, nll_loss and their
// backwards) moves about as much (~40 bytes).
constexpr double kLossFwdBytesPerLogit = 38.0;
constexpr double kLossBwdBytesPerLogit = 14.0;

struct UnitShape {
  int vs = 0, V = 1;
  bool head = false, emb = false;
  ChunkLayers layers;
  int group_of_layer(int layer) const { return (head ? 1 : 0) + (layers.first + layers.count - 1 - layer); }
  int head_group() const { return 0; }
  int emb_group() const { return (head ? 1 : 0) + layers.count; }
};

UnitShape unit_shape(const ClassCtx& C, int chunk) {
  UnitShape u;
  u.vs = chunk * C.d.p + C.stage;
  u.V = C.d.p * C.d.v;
  u.head = u.vs == u.V - 1;
  u.emb = u.vs == 0;
  u.layers = C.sl.layers[std::size_t(C.stage)][std::size_t(chunk)];
  return u;
}

P2PInfo pp_info(double bytes, int offset) {
  P2PInfo pi;
  pi.group = GroupKind::pp;
  pi.offset = std::int8_t(offset);
  pi.bytes = bytes;
  return pi;
}

// A received activation or gradient: under scatter/gather, the TP all-gather of the t shards.
std::uint32_t pp_received(ClassCtx& C, const Pass& ps, Phase ph, std::uint32_t recv) {
  if (!pp_gathers(C.d, ps)) return recv;
  CollInfo ci;
  ci.kind = CollKind::all_gather;
  ci.group = GroupKind::tp;
  ci.algo = C.d.algo;
  ci.bytes = ps.tokens() * double(C.d.h) * C.d.act_B;  // the gathered buffer (nccl-tests convention)
  return C.E.collective(Op::pp_allgather, Category::pp, Stream::tp, ph, -1, ci, recv);
}

// What the first task of a unit waits for besides its data: the previous pipeline exchange when
// sends do not overlap compute.
Deps p2p_barrier(const ClassCtx& C) { return C.d.overlap_p2p ? Deps{} : C.last_exchange; }

}  // namespace

std::uint32_t emit_forward_unit(ClassCtx& C, const Pass& ps, bool first_unit_of_chunk, const Deps& in) {
  const PlanDims& d = C.d;
  Emitter& E = C.E;
  E.mb = ps.mb;
  E.chunk = ps.chunk;
  const UnitShape u = unit_shape(C, ps.chunk);
  const double T = ps.tokens(), T_sp = ps.sp ? T / d.t : T;
  std::uint32_t prev = E.next_id() == 0 ? kNone : E.next_id() - 1;
  Deps cur;
  const Deps barrier = p2p_barrier(C);
  if (u.emb) {
    Deps first = in;
    first.add(barrier);
    if (C.dp) first.add(C.dp->before_forward(E, ps.chunk, u.emb_group(), first_unit_of_chunk, prev));
    // Vocabulary-parallel embedding: each TP rank looks up its vocabulary shard, then the partial
    // [T, h] rows are summed (all-reduce, or reduce-scatter with SP).
    auto emb = E.elementwise(Op::embedding, Phase::forward, -1, 2.0 * T * double(d.h) * d.act_B,
                             d.train ? embedding_activation(d, ps) : 0.0, first);
    cur = tp_reduce_output(C, ps, -1, Phase::forward, emb);
  } else {
    auto r = E.recv(Op::pp_recv_act, Category::pp, Stream::pp_recv_fwd, Phase::forward, -1,
                    pp_info(pp_message_bytes(d, ps), -1), in);
    C.book->recvs[P2PKey::make(0, ps.mb, u.vs)] = r;
    cur = pp_received(C, ps, Phase::forward, r);
  }
  for (int l = u.layers.first; l < u.layers.first + u.layers.count; ++l) {
    Deps pre;
    if (l == u.layers.first && !u.emb) pre.add(barrier);
    if (C.dp) pre.add(C.dp->before_forward(E, ps.chunk, u.group_of_layer(l), first_unit_of_chunk, prev));
    cur = layer_forward(C, ps, l, Phase::forward, cur, pre);
    prev = E.next_id() - 1;
  }
  if (!u.head) {
    if (C.defer_fwd_send) {
      C.deferred_fwd_send = {true, pp_message_bytes(d, ps), P2PKey::make(0, ps.mb, u.vs + 1), cur, ps.mb, ps.chunk};
      return cur.id[std::size_t(cur.n - 1)];
    }
    auto s = E.send(Op::pp_send_act, Category::pp, Stream::pp_send, Phase::forward, -1, pp_info(pp_message_bytes(d, ps), 1), cur);
    C.book->sends[P2PKey::make(0, ps.mb, u.vs + 1)] = s;
    C.last_exchange = Deps(s);
    return s;
  }
  Deps first = cur;
  if (C.dp) first.add(C.dp->before_forward(E, ps.chunk, u.head_group(), first_unit_of_chunk, prev));
  const KernelRate fn_rate = layernorm_rate(d, T_sp * double(d.h), false);
  auto fn = E.elementwise(Op::final_norm, Phase::forward, -1, kLayerNormFwdTensors * T_sp * double(d.h) * d.act_B, 0, first,
                          &fn_rate);
  Deps x = tp_gather_input(C, ps, -1, Phase::forward, fn);
  GemmShape hs;
  hs.m = std::int64_t(T);
  hs.n = d.V / d.t;
  hs.k = d.h;
  hs.dtype = d.gemm_dtype;
  auto head = E.gemm(Op::lm_head, Phase::forward, -1, hs, gemm_flops(hs), d.train ? output_activation(d, ps) : 0.0, x);
  if (d.train) {
    auto ce = E.elementwise(Op::cross_entropy, Phase::forward, -1, kLossFwdBytesPerLogit * T * double(hs.n), 0, head);
    Deps r = tp_vocab_reductions(C, ps, Phase::forward, ce);
    const std::uint32_t end = r.id[std::size_t(r.n - 1)];
    C.fwd_end[P2PKey::make(0, ps.mb, ps.chunk)] = end;
    return end;
  }
  // Inference: greedy sampling over the vocabulary shards (local arg-max, then a max all-reduce).
  auto smp = E.elementwise(Op::sample, Phase::forward, -1, T * double(hs.n) * d.act_B, 0, head);
  if (d.t == 1) return smp;
  CollInfo ci;
  ci.kind = CollKind::all_reduce;
  ci.group = GroupKind::tp;
  ci.algo = d.algo;
  ci.bytes = T * 8.0;
  return E.collective(Op::ce_allreduce, Category::tp, Stream::tp, Phase::forward, -1, ci, smp);
}

namespace {

// The exchange that ends a backward unit: its own send (if any) and a forward send held back for
// it (interleaved steady state without p2p overlap), issued together once the backward is done.
std::uint32_t end_backward_exchange(ClassCtx& C, std::uint32_t own_send, std::uint32_t last_task) {
  Deps exchange;
  exchange.add(own_send);
  auto& f = C.deferred_fwd_send;
  if (f.active) {
    Emitter& E = C.E;
    const std::int32_t mb = E.mb, chunk = E.chunk;
    E.mb = f.mb;
    E.chunk = f.chunk;
    Deps deps = f.deps;
    deps.add(last_task);
    auto s = E.send(Op::pp_send_act, Category::pp, Stream::pp_send, Phase::forward, -1, pp_info(f.bytes, 1), deps);
    C.book->sends[f.key] = s;
    exchange.add(s);
    E.mb = mb;
    E.chunk = chunk;
    f.active = false;
  }
  if (!exchange.empty()) C.last_exchange = exchange;
  return own_send != kNone ? own_send : last_task;
}

}  // namespace

std::uint32_t emit_backward_unit(ClassCtx& C, const Pass& ps, bool split, bool last_microbatch, std::vector<PendingW>& wq) {
  const PlanDims& d = C.d;
  Emitter& E = C.E;
  E.mb = ps.mb;
  E.chunk = ps.chunk;
  const UnitShape u = unit_shape(C, ps.chunk);
  const double T = ps.tokens(), T_sp = ps.sp ? T / d.t : T;
  std::uint32_t prev = E.next_id() == 0 ? kNone : E.next_id() - 1;
  Deps cur;
  const Deps barrier = p2p_barrier(C);
  if (u.head) {
    Deps pre = barrier;
    if (C.dp) pre.add(C.dp->before_backward(E, ps.chunk, u.head_group(), prev));
    if (auto it = C.fwd_end.find(P2PKey::make(0, ps.mb, ps.chunk)); it != C.fwd_end.end()) pre.add(it->second);
    auto ce = E.elementwise(Op::cross_entropy, Phase::backward_input, -1, kLossBwdBytesPerLogit * T * double(d.V / d.t), 0, pre);
    // LM head: logits[T, V/t] = X[T, h] W[h, V/t].
    const double flops = 2.0 * T * double(d.V / d.t) * double(d.h);
    GemmShape dg;
    dg.m = std::int64_t(T);
    dg.n = d.h;
    dg.k = d.V / d.t;
    dg.dtype = d.gemm_dtype;
    auto dgrad = E.gemm(Op::lm_head, Phase::backward_input, -1, dg, flops, -output_activation(d, ps), ce);
    PendingW w;
    w.op = Op::lm_head;
    w.shape = dg;
    w.shape.m = d.h;
    w.shape.n = d.V / d.t;
    w.shape.k = std::int64_t(T);
    w.flops = flops;
    w.deps = ce;
    w.layer = -1;
    w.group = u.head_group();
    if (split) wq.push_back(w);
    else emit_wgrad(C, w);
    Deps gi = tp_grad_input(C, ps, -1, dgrad);
    const KernelRate fn_rate = layernorm_rate(d, T_sp * double(d.h), true);
    cur = E.elementwise(Op::final_norm, Phase::backward_input, -1, kLayerNormBwdTensors * T_sp * double(d.h) * d.act_B, 0, gi,
                        &fn_rate);
    if (!split && C.dp) C.dp->grads_done(E, ps.chunk, u.head_group(), E.next_id() - 1, last_microbatch);
  } else {
    auto r = E.recv(Op::pp_recv_grad, Category::pp, Stream::pp_recv_bwd, Phase::backward_input, -1,
                    pp_info(pp_message_bytes(d, ps), 1), {});
    C.book->recvs[P2PKey::make(1, ps.mb, u.vs)] = r;
    cur = pp_received(C, ps, Phase::backward_input, r);
  }
  for (int l = u.layers.first + u.layers.count - 1; l >= u.layers.first; --l) {
    const int g = u.group_of_layer(l);
    Deps pre;
    if (l == u.layers.first + u.layers.count - 1 && !u.head) pre.add(barrier);
    if (C.dp) pre.add(C.dp->before_backward(E, ps.chunk, g, E.next_id() - 1));
    cur = layer_backward(C, ps, l, cur, split, wq, g, pre);
    if (!split && C.dp) C.dp->grads_done(E, ps.chunk, g, E.next_id() - 1, last_microbatch);
  }
  if (!u.emb) {
    auto s = E.send(Op::pp_send_grad, Category::pp, Stream::pp_send, Phase::backward_input, -1,
                    pp_info(pp_message_bytes(d, ps), -1), cur);
    C.book->sends[P2PKey::make(1, ps.mb, u.vs - 1)] = s;
    return end_backward_exchange(C, s, s);
  }
  // Embedding gradient: scatter-add of the [T, h] gradient rows into the vocabulary shard (a
  // weight gradient). With SP the gradient is first all-gathered (backward of the reduce-scatter).
  Deps g = tp_grad_output(C, ps, -1, cur);
  PendingW w;
  w.op = Op::embedding;
  w.kind = OpKind::elementwise;
  w.bytes = 2.0 * T * double(d.h) * d.act_B;
  w.mem = -embedding_activation(d, ps);
  w.deps = g;
  w.layer = -1;
  w.group = u.emb_group();
  if (split) {
    wq.push_back(w);
    return end_backward_exchange(C, kNone, g.id[std::size_t(g.n - 1)]);
  }
  auto t = emit_wgrad(C, w);
  if (C.dp) C.dp->grads_done(E, ps.chunk, u.emb_group(), t, last_microbatch);
  return end_backward_exchange(C, kNone, t);
}

std::uint32_t emit_weight_unit(ClassCtx& C, const Pass& ps, std::vector<PendingW>& wq, bool last_microbatch) {
  Emitter& E = C.E;
  E.mb = ps.mb;
  E.chunk = ps.chunk;
  std::uint32_t last = kNone;
  for (std::size_t i = 0; i < wq.size(); ++i) {
    last = emit_wgrad(C, wq[i]);
    const bool group_ends = i + 1 == wq.size() || wq[i + 1].group != wq[i].group;
    if (group_ends && C.dp) C.dp->grads_done(E, ps.chunk, wq[i].group, E.next_id() - 1, last_microbatch);
  }
  wq.clear();
  return last;
}

}  // namespace strata::plan
