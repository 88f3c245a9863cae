// One transformer layer as tasks: norms, the attention block (QKV projection, attention core,
// output projection) and the MLP block (dense, or MoE in expert_parallel.cpp), with Megatron's
// tensor-parallel shapes (reference §4.4) and the recomputation policy:
//  - selective: the attention core's forward runs again just before its backward;
//  - full: the whole layer's forward runs again before its backward (checkpointing every layer).
// Weight-gradient GEMMs (wgrad) follow their input-gradient GEMM (dgrad) unless the schedule
// defers them into W units (zb-h1). GEMM FLOPs are 2·M·N·K (+2 per bias element); backward
// dgrad and wgrad each cost the forward's FLOPs (§4.1).
#include "plan/plan_internal.hpp"

namespace strata::plan {

namespace {

// Element-wise HBM traffic, in activation-sized tensors of the op's width (reads + writes), per
// token. Every tensor a kernel reads or writes crosses HBM once; this is what the tensors of
// Korthikanti et al.'s per-layer accounting [S12b] (the 34·s·b·h of §7.2) cost to produce and
// consume:
//  - a norm with the residual add before it (the block input is x + branch output): the add
//    reads the two and writes the sum (3), the norm reads the sum and writes its output (2);
//    backward: the norm reads dy and x and writes dx (3), and the residual's two gradients are
//    summed (read 2, write 1). With hidden dropout the masks are charged too (below).
//  - the activation (GeLU: f wide; SwiGLU: gate and up in, f out): forward reads its input and
//    writes its output; backward reads the output gradient and the input, writes the input
//    gradient.
constexpr double kResidualNormFwdTensors = 3 + kLayerNormFwdTensors;
constexpr double kResidualNormBwdTensors = 3 + kLayerNormBwdTensors;
// Hidden dropout (model.hidden_dropout > 0; Megatron's bias-dropout-add): the forward also writes
// a 1-byte mask per element; the backward multiplies the incoming gradient by it (reads the
// gradient and the mask, writes the result). Megatron-LM 2021 scripts bias_dropout_add with the
// legacy TorchScript executor (_jit_set_profiling_executor(False)), where dropout lowers to
// rand_like < p and a bool mask tensor (PyTorch symbolic_script.cpp).
constexpr double kDropoutMaskBytesPerElement = 1;
constexpr double kDropoutBwdTensors = 2;  // + the mask

// The norm task (with the residual add and, with hidden dropout, the dropout of the branch that
// is added) over `elems` elements: its bytes and, with the legacy LayerNorm, the share of them
// that moves at that kernel's rate.
struct NormTraffic {
  double bytes = 0;
  KernelRate rate;
};
NormTraffic norm_traffic(const PlanDims& d, double elems, bool backward) {
  NormTraffic n;
  n.bytes = (backward ? kResidualNormBwdTensors : kResidualNormFwdTensors) * elems * d.act_B;
  if (d.hidden_dropout)
    n.bytes += backward ? elems * (kDropoutBwdTensors * d.act_B + kDropoutMaskBytesPerElement) : elems * kDropoutMaskBytesPerElement;
  n.rate = layernorm_rate(d, elems, backward);
  return n;
}

GemmShape gshape(const PlanDims& d, std::int64_t m, std::int64_t n, std::int64_t k, std::int32_t batch = 1) {
  GemmShape s;
  s.m = m;
  s.n = n;
  s.k = k;
  s.batch = batch;
  s.dtype = d.gemm_dtype;
  return s;
}

std::int64_t qkv_width(const PlanDims& d) {
  if (d.model->mla) return d.qkv_n_total / d.t;
  return d.a_t * d.d_qk + d.g_t * (d.d_qk + d.d_v);
}

}  // namespace

// apex's FusedLayerNorm before 2021 (Megatron-LM 2021's megatron/fused_kernels/layer_norm_cuda_
// kernel.cu is that kernel with other data types: J. Casper, bigscience-workshop/Megatron-DeepSpeed
// issue #136), measured on GA100 in NVIDIA/apex PR #1037 (2021-01-27; B=32, S=512, fp16 affine
// LayerNorm): forward 895.8 GB/s, backward 572.2 GB/s, where the new kernel of that PR reaches
// 1258 and 1163. Kept as fractions of the A100-40GB's datasheet bandwidth (the card of January
// 2021 — an assumption) and applied to the GPU's own: 1175 / 750 GB/s on the 80 GB A100. A kernel
// this far from the bandwidth limit may not speed up with faster memory; applying the GB/s as
// measured would make the 80 GB rows slower still.
double apex_2020_layernorm_fraction(bool backward) {
  static const double a100_40_GBps = find_gpu("A100-40-SXM")->hbm_GBps;
  return (backward ? kApex2020LayerNormBwdGBps : kApex2020LayerNormFwdGBps) / a100_40_GBps;
}

KernelRate layernorm_rate(const PlanDims& d, double elems, bool backward) {
  KernelRate r;
  if (!d.legacy_layernorm) return r;
  r.bytes = (backward ? kLayerNormBwdTensors : kLayerNormFwdTensors) * elems * d.act_B;
  r.hbm_fraction = apex_2020_layernorm_fraction(backward);
  return r;
}

// A linear layer Y[M,N] = X[M,K] W[K,N] (+ bias over `bias_n` columns): forward task.
static std::uint32_t linear_fwd(ClassCtx& C, Op op, Phase ph, int layer, std::int64_t M, std::int64_t N, std::int64_t K,
                                double bias_n, double mem, const Deps& deps) {
  GemmShape s = gshape(C.d, M, N, K);
  double flops = gemm_flops(s) + (C.d.bias ? 2.0 * double(M) * bias_n : 0.0);
  return C.E.gemm(op, ph, layer, s, flops, mem, deps);
}

// Its backward: dgrad now; wgrad now or deferred. Returns the dgrad task.
static std::uint32_t linear_bwd(ClassCtx& C, Op op, int layer, std::int64_t M, std::int64_t N, std::int64_t K, double bias_n,
                                const Deps& dy, const Deps& x_extra, bool defer, std::vector<PendingW>& wq, int group,
                                double mem = 0) {
  const double flops = 2.0 * double(M) * double(N) * double(K) + (C.d.bias ? 2.0 * double(M) * bias_n : 0.0);
  GemmShape dg = gshape(C.d, M, K, N);
  auto dgrad = C.E.gemm(op, Phase::backward_input, layer, dg, flops, mem, dy);
  PendingW w;
  w.op = op;
  w.shape = gshape(C.d, K, N, M);
  w.flops = flops;
  w.deps = dy;
  w.deps.add(x_extra);
  w.layer = layer;
  w.group = group;
  if (defer) wq.push_back(w);
  else emit_wgrad(C, w);
  return dgrad;
}

// What the TP reduction of a column-parallel layer's input gradient waits for: its dgrad, and,
// without strategy.tp_async_grad_reduce, also the weight gradient just emitted after it (the
// reduction then runs after the whole linear backward, as in Megatron-LM 2021).
static Deps grad_input_ready(ClassCtx& C, std::uint32_t dgrad, bool deferred) {
  Deps r = dgrad;
  if (!C.d.tp_async_grad && !deferred && C.d.t > 1) r.add(C.E.next_id() - 1);
  return r;
}

std::uint32_t emit_wgrad(ClassCtx& C, const PendingW& w) {
  if (w.kind == OpKind::elementwise) return C.E.elementwise(w.op, Phase::backward_weight, w.layer, w.bytes, w.mem, w.deps);
  return C.E.gemm(w.op, Phase::backward_weight, w.layer, w.shape, w.flops, w.mem, w.deps, w.kind);
}

LayerActivation layer_activation(const PlanDims& d, const Pass& ps, int layer, int ep_index) {
  // Korthikanti et al. [S12b] per-layer activation bytes for 16-bit activations, in units of
  // T·h (T = tokens on this rank): attention 11 (+5as/h when scores are materialised), MLP 19,
  // norms 4 — i.e. 34 for GPT (f = 4h, GeLU, MHA). Generalised here from the stored tensors:
  // Q, K, V and the projection input at their real widths (GQA, MLA), FC1's output at 2f for
  // SwiGLU. Without sequence parallelism the QKV/FC1 inputs, dropout masks and norm inputs are
  // replicated on every TP rank (Korthikanti's 10 + 24/t); with it everything is split by t.
  const double T = ps.tokens(), h = double(d.h), t = double(d.t), B = d.act_B / 2.0;  // coefficients are for 2-byte activations
  const double rep = ps.sp ? 1.0 / t : 1.0;
  LayerActivation a;
  // Attention: input to QKV (2) and dropout mask (1) replicated; Q, K, V and projection input split.
  double split_attn = 2.0 * double(d.a_t * d.d_qk + d.g_t * d.d_qk + d.g_t * d.d_v + d.a_t * d.d_v) / h;  // already per rank
  double scores = 0;
  if (!d.flash && d.recompute == Recompute::none)
    scores = 5.0 * double(d.a_t) * double(ps.kv) / h;  // softmax, its dropout mask and output: 5·a·s²·b / t
  a.attn = T * h * B * (3.0 * rep + split_attn + scores);  // split_attn uses per-rank widths (a/t heads)
  a.norms = T * h * B * 4.0 * rep;
  const bool moe = d.model->is_moe_layer(layer);
  if (!moe) {
    const double f1 = double(d.swiglu ? 2 * d.f : d.f) / t, f = double(d.f) / t;
    a.mlp = T * h * B * 3.0 * rep + T * B * 2.0 * (f1 + f);
  } else {
    // Router input and fp32 probabilities on the router tokens; per routed token on this rank:
    // expert input (h) and the expert FC1 output and activation at 1/t width; shared experts as a
    // dense MLP.
    const double Tr = T / t;
    const MoeLoad load = moe_load(d, Tr);
    const double M = double(d.e) * Tr * d.t * d.k * load.share[std::size_t(ep_index)];
    const double f1 = double(d.swiglu ? 2 * d.f_e : d.f_e) / t, fe = double(d.f_e) / t;
    a.mlp = Tr * h * 2.0 * B + Tr * d.E * 4.0 + M * B * 2.0 * (h + f1 + fe);
    if (d.shared > 0) {
      const double fs = double(d.f_e) * d.shared;
      const double sf1 = (d.swiglu ? 2 * fs : fs) / t;
      a.mlp += T * h * B * 3.0 * rep + T * B * 2.0 * (sf1 + fs / t);
    }
  }
  a.checkpoint = 2.0 * T * h * B * rep;  // full recompute keeps the layer input only
  return a;
}

Deps mlp_forward(ClassCtx& C, const Pass& ps, int layer, Phase ph, const Deps& in, std::int64_t width, Op fc1, Op act,
                 Op fc2) {
  const PlanDims& d = C.d;
  const auto T = std::int64_t(ps.tokens());
  const std::int64_t w = width / d.t, w1 = d.swiglu ? 2 * w : w;
  Deps x = tp_gather_input(C, ps, layer, ph, in);
  auto a = linear_fwd(C, fc1, ph, layer, T, w1, d.h, double(w1), 0, x);
  auto b = C.E.elementwise(act, ph, layer, double(T) * double(w1 + w) * d.act_B, 0, a);
  auto c = linear_fwd(C, fc2, ph, layer, T, d.h, w, double(d.h) / d.t, 0, b);
  return tp_reduce_output(C, ps, layer, ph, c);
}

Deps mlp_backward(ClassCtx& C, const Pass& ps, int layer, const Deps& in, std::int64_t width, Op fc1, Op act, Op fc2,
                  bool defer, std::vector<PendingW>& wq, int group) {
  const PlanDims& d = C.d;
  const auto T = std::int64_t(ps.tokens());
  const std::int64_t w = width / d.t, w1 = d.swiglu ? 2 * w : w;
  Deps g = tp_grad_output(C, ps, layer, in);
  auto c = linear_bwd(C, fc2, layer, T, d.h, w, double(d.h) / d.t, g, {}, defer, wq, group);
  auto b = C.E.elementwise(act, Phase::backward_input, layer, double(T) * double(w + 2 * w1) * d.act_B, 0, c);
  Deps x = tp_regather_for_wgrad(C, ps, layer, g);
  auto a = linear_bwd(C, fc1, layer, T, w1, d.h, double(w1), b, x, defer, wq, group);
  return tp_grad_input(C, ps, layer, grad_input_ready(C, a, defer));
}

Deps layer_forward(ClassCtx& C, const Pass& ps, int layer, Phase ph, const Deps& in, const Deps& pre) {
  const PlanDims& d = C.d;
  const auto T = std::int64_t(ps.tokens());
  const double T_sp = ps.sp ? double(T) / d.t : double(T);
  const LayerActivation act = layer_activation(d, ps, layer, C.ep_index);
  double mem_a = 0, mem_m = 0;
  if (d.train) {
    if (ph == Phase::recompute || d.recompute != Recompute::full) {
      mem_a = act.attn + act.norms / 2;
      mem_m = act.mlp + act.norms / 2;
    } else {
      mem_a = act.checkpoint;
    }
  }
  Deps first = in;
  first.add(pre);
  // Norm (with the residual add) over the local [T/t or T, h] slice.
  const NormTraffic norm_fwd = norm_traffic(d, T_sp * double(d.h), false);
  auto n1 = C.E.elementwise(Op::attn_norm, ph, layer, norm_fwd.bytes, mem_a, first, &norm_fwd.rate);
  Deps x = tp_gather_input(C, ps, layer, ph, n1);
  const std::int64_t qkv_n = qkv_width(d);
  auto qkv = linear_fwd(C, Op::qkv_proj, ph, layer, T, qkv_n, d.h, double(qkv_n), 0, x);
  Deps at = attention_forward(C, ps, layer, ph, qkv);
  auto o = linear_fwd(C, Op::attn_out_proj, ph, layer, T, d.h, d.a_t * d.d_v, double(d.h) / d.t, 0, at);
  Deps r = tp_reduce_output(C, ps, layer, ph, o);
  auto n2 = C.E.elementwise(Op::mlp_norm, ph, layer, norm_fwd.bytes, mem_m, r, &norm_fwd.rate);
  if (d.model->is_moe_layer(layer)) return moe_forward(C, ps, layer, ph, n2);
  return mlp_forward(C, ps, layer, ph, n2, d.f, Op::mlp_fc1, Op::mlp_act, Op::mlp_fc2);
}

Deps layer_backward(ClassCtx& C, const Pass& ps, int layer, const Deps& grad_in, bool defer, std::vector<PendingW>& wq,
                    int group, const Deps& pre) {
  const PlanDims& d = C.d;
  const auto T = std::int64_t(ps.tokens());
  const double T_sp = ps.sp ? double(T) / d.t : double(T);
  const LayerActivation act = layer_activation(d, ps, layer, C.ep_index);
  Deps start = grad_in;
  start.add(pre);
  if (d.recompute == Recompute::full) start = layer_forward(C, ps, layer, Phase::recompute, start, {});
  // MLP block.
  Deps g;
  if (d.model->is_moe_layer(layer)) g = moe_backward(C, ps, layer, start, defer, wq, group);
  else g = mlp_backward(C, ps, layer, start, d.f, Op::mlp_fc1, Op::mlp_act, Op::mlp_fc2, defer, wq, group);
  const NormTraffic norm_bwd = norm_traffic(d, T_sp * double(d.h), true);
  auto n2 = C.E.elementwise(Op::mlp_norm, Phase::backward_input, layer, norm_bwd.bytes, -(act.mlp + act.norms / 2), g,
                            &norm_bwd.rate);
  // Attention block.
  Deps g2 = tp_grad_output(C, ps, layer, n2);
  auto o = linear_bwd(C, Op::attn_out_proj, layer, T, d.h, d.a_t * d.d_v, double(d.h) / d.t, g2, {}, defer, wq, group);
  Deps ain = o;
  if (d.recompute == Recompute::selective) {
    Deps re = attention_forward(C, ps, layer, Phase::recompute, o);
    ain.add(re);
  }
  Deps at = attention_backward(C, ps, layer, ain);
  Deps x = tp_regather_for_wgrad(C, ps, layer, g2);
  const std::int64_t qkv_n = qkv_width(d);
  auto qkv = linear_bwd(C, Op::qkv_proj, layer, T, qkv_n, d.h, double(qkv_n), at, x, defer, wq, group);
  Deps gi = tp_grad_input(C, ps, layer, grad_input_ready(C, qkv, defer));
  const double freed = act.attn + act.norms / 2 + (d.recompute == Recompute::full ? act.checkpoint : 0.0);
  return C.E.elementwise(Op::attn_norm, Phase::backward_input, layer, norm_bwd.bytes, -freed, gi, &norm_bwd.rate);
}

}  // namespace strata::plan
