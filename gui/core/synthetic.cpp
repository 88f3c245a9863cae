#include "core/synthetic.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

namespace strata::gui {
namespace {

// Times on a whole-nanosecond grid, as a writer with microsecond text and 3 decimals keeps them.
double ns(double s) { return std::round(s * 1e9) / 1e9; }

struct SubOp {
  const char* name;
  double frac;     // of the layer's time
  bool tp_comm;    // a TP all-reduce the compute stream waits for
};
constexpr SubOp kForward[] = {{"qkv_proj", 0.17, false},  {"attention", 0.22, false}, {"attn_out_proj", 0.09, false},
                              {"tp_all_reduce", 0.07, true}, {"mlp_up_proj", 0.23, false}, {"mlp_down_proj", 0.15, false},
                              {"tp_all_reduce", 0.07, true}};
constexpr SubOp kBackward[] = {{"tp_all_reduce.bwd", 0.07, true}, {"mlp_down_proj.bwd", 0.15, false}, {"mlp_up_proj.bwd", 0.23, false},
                               {"tp_all_reduce.bwd", 0.07, true}, {"attn_out_proj.bwd", 0.09, false}, {"attention.bwd", 0.22, false},
                               {"qkv_proj.bwd", 0.17, false}};

struct Op {
  bool fwd;
  int mb;
  double start = -1, end = -1;
};

}  // namespace

SyntheticSpec spec_for_events(std::size_t events) {
  SyntheticSpec s;
  s.gpus_per_node = 8;
  s.tp = 4;
  s.dp = 2;
  s.pp = 8;
  s.layers_per_stage = 8;
  // Per rank and micro-batch: 2 x 7 sub-ops per layer (forward and backward) plus the sends and
  // receives.
  double per_mb = 64.0 * (14.0 * s.layers_per_stage + 4);
  s.microbatches = std::max(1, int(std::round(double(events) / per_mb)));
  s.layer_fwd_s = 120e-6;
  s.p2p_s = 30e-6;
  return s;
}

Timeline make_synthetic_timeline(const SyntheticSpec& sp) {
  Timeline t;
  t.source = "synthetic";
  t.capacity_bytes = sp.capacity_bytes;
  const int P = sp.pp, M = sp.microbatches, L = sp.layers_per_stage;
  const int ranks = sp.tp * sp.dp * sp.pp;
  const double F = L * sp.layer_fwd_s, B = 2 * F;
  auto intern = [&](const std::string& s) {
    auto it = std::find(t.names.begin(), t.names.end(), s);
    if (it != t.names.end()) return std::uint32_t(it - t.names.begin());
    t.names.push_back(s);
    return std::uint32_t(t.names.size() - 1);
  };

  // 1F1B order per stage, then list scheduling of the stages against their dependencies.
  std::vector<std::vector<Op>> ops(static_cast<std::size_t>(P));
  for (int s = 0; s < P; ++s) {
    int warm = std::min(P - s - 1, M);
    auto& o = ops[std::size_t(s)];
    for (int i = 0; i < warm; ++i) o.push_back({true, i});
    for (int i = 0; i < M - warm; ++i) o.push_back({true, warm + i}), o.push_back({false, i});
    for (int i = M - warm; i < M; ++i) o.push_back({false, i});
  }
  auto find = [&](int s, bool fwd, int mb) -> Op& {
    for (auto& o : ops[std::size_t(s)])
      if (o.fwd == fwd && o.mb == mb) return o;
    return ops[std::size_t(s)].front();
  };
  std::vector<std::size_t> next(static_cast<std::size_t>(P), 0);
  std::vector<double> free_at(static_cast<std::size_t>(P), 0);
  for (bool progress = true; progress;) {
    progress = false;
    for (int s = 0; s < P; ++s) {
      auto& o = ops[std::size_t(s)];
      while (next[std::size_t(s)] < o.size()) {
        Op& op = o[next[std::size_t(s)]];
        double ready = 0;
        if (op.fwd && s > 0) {
          const Op& d = find(s - 1, true, op.mb);
          if (d.end < 0) break;
          ready = d.end + sp.p2p_s;
        } else if (!op.fwd && s < P - 1) {
          const Op& d = find(s + 1, false, op.mb);
          if (d.end < 0) break;
          ready = d.end + sp.p2p_s;
        }
        op.start = ns(std::max(ready, free_at[std::size_t(s)]));
        op.end = ns(op.start + (op.fwd ? F : B));
        free_at[std::size_t(s)] = op.end;
        ++next[std::size_t(s)];
        progress = true;
      }
    }
  }

  const std::uint32_t n_bubble = intern("bubble"), n_send = intern("pp_send"), n_recv_f = intern("pp_recv.fwd"),
                      n_recv_b = intern("pp_recv.bwd"), n_dp = intern("dp_reduce_scatter"), n_opt = intern("optimizer.step");
  std::vector<std::uint32_t> fwd_names, bwd_names;
  for (const auto& so : kForward) fwd_names.push_back(intern(so.name));
  for (const auto& so : kBackward) bwd_names.push_back(intern(so.name));

  const double act_bytes = 0.04 * sp.capacity_bytes * L / 8.0, base_bytes = 0.35 * sp.capacity_bytes;
  auto rank_of = [&](int tp, int dp, int pp) { return tp + sp.tp * (dp + sp.dp * pp); };  // tp-dp-pp order
  t.events.reserve(std::size_t(ranks) * std::size_t(M) * std::size_t(14 * L + 4));
  for (int pp = 0; pp < P; ++pp) {
    for (int dp = 0; dp < sp.dp; ++dp) {
      for (int tp = 0; tp < sp.tp; ++tp) {
        const int r = rank_of(tp, dp, pp);
        t.ranks.push_back({r, r / sp.gpus_per_node, r % sp.gpus_per_node, pp, pp});
        int task = 0;
        auto add = [&](Stream st, Category c, std::uint32_t name, double s0, double s1, int layer, int mb, double flops, double bytes,
                       bool exposed) -> TimelineEvent& {
          TimelineEvent e;
          e.rank = r;
          e.stream = st;
          e.category = c;
          e.task = c == Category::bubble ? -1 : task++;
          e.name = name;
          e.start_s = ns(s0);
          e.dur_s = ns(s1) - ns(s0);
          e.layer = layer;
          e.microbatch = mb;
          e.flops = flops;
          e.bytes = bytes;
          e.exposed = exposed;
          t.events.push_back(e);
          return t.events.back();
        };
        double mem = base_bytes;
        t.memory.push_back({r, 0.0, mem});
        double prev_end = 0;
        for (const Op& op : ops[std::size_t(pp)]) {
          if (sp.bubble_events && op.start - prev_end > 0.2 * sp.layer_fwd_s)
            add(Stream::compute, Category::bubble, n_bubble, prev_end, op.start, -1, -1, 0, 0, false);
          prev_end = op.end;
          const double layer_s = op.fwd ? sp.layer_fwd_s : 2 * sp.layer_fwd_s;
          // Receive what this op needs (posted when the stage became free), then compute.
          if ((op.fwd && pp > 0) || (!op.fwd && pp < P - 1)) {
            int peer = rank_of(tp, dp, op.fwd ? pp - 1 : pp + 1);
            std::int64_t flow = (std::int64_t(peer) * 2 + (op.fwd ? 0 : 1)) * 100000 + op.mb;
            TimelineEvent& rv = add(op.fwd ? Stream::pp_recv_fwd : Stream::pp_recv_bwd, Category::pp, op.fwd ? n_recv_f : n_recv_b,
                                    op.start - sp.p2p_s, op.start, -1, op.mb, 0, 64e6, false);
            rv.flow = flow;
            rv.flow_out = false;
          }
          for (int l = 0; l < L; ++l) {
            int layer = pp * L + (op.fwd ? l : L - 1 - l);
            double cur = op.start + l * layer_s;
            const auto* subs = op.fwd ? kForward : kBackward;
            const auto& names = op.fwd ? fwd_names : bwd_names;
            for (int k = 0; k < 7; ++k) {
              double d = subs[k].frac * layer_s;
              if (subs[k].tp_comm) {
                if (sp.tp > 1) add(Stream::tp, Category::tp, names[std::size_t(k)], cur, cur + d, layer, op.mb, 0, 32e6, true);
              } else {
                add(Stream::compute, Category::compute, names[std::size_t(k)], cur, cur + d, layer, op.mb, d * 600e12, 0, false);
              }
              cur += d;
            }
          }
          if ((op.fwd && pp < P - 1) || (!op.fwd && pp > 0)) {
            std::int64_t flow = (std::int64_t(r) * 2 + (op.fwd ? 0 : 1)) * 100000 + op.mb;
            TimelineEvent& sd = add(Stream::pp_send, Category::pp, n_send, op.end, op.end + sp.p2p_s, -1, op.mb, 0, 64e6, false);
            sd.flow = flow;
            sd.flow_out = true;
          }
          mem += op.fwd ? act_bytes : -act_bytes;
          t.memory.push_back({r, op.end, mem});
        }
        // Gradient reduce-scatter per layer bucket, from the last backward on; the tail is exposed.
        double stage_end = free_at[std::size_t(pp)];
        double dp_s = sp.dp > 1 ? 0.6 * sp.layer_fwd_s : 0;
        double cur = stage_end - (L - 1) * 2 * sp.layer_fwd_s;
        if (dp_s > 0)
          for (int l = 0; l < L; ++l) {
            double s0 = std::max(cur, stage_end - (L - 1 - l) * 2 * sp.layer_fwd_s);
            add(Stream::dp, Category::dp, n_dp, s0, s0 + dp_s, pp * L + L - 1 - l, -1, 0, 200e6, s0 + dp_s > stage_end);
            cur = s0 + dp_s;
          }
        double opt0 = std::max(cur, stage_end);
        add(Stream::compute, Category::optimizer, n_opt, opt0, opt0 + 0.5 * sp.layer_fwd_s * L, -1, -1, 0, 3e9, false);
        t.memory.push_back({r, opt0 + 0.5 * sp.layer_fwd_s * L, base_bytes});
      }
    }
  }
  std::sort(t.ranks.begin(), t.ranks.end(), [](const TimelineRank& a, const TimelineRank& b) { return a.rank < b.rank; });
  return t;
}

namespace {

void append_escaped(std::string& out, const std::string& s) {
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\', out += c;
    else if (static_cast<unsigned char>(c) < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", unsigned(c));
      out += b;
    } else out += c;
  }
}

}  // namespace

