#include "sweep/sweep.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "io/atomic_file.hpp"

namespace fs = std::filesystem;

namespace strata::sweep {

namespace {

bool looks_like_scenario(const std::string& file) {
  try {
    Json j = read_json_file(file);
    return j.is_object() && j.contains("model") && j.contains("cluster");
  } catch (const InputError&) {
    return true;  // unreadable: report it as an error row rather than hide it
  }
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One item of work: a candidate to evaluate, or a row already made (a file that failed).
struct WorkItem {
  std::size_t index = 0;
  const std::string* file = nullptr;
  const Candidate* candidate = nullptr;
  std::string label;
  std::optional<Row> fixed;
  std::string key() const { return *file + '\t' + label; }
};

struct FileWork {
  std::string file;
  std::string name;
  Expansion expansion;
  std::string error;
  bool searched = false, automatic = false;
};

std::string stem_of(const std::string& file) { return fs::path(file).stem().string(); }

bool combination_level(const std::string& path) {
  return path.rfind("strategy", 0) == 0 || path.rfind("workload", 0) == 0;
}

// Loads one file and expands its search; errors become FileWork::error.
FileWork load_file(const std::string& file, const SweepOptions& opt) {
  FileWork fw;
  fw.file = file;
  fw.name = stem_of(file);
  try {
    Json j = read_json_file(file);
    for (const auto& o : opt.overrides) apply_override(j, o, file);
    if (j.is_object() && j.contains("name") && j["name"].is_string()) fw.name = j["name"].get<std::string>();
    Json block = j.is_object() && j.contains("search") ? j["search"] : Json();
    if (j.is_object()) j.erase("search");
    SearchSpec spec = parse_search(block, file);
    if (opt.force_auto) spec.automatic = true;
    fw.searched = !spec.empty();
    fw.automatic = spec.automatic;
    std::vector<Point> points;
    if (spec.automatic) {
      // The automatic space needs the model and the cluster; a base strategy that does not fit
      // them (it is replaced anyway) falls back to the defaults, keeping the global batch.
      std::optional<Scenario> base;
      try {
        base = parse_scenario(j, file);
      } catch (const InputError& e) {
        if (!combination_level(e.path())) throw;
        Json k = j;
        Json st = Json::object();
        if (j.contains("strategy") && j["strategy"].is_object())
          for (const char* f : {"global_batch", "dtype", "cp_kind", "order", "overlap_grad_reduce", "overlap_param_gather"})
            if (j["strategy"].contains(f)) st[f] = j["strategy"][f];
        k["strategy"] = st;
        try {
          base = parse_scenario(k, file);
        } catch (const InputError&) {
          throw e;
        }
      }
      points = auto_points(*base, spec);
    } else {
      points = product_points(spec);  // one empty point without a search block
    }
    fw.expansion = expand(j, file, points, opt.jobs);
    if (fw.expansion.valid.empty()) {
      if (!spec.empty()) {
        std::string why;
        for (const auto& [path, b] : fw.expansion.pruned)
          why += (why.empty() ? "" : "; ") + path + ": " + std::to_string(b.count) + " (e.g. " + b.example + ")";
        fw.error = file + ": search: no valid strategy among " + std::to_string(fw.expansion.combinations) +
                   " combinations: " + why;
      } else {
        const auto& [path, b] = *fw.expansion.pruned.begin();
        fw.error = InputError(file, path == "(scenario)" ? "" : path, b.example).what();
      }
    }
  } catch (const InputError& e) {
    fw.error = e.what();
  } catch (const std::exception& e) {
    fw.error = file + ": " + e.what();
  }
  return fw;
}

// Finished rows from an earlier run of the same --out: the journal, then a finished output.
std::unordered_map<std::string, Row> read_finished(const std::string& out, std::size_t& dropped) {
  std::unordered_map<std::string, Row> done;
  auto take = [&](const std::string& path, Format f, bool skip_header) {
    std::string text = read_text(path);
    std::size_t start = 0, line_no = 0;
    while (start < text.size()) {
      std::size_t nl = text.find('\n', start);
      bool complete = nl != std::string::npos;
      std::string line = text.substr(start, complete ? nl - start : std::string::npos);
      start = complete ? nl + 1 : text.size();
      if (line_no++ == 0 && skip_header) {
        if (line != csv_header()) return;  // not ours: ignore it
        continue;
      }
      if (line.empty()) continue;
      if (!complete) {  // a row cut short by a kill
        ++dropped;
        continue;
      }
      try {
        Row r = parse_row(line, f);
        done.emplace(r.key(), std::move(r));
      } catch (const std::exception&) {
        ++dropped;
      }
    }
  };
  std::error_code ec;
  if (fs::exists(journal_path(out), ec)) take(journal_path(out), Format::jsonl, false);
  if (fs::exists(out, ec)) take(out, format_for(out), format_for(out) == Format::csv);
  return done;
}

Row evaluate(const WorkItem& w, const Evaluator& ev) {
  const Scenario& sc = w.candidate->scenario;
  Json report;
  std::string error;
  try {
    bool skip = false;
    if (ev.memory) {
      Json mem = ev.memory(sc);
      if (mem.is_object() && mem.contains("fits") && mem["fits"] == false) {
        report = Json{{"memory", mem}};
        skip = true;
      }
    }
    if (!skip) report = ev.report(sc);
  } catch (const std::exception& e) {
    error = e.what();
    if (error.empty()) error = "evaluation failed";
  } catch (...) {
    error = "evaluation failed (unknown exception)";
  }
  return make_row(w.index, *w.file, sc.name, w.label, &sc, error.empty() ? &report : nullptr, error);
}

void set_index(Row& r, std::size_t index) {
  r.index = index;
  r.cells[0] = index;
}

}  // namespace

std::vector<std::string> discover_inputs(const std::vector<std::string>& inputs, std::vector<std::string>* skipped) {
  std::vector<std::string> files;
  std::set<std::string> seen;
  auto add = [&](const fs::path& p) {
    std::error_code ec;
    std::string canon = fs::weakly_canonical(p, ec).string();
    if (ec) canon = p.lexically_normal().string();
    if (seen.insert(canon).second) files.push_back(p.lexically_normal().generic_string());
  };
  for (const auto& in : inputs) {
    std::error_code ec;
    fs::path p(in);
    if (fs::is_directory(p, ec)) {
      std::vector<fs::path> found;
      for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
        if (it->is_regular_file(ec) && it->path().extension() == ".json") found.push_back(it->path());
      std::sort(found.begin(), found.end(), [](const fs::path& a, const fs::path& b) {
        return a.lexically_normal().generic_string() < b.lexically_normal().generic_string();
      });
      for (const auto& f : found) {
        if (looks_like_scenario(f.string())) add(f);
        else if (skipped) skipped->push_back(f.lexically_normal().generic_string());
      }
    } else if (fs::exists(p, ec)) {
      add(p);
    } else {
      throw InputError(in, "", "no such file or folder");
    }
  }
  return files;
}

void parse_shard(const std::string& spec, int& shard, int& shards) {
  auto slash = spec.find('/');
  auto bad = [&] {
    throw InputError("", "--shard", "expected K/N with 1 <= K <= N (e.g. 3/8; Slurm: $((SLURM_ARRAY_TASK_ID+1))/N), got \"" + spec + "\"");
  };
  if (slash == std::string::npos) bad();
  try {
    std::size_t a = 0, b = 0;
    shard = std::stoi(spec.substr(0, slash), &a);
    shards = std::stoi(spec.substr(slash + 1), &b);
    if (a != slash || b != spec.size() - slash - 1) bad();
  } catch (const std::logic_error&) {
    bad();
  }
  if (shards < 1 || shard < 1 || shard > shards) bad();
}

std::string journal_path(const std::string& out) { return out + ".partial"; }

SweepResult run_sweep(const SweepOptions& opt, const Evaluator& ev) {
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  SweepResult res;
  if (opt.shards < 1 || opt.shard < 1 || opt.shard > opt.shards)
    throw InputError("", "--shard", "expected K/N with 1 <= K <= N");
  if (opt.resume && opt.out.empty()) throw InputError("", "--resume", "needs --out (the file whose journal to resume)");

  // 1. The work list: deterministic, the same in every shard.
  std::vector<std::string> files = discover_inputs(opt.inputs, &res.skipped);
  std::vector<FileWork> loaded;
  loaded.reserve(files.size());
  for (const auto& f : files) loaded.push_back(load_file(f, opt));
  std::vector<WorkItem> work;
  for (const auto& fw : loaded) {
    ScenarioSummary s;
    s.file = fw.file;
    s.name = fw.name;
    s.error = fw.error;
    s.combinations = fw.expansion.combinations;
    s.valid = fw.expansion.valid.size();
    s.pruned = fw.expansion.pruned;
    s.searched = fw.searched;
    s.automatic = fw.automatic;
    res.scenarios.push_back(std::move(s));
    if (!fw.error.empty()) {
      WorkItem w;
      w.index = work.size();
      w.file = &fw.file;
      w.fixed = make_row(w.index, fw.file, fw.name, "", nullptr, nullptr, fw.error);
      work.push_back(std::move(w));
      continue;
    }
    for (const auto& c : fw.expansion.valid) {
      WorkItem w;
      w.index = work.size();
      w.file = &fw.file;
      w.candidate = &c;
      w.label = point_label(c.point);
      work.push_back(std::move(w));
    }
  }
  res.total_rows = work.size();

  // 2. This shard's part, minus what an earlier run finished.
  std::vector<const WorkItem*> mine;
  for (const auto& w : work)
    if (w.index % std::size_t(opt.shards) == std::size_t(opt.shard - 1)) mine.push_back(&w);
  res.shard_rows = mine.size();

  std::error_code ec;
  const std::string journal = opt.out.empty() ? std::string() : journal_path(opt.out);
  std::unordered_map<std::string, Row> finished;
  if (opt.resume) {
    finished = read_finished(opt.out, res.dropped_lines);
  } else if (!journal.empty() && fs::exists(journal, ec)) {
    throw InputError(journal, "", "a sweep into " + opt.out +
                                      " was interrupted; pass --resume to continue it, or delete this file to start over");
  }
  std::vector<Row> rows;
  std::vector<const WorkItem*> todo;
  for (const WorkItem* w : mine) {
    auto it = finished.find(w->key());
    if (it != finished.end()) {
      Row r = std::move(it->second);
      finished.erase(it);
      set_index(r, w->index);
      rows.push_back(std::move(r));
    } else if (w->fixed) {
      rows.push_back(*w->fixed);  // nothing to evaluate
    } else {
      todo.push_back(w);
    }
  }
  res.resumed = rows.size();

  // 3. The journal: what is known now (rewritten whole, so a torn last line is gone), then one
  //    line per row as it finishes.
  std::FILE* jf = nullptr;
  if (!journal.empty()) {
    std::string text;
    for (const auto& r : rows) text += render(r, Format::jsonl) + '\n';
    write_file_atomic(journal, text);
    jf = std::fopen(journal.c_str(), "ab");
    if (!jf) throw std::runtime_error(journal + ": cannot append");
  }

  // 4. Evaluate, in parallel; output order does not depend on finishing order.
  std::mutex mu;
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::size_t computed = 0;
  auto elapsed = [&] { return std::chrono::duration<double>(clock::now() - t0).count(); };
  auto report_progress = [&](bool final) {
    if (opt.progress) opt.progress({rows.size(), res.shard_rows, computed, elapsed(), final});
  };
  report_progress(false);
  auto worker = [&] {
    while (!stop.load()) {
      std::size_t i = next.fetch_add(1);
      if (i >= todo.size()) return;
      Row r = evaluate(*todo[i], ev);
      std::lock_guard lock(mu);
      if (jf) {
        std::string line = render(r, Format::jsonl) + '\n';
        std::fwrite(line.data(), 1, line.size(), jf);
        std::fflush(jf);
      }
      rows.push_back(std::move(r));
      ++computed;
      if (opt.stop_after && computed >= opt.stop_after) stop = true;
      report_progress(false);
    }
  };
  int jobs = opt.jobs > 0 ? opt.jobs : int(std::max(1u, std::thread::hardware_concurrency()));
  jobs = int(std::max<std::size_t>(1, std::min<std::size_t>(std::size_t(jobs), todo.size())));
  if (jobs == 1) {
    worker();
  } else {
    std::vector<std::jthread> pool;
    for (int t = 0; t < jobs; ++t) pool.emplace_back(worker);
  }
  if (jf) std::fclose(jf);
  res.computed = computed;
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.index < b.index; });
  res.complete = rows.size() == res.shard_rows;

