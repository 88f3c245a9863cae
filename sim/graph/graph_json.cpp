// Streaming JSON writer for the partition graph (a DOM would cost several times the graph).
#include "graph/graph_json.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string_view>
#include <type_traits>

#include "model/dtype.hpp"

namespace strata {

namespace {

class Writer {
public:
  explicit Writer(std::string& out) : s_(out) {}

  void raw(std::string_view v) { s_.append(v); }
  void str(std::string_view v) {
    s_.push_back('"');
    for (char ch : v) {
      switch (ch) {
        case '"': s_.append("\\\""); break;
        case '\\': s_.append("\\\\"); break;
        case '\n': s_.append("\\n"); break;
        case '\t': s_.append("\\t"); break;
        default:
          if (static_cast<unsigned char>(ch) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(ch));
            s_.append(buf);
          } else {
            s_.push_back(ch);
          }
      }
    }
    s_.push_back('"');
  }
  template <class T>
  void num(T v) {
    char buf[32];
    if constexpr (std::is_floating_point_v<T>) {
      if (!std::isfinite(v)) {
        s_.append("null");
        return;
      }
      if (v == std::floor(v) && std::fabs(v) < 9e15) {
        auto r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(v));
        s_.append(buf, r.ptr);
        return;
      }
    }
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    s_.append(buf, r.ptr);
  }
  void key(std::string_view k) {
    str(k);
    s_.push_back(':');
  }
  template <class V, class F>
  void array(const V& v, F f) {
    s_.push_back('[');
    bool first = true;
    for (const auto& x : v) {
      if (!first) s_.push_back(',');
      first = false;
      f(x);
    }
    s_.push_back(']');
  }
  template <class V>
  void nums(const V& v) {
    array(v, [&](const auto& x) { num(x); });
  }
  template <class V>
  void codes(const V& v) {
    array(v, [&](const auto& x) { num(int(x)); });
  }

private:
  std::string& s_;
};

template <class E, class F>
void legend(Writer& w, std::string_view name, int n, F namer) {
  w.key(name);
  w.raw("[");
  for (int i = 0; i < n; ++i) {
    if (i) w.raw(",");
    w.str(namer(E(i)));
  }
  w.raw("]");
}

void memory_obj(Writer& w, const MemoryBreakdown& m) {
  w.raw("{");
  w.key("weights_bytes"); w.num(m.weights); w.raw(",");
  w.key("grads_bytes"); w.num(m.grads); w.raw(",");
  w.key("optimizer_bytes"); w.num(m.optimizer); w.raw(",");
  w.key("activations_bytes"); w.num(m.activations); w.raw(",");
  w.key("kv_cache_bytes"); w.num(m.kv_cache); w.raw(",");
  w.key("comm_buffers_bytes"); w.num(m.comm_buffers); w.raw(",");
  w.key("framework_bytes"); w.num(m.framework); w.raw(",");
  w.key("peak_bytes"); w.num(m.peak());
  w.raw("}");
}

}  // namespace