std::string write_chrome_trace(const Timeline& t) {
  std::string out;
  out.reserve(t.events.size() * 210 + 4096);
  char buf[512];
  out += "{\"traceEvents\":[\n";
  bool first = true;
  auto sep = [&] {
    if (!first) out += ",\n";
    first = false;
  };
  for (const auto& r : t.ranks) {
    sep();
    std::snprintf(buf, sizeof buf,
                  "{\"ph\":\"M\",\"pid\":%d,\"tid\":0,\"name\":\"process_name\",\"args\":{\"name\":\"node %d / gpu %d (rank %d)\"}},\n"
                  "{\"ph\":\"M\",\"pid\":%d,\"tid\":0,\"name\":\"process_labels\",\"args\":{\"labels\":\"stage %d, class %d\"}}",
                  r.rank, r.node, r.local_gpu, r.rank, r.rank, r.stage, r.rank_class);
    out += buf;
    for (int s = 0; s < kStreams; ++s) {
      std::snprintf(buf, sizeof buf, ",\n{\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"name\":\"thread_name\",\"args\":{\"name\":\"%s\"}}", r.rank, s,
                    stream_name(Stream(s)));
      out += buf;
    }
  }
  for (const auto& e : t.events) {
    sep();
    out += "{\"ph\":\"X\",\"name\":\"";
    append_escaped(out, e.name < t.names.size() ? t.names[e.name] : std::string("?"));
    std::snprintf(buf, sizeof buf,
                  "\",\"cat\":\"%s\",\"pid\":%d,\"tid\":%d,\"ts\":%.3f,\"dur\":%.3f,\"args\":{\"task\":%d,\"microbatch\":%d,\"layer\":%d,"
                  "\"flops\":%.6g,\"bytes\":%.6g%s%s}",
                  category_name(e.category), e.rank, int(e.stream), e.start_s * 1e6, e.dur_s * 1e6, e.task, e.microbatch, e.layer, e.flops,
                  e.bytes, e.measured ? "" : ",\"measured\":false", e.exposed ? ",\"exposed\":true" : "");
    out += buf;
    if (e.flow >= 0) {
      std::snprintf(buf, sizeof buf, ",\"bind_id\":%lld,\"%s\":true", static_cast<long long>(e.flow), e.flow_out ? "flow_out" : "flow_in");
      out += buf;
    }
    out += '}';
  }
  for (const auto& c : t.memory) {
    sep();
    std::snprintf(buf, sizeof buf, "{\"ph\":\"C\",\"pid\":%d,\"tid\":0,\"name\":\"memory\",\"ts\":%.3f,\"args\":{\"bytes\":%.6g}}", c.rank,
                  c.t_s * 1e6, c.bytes);
    out += buf;
  }
  out += "\n],\"displayTimeUnit\":\"ms\",\"strata\":{\"source\":\"";
  append_escaped(out, t.source);
  std::snprintf(buf, sizeof buf, "\",\"capacity_bytes\":%.6g,\"ranks\":[", t.capacity_bytes);
  out += buf;
  for (std::size_t i = 0; i < t.ranks.size(); ++i) {
    const auto& r = t.ranks[i];
    std::snprintf(buf, sizeof buf, "%s{\"rank\":%d,\"node\":%d,\"gpu\":%d,\"class\":%d,\"stage\":%d}", i ? "," : "", r.rank, r.node,
                  r.local_gpu, r.rank_class, r.stage);
    out += buf;
  }
  out += "]}}\n";
  return out;
}

}  // namespace strata::gui
