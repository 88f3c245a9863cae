#include "sweep/search_space.hpp"

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>

namespace strata::sweep {

namespace {

// Strategy fields in the order CONTRACT §2 lists them: the canonical order of a point's keys.
const std::vector<std::string>& strategy_keys() {
  static const std::vector<std::string> k = {
      "dp", "tp", "pp", "cp", "ep", "vpp", "schedule", "cp_kind", "sequence_parallel", "micro_batch",
      "global_batch", "zero", "recompute", "overlap_grad_reduce", "overlap_param_gather", "dtype",
      "layer_split", "order", "bucket_bytes", "algorithm"};
  return k;
}

std::size_t key_rank(const std::string& key) {
  const auto& k = strategy_keys();
  auto it = std::find(k.begin(), k.end(), key);
  return it == k.end() ? k.size() : std::size_t(it - k.begin());
}

bool key_less(const std::string& a, const std::string& b) {
  std::size_t ra = key_rank(a), rb = key_rank(b);
  return ra != rb ? ra < rb : a < b;
}

bool is_pow2(std::int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

const Json* find(const Point& p, const std::string& key) {
  for (const auto& [k, v] : p)
    if (k == key) return &v;
  return nullptr;
}

void set_path(Json& root, const std::string& key, const Json& value, const std::string& file) {
  Json* node = &root;
  std::size_t start = 0;
  while (true) {
    auto dot = key.find('.', start);
    std::string part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!node->is_object()) throw InputError(file, key, "cannot set a field inside a non-object value");
    if (dot == std::string::npos) {
      (*node)[part] = value;
      return;
    }
    node = &(*node)[part];
    if (node->is_null()) *node = Json::object();
    start = dot + 1;
  }
}

// Layers per stage for a pipeline that does not divide the layers evenly: the extra layers go to
// the middle stages, since the first and last stages also hold the embedding and the LM head.
Json balanced_layer_split(int layers, int pp) {
  int base = layers / pp, extra = layers % pp;
  int first = (pp - extra) / 2;
  Json split = Json::array();
  for (int i = 0; i < pp; ++i) split.push_back(base + (i >= first && i < first + extra ? 1 : 0));
  return split;
}

int int_of(const Point& p, const std::string& key, int fallback) {
  const Json* v = find(p, key);
  return v && v->is_number_integer() ? v->get<int>() : fallback;
}

}  // namespace

std::string point_label(const Point& p) {
  std::string s;
  for (const auto& [k, v] : p) {
    if (!s.empty()) s += ' ';
    s += k + '=' + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  return s;
}

SearchSpec parse_search(const Json& block, const std::string& file) {
  SearchSpec spec;
  if (block.is_null()) return spec;
  if (block.is_string()) {
    if (block.get<std::string>() != "auto")
      throw InputError(file, "search", "expected an object of value sets or \"auto\", got \"" + block.get<std::string>() + "\"");
    spec.automatic = true;
    return spec;
  }
  if (!block.is_object())
    throw InputError(file, "search", "expected an object of value sets or \"auto\", got " + json_type_name(block));
  static const std::vector<std::string> tops = {"name", "model", "cluster", "strategy", "workload", "profile"};
  for (auto it = block.begin(); it != block.end(); ++it) {
    std::string key = it.key(), path = "search." + it.key();
    if (key == "auto") {
      if (!it->is_boolean()) throw InputError(file, path, "expected true or false, got " + json_type_name(*it));
      spec.automatic = it->get<bool>();
      continue;
    }
    if (key.rfind("strategy.", 0) == 0) key = key.substr(9);
    if (key.find('.') == std::string::npos) {
      if (key_rank(key) == strategy_keys().size()) {
        std::string list;
        for (const auto& k : strategy_keys()) list += (list.empty() ? "" : ", ") + k;
        throw InputError(file, path, "unknown strategy field \"" + key + "\" (known: " + list +
                                         "; or a dotted scenario path such as cluster.nodes)");
      }
    } else if (std::find(tops.begin(), tops.end(), key.substr(0, key.find('.'))) == tops.end()) {
      throw InputError(file, path, "a dotted key must start with model, cluster, strategy, workload or profile");
    }
    std::vector<Json> values;
    if (it->is_array()) {
      if (it->empty()) throw InputError(file, path, "empty value set");
      for (const auto& v : *it) values.push_back(v);
    } else {
      values.push_back(*it);  // a single value: a fixed field for every point
    }
    for (const auto& d : spec.dims)
      if (d.first == key) throw InputError(file, path, "\"" + key + "\" is listed twice");
    spec.dims.emplace_back(key, std::move(values));
  }
  std::stable_sort(spec.dims.begin(), spec.dims.end(), [](const auto& a, const auto& b) { return key_less(a.first, b.first); });
  return spec;
}

namespace {

// The product of dims, first dimension outermost.
template <class Visit>
void for_each_product(const std::vector<std::pair<std::string, std::vector<Json>>>& dims, Visit&& visit) {
  std::vector<std::size_t> at(dims.size(), 0);
  Point p;
  p.reserve(dims.size());
  while (true) {
    p.clear();
    for (std::size_t d = 0; d < dims.size(); ++d) p.emplace_back(dims[d].first, dims[d].second[at[d]]);
    visit(p);
    std::size_t d = dims.size();
    while (d > 0) {
      --d;
      if (++at[d] < dims[d].second.size()) break;
      at[d] = 0;
      if (d == 0) return;
    }
    if (dims.empty()) return;
  }
}

}  // namespace

std::vector<Point> product_points(const SearchSpec& spec) {
  std::vector<Point> out;
  for_each_product(spec.dims, [&](const Point& p) { out.push_back(p); });
  return out;
}

std::vector<Point> auto_points(const Scenario& base, const SearchSpec& spec) {
  const ModelSpec& m = base.model;
  const std::int64_t gpus = base.cluster.gpus();
  const int gpn = base.cluster.gpus_per_node;
  const bool train = base.workload.kind == WorkloadKind::train;
  using Dim = std::pair<std::string, std::vector<Json>>;
  std::vector<Dim> dims;

  std::vector<Json> tp;
  for (std::int64_t t = 1; t <= std::min<std::int64_t>(gpn, gpus); t *= 2) {
    if (m.heads % t || m.ffn_hidden % t) continue;
    if (m.kv_heads % t && t % m.kv_heads) continue;
    if (m.moe && m.moe->expert_ffn_hidden % t) continue;
    tp.push_back(t);
  }
  dims.emplace_back("tp", tp);

  std::vector<Json> pp;
  for (std::int64_t p = 1; p <= std::min<std::int64_t>(m.layers, gpus); ++p)
    if (gpus % p == 0 && (p == 1 || (m.layers >= 2 * p && (m.layers % p == 0 || is_pow2(p))))) pp.push_back(p);
  dims.emplace_back("pp", pp);

  std::vector<Json> cp = {1};
  if (train)
    for (std::int64_t c = 2; c <= 16 && c <= gpus; c *= 2)
      if (base.workload.seq_len % (2 * c) == 0 && base.workload.seq_len / c >= 4096) cp.push_back(c);
  dims.emplace_back("cp", cp);

  if (m.moe) {
    std::vector<Json> ep;
    for (std::int64_t e = 1; e <= std::min<std::int64_t>(m.moe->experts, gpus); e *= 2)
      if (m.moe->experts % e == 0) ep.push_back(e);
    dims.emplace_back("ep", ep);
  }
  if (train) {
    dims.emplace_back("vpp", std::vector<Json>{1, 2, 4});
    dims.emplace_back("micro_batch", std::vector<Json>{1, 2, 4});
    dims.emplace_back("zero", std::vector<Json>{1, 3});
    dims.emplace_back("recompute", std::vector<Json>{"none", "selective", "full"});
  }
  // Value sets listed next to "auto" replace those dimensions or add new ones.
  bool moves_gpus = false;
  for (const auto& d : spec.dims) {
    if (d.first.find('.') != std::string::npos) moves_gpus = true;
    auto it = std::find_if(dims.begin(), dims.end(), [&](const Dim& x) { return x.first == d.first; });
    if (it != dims.end()) it->second = d.second;
    else dims.push_back(d);
  }
  std::stable_sort(dims.begin(), dims.end(), [](const Dim& a, const Dim& b) { return key_less(a.first, b.first); });
  auto listed = [&](const char* k) {
    return std::any_of(dims.begin(), dims.end(), [&](const Dim& d) { return d.first == k; });
  };

  std::vector<Point> out;
  const Strategy& bs = base.strategy;
  for_each_product(dims, [&](const Point& raw) {
    int t = int_of(raw, "tp", bs.tp), p = int_of(raw, "pp", bs.pp), c = int_of(raw, "cp", bs.cp);
    int v = int_of(raw, "vpp", bs.vpp), z = int_of(raw, "zero", bs.zero);
    // Structurally meaningless here: degrees that do not tile the GPUs, virtual stages without a
    // pipeline, ZeRO-3 across pipeline stages (unsupported), uneven splits with virtual stages.
    if (!moves_gpus && gpus % (std::int64_t(t) * p * c) != 0) return;
    if (v > 1 && p == 1) return;
    if (z == 3 && p > 1) return;
    bool uneven = m.layers % p != 0;
    if (uneven && (v > 1 || listed("layer_split"))) return;
    Point pt = raw;
    if (!listed("sequence_parallel")) pt.emplace_back("sequence_parallel", t > 1);
    if (uneven) pt.emplace_back("layer_split", balanced_layer_split(m.layers, p));
    std::stable_sort(pt.begin(), pt.end(), [](const auto& a, const auto& b) { return key_less(a.first, b.first); });
    out.push_back(std::move(pt));
  });
  return out;
}

Json apply_point(const Json& base, const Point& point) {
  Json j = base;
  if (j.is_object()) j.erase("search");
  if (point.empty() || !j.is_object()) return j;
  if (!j.contains("strategy")) j["strategy"] = Json::object();
  Json& st = j["strategy"];
  if (!st.is_object()) return j;  // parse_scenario names the problem
  auto has = [&](const char* k) { return find(point, k) != nullptr; };
  for (const auto& [k, v] : point) {
    if (k.find('.') == std::string::npos) st[k] = v;
    else set_path(j, k, v, "");
  }
  Json& st2 = j["strategy"];  // a dotted key may have replaced the block
  if (!st2.is_object()) return j;
  if (!has("dp")) st2.erase("dp");
  if ((has("pp") || has("vpp")) && !has("layer_split")) st2.erase("layer_split");
  if (const Json* v = find(point, "vpp"); v && !has("schedule")) {
    if (v->is_number_integer() && v->get<long long>() > 1) st2["schedule"] = "interleaved";
    else if (st2.value("schedule", Json()).is_string() && st2["schedule"] == "interleaved") st2.erase("schedule");
  }
  return j;
}

std::size_t Expansion::pruned_total() const {
  std::size_t n = 0;
  for (const auto& [k, b] : pruned) n += b.count;
  return n;
}

Expansion expand(const Json& base, const std::string& file, const std::vector<Point>& points, int jobs) {
  struct Outcome {
    std::optional<Scenario> scenario;
    std::string path, detail;
  };
  std::vector<Outcome> out(points.size());
  auto work = [&](std::size_t i) {
    try {
      out[i].scenario = parse_scenario(apply_point(base, points[i]), file);
    } catch (const InputError& e) {
      out[i].path = e.path().empty() ? "(scenario)" : e.path();
      out[i].detail = e.detail();
    }
  };
  if (jobs <= 0) jobs = int(std::max(1u, std::thread::hardware_concurrency()));
  jobs = int(std::min<std::size_t>(std::size_t(jobs), std::max<std::size_t>(1, points.size() / 64)));
  if (jobs <= 1) {
    for (std::size_t i = 0; i < points.size(); ++i) work(i);
  } else {
    std::atomic<std::size_t> next{0};
    std::vector<std::jthread> pool;
    for (int t = 0; t < jobs; ++t)
      pool.emplace_back([&] {
        for (std::size_t i; (i = next.fetch_add(1)) < points.size();) work(i);
      });
  }
  Expansion e;
  e.combinations = points.size();
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (out[i].scenario) {
      e.valid.push_back({points[i], std::move(*out[i].scenario)});
    } else {
      PruneBucket& b = e.pruned[out[i].path];
      if (b.count++ == 0) b.example = out[i].detail;
    }
  }
  return e;
}

Json strategy_to_json(const Strategy& s) {
  Json j = {{"dp", s.dp},
            {"tp", s.tp},
            {"pp", s.pp},
            {"cp", s.cp},
            {"ep", s.ep},
            {"sequence_parallel", s.sequence_parallel},
            {"vpp", s.vpp},
            {"schedule", schedule_name(s.schedule)},
            {"cp_kind", cp_kind_name(s.cp_kind)},
            {"micro_batch", s.micro_batch},
            {"global_batch", s.global_batch},
            {"zero", s.zero},
            {"recompute", recompute_name(s.recompute)},
            {"overlap_grad_reduce", s.overlap_grad_reduce},
            {"overlap_param_gather", s.overlap_param_gather},
            {"order", s.order},
            {"algorithm", coll_algo_name(s.algorithm)},
            // The software-stack fields: a strategy read back from here must plan the same job.
            {"attention", attention_kind_name(s.attention)},
            {"norm_kernel", norm_kernel_name(s.norm_kernel)},
            {"tp_async_grad_reduce", s.tp_async_grad_reduce},
            {"grad_accumulation_fusion", s.grad_accumulation_fusion},
            {"pp_scatter_gather", s.pp_scatter_gather},
            {"overlap_p2p_comm", s.overlap_p2p_comm}};
  if (s.dtype) j["dtype"] = dtype_name(*s.dtype);
  if (!s.layer_split.empty()) j["layer_split"] = s.layer_split;
  if (s.bucket_bytes > 0) j["bucket_bytes"] = s.bucket_bytes;
  return j;
}

std::vector<Json> auto_search_space(const Scenario& s) {
  SearchSpec spec;
  spec.automatic = true;
  Json base = s.resolved;
  if (!base.is_object() || base.empty()) return {};
  Expansion e = expand(base, s.file, auto_points(s, spec), 0);
  std::vector<Json> out;
  out.reserve(e.valid.size());
  for (const auto& c : e.valid) out.push_back(strategy_to_json(c.scenario.strategy));
  return out;
}

}  // namespace strata::sweep
