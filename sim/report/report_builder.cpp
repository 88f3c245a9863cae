#include "report/report_builder.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "io/scenario.hpp"

namespace strata {
namespace {

using Interval = std::pair<double, double>;

// Sorts and merges intervals in place; returns the covered length.
double merge(std::vector<Interval>& v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t w = 0;
  for (std::size_t i = 1; i < v.size(); ++i) {
    if (v[i].first <= v[w].second) v[w].second = std::max(v[w].second, v[i].second);
    else v[++w] = v[i];
  }
  v.resize(w + 1);
  double len = 0;
  for (const auto& iv : v) len += iv.second - iv.first;
  return len;
}

// Length of `a` (merged) not covered by `b` (merged).
double uncovered(const std::vector<Interval>& a, const std::vector<Interval>& b) {
  double total = 0;
  std::size_t j = 0;
  for (const auto& iv : a) {
    double s = iv.first, e = iv.second, covered = 0;
    while (j < b.size() && b[j].second <= s) ++j;
    for (std::size_t k = j; k < b.size() && b[k].first < e; ++k)
      covered += std::min(e, b[k].second) - std::max(s, b[k].first);
    total += (e - s) - covered;
  }
  return total;
}

bool is_comm(const ClassTasks& c, std::uint32_t t) {
  return c.kind[t] == TaskKind::collective || c.kind[t] == TaskKind::send;
}

// Receives are waits for data: the time shows as pipeline idle (bubble), not as communication.
bool counts_as_work(const ClassTasks& c, std::uint32_t t) { return c.kind[t] != TaskKind::recv; }

}  // namespace

RankAccounting account_rank(const RankRecord& r, double step) {
  RankAccounting a;
  a.step = step;
  const ClassTasks& c = *r.tasks;
  std::vector<Interval> compute;
  std::array<std::vector<Interval>, std::size_t(Category::count)> by_cat;
  std::vector<Interval> any;
  for (std::uint32_t t = 0; t < c.size(); ++t) {
    if (!counts_as_work(c, t)) continue;
    double s = (*r.start)[t], e = (*r.end)[t];
    if (!(e > s)) continue;
    by_cat[std::size_t(c.category[t])].emplace_back(s, e);
    if (!is_comm(c, t)) compute.emplace_back(s, e);
    any.emplace_back(s, e);
  }
  a.compute_busy = merge(compute);
  for (std::size_t k = 0; k < by_cat.size(); ++k) {
    a.busy[k] = merge(by_cat[k]);
    if (Category(k) != Category::compute && Category(k) != Category::optimizer) a.exposed[k] = uncovered(by_cat[k], compute);
  }
  a.bubble = std::max(0.0, step - merge(any));
  return a;
}

const RankRecord* fill_time_accounting(Report& rep, const std::vector<RankRecord>& ranks, double step) {
  double best_busy = -1;
  const RankRecord* busiest = nullptr;
  for (const auto& r : ranks) {
    RankAccounting a = account_rank(r, step);
    if (a.compute_busy > best_busy) {
      best_busy = a.compute_busy;
      busiest = &r;
      rep.bubble_fraction = step > 0 ? a.bubble / step : 0;
      rep.busy_s = a.busy;
    }
    rep.exposed_tp_s = std::max(rep.exposed_tp_s, a.exposed[std::size_t(Category::tp)]);
    rep.exposed_cp_s = std::max(rep.exposed_cp_s, a.exposed[std::size_t(Category::cp)]);
    rep.exposed_ep_s = std::max(rep.exposed_ep_s, a.exposed[std::size_t(Category::ep)]);
    rep.exposed_pp_s = std::max(rep.exposed_pp_s, a.exposed[std::size_t(Category::pp)]);
    rep.exposed_dp_s = std::max(rep.exposed_dp_s, a.exposed[std::size_t(Category::dp)]);
  }
  return busiest;
}

void fill_memory(Report& rep, const PartitionGraph& g) {
  for (const MemoryBreakdown& m : g.class_memory) {
    if (m.peak() > rep.memory.peak_bytes) {
      rep.memory.peak_bytes = m.peak();
      rep.memory.weights_bytes = m.weights;
      rep.memory.grads_bytes = m.grads;
      rep.memory.optimizer_bytes = m.optimizer;
      rep.memory.activations_bytes = m.activations;
      rep.memory.kv_cache_bytes = m.kv_cache;
    }
  }
}

Report build_report(const Scenario& s, const PartitionGraph& g, const std::vector<RankRecord>& ranks, double step) {
  Report rep;
  rep.scenario = s.name;
  rep.strategy = s.resolved.contains("strategy") ? s.resolved["strategy"] : Json::object();
  rep.gpus = s.cluster.gpus();
  rep.step_time_s = step;
  rep.inference = s.workload.kind == WorkloadKind::inference;
  if (step > 0) {
    rep.tokens_per_s = g.tokens_per_step / step;
    rep.tflops_per_gpu = g.model_flops_per_step / step / double(rep.gpus) / 1e12;
    rep.mfu = rep.tflops_per_gpu / s.cluster.gpu.peak_tflops(s.compute_dtype());
  }
  const RankRecord* busiest = fill_time_accounting(rep, ranks, step);
  fill_memory(rep, g);
  const double cap = s.cluster.gpu.hbm_bytes;
  rep.memory.capacity_bytes = cap;
  rep.memory.fits = rep.memory.peak_bytes <= cap;
  if (rep.inference) {
    // Inference graphs number micro-batch 0 for the prefill and k for the k-th decode step.
    double prefill_end = 0;
    for (const auto& r : ranks)
      for (std::uint32_t t = 0; t < r.tasks->size(); ++t)
        if (r.tasks->microbatch[t] == 0) prefill_end = std::max(prefill_end, (*r.end)[t]);
    rep.ttft_s = prefill_end;
    rep.tpot_s = s.workload.gen_len > 0 ? (step - prefill_end) / double(s.workload.gen_len) : 0;
  }
  // Where the time goes on the busiest rank: compute by op, so that an error points at a model.
  if (busiest) {
    std::map<std::string, double> by_op;
    const ClassTasks& c = *busiest->tasks;
    for (std::uint32_t t = 0; t < c.size(); ++t)
      if (c.kind[t] == TaskKind::compute || c.kind[t] == TaskKind::optimizer || c.kind[t] == TaskKind::memcpy)
        by_op[g.names[c.name[t]]] += (*busiest->end)[t] - (*busiest->start)[t];
    Json ops = Json::object();
    for (const auto& [k, v] : by_op) ops[k] = v;
    rep.extra["breakdown"] = {{"rank", busiest->rank},
                              {"compute_by_op_s", ops},
                              {"bubble_s", rep.bubble_fraction * step},
                              {"optimizer_s", rep.busy_s[std::size_t(Category::optimizer)]}};
  }
  return rep;
}

Timeline build_timeline(const Scenario& s, const PartitionGraph& g, const std::vector<RankRecord>& ranks,
                        const Report& report, bool symmetric) {
  Timeline tl;
  tl.source = "simulated";
  tl.names = g.names;
  tl.capacity_bytes = s.cluster.gpu.hbm_bytes;
  tl.report = report.to_json();
  if (symmetric) tl.report["timeline_ranks"] = "one representative rank per rank class (use --full for every rank)";
  const int bubble_name = int(tl.intern("bubble"));
  std::map<int, std::size_t> sim_of_rank;
  for (std::size_t i = 0; i < ranks.size(); ++i) sim_of_rank[ranks[i].rank] = i;
  for (const auto& r : ranks) {
    const ClassTasks& c = *r.tasks;
    const int cls = g.rank_class[std::size_t(r.rank)];
    tl.ranks.push_back({r.rank, g.layout.node_of(r.rank), r.rank % g.layout.gpus_per_node(), cls,
                        g.class_stage.empty() ? 0 : g.class_stage[std::size_t(cls)]});
    std::vector<Interval> compute;
    std::vector<Interval> work;
    for (std::uint32_t t = 0; t < c.size(); ++t) {
      double st = (*r.start)[t], en = (*r.end)[t];
      if (std::isnan(st)) st = en;
      if (!is_comm(c, t) && c.kind[t] != TaskKind::recv) compute.emplace_back(st, en);
      if (counts_as_work(c, t)) work.emplace_back(st, en);
    }
    merge(compute);
    merge(work);
    for (std::uint32_t t = 0; t < c.size(); ++t) {
      TimelineEvent e;
      e.rank = r.rank;
      e.stream = c.stream[t];
      e.category = c.category[t];
      e.task = std::int32_t(t);
      e.name = c.name[t];
      e.start_s = std::isnan((*r.start)[t]) ? (*r.end)[t] : (*r.start)[t];
      e.dur_s = (*r.end)[t] - e.start_s;
      e.layer = c.layer[t];
      e.microbatch = c.microbatch[t];
      e.flops = c.flops[t];
      e.bytes = c.bytes[t];
      if (is_comm(c, t) && e.dur_s > 0) {
        std::vector<Interval> self{{e.start_s, e.start_s + e.dur_s}};
        e.exposed = uncovered(self, compute) > 1e-12 * std::max(1.0, e.dur_s);
      }
      if ((c.kind[t] == TaskKind::send || c.kind[t] == TaskKind::recv) && c.detail[t] >= 0) {
        const P2PInfo& pi = c.p2ps[std::size_t(c.detail[t])];
        if (c.kind[t] == TaskKind::send) {
          e.flow = (std::int64_t(r.rank) << 32) | std::int64_t(t);
          e.flow_out = true;
        } else {
          int sender = g.layout.peer(pi.group, r.rank, pi.offset);
          if (symmetric) {
            // The representative of the sender's class is the one simulated.
            int scls = g.rank_class[std::size_t(sender)];
            sender = g.class_rep[std::size_t(scls)];
          }
          if (sim_of_rank.count(sender)) e.flow = (std::int64_t(sender) << 32) | std::int64_t(pi.match);
        }
      }
      tl.events.push_back(e);
    }
    // Bubbles: idle gaps on the compute stream while no communication of this rank runs.
    double cursor = 0;
    for (const auto& iv : work) {
      if (iv.first > cursor + 1e-12) {
        TimelineEvent b;
        b.rank = r.rank;
        b.stream = Stream::compute;
        b.category = Category::bubble;
        b.name = std::uint32_t(bubble_name);
        b.start_s = cursor;
        b.dur_s = iv.first - cursor;
        tl.events.push_back(b);
      }
      cursor = std::max(cursor, iv.second);
    }
    // Memory counter: static state plus activations allocated/freed as tasks end.
    const MemoryBreakdown& mb = g.class_memory.empty() ? MemoryBreakdown{} : g.class_memory[std::size_t(cls)];
    double base = mb.weights + mb.grads + mb.optimizer + mb.kv_cache + mb.comm_buffers + mb.framework;
    std::vector<std::pair<double, double>> deltas;
    for (std::uint32_t t = 0; t < c.size(); ++t)
      if (c.mem_delta[t] != 0) deltas.emplace_back((*r.end)[t], c.mem_delta[t]);
    std::stable_sort(deltas.begin(), deltas.end(), [](auto& a, auto& b) { return a.first < b.first; });
    double cur = base;
    tl.memory.push_back({r.rank, 0.0, cur});
    for (std::size_t i = 0; i < deltas.size(); ++i) {
      cur += deltas[i].second;
      if (i + 1 < deltas.size() && deltas[i + 1].first == deltas[i].first) continue;
      tl.memory.push_back({r.rank, deltas[i].first, cur});
    }
  }
  return tl;
}

}  // namespace strata
