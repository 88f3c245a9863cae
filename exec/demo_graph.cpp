#include "demo_graph.hpp"

#include <algorithm>
#include <stdexcept>

namespace strata::exec {

namespace {

struct StageTasks {
  ClassTasks c;
  std::vector<std::uint32_t> fwd_send, fwd_recv, bwd_send, bwd_recv;  // per micro-batch (or ~0u)
  std::vector<std::size_t> fwd_send_p2p, fwd_recv_p2p, bwd_send_p2p, bwd_recv_p2p;  // index into p2ps
};

class Builder {
public:
  Builder(PartitionGraph& g, ClassTasks& c, const DemoGraphOptions& o) : g_(g), c_(c), o_(o) {}

  std::uint32_t add(TaskKind k, Stream s, Category cat, Phase ph, OpKind op, const std::string& name, int layer, int mb,
                    double flops, double bytes, std::int32_t detail, const std::vector<std::uint32_t>& deps,
                    double mem_delta = 0) {
    const auto id = std::uint32_t(c_.kind.size());
    c_.kind.push_back(k);
    c_.stream.push_back(s);
    c_.category.push_back(cat);
    c_.phase.push_back(ph);
    c_.op.push_back(op);
    c_.name.push_back(g_.intern(name));
    c_.layer.push_back(layer);
    c_.microbatch.push_back(mb);
    c_.chunk.push_back(0);
    c_.flops.push_back(flops);
    c_.bytes.push_back(bytes);
    c_.mem_delta.push_back(mem_delta);
    c_.detail.push_back(detail);
    for (auto d : deps)
      if (d != kNone) c_.deps.push_back(d);
    c_.dep_begin.push_back(std::uint32_t(c_.deps.size()));
    return id;
  }
  std::uint32_t gemm(const std::string& name, std::int64_t m, std::int64_t n, std::int64_t k, int batch, Phase ph, int layer,
                     int mb, const std::vector<std::uint32_t>& deps) {
    c_.gemms.push_back({m, n, k, batch, o_.dtype});
    const double flops = 2.0 * double(m) * double(n) * double(k) * batch;
    const double bytes = dtype_bytes(o_.dtype) * (double(m) * k + double(k) * n + double(m) * n) * batch;
    return add(TaskKind::compute, Stream::compute, Category::compute, ph, batch > 1 ? OpKind::grouped_gemm : OpKind::gemm,
               name, layer, mb, flops, bytes, std::int32_t(c_.gemms.size() - 1), deps);
  }
  std::uint32_t attention(bool backward, int layer, int mb, const std::vector<std::uint32_t>& deps) {
    AttnShape a;
    a.batch = 1;
    a.heads = o_.heads / o_.tp;
    a.kv_heads = a.heads;
    a.q_len = a.kv_len = o_.seq;
    a.head_dim = std::int32_t(o_.hidden / o_.heads);
    a.causal = true;
    a.backward = backward;
    a.dtype = o_.dtype;
    c_.attns.push_back(a);
    // Causal: half of the 4 * s^2 * d FLOPs per head; the backward pass costs 2.5x.
    double flops = 2.0 * double(o_.seq) * double(o_.seq) * a.head_dim * a.heads;
    if (backward) flops *= 2.5;
    return add(TaskKind::compute, Stream::compute, Category::compute, backward ? Phase::backward_input : Phase::forward,
               OpKind::attention, backward ? "attn_bwd" : "attn", layer, mb, flops,
               dtype_bytes(o_.dtype) * 4.0 * double(o_.seq) * a.head_dim * a.heads, std::int32_t(c_.attns.size() - 1), deps);
  }
  std::uint32_t elementwise(const std::string& name, double bytes, Phase ph, int layer, int mb,
                            const std::vector<std::uint32_t>& deps, double mem_delta = 0) {
    return add(TaskKind::compute, Stream::compute, Category::compute, ph, OpKind::elementwise, name, layer, mb, bytes / 4,
               bytes, -1, deps, mem_delta);
  }
  std::uint32_t coll(CollKind kind, GroupKind group, Stream s, Category cat, const std::string& name, double bytes, Phase ph,
                     int layer, int mb, const std::vector<std::uint32_t>& deps, std::int32_t a2av = -1) {
    CollInfo ci;
    ci.kind = kind;
    ci.group = group;
    ci.bytes = bytes;
    ci.a2av = a2av;
    c_.colls.push_back(ci);
    return add(TaskKind::collective, s, cat, ph, OpKind::comm, name, layer, mb, 0, bytes, std::int32_t(c_.colls.size() - 1), deps);
  }
  std::uint32_t p2p(bool send, Stream s, int offset, double bytes, Phase ph, int mb, const std::vector<std::uint32_t>& deps,
                    std::size_t& p2p_index) {
    P2PInfo pi;
    pi.group = GroupKind::pp;
    pi.offset = std::int8_t(offset);
    pi.bytes = bytes;
    c_.p2ps.push_back(pi);
    p2p_index = c_.p2ps.size() - 1;
    const bool fwd = ph == Phase::forward;
    return add(send ? TaskKind::send : TaskKind::recv, s, Category::pp, ph, OpKind::comm,
               std::string(send ? "send_" : "recv_") + (fwd ? "fwd" : "bwd"), -1, mb, 0, bytes, std::int32_t(p2p_index), deps);
  }
  static constexpr std::uint32_t kNone = ~0u;

private:
  PartitionGraph& g_;
  ClassTasks& c_;
  const DemoGraphOptions& o_;
};

StageTasks build_stage(PartitionGraph& g, const DemoGraphOptions& o, int stage, int tp_pos) {
  StageTasks st;
  Builder b(g, st.c, o);
  const std::uint32_t none = Builder::kNone;
  const int M = o.micro_batches, L = o.layers_per_stage, P = o.pp, T = o.tp;
  const std::int64_t s = o.seq, h = o.hidden, f = o.ffn;
  const double act = dtype_bytes(o.dtype) * double(s) * double(h);  // one activation tensor
  st.fwd_send.assign(std::size_t(M), none);
  st.fwd_recv = st.bwd_send = st.bwd_recv = st.fwd_send;
  st.fwd_send_p2p.assign(std::size_t(M), 0);
  st.fwd_recv_p2p = st.bwd_send_p2p = st.bwd_recv_p2p = st.fwd_send_p2p;
  const int first_layer = stage * L;
  const std::int64_t experts = 4;

  auto tp_reduce = [&](const std::string& name, Phase ph, int layer, int mb, std::uint32_t dep) {
    if (o.sequence_parallel) {
      auto rs = b.coll(CollKind::reduce_scatter, GroupKind::tp, Stream::tp, Category::tp, name + "_rs", act, ph, layer, mb, {dep});
      return b.coll(CollKind::all_gather, GroupKind::tp, Stream::tp, Category::tp, name + "_ag", act, ph, layer, mb, {rs});
    }
    return b.coll(CollKind::all_reduce, GroupKind::tp, Stream::tp, Category::tp, name, act, ph, layer, mb, {dep});
  };
  auto moe_dispatch = [&](const std::string& name, Phase ph, int layer, int mb, std::uint32_t dep) {
    // Skewed per-peer bytes (only when every rank has its own class, so that classes stay exact).
    std::vector<double> per(static_cast<std::size_t>(T));
    for (int q = 0; q < T; ++q)
      per[std::size_t(q)] = (act / T) * (o.expanded ? 1.0 + 0.5 * ((q + tp_pos) % 2) : 1.0);
    st.c.a2av_bytes.push_back(per);
    return b.coll(CollKind::all_to_all_v, GroupKind::tp, Stream::ep, Category::ep, name, 0, ph, layer, mb, {dep},
                  std::int32_t(st.c.a2av_bytes.size() - 1));
  };

  // Receives are posted up front (they wait on no stream); sends follow the producing task.
  if (stage > 0)
    for (int mb = 0; mb < M; ++mb)
      st.fwd_recv[std::size_t(mb)] = b.p2p(false, Stream::pp_recv_fwd, -1, act, Phase::forward, mb, {}, st.fwd_recv_p2p[std::size_t(mb)]);
  std::uint32_t prev = none;
  for (int mb = 0; mb < M; ++mb) {
    std::uint32_t x = stage > 0 ? st.fwd_recv[std::size_t(mb)] : none;
    for (int l = 0; l < L; ++l) {
      const int layer = first_layer + l;
      auto norm1 = b.elementwise("norm1", 2 * act, Phase::forward, layer, mb, {x, prev});
      auto qkv = b.gemm("qkv", s, 3 * h / T, h, 1, Phase::forward, layer, mb, {norm1});
      auto at = b.attention(false, layer, mb, {qkv});
      auto proj = b.gemm("proj", s, h, h / T, 1, Phase::forward, layer, mb, {at});
      auto ar1 = tp_reduce("tp_ar_attn", Phase::forward, layer, mb, proj);
      auto norm2 = b.elementwise("norm2", 2 * act, Phase::forward, layer, mb, {ar1});
      std::uint32_t fc2;
      if (o.moe) {
        auto disp = moe_dispatch("ep_dispatch", Phase::forward, layer, mb, norm2);
        auto e1 = b.gemm("expert_fc1", s / experts, f / T, h, int(experts), Phase::forward, layer, mb, {disp});
        fc2 = b.gemm("expert_fc2", s / experts, h, f / T, int(experts), Phase::forward, layer, mb, {e1});
      } else {
        auto fc1 = b.gemm("fc1", s, f / T, h, 1, Phase::forward, layer, mb, {norm2});
        auto actf = b.elementwise("swiglu", 3 * dtype_bytes(o.dtype) * double(s) * double(f / T), Phase::forward, layer, mb, {fc1});
        fc2 = b.gemm("fc2", s, h, f / T, 1, Phase::forward, layer, mb, {actf});
      }
      x = tp_reduce("tp_ar_mlp", Phase::forward, layer, mb, fc2);
      prev = b.elementwise("residual", 3 * act, Phase::forward, layer, mb, {x}, 4 * act);
      x = prev;
    }
    if (stage < P - 1) {
      st.fwd_send[std::size_t(mb)] = b.p2p(true, Stream::pp_send, +1, act, Phase::forward, mb, {x}, st.fwd_send_p2p[std::size_t(mb)]);
    } else {
      prev = b.gemm("lm_head", s, 4 * h / T, h, 1, Phase::forward, -1, mb, {x});
      prev = b.elementwise("loss", 2 * dtype_bytes(o.dtype) * double(s) * double(4 * h / T), Phase::forward, -1, mb, {prev});
    }
  }
  // Backward, micro-batches in order (GPipe).
  if (stage < P - 1)
    for (int mb = 0; mb < M; ++mb)
      st.bwd_recv[std::size_t(mb)] = b.p2p(false, Stream::pp_recv_bwd, +1, act, Phase::backward_input, mb, {}, st.bwd_recv_p2p[std::size_t(mb)]);
  std::vector<std::uint32_t> last_wgrad(std::size_t(L), none);
  for (int mb = 0; mb < M; ++mb) {
    std::uint32_t x = stage < P - 1 ? st.bwd_recv[std::size_t(mb)] : none;
    for (int l = L - 1; l >= 0; --l) {
      const int layer = first_layer + l;
      auto g2 = b.gemm("fc2_dgrad", s, f / T, h, 1, Phase::backward_input, layer, mb, {x, prev});
      auto w2 = b.gemm("fc2_wgrad", f / T, h, s, 1, Phase::backward_weight, layer, mb, {g2});
      auto g1 = b.gemm("fc1_dgrad", s, h, f / T, 1, Phase::backward_input, layer, mb, {w2});
      auto w1 = b.gemm("fc1_wgrad", h, f / T, s, 1, Phase::backward_weight, layer, mb, {g1});
      auto ar = tp_reduce("tp_ar_mlp_bwd", Phase::backward_input, layer, mb, w1);
      auto ab = b.attention(true, layer, mb, {ar});
      auto gp = b.gemm("proj_dgrad", s, h / T, h, 1, Phase::backward_input, layer, mb, {ab});
      auto gq = b.gemm("qkv_dgrad", s, h, 3 * h / T, 1, Phase::backward_input, layer, mb, {gp});
      auto wq = b.gemm("qkv_wgrad", h, 3 * h / T, s, 1, Phase::backward_weight, layer, mb, {gq});
      x = tp_reduce("tp_ar_attn_bwd", Phase::backward_input, layer, mb, wq);
      prev = b.elementwise("residual_bwd", 3 * act, Phase::backward_input, layer, mb, {x}, -4 * act);
      x = prev;
      last_wgrad[std::size_t(l)] = wq;
    }
    if (stage > 0)
      st.bwd_send[std::size_t(mb)] = b.p2p(true, Stream::pp_send, -1, act, Phase::backward_input, mb, {x}, st.bwd_send_p2p[std::size_t(mb)]);
    // Gradient all-reduce of each layer after its last micro-batch, overlapped with what follows.
    if (mb == M - 1) {
      std::vector<std::uint32_t> reduces;
      for (int l = L - 1; l >= 0; --l) {
        const double grads = dtype_bytes(o.dtype) * double(4 * h * h + 2 * h * f) / T;
        reduces.push_back(b.coll(CollKind::all_reduce, GroupKind::dp, Stream::dp, Category::dp, "dp_grad_ar", grads,
                                 Phase::backward_weight, first_layer + l, -1, {last_wgrad[std::size_t(l)]}));
      }
      reduces.push_back(prev);
      const double params = double(L) * double(4 * h * h + 2 * h * f) / T;
      b.add(TaskKind::optimizer, Stream::compute, Category::optimizer, Phase::optimizer, OpKind::optimizer, "adam", -1, -1,
            10 * params, 28 * params, -1, reduces);
    }
  }
  return st;
}

}  // namespace

PartitionGraph make_demo_graph(const DemoGraphOptions& o) {
  if (o.tp < 1 || o.pp < 1 || o.dp < 1 || o.micro_batches < 1 || o.layers_per_stage < 1 || o.heads % o.tp != 0 ||
      o.hidden % o.heads != 0)
    throw std::invalid_argument("make_demo_graph: inconsistent options");
  PartitionGraph g;
  const int world = o.tp * o.pp * o.dp;
  g.layout = Layout(o.tp, 1, o.dp, o.pp, 1, "tp-cp-dp-pp", world);
  g.expanded = o.expanded;
  g.micro_batches = o.micro_batches;
  g.tokens_per_step = double(o.micro_batches) * double(o.seq) * o.dp;
  g.rank_class.assign(std::size_t(world), 0);
  std::vector<StageTasks> built;
  std::vector<int> class_of_stage_rank;
  if (o.expanded) {
    for (int r = 0; r < world; ++r) {
      const auto c = g.layout.coord(r);
      built.push_back(build_stage(g, o, c.pp, c.tp));
      g.rank_class[std::size_t(r)] = r;
      g.class_rep.push_back(r);
      g.class_stage.push_back(c.pp);
    }
  } else {
    for (int st = 0; st < o.pp; ++st) {
      built.push_back(build_stage(g, o, st, 0));
      g.class_rep.push_back(g.layout.rank_of({0, 0, 0, st}));
      g.class_stage.push_back(st);
    }
    for (int r = 0; r < world; ++r) g.rank_class[std::size_t(r)] = g.layout.coord(r).pp;
  }
  // Matches: a send's match is the recv's id in the peer's class and vice versa.
  for (int r = 0; r < world; ++r) {
    StageTasks& me = built[std::size_t(g.rank_class[std::size_t(r)])];
    const int stage = g.layout.coord(r).pp;
    for (int mb = 0; mb < o.micro_batches; ++mb) {
      const auto m = std::size_t(mb);
      if (stage < o.pp - 1) {
        StageTasks& next = built[std::size_t(g.rank_class[std::size_t(g.layout.peer(GroupKind::pp, r, +1))])];
        me.c.p2ps[me.fwd_send_p2p[m]].match = next.fwd_recv[m];
        me.c.p2ps[me.bwd_recv_p2p[m]].match = next.bwd_send[m];
      }
      if (stage > 0) {
        StageTasks& prev = built[std::size_t(g.rank_class[std::size_t(g.layout.peer(GroupKind::pp, r, -1))])];
        me.c.p2ps[me.fwd_recv_p2p[m]].match = prev.fwd_send[m];
        me.c.p2ps[me.bwd_send_p2p[m]].match = prev.bwd_recv[m];
      }
    }
  }
  double flops = 0;
  for (int r = 0; r < world; ++r)
    for (double f : built[std::size_t(g.rank_class[std::size_t(r)])].c.flops) flops += f;
  g.model_flops_per_step = flops;
  for (auto& b : built) {
    g.classes.push_back(std::move(b.c));
    MemoryBreakdown m;
    const double params = double(o.layers_per_stage) * double(4 * o.hidden * o.hidden + 2 * o.hidden * o.ffn) / o.tp;
    m.weights = 2 * params;
    m.grads = 2 * params;
    m.optimizer = 12 * params;
    m.activations = 4 * dtype_bytes(o.dtype) * double(o.seq) * double(o.hidden) * o.layers_per_stage * o.micro_batches;
    g.class_memory.push_back(m);
  }
  return g;
}

}  // namespace strata::exec
