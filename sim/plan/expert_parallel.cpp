// Expert parallelism (Megatron-Core MoE with the all-to-all token dispatcher [S7c]; reference §5.5):
// per MoE layer, forward
//   router GEMM -> permute -> dispatch all-to-all(-v) over the EP group -> [TP all-gather of the
//   dispatched tokens] -> grouped expert GEMMs (FC1, activation, FC2) over the local experts ->
//   [TP reduce-scatter] -> combine all-to-all(-v) -> unpermute (weighted sum of the top-k outputs),
// with the shared experts (a TP-split dense MLP) running on the compute stream while the dispatch
// is in flight. Backward mirrors it (the gradient of combine is a dispatch, and vice versa).
//
// Routing is deterministic: expert j's popularity is Zipf, (j+1)^-router_skew, water-filled so
// that a token picks k distinct experts (each expert receives at most every token). Experts sit
// on EP ranks in contiguous blocks (Megatron's local-expert ranges), so EP rank 0 holds the
// hottest experts: its received tokens, expert GEMMs and combine traffic grow with the skew.
// With a capacity factor, each source rank keeps at most ceil(T·k/E·CF) tokens per expert
// (Megatron's get_capacity, drop policy by position) and drops the rest before dispatch.
// With router_skew = 0 every EP rank does the same work and the dispatch is a plain all-to-all.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "plan/plan_internal.hpp"

