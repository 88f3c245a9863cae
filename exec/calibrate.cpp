#include "calibrate.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <new>
#include <set>
#include <tuple>
#include <unistd.h>

#include "ops.hpp"

namespace strata::exec {

namespace {

using Clock = std::chrono::steady_clock;

// The cpu backend's exec scales work down to fit (ops.hpp); calibrating larger memory-bound
// tasks there would only risk the machine's memory.
constexpr double kCpuMaxMemoryPointBytes = double(1u << 30);

class Progress {
public:
  Progress(bool on, std::size_t total) : on_(on), total_(std::max<std::size_t>(1, total)) {}
  ~Progress() {
    if (on_ && drawn_) std::fputc('\n', stderr);
  }
  void step(const std::string& what) {
    ++done_;
    if (!on_) return;
    const auto now = Clock::now();
    if (drawn_ && done_ < total_ && std::chrono::duration<double>(now - last_).count() < 0.1) return;
    last_ = now;
    drawn_ = true;
    const int width = 30;
    const double f = std::min(1.0, double(done_) / double(total_));
    std::string bar(std::size_t(f * width), '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\rcalibrate [%s] %3d%% %-44.44s", bar.c_str(), int(f * 100), what.c_str());
    std::fflush(stderr);
  }

private:
  bool on_;
  std::size_t total_, done_ = 0;
  bool drawn_ = false;
  Clock::time_point last_{};
};

std::vector<double> geometric(double from, double to, double factor) {
  std::vector<double> v;
  for (double x = from; x <= to * 1.0000001; x *= factor) v.push_back(x);
  return v;
}

std::string now_iso() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string hostname() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

std::string shape_text(const GemmShape& g) {
  return std::to_string(g.m) + "x" + std::to_string(g.n) + "x" + std::to_string(g.k) + (g.batch > 1 ? " x" + std::to_string(g.batch) : "") +
         " " + dtype_name(g.dtype);
}

CollectiveFit fit(const std::string& op, CollKind kind, int n, const std::string& link, std::vector<CollectivePoint> pts) {
  CollectiveFit f;
  f.op = op;
  f.link = link;
  f.ranks = n;
  std::sort(pts.begin(), pts.end(), [](auto& a, auto& b) { return a.bytes < b.bytes; });
  f.points = pts;
  if (pts.empty()) return f;
  std::vector<double> small;
  for (std::size_t i = 0; i < std::min<std::size_t>(3, pts.size()); ++i) small.push_back(pts[i].seconds);
  std::sort(small.begin(), small.end());
  f.latency_us = small[small.size() / 2] * 1e6;
  const double factor = op == "sendrecv" ? 1.0 : busbw_factor(kind, n);
  // Bandwidth: least squares of time on bytes*factor over the large sizes.
  const double biggest = pts.back().bytes;
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  int cnt = 0;
  for (const auto& p : pts) {
    if (p.bytes < biggest / 16) continue;
    const double x = p.bytes * factor, y = p.seconds;
    sx += x, sy += y, sxx += x * x, sxy += x * y;
    ++cnt;
  }
  double slope = 0;
  if (cnt >= 2) {
    const double den = cnt * sxx - sx * sx;
    if (den > 0) slope = (cnt * sxy - sx * sy) / den;
  }
  if (slope > 0) f.busbw_GBps = 1.0 / slope / 1e9;
  else
    for (const auto& p : pts) f.busbw_GBps = std::max(f.busbw_GBps, p.busbw_GBps);
  return f;
}

}  // namespace

std::vector<double> gemm_axis(const std::string& backend, bool quick) {
  if (backend == "cpu") return quick ? std::vector<double>{8, 32, 128} : std::vector<double>{16, 32, 64, 128, 256, 512};
  return quick ? std::vector<double>{256, 1024, 4096} : std::vector<double>{256, 512, 1024, 2048, 4096, 8192, 16384};
}

std::vector<GemmShape> graph_gemm_shapes(const PartitionGraph& g) {
  std::set<std::tuple<std::int64_t, std::int64_t, std::int64_t, int, int>> seen;
  std::vector<GemmShape> out;
  for (const auto& c : g.classes)
    for (const auto& s : c.gemms)
      if (seen.insert({s.m, s.n, s.k, s.batch, int(s.dtype)}).second) out.push_back(s);
  return out;
}

std::vector<AttnPoint> graph_attention_shapes(const PartitionGraph& g) {
  std::vector<AttnPoint> out;
  for (const auto& c : g.classes)
    for (std::uint32_t t = 0; t < c.size(); ++t) {
      const std::int32_t d = c.detail[t];
      if (c.kind[t] != TaskKind::compute || c.op[t] != OpKind::attention || d < 0 || std::size_t(d) >= c.attns.size()) continue;
      AttnPoint q;
      q.shape = c.attns[std::size_t(d)];
      q.flops = c.flops[t];
      const bool seen = std::any_of(out.begin(), out.end(),
                                    [&](const AttnPoint& o) { return o.flops == q.flops && same_attention_work(o.shape, q.shape); });
      if (!seen) out.push_back(q);
    }
  return out;
}

std::vector<double> graph_memory_bytes(const PartitionGraph& g, bool optimizer) {
  std::set<double> seen;
  for (const auto& c : g.classes)
    for (std::uint32_t t = 0; t < c.size(); ++t) {
      const TaskKind k = c.kind[t];
      const OpKind op = c.op[t];
      const bool is_opt = k == TaskKind::optimizer || op == OpKind::optimizer;
      const bool is_elem = k == TaskKind::compute && !is_opt && op != OpKind::gemm && op != OpKind::grouped_gemm && op != OpKind::attention;
      if ((optimizer ? is_opt : is_elem) && c.bytes[t] > 0) seen.insert(c.bytes[t]);
    }
  return {seen.begin(), seen.end()};
}

HardwareProfile calibrate(MicroBench& bench, const CalibrateOptions& o) {
  const std::string be = bench.backend();
  const bool cpu = be == "cpu";
  bench.set_concurrency(o.concurrency);
  HardwareProfile p;
  p.backend = be;
  const Json info = bench.device_info();
  p.device = info.value("device", "");
  p.gpu = info.value("gpu", "");
  p.driver = info.value("driver", "");
  if (info.contains("libraries")) p.libraries = info["libraries"];
  p.date = now_iso();
  p.host = hostname();
  if (cpu) p.notes.push_back("cpu backend: one fp32 GEMM table (the cpu computes in fp32 whatever the dtype); links are shared memory between threads");
  if (o.quick) p.notes.push_back("quick calibration: small grids, few sizes");
  if (cpu && o.concurrency > 1)
    p.notes.push_back("cpu backend: GEMM, attention and memory-bound kernels timed with " + std::to_string(o.concurrency) +
                      " copies running at once (the scenario's ranks share these cores)");

  const std::vector<double> axis = gemm_axis(be, o.quick);
  const std::vector<DType> dtypes = bench.gemm_dtypes();
  const std::vector<double> seqs = cpu ? (o.quick ? std::vector<double>{64, 256} : std::vector<double>{64, 128, 256, 512})
                                       : (o.quick ? std::vector<double>{1024, 4096} : std::vector<double>{512, 1024, 2048, 4096, 8192, 16384});
  const std::vector<double> hds = cpu ? std::vector<double>{32, 64} : std::vector<double>{64, 128};
  const int heads = cpu ? 4 : 16;
  const std::vector<double> copies = cpu ? (o.quick ? geometric(1 << 20, 16 << 20, 4) : geometric(1 << 20, 256 << 20, 4))
                                         : (o.quick ? geometric(16 << 20, 256 << 20, 4) : geometric(1 << 20, double(1u << 30), 4));
  double max_coll = o.max_coll_bytes > 0 ? o.max_coll_bytes : (cpu ? (o.quick ? 1 << 20 : 64 << 20) : double(1u << 30));
  const std::vector<double> sizes = geometric(1024, max_coll, cpu ? 8 : 4);
  const int max_ranks = o.max_ranks > 0 ? std::min(o.max_ranks, bench.max_ranks()) : bench.max_ranks();
  std::vector<int> rank_counts;
  for (int n = 2; n <= max_ranks; n *= 2) rank_counts.push_back(n);
  const std::vector<std::pair<const char*, CollKind>> ops = {{"all_reduce", CollKind::all_reduce},
                                                             {"all_gather", CollKind::all_gather},
                                                             {"reduce_scatter", CollKind::reduce_scatter},
                                                             {"all_to_all", CollKind::all_to_all},
                                                             {"broadcast", CollKind::broadcast}};
  const std::vector<double> mem_sizes = cpu ? (o.quick ? geometric(1 << 16, 4 << 20, 8) : geometric(1 << 16, 64 << 20, 4))
                                           : (o.quick ? geometric(1 << 20, 256 << 20, 16) : geometric(1 << 16, 4.0 * (1u << 30), 4));
  // The memory-bound curves: the grid plus the graph's own task sizes (at most 200 of each,
  // spread evenly over the sorted sizes, so that an inference graph's many sizes stay cheap).
  auto with_exact = [&](std::vector<double> exact) {
    std::sort(exact.begin(), exact.end());
    std::vector<double> v = mem_sizes;
    const std::size_t keep = std::min<std::size_t>(exact.size(), 200);
    for (std::size_t i = 0; i < keep; ++i) v.push_back(exact[keep == exact.size() ? i : i * (exact.size() - 1) / (keep - 1)]);
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
  };
  const std::vector<double> elem_sizes = with_exact(o.elementwise_bytes), opt_sizes = with_exact(o.optimizer_bytes);
  const std::size_t total = dtypes.size() * axis.size() * axis.size() * axis.size() + o.shapes.size() + o.attention_shapes.size() +
                            elem_sizes.size() + opt_sizes.size() + 2 * seqs.size() * hds.size() +
                            copies.size() + 1 + ops.size() * rank_counts.size() * sizes.size() +
                            (max_ranks >= 2 ? sizes.size() : 0) + 1;
  Progress bar(o.progress, total);

  // The planner's own tasks first, exactly (while the device is as the executor finds it: the
  // long grids below heat a GPU into its power limit). GEMM shapes keep their dtype (the cpu
  // runs them in fp32: that is what its exec does).
  for (const GemmShape& g : o.shapes) {
    const double s = bench.gemm_s(g);
    const double flops = 2.0 * double(g.m) * double(g.n) * double(g.k) * std::max(1, g.batch);
    p.gemm_points.push_back({g.m, g.n, g.k, std::max(1, g.batch), g.dtype, s, s > 0 ? flops / s / 1e12 : 0.0});
    bar.step("gemm " + shape_text(g));
  }
  for (const AttnPoint& a : o.attention_shapes) {
    AttnPoint q = a;
    q.seconds = bench.attention_s(a.shape, a.flops);
    q.host_seconds = bench.attention_host_s(a.shape, a.flops);
    p.attention_points.push_back(q);
    bar.step(std::string("attention ") + (a.shape.backward ? "bwd" : "fwd") + " seq " + std::to_string(a.shape.q_len));
  }
  // The executor's memory-bound kernels by size (bytes as the graph counts them).
  // A size that does not fit this device is left out with a note (the curve extrapolates).
  auto curve = [&](const char* what, const std::vector<double>& sizes, BandwidthCurve& c, double (MicroBench::*time)(double)) {
    for (double b : sizes) {
      if (cpu && b > kCpuMaxMemoryPointBytes) {
        p.notes.push_back(std::string(what) + " of " + std::to_string(b / 1e9) + " GB not measured on the cpu (above 1 GiB)");
        bar.step(what);
        continue;
      }
      try {
        const double s = (bench.*time)(b);
        c.points.push_back({b, s, s > 0 ? b / s / 1e9 : 0.0});
      } catch (const std::bad_alloc&) {
        p.notes.push_back(std::string(what) + " of " + std::to_string(b / 1e9) + " GB not measured: out of memory");
      } catch (const ExecError& e) {
        p.notes.push_back(std::string(what) + " of " + std::to_string(b / 1e9) + " GB not measured: " + e.what());
      }
      bar.step(std::string(what) + " " + std::to_string(int(b / 1024)) + " KiB");
    }
  };
  curve("elementwise", elem_sizes, p.elementwise, &MicroBench::elementwise_s);
  curve("optimizer", opt_sizes, p.optimizer, &MicroBench::optimizer_s);
  // GEMM tables.
  for (DType dt : dtypes) {
    GemmTable t;
    t.dtype = dt;
    t.peak_tflops = bench.peak_tflops(dt);
    t.m = t.n = t.k = axis;
    for (double m : axis)
      for (double n : axis)
        for (double k : axis) {
          GemmShape g{std::int64_t(m), std::int64_t(n), std::int64_t(k), 1, dt};
          const double s = bench.gemm_s(g);
          t.tflops.push_back(s > 0 ? 2.0 * m * n * k / s / 1e12 : 0.0);
          bar.step("gemm " + shape_text(g));
        }
    p.gemm.push_back(std::move(t));
  }
  // Attention.
  for (bool bwd : {false, true}) {
    AttnTable t;
    t.dtype = dtypes.front();
    t.backward = bwd;
    t.causal = true;
    t.batch = 1;
    t.heads = heads;
    t.seq = seqs;
    t.head_dim = hds;
    for (double sq : seqs)
      for (double hd : hds) {
        AttnShape a;
        a.batch = 1;
        a.heads = a.kv_heads = heads;
        a.q_len = a.kv_len = std::int64_t(sq);
        a.head_dim = std::int32_t(hd);
        a.causal = true;
        a.backward = bwd;
        a.dtype = t.dtype;
        const double claimed = 2.0 * sq * sq * hd * heads * (bwd ? 2.5 : 1.0);
        const double s = bench.attention_s(a, claimed);
        t.tflops.push_back(s > 0 ? claimed / s / 1e12 : 0.0);
        bar.step(std::string("attention ") + (bwd ? "bwd" : "fwd") + " seq " + std::to_string(int(sq)) + " d " + std::to_string(int(hd)));
      }
    p.attention.push_back(std::move(t));
  }
  // Memory copies and launch overhead.
  for (double b : copies) {
    const double s = bench.memcpy_s(b);
    const double gbps = s > 0 ? b / s / 1e9 : 0;
    p.memcpy.push_back({b, s, gbps});
    p.memcpy_GBps = std::max(p.memcpy_GBps, gbps);
    bar.step("memcpy " + std::to_string(int(b / 1048576)) + " MiB");
  }
  p.launch_overhead_us = bench.launch_s() * 1e6;
  bar.step("launch overhead");
  // Collectives and messages.
  const std::string link = bench.link_class();
  for (const auto& [name, kind] : ops)
    for (int n : rank_counts) {
      std::vector<CollectivePoint> pts;
      for (double b : sizes) {
        const double s = bench.collective_s(kind, n, b);
        const double alg = s > 0 ? b / s / 1e9 : 0;
        pts.push_back({b, s, alg, alg * busbw_factor(kind, n)});
        bar.step(std::string(name) + " x" + std::to_string(n) + " " + std::to_string(int(b / 1024)) + " KiB");
      }
      p.collectives.push_back(fit(name, kind, n, link, pts));
    }
  if (max_ranks >= 2) {
    std::vector<CollectivePoint> pts;
    for (double b : sizes) {
      const double s = bench.sendrecv_s(b);
      const double alg = s > 0 ? b / s / 1e9 : 0;
      pts.push_back({b, s, alg, alg});
      bar.step("sendrecv " + std::to_string(int(b / 1024)) + " KiB");
    }
    p.collectives.push_back(fit("sendrecv", CollKind::broadcast, 2, link, pts));
    LinkProfile l;
    l.name = link;
    l.latency_us = p.collectives.back().latency_us;
    l.bw_GBps = p.collectives.back().busbw_GBps;
    if (const CollectiveFit* ar = p.collective("all_reduce", max_ranks)) l.allreduce_busbw_GBps = ar->busbw_GBps;
    p.links.push_back(l);
  } else {
    p.notes.push_back("only one rank here: no collective, message or link figures (never invented)");
  }
  p.overlap_slowdown = bench.overlap_slowdown(p.overlap_method);
  bar.step("overlap");
  return p;
}

}  // namespace strata::exec
