// The planner's orchestration: derive the job's facts once, decide the rank classes, build one
// task list per class (each parallelism module adding its tasks, the pipeline schedule giving the
// order), match sends to receives across classes, then the rank -> class map, representatives,
// memory and the whole-job figures. Cost grows with the classes (pipeline stages, times EP ranks
// when the router is skewed), not with the number of GPUs.
#include "plan/planner.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "plan/memory.hpp"
#include "plan/plan_internal.hpp"

namespace strata {

namespace plan {

PlanDims derive_dims(const Scenario& sc, const PlanOptions& opt) {
  const Strategy& s = sc.strategy;
  const ModelSpec& m = sc.model;
  PlanDims d;
  d.sc = &sc;
  d.model = &m;
  d.options = opt;
  d.train = sc.workload.kind == WorkloadKind::train;
  d.t = s.tp;
  d.c = s.cp;
  d.p = s.pp;
  d.dp = s.dp;
  d.e = s.ep;
  d.v = s.vpp;
  d.m = d.train ? s.micro_batches() : 1;
  d.sp = d.train && s.sequence_parallel && s.tp > 1;
  d.cp_kind = s.cp_kind;
  d.recompute = d.train ? s.recompute : Recompute::none;
  d.flash = opt.flash_attention && s.attention != AttentionKind::unfused;
  d.attn_kernel = s.attention == AttentionKind::flash2   ? AttnKernel::fa2
                  : s.attention == AttentionKind::triton ? AttnKernel::triton
                                                         : AttnKernel::native;
  d.schedule = s.schedule;
  d.zero = d.train ? s.zero : 0;
  d.overlap_grad = s.overlap_grad_reduce;
  d.tp_async_grad = s.tp_async_grad_reduce;
  d.grad_accum_fusion = s.grad_accumulation_fusion;
  d.pp_scatter_gather = s.pp_scatter_gather;
  d.overlap_p2p = s.overlap_p2p_comm;
  d.overlap_param = s.overlap_param_gather;
  d.algo = s.algorithm;
  d.h = m.hidden;
  d.a = m.heads;
  d.g = m.kv_heads;
  if (m.mla) {
    d.d_qk = m.mla->qk_nope_head_dim + m.mla->qk_rope_head_dim;
    d.d_v = m.mla->v_head_dim;
  } else {
    d.d_qk = d.d_v = m.head_dim;
  }
  d.f = m.ffn_hidden;
  d.V = (m.vocab + s.tp - 1) / s.tp * s.tp;  // vocabulary padded to a multiple of tp (Megatron pads)
  d.swiglu = m.activation == Activation::swiglu;
  d.bias = m.linear_bias;
  d.hidden_dropout = d.train && m.hidden_dropout > 0;
  d.legacy_layernorm = s.norm_kernel == NormKernel::apex_2020 && m.norm == NormKind::layernorm;
  d.a_t = d.a / d.t;
  d.g_t = std::max<std::int64_t>(1, d.g / d.t);
  if (m.mla) {
    double w = (attention_params_per_layer(m) - double(d.a) * double(d.d_v) * double(d.h)) / double(d.h);
    d.qkv_n_total = std::int64_t(std::llround(w / d.t)) * d.t;
  } else {
    d.qkv_n_total = d.a * d.d_qk + d.g * (d.d_qk + d.d_v);
  }
  if (m.moe) {
    d.E = m.moe->experts;
    d.k = m.moe->top_k;
    d.E_local = d.E / d.e;
    d.shared = m.moe->shared_experts;
    d.f_e = m.moe->expert_ffn_hidden;
    d.cf = m.moe->capacity_factor;
    d.skew = m.moe->router_skew;
    d.expert_frac = expert_token_fractions(d.E, d.k, d.skew);
  }
  const DType dt = sc.compute_dtype();
  d.gemm_dtype = dt;
  d.act_B = dt == DType::fp32 ? 4.0 : 2.0;
  if (d.train) {
    StateBytes b = mixed_precision_state_bytes(dt, opt.fp32_master_weights);
    d.param_B = b.param;
    d.grad_B = b.grad;
    d.opt_K = b.optimizer;
    d.b = s.micro_batch;
  } else {
    d.param_B = dtype_bytes(dt);
    d.grad_B = 0;
    d.opt_K = 0;
    d.b = sc.workload.batch / s.dp;
  }
  d.seq = sc.workload.seq_len;
  d.prompt = sc.workload.prompt_len;
  d.gen = sc.workload.gen_len;
  d.dense_dp_group = d.c > 1 ? GroupKind::dp_cp : GroupKind::dp;
  d.dense_dp_size = d.dp * d.c;
  d.edp_size = d.dp * d.c / d.e;
  if (s.bucket_bytes > 0 && d.train) {
    d.bucket_params = s.bucket_bytes / d.grad_B;
    d.bucket_explicit = true;
  } else {
    d.bucket_params = std::max(40e6, 1e6 * d.dense_dp_size);  // Megatron DDP default [S7g]
  }
  return d;
}

namespace {

void check_plannable(const Scenario& sc, const PlanDims& d) {
  const std::string& f = sc.file;
  auto str = [](std::int64_t v) { return std::to_string(v); };
  if (d.E > 0 && d.f_e % d.t != 0)
    throw InputError(f, "strategy.tp", str(d.t) + " does not divide moe.expert_ffn_hidden = " + str(d.f_e));
  if (d.E > 0 && d.shared > 0 && (d.f_e * d.shared) % d.t != 0)
    throw InputError(f, "strategy.tp", str(d.t) + " does not divide the shared experts' width " + str(d.f_e * d.shared));
  if (d.train && d.b <= 0) throw InputError(f, "strategy.micro_batch", "must be positive");
  if (!d.train && d.b <= 0)
    throw InputError(f, "workload.batch", str(sc.workload.batch) + " sequences do not give every one of dp = " + str(d.dp) +
                                              " replicas a sequence");
  if (!d.flash && d.c > 1)
    throw InputError(f, "strategy.attention", "unfused attention with cp = " + str(d.c) +
                                                  " is not supported: context parallelism needs a fused attention kernel");
  if (d.schedule == Schedule::zb_h1 && d.v > 1)
    throw InputError(f, "strategy.schedule", "zb-h1 has one chunk per stage (got vpp = " + str(d.v) + ")");
}

struct BuiltClass {
  ClassTasks tasks;
  P2PBook book;
};

void build_train_class(const PlanDims& d, const StageLayout& sl, const std::vector<ScheduleUnit>& order, int stage, int ep_index,
                       BuiltClass& out) {
  Emitter E(out.tasks);
  DataParallel dp(d, sl, stage);
  ClassCtx C{d, sl, E, stage, ep_index, &dp, &out.book};
  dp.begin_step(E);
  Pass ps;
  ps.b = d.b;
  ps.q = d.seq / d.c;
  ps.kv = ps.q;
  ps.causal = true;
  ps.sp = d.sp;
  const bool split = splits_backward(d.schedule);
  std::vector<int> bwd_done(std::size_t(d.v), 0), w_done(std::size_t(d.v), 0);
  std::vector<char> fwd_seen(std::size_t(d.v), 0);
  // Deferred W's per (micro-batch, chunk).
  std::vector<std::vector<PendingW>> pending(static_cast<std::size_t>(d.m) * std::size_t(d.v));
  for (std::size_t i = 0; i < order.size(); ++i) {
    const ScheduleUnit& u = order[i];
    ps.mb = u.microbatch;
    ps.chunk = u.chunk;
    // Megatron's interleaved steady state runs F and B back to back and sends both results in one
    // exchange after B (send_forward_backward_recv_forward_backward) unless p2p overlaps compute.
    C.defer_fwd_send = !d.overlap_p2p && d.schedule == Schedule::interleaved && i + 1 < order.size() &&
                       order[i + 1].phase == UnitPhase::B;
    const auto c = std::size_t(u.chunk);
    auto& wq = pending[std::size_t(u.microbatch) * std::size_t(d.v) + c];
    switch (u.phase) {
      case UnitPhase::F:
        emit_forward_unit(C, ps, !fwd_seen[c]);
        fwd_seen[c] = 1;
        break;
      case UnitPhase::B: {
        const bool last = ++bwd_done[c] == d.m;
        emit_backward_unit(C, ps, split, last && !split, wq);
        break;
      }
      case UnitPhase::W: {
        const bool last = ++w_done[c] == d.m;
        emit_weight_unit(C, ps, wq, last);
        break;
      }
    }
  }
  dp.end_step(E);
}

int source_stage(std::uint64_t key, int p, int V) {
  const int dir = int(key >> 56);
  const int vs = int(key & 0xffffffu);
  if (dir == 0) return (vs - 1 + V) % V % p;
  if (dir == 1) return (vs + 1) % V % p;
  return (V - 1) % p;
}

double inference_model_flops(const ModelSpec& m, const Workload& w) {
  // Prefill: causal over the prompt; decode step k: one token attending over prompt + k tokens.
  const double gemm = forward_flops_per_token(m, 0);
  const double qk = m.mla ? double(m.heads) * double(m.mla->qk_nope_head_dim + m.mla->qk_rope_head_dim) : double(m.q_width());
  const double vd = m.mla ? double(m.heads) * double(m.mla->v_head_dim) : double(m.q_width());
  double total = double(w.batch) * double(w.prompt_len) * forward_flops_per_token(m, w.prompt_len);
  for (std::int64_t k = 1; k <= w.gen_len; ++k)
    total += double(w.batch) * (gemm + double(m.layers) * (2.0 * qk + 2.0 * vd) * double(w.prompt_len + k));
  return total;
}

}  // namespace

}  // namespace plan

PartitionGraph build_partition_graph(const Scenario& sc, const PlanOptions& options) {
  using namespace plan;
  const PlanDims d = derive_dims(sc, options);
  check_plannable(sc, d);
  PartitionGraph g;
  try {
    g.layout = Layout(d.t, d.c, d.dp, d.p, d.e, sc.strategy.order, sc.cluster.gpus_per_node);
  } catch (const std::invalid_argument& e) {
    throw InputError(sc.file, "strategy.order", e.what());
  }
  for (int i = 0; i < int(Op::count); ++i) g.names.emplace_back(op_name(Op(i)));

  const StageLayout sl = stage_layout(d);
  const int E_cls = (d.E > 0 && d.e > 1 && d.skew > 0) ? d.e : 1;
  const int n_cls = d.p * E_cls;
  std::vector<BuiltClass> built(static_cast<std::size_t>(n_cls));
  std::vector<std::vector<ScheduleUnit>> orders;
  if (d.train) {
    ScheduleSpec spec{d.schedule, d.p, d.m, d.v};
    try {
      orders = all_stage_orders(spec);
    } catch (const std::invalid_argument& e) {
      throw InputError(sc.file, "strategy.schedule", e.what());
    }
  }
  for (int s = 0; s < d.p; ++s)
    for (int ei = 0; ei < E_cls; ++ei) {
      BuiltClass& bc = built[std::size_t(s * E_cls + ei)];
      if (d.train) {
        build_train_class(d, sl, orders[std::size_t(s)], s, ei, bc);
      } else {
        Emitter E(bc.tasks);
        ClassCtx C{d, sl, E, s, ei, nullptr, &bc.book};
        build_inference_class(C);
      }
    }
  // Match every send with its receive (and back) in the neighbouring stage's class.
  const int V = d.p * d.v;
  for (int s = 0; s < d.p; ++s)
    for (int ei = 0; ei < E_cls; ++ei) {
      BuiltClass& bc = built[std::size_t(s * E_cls + ei)];
      Emitter E(bc.tasks);
      for (const auto& [key, id] : bc.book.sends) {
        const int target = int(key & 0xffffffu) % d.p;
        const auto& peer = built[std::size_t(target * E_cls + ei)].book.recvs;
        auto it = peer.find(key);
        if (it == peer.end()) throw std::logic_error("planner: a pipeline send has no matching receive");
        E.set_match(id, it->second);
      }
      for (const auto& [key, id] : bc.book.recvs) {
        const auto& peer = built[std::size_t(source_stage(key, d.p, V) * E_cls + ei)].book.sends;
        auto it = peer.find(key);
        if (it == peer.end()) throw std::logic_error("planner: a pipeline receive has no matching send");
        E.set_match(id, it->second);
      }
    }

  // Classes, representatives, memory.
  const Layout& L = g.layout;
  const int W = L.world();
  g.rank_class.resize(std::size_t(W));
  for (int r = 0; r < W; ++r) {
    RankCoord co = L.coord(r);
    g.rank_class[std::size_t(r)] = co.pp * E_cls + (E_cls > 1 ? L.ep_index(r) : 0);
  }
  g.classes.reserve(std::size_t(n_cls));
  for (int s = 0; s < d.p; ++s)
    for (int ei = 0; ei < E_cls; ++ei) {
      RankCoord co;
      co.pp = s;
      co.cp = ei % d.c;
      co.dp = ei / d.c;
      g.class_rep.push_back(L.rank_of(co));
      g.class_stage.push_back(s);
      BuiltClass& bc = built[std::size_t(s * E_cls + ei)];
      g.class_memory.push_back(class_memory(d, sl, s, bc.tasks));
      g.classes.push_back(std::move(bc.tasks));
    }

  // Whole-job figures.
  if (d.train) {
    const double tokens = double(sc.strategy.global_batch) * double(d.seq);
    g.model_flops_per_step = train_flops_per_token(sc.model, d.seq) * tokens;
    g.tokens_per_step = tokens;
    g.micro_batches = d.m;
  } else {
    g.model_flops_per_step = inference_model_flops(sc.model, sc.workload);
    g.tokens_per_step = double(sc.workload.batch) * double(d.gen > 0 ? d.gen : d.prompt);
    g.micro_batches = 1;
  }

  if (options.expand_ranks) {
    std::vector<ClassTasks> per_rank(static_cast<std::size_t>(W));
    std::vector<std::int32_t> rep(static_cast<std::size_t>(W)), stage(static_cast<std::size_t>(W));
    std::vector<MemoryBreakdown> mem(static_cast<std::size_t>(W));
    for (int r = 0; r < W; ++r) {
      const auto c = std::size_t(g.rank_class[std::size_t(r)]);
      per_rank[std::size_t(r)] = g.classes[c];
      rep[std::size_t(r)] = r;
      stage[std::size_t(r)] = g.class_stage[c];
      mem[std::size_t(r)] = g.class_memory[c];
      g.rank_class[std::size_t(r)] = r;
    }
    g.classes = std::move(per_rank);
    g.class_rep = std::move(rep);
    g.class_stage = std::move(stage);
    g.class_memory = std::move(mem);
    g.expanded = true;
  }
  return g;
}

}  // namespace strata
