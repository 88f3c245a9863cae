// The attention core under context parallelism (reference §5.3, §5.4):
//  - none: one FlashAttention-style task per layer over the local heads (a/t query heads).
//  - ring (Megatron "p2p" [S7e], Ring Attention [S12q]): each rank holds 2 of the 2·cp sequence
//    chunks (i and 2cp−1−i), which balances the causal work: every one of the cp steps costs the
//    same (half a full block). Key/value blocks travel cp−1 steps around the cp ring, each send
//    overlapping the attention on the block in hand. Backward circulates the K/V blocks again and
//    the accumulating dK/dV with them (cp sends, the last one bringing dK/dV home): about 2x the
//    forward volume.
//  - ulysses (DeepSpeed [S8]): all-to-all of Q, K, V (sequence-sharded -> head-sharded) before
//    attention and of the output after it; backward the same in reverse.
//  - inference decode: each cp rank attends over its 1/cp of the KV cache; the partial outputs and
//    their log-sum-exp are all-gathered and merged (flash-decoding style).
// FLOPs follow the model convention (causal = half the scores; backward = 2x forward).
//
// strategy.attention = "unfused" (no context parallelism): the pre-FlashAttention attention of
// Megatron-LM 2021 [S12a][S12c], which FlashAttention [S12d] (2022) replaced. Per TP rank and
// micro-batch, b·a/t heads each run
//   forward:  attn_scores  batched GEMM S = Q K^T        [q, d] x [d, kv], writes S to HBM
//             attn_softmax fused scale-mask-softmax over S (read, write), then dropout (read,
//                          write, 1-byte mask): 4 tensors + 1 byte per score element
//             attn_context batched GEMM O = P V          [q, kv] x [kv, d]
//   backward: attn_context dV = P^T dO and dP = dO V^T
//             attn_softmax dropout backward (read dP and the mask, write) and softmax backward
//                          (read P and its gradient, write dS): 5 tensors + 1 byte per element
//             attn_scores  dQ = dS K and dK = dS^T Q
// Every score is computed: the causal mask is applied inside the softmax, nothing is skipped
// (Megatron's FLOP count, eq. 3 of [S12a], counts the full s^2 too). The stored P, its dropout
// output and mask are Korthikanti's 5·a·s^2·b bytes (§7.2), charged in layer_activation. Batched
// GEMMs with K = head_dim get the GEMM cost model's small-K and tile penalties, and the memory
// roofline (writing s^2 scores per head): reference §4.6.
#include <algorithm>

#include "plan/plan_internal.hpp"

