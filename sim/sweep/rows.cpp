#include "sweep/rows.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>

#include "io/scenario.hpp"
#include "sweep/search_space.hpp"

namespace strata::sweep {

namespace {

const std::vector<std::string>& string_columns() {
  static const std::vector<std::string> s = {"file", "scenario", "search", "status", "schedule", "cp_kind",
                                             "recompute", "dtype", "error"};
  return s;
}

std::vector<bool> make_string_mask() {
  std::vector<bool> mask;
  for (const auto& c : columns())
    mask.push_back(std::find(string_columns().begin(), string_columns().end(), c) != string_columns().end());
  return mask;
}

const std::vector<bool>& string_mask() {
  static const std::vector<bool> m = make_string_mask();
  return m;
}

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  return s;
}

Json number_at(const Json& j, std::initializer_list<const char*> path) {
  const Json* n = &j;
  for (const char* p : path) {
    if (!n->is_object() || !n->contains(p)) return nullptr;
    n = &(*n)[p];
  }
  return n->is_number() || n->is_boolean() ? *n : Json();
}

std::string csv_field(const Json& cell) {
  if (cell.is_null()) return "";
  std::string s = cell.is_string() ? cell.get<std::string>() : dump(cell);
  bool quote = s.find_first_of(",\"\n\r") != std::string::npos || (!s.empty() && (s.front() == ' ' || s.back() == ' '));
  if (!quote) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + '"';
}

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false, was_quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          cur += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        cur += c;
      }
    } else if (c == '"' && cur.empty() && !was_quoted) {
      quoted = was_quoted = true;
    } else if (c == ',') {
      out.push_back(std::move(cur));
      cur.clear();
      was_quoted = false;
    } else {
      cur += c;
    }
  }
  if (quoted) throw std::runtime_error("unterminated quoted field");
  out.push_back(std::move(cur));
  return out;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot read");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) out.push_back(std::move(line));
    start = nl + 1;
  }
  return out;
}

// The row's index from the start of its line, without parsing the rest.
bool leading_index(const std::string& line, Format f, std::size_t& index) {
  std::size_t pos = 0;
  if (f == Format::jsonl) {
    static const std::string prefix = "{\"index\":";
    if (line.compare(0, prefix.size(), prefix) != 0) return false;
    pos = prefix.size();
  }
  std::size_t end = pos;
  while (end < line.size() && line[end] >= '0' && line[end] <= '9') ++end;
  if (end == pos || end - pos > 18) return false;
  index = std::stoull(line.substr(pos, end - pos));
  return true;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

}  // namespace

const std::vector<std::string>& columns() {
  static const std::vector<std::string> c = {
      "index", "file", "scenario", "search", "status", "gpus",
      "dp", "tp", "pp", "cp", "ep", "vpp", "schedule", "cp_kind", "sequence_parallel", "micro_batch",
      "global_batch", "zero", "recompute", "overlap_grad_reduce", "overlap_param_gather", "dtype", "layer_split",
      "step_time_s", "tokens_per_s", "tflops_per_gpu", "mfu", "bubble_fraction",
      "exposed_tp_s", "exposed_cp_s", "exposed_ep_s", "exposed_pp_s", "exposed_dp_s",
      "memory_peak_bytes", "memory_weights_bytes", "memory_grads_bytes", "memory_optimizer_bytes",
      "memory_activations_bytes", "memory_kv_cache_bytes", "memory_capacity_bytes", "fits",
      "ttft_s", "tpot_s", "error"};
  return c;
}

int column_index(const std::string& name) {
  std::string n = name;
  if (n.rfind("memory.", 0) == 0) n = n == "memory.fits" ? "fits" : "memory_" + n.substr(7);
  else if (n.rfind("exposed_comm_s.", 0) == 0) n = "exposed_" + n.substr(15) + "_s";
  else if (n.rfind("inference.", 0) == 0) n = n.substr(10);
  else if (n.rfind("strategy.", 0) == 0) n = n.substr(9);
  const auto& c = columns();
  auto it = std::find(c.begin(), c.end(), n);
  return it == c.end() ? -1 : int(it - c.begin());
}