std::string graph_to_json(const PartitionGraph& g, const GraphJsonInfo& info) {
  std::string out;
  out.reserve(64 + g.total_tasks() * 120);
  Writer w(out);
  const Layout& L = g.layout;
  w.raw("{");
  w.key("format"); w.str("strata-partition-graph"); w.raw(",");
  w.key("version"); w.num(2); w.raw(",");  // 2: attns.kernel and kernel_rates
  w.key("scenario"); w.str(info.scenario); w.raw(",");
  w.key("expanded"); w.raw(g.expanded ? "true" : "false"); w.raw(",");
  w.key("world"); w.num(L.world()); w.raw(",");
  w.key("layout"); w.raw("{");
  w.key("tp"); w.num(L.degree(Dim::tp)); w.raw(",");
  w.key("cp"); w.num(L.degree(Dim::cp)); w.raw(",");
  w.key("dp"); w.num(L.degree(Dim::dp)); w.raw(",");
  w.key("pp"); w.num(L.degree(Dim::pp)); w.raw(",");
  w.key("ep"); w.num(L.ep()); w.raw(",");
  w.key("gpus_per_node"); w.num(L.gpus_per_node()); w.raw(",");
  w.key("coords"); w.raw("{");
  // Coordinates of every rank, columnar: tp, cp, dp, pp.
  for (int dim = 0; dim < 4; ++dim) {
    static const char* names[] = {"tp", "cp", "dp", "pp"};
    if (dim) w.raw(",");
    w.key(names[dim]);
    w.raw("[");
    for (int r = 0; r < L.world(); ++r) {
      if (r) w.raw(",");
      RankCoord c = L.coord(r);
      w.num(dim == 0 ? c.tp : dim == 1 ? c.cp : dim == 2 ? c.dp : c.pp);
    }
    w.raw("]");
  }
  w.raw("}}");
  w.raw(",");
  w.key("groups"); w.raw("{");
  for (int k = 0; k < kGroupKinds; ++k) {
    if (k) w.raw(",");
    auto kind = GroupKind(k);
    w.key(group_kind_name(kind));
    w.raw("{");
    w.key("count"); w.num(L.group_count(kind)); w.raw(",");
    w.key("size"); w.num(L.group_size(kind)); w.raw(",");
    w.key("of_rank0"); w.nums(L.group_of_rank(kind, 0));
    w.raw("}");
  }
  w.raw("},");
  w.key("enums"); w.raw("{");
  legend<TaskKind>(w, "kind", 6, task_kind_name); w.raw(",");
  legend<Stream>(w, "stream", kStreams, stream_name); w.raw(",");
  legend<Category>(w, "category", int(Category::count), category_name); w.raw(",");
  legend<Phase>(w, "phase", 6, phase_name); w.raw(",");
  legend<OpKind>(w, "op", 6, op_kind_name); w.raw(",");
  legend<CollKind>(w, "coll", 6, coll_kind_name); w.raw(",");
  legend<GroupKind>(w, "group", kGroupKinds, group_kind_name); w.raw(",");
  legend<CollAlgo>(w, "algo", 6, coll_algo_name); w.raw(",");
  legend<DType>(w, "dtype", 4, dtype_name);
  w.raw("},");
  w.key("names"); w.array(g.names, [&](const std::string& n) { w.str(n); }); w.raw(",");
  w.key("model_flops_per_step"); w.num(g.model_flops_per_step); w.raw(",");
  w.key("tokens_per_step"); w.num(g.tokens_per_step); w.raw(",");
  w.key("micro_batches"); w.num(g.micro_batches); w.raw(",");
  if (info.gpu_capacity_bytes > 0) {
    double peak = 0;
    for (const auto& m : g.class_memory) peak = std::max(peak, m.peak());
    w.key("gpu_capacity_bytes"); w.num(info.gpu_capacity_bytes); w.raw(",");
    w.key("peak_memory_bytes"); w.num(peak); w.raw(",");
    w.key("fits"); w.raw(peak <= info.gpu_capacity_bytes ? "true" : "false"); w.raw(",");
  }
  w.key("rank_class"); w.nums(g.rank_class); w.raw(",");
  std::vector<int> ranks_in(g.classes.size(), 0);
  for (auto c : g.rank_class) ++ranks_in[std::size_t(c)];
  w.key("classes"); w.raw("[");
  for (std::size_t ci = 0; ci < g.classes.size(); ++ci) {
    const ClassTasks& t = g.classes[ci];
    if (ci) w.raw(",");
    w.raw("{");
    w.key("id"); w.num(int(ci)); w.raw(",");
    w.key("rep"); w.num(g.class_rep[ci]); w.raw(",");
    w.key("stage"); w.num(g.class_stage[ci]); w.raw(",");
    w.key("ranks"); w.num(ranks_in[ci]); w.raw(",");
    w.key("memory"); memory_obj(w, g.class_memory[ci]); w.raw(",");
    w.key("tasks"); w.raw("{");
    w.key("count"); w.num(t.size()); w.raw(",");
    w.key("kind"); w.codes(t.kind); w.raw(",");
    w.key("stream"); w.codes(t.stream); w.raw(",");
    w.key("category"); w.codes(t.category); w.raw(",");
    w.key("phase"); w.codes(t.phase); w.raw(",");
    w.key("op"); w.codes(t.op); w.raw(",");
    w.key("name"); w.nums(t.name); w.raw(",");
    w.key("layer"); w.nums(t.layer); w.raw(",");
    w.key("microbatch"); w.nums(t.microbatch); w.raw(",");
    w.key("chunk"); w.nums(t.chunk); w.raw(",");
    w.key("flops"); w.nums(t.flops); w.raw(",");
    w.key("bytes"); w.nums(t.bytes); w.raw(",");
    w.key("mem_delta"); w.nums(t.mem_delta); w.raw(",");
    w.key("detail"); w.nums(t.detail); w.raw(",");
    w.key("dep_begin"); w.nums(t.dep_begin); w.raw(",");
    w.key("deps"); w.nums(t.deps);
    w.raw("},");
    w.key("gemms"); w.raw("{");
    w.key("m"); w.array(t.gemms, [&](const GemmShape& s) { w.num(s.m); }); w.raw(",");
    w.key("n"); w.array(t.gemms, [&](const GemmShape& s) { w.num(s.n); }); w.raw(",");
    w.key("k"); w.array(t.gemms, [&](const GemmShape& s) { w.num(s.k); }); w.raw(",");
    w.key("batch"); w.array(t.gemms, [&](const GemmShape& s) { w.num(s.batch); }); w.raw(",");
    w.key("dtype"); w.array(t.gemms, [&](const GemmShape& s) { w.num(int(s.dtype)); });
    w.raw("},");
    w.key("attns"); w.raw("{");
    w.key("batch"); w.array(t.attns, [&](const AttnShape& s) { w.num(s.batch); }); w.raw(",");
    w.key("heads"); w.array(t.attns, [&](const AttnShape& s) { w.num(s.heads); }); w.raw(",");
    w.key("kv_heads"); w.array(t.attns, [&](const AttnShape& s) { w.num(s.kv_heads); }); w.raw(",");
    w.key("q_len"); w.array(t.attns, [&](const AttnShape& s) { w.num(s.q_len); }); w.raw(",");
    w.key("kv_len"); w.array(t.attns, [&](const AttnShape& s) { w.num(s.kv_len); }); w.raw(",");
    w.key("head_dim"); w.array(t.attns, [&](const AttnShape& s) { w.num(s.head_dim); }); w.raw(",");
    w.key("causal"); w.array(t.attns, [&](const AttnShape& s) { w.num(int(s.causal)); }); w.raw(",");
    w.key("backward"); w.array(t.attns, [&](const AttnShape& s) { w.num(int(s.backward)); }); w.raw(",");
    w.key("dtype"); w.array(t.attns, [&](const AttnShape& s) { w.num(int(s.dtype)); }); w.raw(",");
    w.key("kernel"); w.array(t.attns, [&](const AttnShape& s) { w.num(int(s.kernel)); });
    w.raw("},");
    w.key("kernel_rates"); w.raw("{");
    w.key("bytes"); w.array(t.kernel_rates, [&](const KernelRate& k) { w.num(k.bytes); }); w.raw(",");
    w.key("hbm_fraction"); w.array(t.kernel_rates, [&](const KernelRate& k) { w.num(k.hbm_fraction); });
    w.raw("},");
    w.key("colls"); w.raw("{");
    w.key("kind"); w.array(t.colls, [&](const CollInfo& c) { w.num(int(c.kind)); }); w.raw(",");
    w.key("group"); w.array(t.colls, [&](const CollInfo& c) { w.num(int(c.group)); }); w.raw(",");
    w.key("algo"); w.array(t.colls, [&](const CollInfo& c) { w.num(int(c.algo)); }); w.raw(",");
    w.key("bytes"); w.array(t.colls, [&](const CollInfo& c) { w.num(c.bytes); }); w.raw(",");
    w.key("a2av"); w.array(t.colls, [&](const CollInfo& c) { w.num(c.a2av); });
    w.raw("},");
    w.key("p2ps"); w.raw("{");
    w.key("group"); w.array(t.p2ps, [&](const P2PInfo& p) { w.num(int(p.group)); }); w.raw(",");
    w.key("offset"); w.array(t.p2ps, [&](const P2PInfo& p) { w.num(int(p.offset)); }); w.raw(",");
    w.key("match"); w.array(t.p2ps, [&](const P2PInfo& p) { w.num(p.match); }); w.raw(",");
    w.key("bytes"); w.array(t.p2ps, [&](const P2PInfo& p) { w.num(p.bytes); });
    w.raw("},");
    w.key("a2av_bytes"); w.array(t.a2av_bytes, [&](const std::vector<double>& v) { w.nums(v); });
    w.raw("}");
  }
  w.raw("]}\n");
  return out;
}

}  // namespace strata
