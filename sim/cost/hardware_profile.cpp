// The hardware profile's interpolation and its JSON reader/writer (format: exec/PROFILE.md).
#include <algorithm>
#include <cmath>

#include "io/atomic_file.hpp"
#include "cost/hardware_profile.hpp"

namespace strata {

namespace {

// Position of x on an ascending axis in log2 space: index i and fraction t in [0, 1] between
// axis[i] and axis[i+1]; below/above the axis: the edge (fraction 0) and a factor < 1 below.
struct AxisPos {
  std::size_t i = 0;
  double t = 0;
  double below = 1.0;  // x / axis[0] when x is under the first value
};

AxisPos locate(const std::vector<double>& axis, double x) {
  AxisPos p;
  if (axis.empty()) return p;
  if (axis.size() == 1 || x <= axis.front()) {
    if (x < axis.front() && x > 0) p.below = x / axis.front();
    return p;
  }
  if (x >= axis.back()) {
    p.i = axis.size() - 2;
    p.t = 1.0;
    return p;
  }
  auto it = std::upper_bound(axis.begin(), axis.end(), x);
  p.i = std::size_t(it - axis.begin()) - 1;
  const double a = std::log2(axis[p.i]), b = std::log2(axis[p.i + 1]);
  p.t = b > a ? (std::log2(x) - a) / (b - a) : 0.0;
  return p;
}

CollKind coll_kind_of(const std::string& op) {
  for (CollKind k : {CollKind::all_reduce, CollKind::all_gather, CollKind::reduce_scatter, CollKind::all_to_all,
                     CollKind::all_to_all_v, CollKind::broadcast})
    if (op == coll_kind_name(k)) return k;
  return CollKind::broadcast;  // sendrecv: factor 1
}

DType dtype_of(const JsonReader& r, const std::string& key) {
  const std::string s = r.get_enum(key, {"fp32", "bf16", "fp16", "fp8"});
  return *parse_dtype(s);
}

std::vector<double> axis_of(const JsonReader& r, const std::string& key) {
  JsonReader a = r.child(key);
  std::vector<double> v;
  for (std::size_t i = 0; i < a.array_size(); ++i) {
    double x = a.element(i).as_number(1e-300, 1e300);
    if (!v.empty() && x <= v.back()) a.element(i).fail("axis values must be ascending");
    v.push_back(x);
  }
  if (v.empty()) a.fail("expected at least one value");
  return v;
}

std::vector<double> numbers_of(const JsonReader& r, const std::string& key, std::size_t want) {
  JsonReader a = r.child(key);
  if (a.array_size() != want)
    a.fail("expected " + std::to_string(want) + " values (the product of the axis lengths), found " + std::to_string(a.array_size()));
  std::vector<double> v;
  for (std::size_t i = 0; i < want; ++i) v.push_back(a.element(i).as_number(0, 1e300));
  return v;
}

}  // namespace

double GemmTable::tflops_at(double M, double N, double K) const {
  if (tflops.empty() || m.empty() || n.empty() || k.empty()) return 0;
  const AxisPos a = locate(m, M), b = locate(n, N), c = locate(k, K);
  auto at = [&](std::size_t i, std::size_t j, std::size_t l) {
    i = std::min(i, m.size() - 1);
    j = std::min(j, n.size() - 1);
    l = std::min(l, k.size() - 1);
    return tflops[(i * n.size() + j) * k.size() + l];
  };
  double v = 0;
  for (int di = 0; di < 2; ++di)
    for (int dj = 0; dj < 2; ++dj)
      for (int dl = 0; dl < 2; ++dl) {
        const double w = (di ? a.t : 1 - a.t) * (dj ? b.t : 1 - b.t) * (dl ? c.t : 1 - c.t);
        if (w > 0) v += w * at(a.i + std::size_t(di), b.i + std::size_t(dj), c.i + std::size_t(dl));
      }
  return v * a.below * b.below * c.below;
}

double GemmTable::efficiency(double M, double N, double K) const {
  return peak_tflops > 0 ? tflops_at(M, N, K) / peak_tflops : 0.0;
}

double AttnTable::tflops_at(double s, double hd) const {
  if (tflops.empty() || seq.empty() || head_dim.empty()) return 0;
  const AxisPos a = locate(seq, s), b = locate(head_dim, hd);
  auto at = [&](std::size_t i, std::size_t j) {
    i = std::min(i, seq.size() - 1);
    j = std::min(j, head_dim.size() - 1);
    return tflops[i * head_dim.size() + j];
  };
  double v = 0;
  for (int di = 0; di < 2; ++di)
    for (int dj = 0; dj < 2; ++dj) {
      const double w = (di ? a.t : 1 - a.t) * (dj ? b.t : 1 - b.t);
      if (w > 0) v += w * at(a.i + std::size_t(di), b.i + std::size_t(dj));
    }
  return v * a.below * b.below;
}

double CollectiveFit::time_s(double bytes) const {
  const double f = op == "sendrecv" ? 1.0 : busbw_factor(coll_kind_of(op), ranks);
  return latency_us * 1e-6 + (busbw_GBps > 0 ? bytes * f / (busbw_GBps * 1e9) : 0.0);
}

const GemmTable* HardwareProfile::gemm_table(DType t) const {
  for (const auto& g : gemm)
    if (g.dtype == t) return &g;
  return gemm.empty() ? nullptr : &gemm.front();
}

const AttnTable* HardwareProfile::attention_table(DType t, bool backward) const {
  const AttnTable* any = nullptr;
  for (const auto& a : attention) {
    if (a.backward != backward) continue;
    if (a.dtype == t) return &a;
    if (!any) any = &a;
  }
  return any;
}

const CollectiveFit* HardwareProfile::collective(const std::string& op, int ranks) const {
  const CollectiveFit* best = nullptr;
  for (const auto& c : collectives)
    if (c.op == op && (!best || std::abs(c.ranks - ranks) < std::abs(best->ranks - ranks))) best = &c;
  return best;
}

double HardwareProfile::gemm_point_s(const GemmShape& g) const {
  for (const auto& p : gemm_points)
    if (p.m == g.m && p.n == g.n && p.k == g.k && p.batch == std::max(1, g.batch) && p.dtype == g.dtype && p.seconds > 0)
      return p.seconds;
  return 0;
}

bool same_attention_work(const AttnShape& a, const AttnShape& b) {
  return a.batch == b.batch && a.heads == b.heads && a.kv_heads == b.kv_heads && a.q_len == b.q_len && a.kv_len == b.kv_len &&
         a.head_dim == b.head_dim && a.causal == b.causal && a.backward == b.backward && a.dtype == b.dtype;
}

double HardwareProfile::attention_point_s(const AttnShape& a, double flops) const {
  for (const auto& p : attention_points)
    if (same_attention_work(p.shape, a) && p.seconds > 0 && std::abs(p.flops - flops) <= 1e-6 * std::max(1.0, flops))
      return p.seconds;  // host_seconds is recorded, not used yet (hardware_profile.hpp)
  return 0;
}

double BandwidthCurve::time_s(double bytes) const {
  if (points.empty() || bytes <= 0) return 0;
  if (bytes <= points.front().bytes) return points.front().seconds;
  if (bytes >= points.back().bytes) return points.back().seconds * bytes / points.back().bytes;
  auto it = std::upper_bound(points.begin(), points.end(), bytes, [](double b, const BandwidthPoint& p) { return b < p.bytes; });
  const BandwidthPoint& hi = *it;
  const BandwidthPoint& lo = *(it - 1);
  const double w = (std::log(bytes) - std::log(lo.bytes)) / (std::log(hi.bytes) - std::log(lo.bytes));
  return std::exp(std::log(lo.seconds) * (1 - w) + std::log(hi.seconds) * w);
}

double HardwareProfile::gemm_time_s(const GemmShape& g) const {
  const double flops = 2.0 * double(g.m) * double(g.n) * double(g.k) * std::max(1, g.batch);
  if (const double s = gemm_point_s(g); s > 0) return s;
  const GemmTable* t = gemm_table(g.dtype);
  if (!t) return 0;
  const double tf = t->tflops_at(double(g.m), double(g.n), double(g.k));
  return (tf > 0 ? flops / (tf * 1e12) : 0.0) + launch_overhead_us * 1e-6;
}

double busbw_factor(CollKind k, int n) {
  if (n <= 1) return 1.0;
  const double dn = n;
  switch (k) {
    case CollKind::all_reduce: return 2.0 * (dn - 1) / dn;
    case CollKind::all_gather:
    case CollKind::reduce_scatter:
    case CollKind::all_to_all:
    case CollKind::all_to_all_v: return (dn - 1) / dn;
    case CollKind::broadcast: return 1.0;
  }
  return 1.0;
}

Json profile_to_json(const HardwareProfile& p) {
  Json j;
  j["strata_profile"] = p.format_version;
  j["backend"] = p.backend;
  j["device"] = p.device;
  j["gpu"] = p.gpu;
  j["driver"] = p.driver;
  j["date"] = p.date;
  j["host"] = p.host;
  j["libraries"] = p.libraries;
  j["notes"] = p.notes;
  Json gemm = Json::array();
  for (const auto& g : p.gemm)
    gemm.push_back({{"dtype", dtype_name(g.dtype)}, {"peak_tflops", g.peak_tflops}, {"m", g.m}, {"n", g.n}, {"k", g.k}, {"tflops", g.tflops}});
  j["gemm"] = gemm;
  Json pts = Json::array();
  for (const auto& g : p.gemm_points)
    pts.push_back({{"m", g.m}, {"n", g.n}, {"k", g.k}, {"batch", g.batch}, {"dtype", dtype_name(g.dtype)}, {"seconds", g.seconds}, {"tflops", g.tflops}});
  j["gemm_points"] = pts;
  Json att = Json::array();
  for (const auto& a : p.attention)
    att.push_back({{"dtype", dtype_name(a.dtype)}, {"backward", a.backward}, {"causal", a.causal}, {"batch", a.batch}, {"heads", a.heads},
                   {"seq", a.seq}, {"head_dim", a.head_dim}, {"tflops", a.tflops}});
  j["attention"] = att;
  Json mc = Json::array();
  for (const auto& b : p.memcpy) mc.push_back({{"bytes", b.bytes}, {"seconds", b.seconds}, {"GBps", b.GBps}});
  j["memcpy"] = {{"GBps", p.memcpy_GBps}, {"points", mc}};
  Json apts = Json::array();
  for (const auto& a : p.attention_points) {
    apts.push_back({{"batch", a.shape.batch}, {"heads", a.shape.heads}, {"kv_heads", a.shape.kv_heads}, {"q_len", a.shape.q_len},
                    {"kv_len", a.shape.kv_len}, {"head_dim", a.shape.head_dim}, {"causal", a.shape.causal},
                    {"backward", a.shape.backward}, {"dtype", dtype_name(a.shape.dtype)}, {"flops", a.flops}, {"seconds", a.seconds}});
    if (a.host_seconds > 0) apts.back()["host_seconds"] = a.host_seconds;
  }
  j["attention_points"] = apts;
  auto curve = [](const BandwidthCurve& c) {
    Json v = Json::array();
    for (const auto& b : c.points) v.push_back({{"bytes", b.bytes}, {"seconds", b.seconds}, {"GBps", b.GBps}});
    return v;
  };
  j["elementwise"] = curve(p.elementwise);
  j["optimizer"] = curve(p.optimizer);
  j["launch_overhead_us"] = p.launch_overhead_us;
  Json links = Json::array();
  for (const auto& l : p.links)
    links.push_back({{"name", l.name}, {"latency_us", l.latency_us}, {"bw_GBps", l.bw_GBps}, {"allreduce_busbw_GBps", l.allreduce_busbw_GBps}});
  j["links"] = links;
  Json colls = Json::array();
  for (const auto& c : p.collectives) {
    Json points = Json::array();
    for (const auto& q : c.points)
      points.push_back({{"bytes", q.bytes}, {"seconds", q.seconds}, {"algbw_GBps", q.algbw_GBps}, {"busbw_GBps", q.busbw_GBps}});
    colls.push_back({{"op", c.op}, {"link", c.link}, {"ranks", c.ranks}, {"latency_us", c.latency_us}, {"busbw_GBps", c.busbw_GBps},
                     {"points", points}});
  }
  j["collectives"] = colls;
  j["overlap"] = {{"slowdown", p.overlap_slowdown}, {"method", p.overlap_method}};
  return j;
}

HardwareProfile profile_from_json(const Json& j, const std::string& file) {
  JsonReader r(j, file);
  r.expect_object();
  HardwareProfile p;
  p.format_version = int(r.get_int("strata_profile", 1, 1));
  p.backend = r.get_enum("backend", {"cpu", "cuda"});
  p.device = r.get_string("device", "");
  p.gpu = r.get_string("gpu", "");
  p.driver = r.get_string("driver", "");
  p.date = r.get_string("date", "");
  p.host = r.get_string("host", "");
  if (r.has("libraries")) {
    r.child("libraries").expect_object();
    p.libraries = j.at("libraries");
  }
  if (auto notes = r.maybe_child("notes"))
    for (std::size_t i = 0; i < notes->array_size(); ++i) p.notes.push_back(notes->element(i).as_string());
  if (auto gemm = r.maybe_child("gemm"))
    for (std::size_t i = 0; i < gemm->array_size(); ++i) {
      JsonReader g = gemm->element(i);
      GemmTable t;
      t.dtype = dtype_of(g, "dtype");
      t.peak_tflops = g.get_number("peak_tflops", 0, 1e9, 0);
      t.m = axis_of(g, "m");
      t.n = axis_of(g, "n");
      t.k = axis_of(g, "k");
      t.tflops = numbers_of(g, "tflops", t.m.size() * t.n.size() * t.k.size());
      p.gemm.push_back(std::move(t));
    }
  if (auto pts = r.maybe_child("gemm_points"))
    for (std::size_t i = 0; i < pts->array_size(); ++i) {
      JsonReader g = pts->element(i);
      GemmPoint q;
      q.m = g.get_int("m", 1, std::int64_t(1) << 40);
      q.n = g.get_int("n", 1, std::int64_t(1) << 40);
      q.k = g.get_int("k", 1, std::int64_t(1) << 40);
      q.batch = int(g.get_int("batch", 1, 1 << 20, 1));
      q.dtype = dtype_of(g, "dtype");
      q.seconds = g.get_number("seconds", 0, 1e9);
      q.tflops = g.get_number("tflops", 0, 1e9, 0);
      p.gemm_points.push_back(q);
    }
  if (auto att = r.maybe_child("attention"))
    for (std::size_t i = 0; i < att->array_size(); ++i) {
      JsonReader a = att->element(i);
      AttnTable t;
      t.dtype = dtype_of(a, "dtype");
      t.backward = a.get_bool("backward", false);
      t.causal = a.get_bool("causal", true);
      t.batch = int(a.get_int("batch", 1, 1 << 20, 1));
      t.heads = int(a.get_int("heads", 1, 1 << 20, 1));
      t.seq = axis_of(a, "seq");
      t.head_dim = axis_of(a, "head_dim");
      t.tflops = numbers_of(a, "tflops", t.seq.size() * t.head_dim.size());
      p.attention.push_back(std::move(t));
    }
  if (auto mc = r.maybe_child("memcpy")) {
    p.memcpy_GBps = mc->get_number("GBps", 0, 1e9, 0);
    if (auto pts = mc->maybe_child("points"))
      for (std::size_t i = 0; i < pts->array_size(); ++i) {
        JsonReader b = pts->element(i);
        p.memcpy.push_back({b.get_number("bytes", 0, 1e18), b.get_number("seconds", 0, 1e9), b.get_number("GBps", 0, 1e9)});
      }
  }
  if (auto pts = r.maybe_child("attention_points"))
    for (std::size_t i = 0; i < pts->array_size(); ++i) {
      JsonReader a = pts->element(i);
      AttnPoint q;
      q.shape.batch = std::int32_t(a.get_int("batch", 1, 1 << 20));
      q.shape.heads = std::int32_t(a.get_int("heads", 1, 1 << 20));
      q.shape.kv_heads = std::int32_t(a.get_int("kv_heads", 1, 1 << 20, q.shape.heads));
      q.shape.q_len = a.get_int("q_len", 1, std::int64_t(1) << 40);
      q.shape.kv_len = a.get_int("kv_len", 1, std::int64_t(1) << 40);
      q.shape.head_dim = std::int32_t(a.get_int("head_dim", 1, 1 << 20));
      q.shape.causal = a.get_bool("causal", true);
      q.shape.backward = a.get_bool("backward", false);
      q.shape.dtype = dtype_of(a, "dtype");
      q.flops = a.get_number("flops", 0, 1e30);
      q.seconds = a.get_number("seconds", 0, 1e9);
      q.host_seconds = a.get_number("host_seconds", 0, 1e9, 0);
      p.attention_points.push_back(q);
    }
  auto read_curve = [&](const char* key, BandwidthCurve& c) {
    if (auto pts = r.maybe_child(key))
      for (std::size_t i = 0; i < pts->array_size(); ++i) {
        JsonReader b = pts->element(i);
        c.points.push_back({b.get_number("bytes", 1, 1e18), b.get_number("seconds", 0, 1e9), b.get_number("GBps", 0, 1e9, 0)});
      }
    std::sort(c.points.begin(), c.points.end(), [](const auto& x, const auto& y) { return x.bytes < y.bytes; });
  };
  read_curve("elementwise", p.elementwise);
  read_curve("optimizer", p.optimizer);
  p.launch_overhead_us = r.get_number("launch_overhead_us", 0, 1e9, 0);
  if (auto links = r.maybe_child("links"))
    for (std::size_t i = 0; i < links->array_size(); ++i) {
      JsonReader l = links->element(i);
      p.links.push_back({l.get_string("name"), l.get_number("latency_us", 0, 1e9, 0), l.get_number("bw_GBps", 0, 1e9, 0),
                         l.get_number("allreduce_busbw_GBps", 0, 1e9, 0)});
    }
  if (auto colls = r.maybe_child("collectives"))
    for (std::size_t i = 0; i < colls->array_size(); ++i) {
      JsonReader c = colls->element(i);
      CollectiveFit f;
      f.op = c.get_enum("op", {"all_reduce", "all_gather", "reduce_scatter", "all_to_all", "all_to_all_v", "broadcast", "sendrecv"});
      f.link = c.get_string("link", "");
      f.ranks = int(c.get_int("ranks", 1, 1 << 24));
      f.latency_us = c.get_number("latency_us", 0, 1e9, 0);
      f.busbw_GBps = c.get_number("busbw_GBps", 0, 1e9, 0);
      if (auto pts = c.maybe_child("points"))
        for (std::size_t k = 0; k < pts->array_size(); ++k) {
          JsonReader q = pts->element(k);
          f.points.push_back({q.get_number("bytes", 0, 1e18), q.get_number("seconds", 0, 1e9), q.get_number("algbw_GBps", 0, 1e9, 0),
                              q.get_number("busbw_GBps", 0, 1e9, 0)});
        }
      p.collectives.push_back(std::move(f));
    }
  if (auto ov = r.maybe_child("overlap")) {
    p.overlap_slowdown = ov->get_number("slowdown", 0.1, 100, 1.0);
    p.overlap_method = ov->get_string("method", "");
  }
  return p;
}

HardwareProfile read_profile(const std::string& path) { return profile_from_json(read_json_file(path), path); }

void write_profile(const HardwareProfile& p, const std::string& path) {
  write_file_atomic(path, profile_to_json(p).dump(1) + "\n");
}

}  // namespace strata