Format format_for(const std::string& path) {
  auto ends = [&](const char* suffix) {
    std::string s(suffix);
    return path.size() >= s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0;
  };
  return ends(".jsonl") || ends(".ndjson") ? Format::jsonl : Format::csv;
}

const Json& Row::at(const std::string& column) const {
  static const Json null;
  int i = column_index(column);
  return i < 0 || std::size_t(i) >= cells.size() ? null : cells[std::size_t(i)];
}

std::string Row::key() const {
  const Json& f = at("file");
  const Json& s = at("search");
  return (f.is_string() ? f.get<std::string>() : "") + '\t' + (s.is_string() ? s.get<std::string>() : "");
}

std::string Row::status() const {
  const Json& s = at("status");
  return s.is_string() ? s.get<std::string>() : "";
}

double Row::number(int column) const {
  if (column < 0 || std::size_t(column) >= cells.size()) return std::numeric_limits<double>::quiet_NaN();
  const Json& v = cells[std::size_t(column)];
  if (v.is_number()) return v.get<double>();
  if (v.is_boolean()) return v.get<bool>() ? 1 : 0;
  return std::numeric_limits<double>::quiet_NaN();
}

Row make_row(std::size_t index, const std::string& file, const std::string& scenario_name,
             const std::string& search_label, const Scenario* sc, const Json* report, const std::string& error) {
  Row r;
  r.index = index;
  r.cells.assign(columns().size(), Json());
  auto set = [&](const char* col, Json v) { r.cells[std::size_t(column_index(col))] = std::move(v); };
  set("index", index);
  set("file", file);
  set("scenario", scenario_name);
  if (!search_label.empty()) set("search", search_label);
  if (sc) {
    const Strategy& s = sc->strategy;
    set("gpus", sc->cluster.gpus());
    set("dp", s.dp);
    set("tp", s.tp);
    set("pp", s.pp);
    set("cp", s.cp);
    set("ep", s.ep);
    set("vpp", s.vpp);
    set("schedule", schedule_name(s.schedule));
    set("cp_kind", cp_kind_name(s.cp_kind));
    set("sequence_parallel", s.sequence_parallel);
    set("micro_batch", s.micro_batch);
    set("global_batch", s.global_batch);
    set("zero", s.zero);
    set("recompute", recompute_name(s.recompute));
    set("overlap_grad_reduce", s.overlap_grad_reduce);
    set("overlap_param_gather", s.overlap_param_gather);
    set("dtype", dtype_name(sc->compute_dtype()));
    if (!s.layer_split.empty()) set("layer_split", s.layer_split);
  }
  bool fits = true;
  if (report && report->is_object()) {
    const Json& rep = *report;
    set("step_time_s", number_at(rep, {"step_time_s"}));
    set("tokens_per_s", number_at(rep, {"tokens_per_s"}));
    set("tflops_per_gpu", number_at(rep, {"tflops_per_gpu"}));
    set("mfu", number_at(rep, {"mfu"}));
    set("bubble_fraction", number_at(rep, {"bubble_fraction"}));
    for (const char* k : {"tp", "cp", "ep", "pp", "dp"})
      r.cells[std::size_t(column_index(std::string("exposed_") + k + "_s"))] = number_at(rep, {"exposed_comm_s", k});
    for (const char* k : {"peak", "weights", "grads", "optimizer", "activations", "kv_cache", "capacity"})
      r.cells[std::size_t(column_index(std::string("memory_") + k + "_bytes"))] =
          number_at(rep, {"memory", (std::string(k) + "_bytes").c_str()});
    Json f = number_at(rep, {"memory", "fits"});
    if (f.is_boolean()) fits = f.get<bool>();
    set("fits", f);
    set("ttft_s", number_at(rep, {"inference", "ttft_s"}));
    set("tpot_s", number_at(rep, {"inference", "tpot_s"}));
  }
  if (!error.empty()) {
    set("status", "error");
    set("error", one_line(error));
  } else {
    set("status", fits ? "ok" : "oom");
  }
  return r;
}