  // 5. Finalise: the whole output at once, then the journal goes.
  if (res.complete && !opt.out.empty()) {
    write_file_atomic(opt.out, render_file(rows, format_for(opt.out)));
    fs::remove(journal, ec);
  }
  report_progress(true);
  res.rows = std::move(rows);
  return res;
}

std::string format_results(const std::vector<Row>& rows, const std::vector<ScenarioSummary>& summaries,
                           const RankKey& key, std::size_t top) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<const Row*>> by_file;
  for (const auto& s : summaries) {
    if (!by_file.count(s.file)) order.push_back(s.file);
    by_file[s.file];
  }
  for (const auto& r : rows) {
    const Json& f = r.at("file");
    std::string file = f.is_string() ? f.get<std::string>() : "";
    if (!by_file.count(file)) order.push_back(file);
    by_file[file].push_back(&r);
  }
  const std::string rank_name = columns()[std::size_t(key.column)];
  std::string out;
  char buf[256];
  for (const auto& file : order) {
    const auto& rs = by_file[file];
    const ScenarioSummary* s = nullptr;
    for (const auto& x : summaries)
      if (x.file == file) s = &x;
    std::size_t ok = 0, oom = 0, err = 0;
    for (const Row* r : rs) {
      std::string st = r->status();
      (st == "ok" ? ok : st == "oom" ? oom : err)++;
    }
    std::string name = s ? s->name : (rs.empty() || !rs[0]->at("scenario").is_string() ? "" : rs[0]->at("scenario").get<std::string>());
    out += "== " + file + (name.empty() ? "" : " (" + name + ")") + "\n";
    if (s && s->searched) {
      std::snprintf(buf, sizeof buf, "   search%s: %zu combinations, %zu valid, %zu pruned as invalid\n",
                    s->automatic ? " (auto)" : "", s->combinations, s->valid, s->combinations - s->valid);
      out += buf;
      for (const auto& [path, b] : s->pruned) {
        std::snprintf(buf, sizeof buf, "     %-24s %6zu  e.g. ", path.c_str(), b.count);
        out += buf + b.example + "\n";
      }
    }
    std::snprintf(buf, sizeof buf, "   rows: %zu (%zu ok, %zu do not fit in memory, %zu errors)\n", rs.size(), ok, oom, err);
    out += buf;
    if (s && !s->error.empty()) out += "   error: " + s->error + "\n";
    else
      for (const Row* r : rs)
        if (r->status() == "error" && r->at("error").is_string()) {
          out += "   first error: " + r->at("error").get<std::string>() + "\n";
          break;
        }
    if (top > 0 && ok > 0) {
      auto best = top_rows(rs, key, top);
      out += "   best " + std::to_string(best.size()) + " by " + rank_name + (key.descending ? " (high first)" : " (low first)") + ":\n";
      out += format_table(best, key.column);
      if (ok > 1) {
        auto front = pareto_front(rs);
        out += "   Pareto front, tokens/s vs peak memory (" + std::to_string(front.size()) + " strategies):\n";
        out += format_table(front, -1);
      }
    }
  }
  return out;
}

}  // namespace strata::sweep
