// strata sweep SCENARIO.json|DIR... [--jobs N] [--shard K/N] [--out results.csv|.jsonl] [--top N]
//              [--rank-by FIELD] [--resume] [--merge] [--auto] [--set key=value ...] [--simulate-oom] [--quiet]
// Thin: the work is sim/sweep/ (run_sweep, merge_files, simulator_evaluator); this file parses
// flags, prints progress on stderr and the results on stdout.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <stdexcept>

#include "commands.hpp"
#include "io/atomic_file.hpp"
#include "sweep/evaluate.hpp"
#include "sweep/sweep.hpp"

namespace strata::cli {

namespace {

struct SweepFlags {
  std::vector<std::string> inputs, sets;
  int jobs = 0;
  std::string shard, out, rank_by = "tokens_per_s";
  std::size_t top = 5;
  bool resume = false, merge = false, automatic = false, quiet = false, simulate_oom = false;
};

// Progress on stderr: rewritten in place on a terminal, a line every 10 s otherwise.
class ProgressPrinter {
public:
  explicit ProgressPrinter(bool quiet) : quiet_(quiet), tty_(::isatty(2) != 0) {}
  void operator()(const sweep::Progress& p) {
    if (quiet_) return;
    auto now = std::chrono::steady_clock::now();
    double since = std::chrono::duration<double>(now - last_).count();
    if (!p.final && since < (tty_ ? 0.2 : 10.0) && p.done != 0) return;
    last_ = now;
    std::string line = "sweep: " + sweep::format_progress(p.done, p.total, p.computed, p.elapsed_s);
    if (tty_) std::fprintf(stderr, "\r%-78s%s", line.c_str(), p.final ? "\n" : "");
    else std::fprintf(stderr, "%s\n", line.c_str());
    std::fflush(stderr);
  }

private:
  bool quiet_, tty_;
  std::chrono::steady_clock::time_point last_{};
};

void run(const SweepFlags& f) {
  sweep::RankKey key = sweep::parse_rank_key(f.rank_by);
  if (f.merge) {
    if (f.out.empty()) throw InputError("", "--merge", "needs --out (the merged file)");
    if (!f.shard.empty() || f.resume || f.automatic || !f.sets.empty())
      throw InputError("", "--merge", "joins finished shard outputs; --shard, --resume, --auto and --set do not apply");
    std::string text;
    try {
      text = sweep::merge_files(f.inputs, sweep::format_for(f.out));
    } catch (const std::runtime_error& e) {
      throw InputError("", "--merge", e.what());
    }
    write_file_atomic(f.out, text);
    std::vector<sweep::Row> rows;
    std::size_t n = 0, start = sweep::format_for(f.out) == sweep::Format::csv ? text.find('\n') + 1 : 0;
    while (start < text.size()) {
      std::size_t nl = text.find('\n', start);
      rows.push_back(sweep::parse_row(text.substr(start, nl - start), sweep::format_for(f.out)));
      start = nl + 1;
      ++n;
    }
    std::printf("merged %zu shard outputs into %s: %zu rows\n", f.inputs.size(), f.out.c_str(), n);
    if (f.top > 0) std::fputs(sweep::format_results(rows, {}, key, f.top).c_str(), stdout);
    return;
  }

  sweep::SweepOptions o;
  o.inputs = f.inputs;
  o.overrides = f.sets;
  o.force_auto = f.automatic;
  o.jobs = f.jobs;
  if (!f.shard.empty()) sweep::parse_shard(f.shard, o.shard, o.shards);
  o.out = f.out;
  o.resume = f.resume;
  ProgressPrinter printer(f.quiet);
  o.progress = [&printer](const sweep::Progress& p) { printer(p); };

  sweep::SweepResult r = sweep::run_sweep(o, sweep::simulator_evaluator(f.simulate_oom));

  std::size_t ok = 0, oom = 0, err = 0;
  for (const auto& row : r.rows) {
    std::string st = row.status();
    (st == "ok" ? ok : st == "oom" ? oom : err)++;
  }
  std::printf("sweep: %zu scenario file%s", r.scenarios.size(), r.scenarios.size() == 1 ? "" : "s");
  if (!r.skipped.empty()) std::printf(" (%zu other JSON files skipped: not scenarios)", r.skipped.size());
  std::printf(", %zu row%s", r.total_rows, r.total_rows == 1 ? "" : "s");
  if (o.shards > 1) std::printf("; shard %d/%d: %zu row%s", o.shard, o.shards, r.shard_rows, r.shard_rows == 1 ? "" : "s");
  std::printf(": %zu ok, %zu do not fit in memory, %zu errors", ok, oom, err);
  if (f.resume) std::printf(" (%zu resumed, %zu evaluated now)", r.resumed, r.computed);
  std::printf("\n");
  for (std::size_t i = 0; i < r.skipped.size() && !f.quiet; ++i)
    std::fprintf(stderr, "sweep: skipped %s (not a scenario: no \"model\" and \"cluster\")\n", r.skipped[i].c_str());
  if (r.dropped_lines) std::fprintf(stderr, "sweep: --resume dropped %zu incomplete journal line(s); those rows were evaluated again\n", r.dropped_lines);
  std::fputs(sweep::format_results(r.rows, r.scenarios, key, f.top).c_str(), stdout);
  if (!f.out.empty()) std::printf("wrote %s (%zu rows)\n", f.out.c_str(), r.rows.size());
}

}  // namespace

void add_sweep(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "sweep",
      "Batch: simulate every scenario file (a folder means every scenario *.json below it) and every strategy of "
      "its search block; one row per (scenario, strategy); progress on stderr");
  static SweepFlags f;
  cmd->add_option("inputs", f.inputs, "Scenario files and folders (with --merge: the shard outputs to join)")->required();
  cmd->add_option("--jobs,-j", f.jobs, "Parallel evaluations (default: every core)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--shard", f.shard, "Run the deterministic K-th of N parts (K in 1..N), e.g. for a Slurm job array");
  cmd->add_option("--out,-o", f.out, "Write the rows here: .csv, or .jsonl for JSON lines");
  cmd->add_option("--top", f.top, "Print the best N strategies per scenario and the Pareto front (0: none)")->capture_default_str();
  cmd->add_option("--rank-by", f.rank_by, "Report field to rank by, e.g. mfu, step_time_s, memory_peak_bytes[:asc|:desc]")
      ->capture_default_str();
  cmd->add_flag("--resume", f.resume, "Continue an interrupted sweep into the same --out: finished rows are kept, not recomputed");
  cmd->add_flag("--merge", f.merge, "Join shard outputs (the inputs) into --out, byte-identical to an unsharded run");
  cmd->add_flag("--auto", f.automatic, "Search the automatic strategy space of every scenario (as \"search\": \"auto\")");
  cmd->add_option("--set", f.sets, "Override a field of every scenario by dotted path before its search, e.g. cluster.nodes=64 (repeat --set for more)")
      ->allow_extra_args(false);
  cmd->add_flag("--simulate-oom", f.simulate_oom,
                "Simulate strategies that do not fit in memory too (by default they are rows with their memory only)");
  cmd->add_flag("--quiet,-q", f.quiet, "No progress on stderr");
  cmd->callback([] { run(f); });
}

}  // namespace strata::cli