std::string csv_header() {
  std::string h;
  for (const auto& c : columns()) h += (h.empty() ? "" : ",") + c;
  return h;
}

std::string render(const Row& row, Format f) {
  std::string s;
  if (f == Format::csv) {
    for (std::size_t i = 0; i < columns().size(); ++i) {
      if (i) s += ',';
      if (i < row.cells.size()) s += csv_field(row.cells[i]);
    }
    return s;
  }
  s = "{";
  bool first = true;
  for (std::size_t i = 0; i < columns().size() && i < row.cells.size(); ++i) {
    if (row.cells[i].is_null()) continue;
    if (!first) s += ',';
    first = false;
    s += dump(Json(columns()[i])) + ':' + dump(row.cells[i]);
  }
  return s + '}';
}

Row parse_row(const std::string& line, Format f) {
  Row r;
  r.cells.assign(columns().size(), Json());
  if (f == Format::csv) {
    std::vector<std::string> fields = split_csv(line);
    if (fields.size() != columns().size())
      throw std::runtime_error("expected " + std::to_string(columns().size()) + " fields, found " + std::to_string(fields.size()));
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (fields[i].empty()) continue;
      if (string_mask()[i]) {
        r.cells[i] = fields[i];
      } else {
        try {
          r.cells[i] = Json::parse(fields[i]);
        } catch (const Json::parse_error&) {
          throw std::runtime_error("column " + columns()[i] + ": not a value: " + fields[i]);
        }
      }
    }
  } else {
    Json j;
    try {
      j = Json::parse(line);
    } catch (const Json::parse_error& e) {
      throw std::runtime_error(std::string("not a JSON line: ") + e.what());
    }
    if (!j.is_object()) throw std::runtime_error("not a JSON object");
    for (std::size_t i = 0; i < columns().size(); ++i)
      if (j.contains(columns()[i])) r.cells[i] = j[columns()[i]];
  }
  if (!r.cells[0].is_number_unsigned()) throw std::runtime_error("missing row index");
  r.index = r.cells[0].get<std::size_t>();
  return r;
}

std::string render_file(std::vector<Row> rows, Format f) {
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.index < b.index; });
  std::string out;
  if (f == Format::csv) out = csv_header() + '\n';
  for (const auto& r : rows) out += render(r, f) + '\n';
  return out;
}

std::string merge_files(const std::vector<std::string>& inputs, Format f) {
  if (inputs.empty()) throw std::runtime_error("--merge: no shard outputs given");
  std::map<std::size_t, std::string> lines;
  for (const auto& in : inputs) {
    if (format_for(in) != f)
      throw std::runtime_error(in + ": --merge joins files of one format (this is not " +
                               (f == Format::csv ? "CSV" : "JSONL") + " like --out)");
    std::vector<std::string> ls = split_lines(read_text(in));
    std::size_t start = 0;
    if (f == Format::csv) {
      if (ls.empty() || ls[0] != csv_header())
        throw std::runtime_error(in + ": line 1: not a strata sweep CSV header (was it written by another version?)");
      start = 1;
    }
    for (std::size_t i = start; i < ls.size(); ++i) {
      std::size_t idx = 0;
      if (!leading_index(ls[i], f, idx))
        throw std::runtime_error(in + ": line " + std::to_string(i + 1) + ": not a sweep row (no leading index)");
      auto [it, fresh] = lines.emplace(idx, ls[i]);
      if (!fresh && it->second != ls[i])
        throw std::runtime_error(in + ": line " + std::to_string(i + 1) + ": row " + std::to_string(idx) +
                                 " differs from the same row in another input (shards of different sweeps?)");
    }
  }
  std::vector<std::size_t> missing;
  std::size_t expect = 0;
  for (const auto& [idx, line] : lines) {
    while (expect < idx && missing.size() < 8) missing.push_back(expect++);
    expect = idx + 1;
  }
  if (!missing.empty()) {
    std::string list;
    for (auto m : missing) list += (list.empty() ? "" : ", ") + std::to_string(m);
    throw std::runtime_error("--merge: rows missing (index " + list +
                             (missing.size() == 8 ? ", ..." : "") + "): is a shard missing or unfinished?");
  }
  std::string out;
  if (f == Format::csv) out = csv_header() + '\n';
  for (const auto& [idx, line] : lines) out += line + '\n';
  return out;
}