namespace strata::plan {

std::vector<double> expert_token_fractions(int experts, int top_k, double skew) {
  std::vector<double> w(static_cast<std::size_t>(experts));
  for (int j = 0; j < experts; ++j) w[std::size_t(j)] = std::pow(double(j + 1), -skew);
  // Water-filling: f_j = min(1, lambda·w_j) with sum f_j = k; weights are non-increasing in j.
  std::vector<double> f(w.size(), 0.0);
  int capped = 0;
  while (capped < experts) {
    double rest = 0;
    for (std::size_t j = std::size_t(capped); j < w.size(); ++j) rest += w[j];
    double lambda = double(top_k - capped) / rest;
    if (lambda * w[std::size_t(capped)] > 1.0) {
      f[std::size_t(capped)] = 1.0;
      ++capped;
      continue;
    }
    for (std::size_t j = std::size_t(capped); j < w.size(); ++j) f[j] = lambda * w[j];
    break;
  }
  return f;
}

MoeLoad moe_load(const PlanDims& d, double router_tokens) {
  MoeLoad L;
  L.share.assign(std::size_t(d.e), 0.0);
  const double assignments = router_tokens * d.k;
  if (assignments <= 0) {
    std::fill(L.share.begin(), L.share.end(), 1.0 / d.e);
    return L;
  }
  const double cap = d.cf > 0 ? std::ceil(assignments / d.E * d.cf) : 0.0;
  for (int j = 0; j < d.E; ++j) {
    double a = router_tokens * d.expert_frac[std::size_t(j)];
    if (d.cf > 0) a = std::min(a, cap);
    L.share[std::size_t(j / d.E_local)] += a / assignments;
  }
  L.kept = std::accumulate(L.share.begin(), L.share.end(), 0.0);
  return L;
}

namespace {

struct MoeSizes {
  double Tr = 0;        // tokens entering the router on this rank
  double M = 0;         // tokens processed by this rank's experts (after the TP all-gather)
  MoeLoad load;
};

MoeSizes sizes(const ClassCtx& C, const Pass& ps) {
  MoeSizes s;
  s.Tr = ps.tokens() / C.d.t;
  s.load = moe_load(C.d, s.Tr);
  s.M = double(C.d.e) * s.Tr * C.d.t * C.d.k * s.load.share[std::size_t(C.ep_index)];
  return s;
}

std::int32_t a2av_index(ClassCtx& C, std::vector<double> per_peer) {
  auto& v = C.E.tasks().a2av_bytes;
  // Identical vectors repeat for every micro-batch and layer: share one entry.
  for (std::size_t i = v.size(); i-- > 0;)
    if (v[i] == per_peer) return std::int32_t(i);
  v.push_back(std::move(per_peer));
  return std::int32_t(v.size() - 1);
}

// `dispatch_like`: per-peer bytes follow the destination's share (tokens routed to each peer's
// experts); otherwise every peer gets this rank's own share back (the combine direction).
std::uint32_t ep_a2a(ClassCtx& C, const MoeSizes& z, Op op, Phase ph, int layer, bool dispatch_like, const Deps& deps) {
  const PlanDims& d = C.d;
  const double per_assignment = z.Tr * d.k * double(d.h) * d.act_B;
  CollInfo ci;
  ci.group = GroupKind::ep;
  ci.algo = d.algo;
  std::vector<double> peers(static_cast<std::size_t>(d.e));
  for (int q = 0; q < d.e; ++q)
    peers[std::size_t(q)] = per_assignment * (dispatch_like ? z.load.share[std::size_t(q)] : z.load.share[std::size_t(C.ep_index)]);
  ci.bytes = std::accumulate(peers.begin(), peers.end(), 0.0);
  if (d.skew > 0) {
    ci.kind = CollKind::all_to_all_v;
    ci.a2av = a2av_index(C, std::move(peers));
  } else {
    ci.kind = CollKind::all_to_all;
  }
  return C.E.collective(op, Category::ep, Stream::ep, ph, layer, ci, deps);
}

std::uint32_t tp_moe(ClassCtx& C, Op op, CollKind k, Phase ph, int layer, double bytes, const Deps& deps) {
  CollInfo ci;
  ci.kind = k;
  ci.group = GroupKind::tp;
  ci.algo = C.d.algo;
  ci.bytes = bytes;
  return C.E.collective(op, Category::tp, Stream::tp, ph, layer, ci, deps);
}

GemmShape grouped(const PlanDims& d, double m_total, std::int64_t n, std::int64_t k) {
  GemmShape s;
  s.batch = d.E_local;
  s.m = std::int64_t(std::ceil(m_total / std::max(1, d.E_local)));
  s.n = n;
  s.k = k;
  s.dtype = d.gemm_dtype;
  return s;
}

double gflops(const PlanDims& d, double M, double N, double K, double bias_n) {
  return 2.0 * M * N * K + (d.bias ? 2.0 * M * bias_n : 0.0);
}

}  // namespace

Deps moe_forward(ClassCtx& C, const Pass& ps, int layer, Phase ph, const Deps& in) {
  const PlanDims& d = C.d;
  const MoeSizes z = sizes(C, ps);
  const std::int64_t fe = d.f_e / d.t, fe1 = d.swiglu ? 2 * fe : fe;
  const double hB = double(d.h) * d.act_B;
  // Router (fp32 logits over E experts) on this rank's tokens.
  GemmShape rs;
  rs.m = std::int64_t(std::ceil(z.Tr));
  rs.n = d.E;
  rs.k = d.h;
  rs.dtype = d.gemm_dtype;
  auto router = C.E.gemm(Op::router, ph, layer, rs, 2.0 * z.Tr * double(d.h) * d.E, 0, in);
  auto perm = C.E.elementwise(Op::moe_permute, ph, layer, 2.0 * z.Tr * d.k * hB, 0, router);
  Deps disp = perm;
  if (d.e > 1) disp = ep_a2a(C, z, Op::ep_dispatch, ph, layer, true, perm);
  Deps shared;
  if (d.shared > 0) shared = mlp_forward(C, ps, layer, ph, in, d.f_e * d.shared, Op::shared_fc1, Op::shared_act, Op::shared_fc2);
  Deps x = disp;
  if (d.t > 1) x = tp_moe(C, Op::tp_allgather, CollKind::all_gather, ph, layer, z.M * hB, disp);
  auto fc1 = C.E.gemm(Op::expert_fc1, ph, layer, grouped(d, z.M, fe1, d.h), gflops(d, z.M, double(fe1), double(d.h), double(fe1)), 0,
                      x, OpKind::grouped_gemm);
  auto act = C.E.elementwise(Op::expert_act, ph, layer, z.M * double(fe1 + fe) * d.act_B, 0, fc1);
  auto fc2 = C.E.gemm(Op::expert_fc2, ph, layer, grouped(d, z.M, d.h, fe), gflops(d, z.M, double(d.h), double(fe), double(d.h) / d.t),
                      0, act, OpKind::grouped_gemm);
  Deps y = fc2;
  if (d.t > 1) y = tp_moe(C, Op::tp_reduce_scatter, CollKind::reduce_scatter, ph, layer, z.M * hB, fc2);
  if (d.e > 1) y = ep_a2a(C, z, Op::ep_combine, ph, layer, false, y);
  // Without sequence parallelism the residual stream is replicated [T, h]: gather the 1/t slices.
  if (d.t > 1 && !ps.sp) y = tp_moe(C, Op::tp_allgather, CollKind::all_gather, ph, layer, ps.tokens() * hB, y);
  Deps un = y;
  un.add(shared);
  return C.E.elementwise(Op::moe_unpermute, ph, layer, 2.0 * z.Tr * d.k * hB, 0, un);
}

Deps moe_backward(ClassCtx& C, const Pass& ps, int layer, const Deps& in, bool defer, std::vector<PendingW>& wq, int group) {
  const PlanDims& d = C.d;
  const MoeSizes z = sizes(C, ps);
  const std::int64_t fe = d.f_e / d.t, fe1 = d.swiglu ? 2 * fe : fe;
  const double hB = double(d.h) * d.act_B;
  const Phase ph = Phase::backward_input;
  auto wgrad = [&](Op op, const GemmShape& s, double flops, const Deps& deps) {
    PendingW w;
    w.op = op;
    w.kind = OpKind::grouped_gemm;
    w.shape = s;
    w.flops = flops;
    w.deps = deps;
    w.layer = layer;
    w.group = group;
    if (defer) wq.push_back(w);
    else emit_wgrad(C, w);
  };
  auto un = C.E.elementwise(Op::moe_unpermute, ph, layer, 2.0 * z.Tr * d.k * hB, 0, in);
  Deps g = un;
  if (d.e > 1) g = ep_a2a(C, z, Op::ep_combine, ph, layer, true, un);
  Deps shared;
  if (d.shared > 0)
    shared = mlp_backward(C, ps, layer, in, d.f_e * d.shared, Op::shared_fc1, Op::shared_act, Op::shared_fc2, defer, wq, group);
  if (d.t > 1) g = tp_moe(C, Op::tp_allgather, CollKind::all_gather, ph, layer, z.M * hB, g);
  // FC2: Y[M, h] = X[M, fe] W[fe, h].
  const double f2 = gflops(d, z.M, double(d.h), double(fe), double(d.h) / d.t);
  auto fc2 = C.E.gemm(Op::expert_fc2, ph, layer, grouped(d, z.M, fe, d.h), f2, 0, g, OpKind::grouped_gemm);
  GemmShape w2 = grouped(d, z.M, d.h, 0);
  w2.m = fe;
  w2.k = std::int64_t(std::ceil(z.M / std::max(1, d.E_local)));
  wgrad(Op::expert_fc2, w2, f2, g);
  // Activation backward: reads the output gradient and the input, writes the input gradient
  // (as the dense MLP's, layer_ops.cpp).
  auto act = C.E.elementwise(Op::expert_act, ph, layer, z.M * double(fe + 2 * fe1) * d.act_B, 0, fc2);
  // FC1: Y[M, fe1] = X[M, h] W[h, fe1].
  const double f1 = gflops(d, z.M, double(fe1), double(d.h), double(fe1));
  auto fc1 = C.E.gemm(Op::expert_fc1, ph, layer, grouped(d, z.M, d.h, fe1), f1, 0, act, OpKind::grouped_gemm);
  GemmShape w1 = grouped(d, z.M, fe1, 0);
  w1.m = d.h;
  w1.k = std::int64_t(std::ceil(z.M / std::max(1, d.E_local)));
  wgrad(Op::expert_fc1, w1, f1, act);
  Deps x = fc1;
  if (d.t > 1) x = tp_moe(C, Op::tp_reduce_scatter, CollKind::reduce_scatter, ph, layer, z.M * hB, fc1);
  if (d.e > 1) x = ep_a2a(C, z, Op::ep_dispatch, ph, layer, false, x);
  auto perm = C.E.elementwise(Op::moe_permute, ph, layer, 2.0 * z.Tr * d.k * hB, 0, x);
  // Router: logits[Tr, E] = X[Tr, h] W[h, E].
  const double fr = 2.0 * z.Tr * double(d.h) * d.E;
  GemmShape rd;
  rd.m = std::int64_t(std::ceil(z.Tr));
  rd.n = d.h;
  rd.k = d.E;
  rd.dtype = d.gemm_dtype;
  auto router = C.E.gemm(Op::router, ph, layer, rd, fr, 0, perm);
  GemmShape rw = rd;
  rw.m = d.h;
  rw.n = d.E;
  rw.k = std::int64_t(std::ceil(z.Tr));
  PendingW w;
  w.op = Op::router;
  w.shape = rw;
  w.flops = fr;
  w.deps = perm;
  w.layer = layer;
  w.group = group;
  if (defer) wq.push_back(w);
  else emit_wgrad(C, w);
  Deps out = router;
  if (d.t > 1 && !ps.sp) out = tp_moe(C, Op::tp_allgather, CollKind::all_gather, ph, layer, ps.tokens() * hB, router);
  out.add(shared);
  return out;
}

}  // namespace strata::plan