namespace strata::plan {

namespace {

DType attn_dtype(const PlanDims& d) { return d.gemm_dtype == DType::fp8 ? DType::bf16 : d.gemm_dtype; }

AttnShape shape(const PlanDims& d, std::int64_t b, std::int64_t heads, std::int64_t kv_heads, std::int64_t q, std::int64_t kv,
                bool causal, bool backward) {
  AttnShape s;
  s.batch = std::int32_t(b);
  s.heads = std::int32_t(heads);
  s.kv_heads = std::int32_t(std::max<std::int64_t>(1, kv_heads));
  s.q_len = q;
  s.kv_len = kv;
  s.head_dim = std::int32_t(d.d_qk);
  s.causal = causal;
  s.backward = backward;
  s.dtype = attn_dtype(d);
  s.kernel = d.attn_kernel;
  return s;
}

// HBM bytes: read Q, K, V, write O (forward); backward reads Q, K, V, O, dO and writes dQ, dK, dV.
double attn_bytes(const PlanDims& d, const AttnShape& s) {
  double qo = double(s.batch) * s.heads * double(s.q_len) * double(d.d_qk + d.d_v);
  double kv = double(s.batch) * s.kv_heads * double(s.kv_len) * double(d.d_qk + d.d_v);
  return (s.backward ? 2.0 : 1.0) * (qo + kv) * d.act_B;
}

std::uint32_t attn_task(ClassCtx& C, int layer, Phase ph, const AttnShape& s, double fwd_flops, const Deps& deps) {
  double flops = s.backward ? 2.0 * fwd_flops : fwd_flops;
  return C.E.attention(Op::attn_core, ph, layer, s, flops, attn_bytes(C.d, s), deps);
}

struct RingPair {
  std::uint32_t recv = kNone, send = kNone;
};

// A send to the next cp rank and the matching receive from the previous one. All cp ranks have
// the same task structure, so the peer's matching task has the same id as ours.
RingPair ring_step(ClassCtx& C, Op send_op, Op recv_op, Phase ph, int layer, double bytes, const Deps& send_deps) {
  P2PInfo r;
  r.group = GroupKind::cp;
  r.offset = -1;
  r.bytes = bytes;
  RingPair p;
  p.recv = C.E.recv(recv_op, Category::cp, Stream::cp_recv, ph, layer, r, {});
  P2PInfo s = r;
  s.offset = 1;
  p.send = C.E.send(send_op, Category::cp, Stream::cp, ph, layer, s, send_deps);
  C.E.set_match(p.recv, p.send);
  C.E.set_match(p.send, p.recv);
  return p;
}

// Element-wise HBM traffic of the unfused softmax and dropout, per score element: activation-sized
// tensors read or written, plus the 1-byte dropout mask (Korthikanti's 5 bytes per score
// element stored = 2 softmax output + 2 dropout output + 1 mask [S12b]).
constexpr double kUnfusedSoftmaxFwdTensors = 4;  // softmax: read S, write P; dropout: read P, write
constexpr double kUnfusedSoftmaxBwdTensors = 5;  // dropout bwd: read dP', write dP; softmax bwd: read P, dP, write dS
constexpr double kDropoutMaskBytes = 1;

GemmShape batched_gemm(const PlanDims& d, std::int64_t batch, std::int64_t m, std::int64_t n, std::int64_t k) {
  GemmShape g;
  g.m = m;
  g.n = n;
  g.k = k;
  g.batch = std::int32_t(batch);
  g.dtype = attn_dtype(d);
  return g;
}

double score_elements(const PlanDims& d, const Pass& ps) { return double(ps.b * d.a_t) * double(ps.q) * double(ps.kv); }

Deps unfused_forward(ClassCtx& C, const Pass& ps, int layer, Phase ph, const Deps& in) {
  const PlanDims& d = C.d;
  const std::int64_t heads = ps.b * d.a_t;
  const GemmShape qk = batched_gemm(d, heads, ps.q, ps.kv, d.d_qk);
  auto s = C.E.gemm(Op::attn_scores, ph, layer, qk, gemm_flops(qk), 0, in);
  const double sm_bytes = score_elements(d, ps) * (kUnfusedSoftmaxFwdTensors * d.act_B + kDropoutMaskBytes);
  auto p = C.E.elementwise(Op::attn_softmax, ph, layer, sm_bytes, 0, s);
  const GemmShape pv = batched_gemm(d, heads, ps.q, d.d_v, ps.kv);
  return C.E.gemm(Op::attn_context, ph, layer, pv, gemm_flops(pv), 0, p);
}

Deps unfused_backward(ClassCtx& C, const Pass& ps, int layer, const Deps& in) {
  const PlanDims& d = C.d;
  const Phase ph = Phase::backward_input;
  const std::int64_t heads = ps.b * d.a_t;
  const GemmShape dv = batched_gemm(d, heads, ps.kv, d.d_v, ps.q);   // P^T dO
  const GemmShape dp = batched_gemm(d, heads, ps.q, ps.kv, d.d_v);   // dO V^T
  auto gv = C.E.gemm(Op::attn_context, ph, layer, dv, gemm_flops(dv), 0, in);
  auto gp = C.E.gemm(Op::attn_context, ph, layer, dp, gemm_flops(dp), 0, in);
  const double sm_bytes = score_elements(d, ps) * (kUnfusedSoftmaxBwdTensors * d.act_B + kDropoutMaskBytes);
  auto gs = C.E.elementwise(Op::attn_softmax, ph, layer, sm_bytes, 0, gp);
  const GemmShape dq = batched_gemm(d, heads, ps.q, d.d_qk, ps.kv);  // dS K
  const GemmShape dk = batched_gemm(d, heads, ps.kv, d.d_qk, ps.q);  // dS^T Q
  auto gq = C.E.gemm(Op::attn_scores, ph, layer, dq, gemm_flops(dq), 0, gs);
  auto gk = C.E.gemm(Op::attn_scores, ph, layer, dk, gemm_flops(dk), 0, gs);
  return Deps{gv, gq, gk};
}

double kv_block_bytes(const PlanDims& d, const Pass& ps) {
  return double(ps.b) * double(ps.q) * double(d.g_t) * double(d.d_qk + d.d_v) * d.act_B;
}

}  // namespace

double attention_fwd_flops(const PlanDims& d, std::int64_t batch, std::int64_t heads, std::int64_t q, std::int64_t kv,
                           bool causal) {
  // QK^T and PV: 2·q·kv·d_qk + 2·q·kv·d_v per head; causal keeps half the scores [S7a].
  return 2.0 * double(batch) * double(heads) * double(q) * double(kv) * double(d.d_qk + d.d_v) * (causal ? 0.5 : 1.0);
}

Deps attention_forward(ClassCtx& C, const Pass& ps, int layer, Phase ph, const Deps& in) {
  const PlanDims& d = C.d;
  const int c = d.c;
  if (!d.flash) return unfused_forward(C, ps, layer, ph, in);  // cp == 1 (check_plannable)
  if (c == 1) {
    AttnShape s = shape(d, ps.b, d.a_t, d.g_t, ps.q, ps.kv, ps.causal, false);
    return attn_task(C, layer, ph, s, attention_fwd_flops(d, ps.b, d.a_t, ps.q, ps.kv, ps.causal), in);
  }
  if (ps.decode) {
    AttnShape s = shape(d, ps.b, d.a_t, d.g_t, ps.q, ps.kv, false, false);
    auto part = attn_task(C, layer, ph, s, attention_fwd_flops(d, ps.b, d.a_t, ps.q, ps.kv, false), in);
    CollInfo ci;
    ci.kind = CollKind::all_gather;
    ci.group = GroupKind::cp;
    ci.algo = d.algo;
    ci.bytes = double(c) * double(ps.b) * double(ps.q) * double(d.a_t) * double(d.d_v + 1) * 4.0;  // fp32 O + LSE
    return C.E.collective(Op::cp_attn_combine, Category::cp, Stream::cp, ph, layer, ci, part);
  }
  if (d.cp_kind == CpKind::ulysses) {
    CollInfo ci;
    ci.kind = CollKind::all_to_all;
    ci.group = GroupKind::cp;
    ci.algo = d.algo;
    ci.bytes = double(ps.b) * double(ps.q) * double(d.a_t * d.d_qk + d.g_t * (d.d_qk + d.d_v)) * d.act_B;
    auto a2a_in = C.E.collective(Op::cp_all_to_all, Category::cp, Stream::cp, ph, layer, ci, in);
    const std::int64_t S = ps.q * c, heads = d.a_t / c, kvh = std::max<std::int64_t>(1, d.g_t / c);
    AttnShape s = shape(d, ps.b, heads, kvh, S, S, ps.causal, false);
    auto at = attn_task(C, layer, ph, s, attention_fwd_flops(d, ps.b, heads, S, S, ps.causal), a2a_in);
    ci.bytes = double(ps.b) * double(ps.q) * double(d.a_t * d.d_v) * d.act_B;
    return C.E.collective(Op::cp_all_to_all, Category::cp, Stream::cp, ph, layer, ci, at);
  }
  // Ring: c steps of equal work.
  const std::int64_t S = ps.q * c;
  const double step_flops = attention_fwd_flops(d, ps.b, d.a_t, S, S, ps.causal) / double(c) / double(c);
  const double kvb = kv_block_bytes(d, ps);
  Deps have = in;  // the K/V block in hand
  std::uint32_t last = kNone;
  for (int k = 0; k < c; ++k) {
    RingPair rp;
    if (k < c - 1) rp = ring_step(C, Op::cp_send_kv, Op::cp_recv_kv, ph, layer, kvb, have);
    AttnShape s = k == 0 ? shape(d, ps.b, d.a_t, d.g_t, ps.q, ps.q, ps.causal, false)
                         : shape(d, ps.b, d.a_t, d.g_t, ps.q, ps.causal ? ps.q / 2 : ps.q, false, false);
    last = attn_task(C, layer, ph, s, step_flops, have);
    have = rp.recv;
  }
  return last;
}

Deps attention_backward(ClassCtx& C, const Pass& ps, int layer, const Deps& in) {
  const PlanDims& d = C.d;
  const int c = d.c;
  const Phase ph = Phase::backward_input;
  if (!d.flash) return unfused_backward(C, ps, layer, in);
  if (c == 1) {
    AttnShape s = shape(d, ps.b, d.a_t, d.g_t, ps.q, ps.kv, ps.causal, true);
    return attn_task(C, layer, ph, s, attention_fwd_flops(d, ps.b, d.a_t, ps.q, ps.kv, ps.causal), in);
  }
  if (d.cp_kind == CpKind::ulysses) {
    CollInfo ci;
    ci.kind = CollKind::all_to_all;
    ci.group = GroupKind::cp;
    ci.algo = d.algo;
    ci.bytes = double(ps.b) * double(ps.q) * double(d.a_t * d.d_v) * d.act_B;  // dO
    auto a2a_in = C.E.collective(Op::cp_all_to_all, Category::cp, Stream::cp, ph, layer, ci, in);
    const std::int64_t S = ps.q * c, heads = d.a_t / c, kvh = std::max<std::int64_t>(1, d.g_t / c);
    AttnShape s = shape(d, ps.b, heads, kvh, S, S, ps.causal, true);
    auto at = attn_task(C, layer, ph, s, attention_fwd_flops(d, ps.b, heads, S, S, ps.causal), a2a_in);
    ci.bytes = double(ps.b) * double(ps.q) * double(d.a_t * d.d_qk + d.g_t * (d.d_qk + d.d_v)) * d.act_B;  // dQ, dK, dV
    return C.E.collective(Op::cp_all_to_all, Category::cp, Stream::cp, ph, layer, ci, at);
  }
  const std::int64_t S = ps.q * c;
  const double step_flops = attention_fwd_flops(d, ps.b, d.a_t, S, S, ps.causal) / double(c) / double(c);
  const double kvb = kv_block_bytes(d, ps);
  Deps have = in;                 // K/V block in hand (step 0: our own)
  std::uint32_t dkv_in = kNone;   // partial dK/dV of that block from the previous rank
  Deps out;
  for (int k = 0; k < c; ++k) {
    RingPair kv;
    if (k < c - 1) kv = ring_step(C, Op::cp_send_kv, Op::cp_recv_kv, ph, layer, kvb, have);
    AttnShape s = k == 0 ? shape(d, ps.b, d.a_t, d.g_t, ps.q, ps.q, ps.causal, true)
                         : shape(d, ps.b, d.a_t, d.g_t, ps.q, ps.causal ? ps.q / 2 : ps.q, false, true);
    Deps deps = have;
    deps.add(dkv_in);
    auto at = attn_task(C, layer, ph, s, step_flops, deps);
    RingPair dkv = ring_step(C, Op::cp_send_dkv, Op::cp_recv_dkv, ph, layer, kvb, at);
    dkv_in = dkv.recv;
    have = kv.recv;
    if (k == c - 1) out = {at, dkv.recv};  // dQ local; our dK/dV came home with the last receive
  }
  return out;
}

}  // namespace strata::plan