RankKey parse_rank_key(const std::string& spec) {
  RankKey k;
  std::string name = spec, dir;
  if (auto colon = spec.rfind(':'); colon != std::string::npos) {
    name = spec.substr(0, colon);
    dir = spec.substr(colon + 1);
  }
  k.column = column_index(name);
  const auto& mask = string_mask();
  if (k.column < 0 || mask[std::size_t(k.column)] || name == "index") {
    std::string list;
    for (std::size_t i = 0; i < columns().size(); ++i)
      if (!mask[i] && columns()[i] != "index") list += (list.empty() ? "" : ", ") + columns()[i];
    throw InputError("", "--rank-by", "unknown numeric field \"" + name + "\" (known: " + list + ")");
  }
  const std::string& c = columns()[std::size_t(k.column)];
  k.descending = c == "tokens_per_s" || c == "tflops_per_gpu" || c == "mfu";
  if (dir == "asc") k.descending = false;
  else if (dir == "desc") k.descending = true;
  else if (!dir.empty()) throw InputError("", "--rank-by", "direction must be asc or desc, got \"" + dir + "\"");
  return k;
}

std::vector<const Row*> top_rows(const std::vector<const Row*>& rows, const RankKey& key, std::size_t n) {
  std::vector<const Row*> ok;
  for (const Row* r : rows)
    if (r->status() == "ok" && std::isfinite(r->number(key.column))) ok.push_back(r);
  std::stable_sort(ok.begin(), ok.end(), [&](const Row* a, const Row* b) {
    double x = a->number(key.column), y = b->number(key.column);
    if (x != y) return key.descending ? x > y : x < y;
    return a->index < b->index;
  });
  if (ok.size() > n) ok.resize(n);
  return ok;
}

std::vector<const Row*> pareto_front(const std::vector<const Row*>& rows) {
  const int tput = column_index("tokens_per_s"), mem = column_index("memory_peak_bytes");
  std::vector<const Row*> ok;
  for (const Row* r : rows)
    if (r->status() == "ok" && std::isfinite(r->number(tput)) && std::isfinite(r->number(mem))) ok.push_back(r);
  std::stable_sort(ok.begin(), ok.end(), [&](const Row* a, const Row* b) {
    double ma = a->number(mem), mb = b->number(mem);
    if (ma != mb) return ma < mb;
    double ta = a->number(tput), tb = b->number(tput);
    if (ta != tb) return ta > tb;
    return a->index < b->index;
  });
  std::vector<const Row*> front;
  double best = -std::numeric_limits<double>::infinity();
  for (const Row* r : ok)
    if (r->number(tput) > best) {
      front.push_back(r);
      best = r->number(tput);
    }
  return front;
}

std::string format_table(const std::vector<const Row*>& rows, int extra_column) {
  struct Col {
    std::string head;
    std::function<std::string(const Row&)> cell;
  };
  auto num = [](const Row& r, const char* c) {
    const Json& v = r.at(c);
    return v.is_null() ? std::string("-") : v.is_string() ? v.get<std::string>() : dump(v);
  };
  std::vector<Col> cols = {
      {"index", [&](const Row& r) { return num(r, "index"); }},
      {"tp", [&](const Row& r) { return num(r, "tp"); }},
      {"pp", [&](const Row& r) { return num(r, "pp"); }},
      {"dp", [&](const Row& r) { return num(r, "dp"); }},
      {"cp", [&](const Row& r) { return num(r, "cp"); }},
      {"ep", [&](const Row& r) { return num(r, "ep"); }},
      {"vpp", [&](const Row& r) { return num(r, "vpp"); }},
      {"mb", [&](const Row& r) { return num(r, "micro_batch"); }},
      {"zero", [&](const Row& r) { return num(r, "zero"); }},
      {"recompute", [&](const Row& r) { return num(r, "recompute"); }},
      {"tokens/s", [&](const Row& r) { double v = r.number(column_index("tokens_per_s")); return std::isfinite(v) ? fmt("%.0f", v) : "-"; }},
      {"step", [&](const Row& r) { double v = r.number(column_index("step_time_s")); return std::isfinite(v) ? fmt("%.3f s", v) : "-"; }},
      {"MFU", [&](const Row& r) { double v = r.number(column_index("mfu")); return std::isfinite(v) ? fmt("%.1f%%", 100 * v) : "-"; }},
      {"mem peak", [&](const Row& r) { double v = r.number(column_index("memory_peak_bytes")); return std::isfinite(v) ? fmt("%.1f GiB", v / 1073741824.0) : "-"; }},
  };
  static const std::vector<std::string> shown = {"index", "tp", "pp", "dp", "cp", "ep", "vpp", "micro_batch", "zero",
                                                 "recompute", "tokens_per_s", "step_time_s", "mfu", "memory_peak_bytes"};
  if (extra_column >= 0 && std::size_t(extra_column) < columns().size()) {
    const std::string c = columns()[std::size_t(extra_column)];
    if (std::find(shown.begin(), shown.end(), c) == shown.end())
      cols.push_back({c, [c, num](const Row& r) { return num(r, c.c_str()); }});
  }
  bool dotted = std::any_of(rows.begin(), rows.end(), [](const Row* r) {
    const Json& s = r->at("search");
    return s.is_string() && s.get<std::string>().find('.') != std::string::npos;
  });
  if (dotted) cols.push_back({"search", [&](const Row& r) { return num(r, "search"); }});
  std::vector<std::vector<std::string>> cells;
  std::vector<std::size_t> width;
  for (const auto& c : cols) width.push_back(c.head.size());
  for (const Row* r : rows) {
    cells.emplace_back();
    for (std::size_t i = 0; i < cols.size(); ++i) {
      cells.back().push_back(cols[i].cell(*r));
      width[i] = std::max(width[i], cells.back().back().size());
    }
  }
  auto line = [&](const std::vector<std::string>& v) {
    std::string s = " ";
    for (std::size_t i = 0; i < v.size(); ++i) {
      std::string pad(width[i] - v[i].size(), ' ');
      s += i + 1 == v.size() && cols[i].head == "search" ? v[i] : pad + v[i];
      if (i + 1 < v.size()) s += "  ";
    }
    return s + '\n';
  };
  std::vector<std::string> head;
  for (const auto& c : cols) head.push_back(c.head);
  std::string out = line(head);
  for (const auto& c : cells) out += line(c);
  return out;
}

std::string format_progress(std::size_t done, std::size_t total, std::size_t computed, double elapsed_s) {
  auto dur = [](double s) {
    char buf[32];
    long long t = (long long)std::llround(s);
    if (t >= 3600) std::snprintf(buf, sizeof buf, "%lldh%02lldm", t / 3600, (t / 60) % 60);
    else if (t >= 60) std::snprintf(buf, sizeof buf, "%lldm%02llds", t / 60, t % 60);
    else std::snprintf(buf, sizeof buf, "%llds", t);
    return std::string(buf);
  };
  char buf[160];
  double pct = total ? 100.0 * double(done) / double(total) : 100.0;
  std::snprintf(buf, sizeof buf, "%zu/%zu rows (%.1f%%)", done, total, pct);
  std::string s = buf;
  if (elapsed_s > 0 && computed > 0) {
    double rate = double(computed) / elapsed_s;
    std::snprintf(buf, sizeof buf, "  %.1f rows/s", rate);
    s += buf;
    if (done < total) s += "  ~" + dur(double(total - done) / rate) + " left";
    else s += "  " + dur(elapsed_s);
  }
  return s;
}

}  // namespace strata::sweep
