#pragma once
// `strata sweep` as a library: scenario files and folders -> work (one item per (scenario,
// strategy)) -> rows, evaluated in parallel, sharded, journaled for --resume, finalised
// atomically in a deterministic order.
//
// Determinism: the work list depends only on the inputs (folders are walked in sorted order,
// search spaces expand in a fixed order); every item has a global index; shard K/N takes the
// items with index % N == K-1; the output holds rows sorted by index, so any --jobs, any
// sharding (after --merge) and any kill + --resume give the same bytes.
//
// Robustness: a file that cannot be read or parsed, a search with no valid strategy and a
// strategy whose evaluation throws each become an "error" row; strategies that do not fit in
// memory are "oom" rows. Rows are appended to OUT.partial (a JSONL journal, flushed per row) as
// they finish; the final OUT is written to a temporary file and renamed, then the journal is
// removed. --resume reads the journal (and a finished OUT), drops an incomplete last line, and
// evaluates only what is missing.
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "io/scenario.hpp"
#include "sweep/rows.hpp"
#include "sweep/search_space.hpp"

namespace strata::sweep {

struct Evaluator {
  // The report (CONTRACT §3 JSON, as Report::to_json writes it) of one scenario. Throwing makes
  // an error row. Must be safe to call from several threads at once.
  std::function<Json(const Scenario&)> report;
  // Optional cheap memory estimate (the report's "memory" object). When it says {"fits": false}
  // the strategy becomes an "oom" row without being simulated.
  std::function<Json(const Scenario&)> memory;
};

struct Progress {
  std::size_t done = 0;      // rows finished in this shard (resumed ones included)
  std::size_t total = 0;     // rows in this shard
  std::size_t computed = 0;  // rows evaluated by this run
  double elapsed_s = 0;
  bool final = false;
};

struct SweepOptions {
  std::vector<std::string> inputs;     // scenario files and folders
  std::vector<std::string> overrides;  // --set key=value, applied to every scenario first
  bool force_auto = false;             // --auto: the automatic space for every scenario
  int jobs = 0;                        // 0 = every core
  int shard = 1, shards = 1;           // --shard K/N, K in 1..N
  std::string out;                     // "" = rows kept in memory only (no journal, no resume)
  bool resume = false;
  std::size_t stop_after = 0;          // tests: stop, as if killed, after this many new rows
  std::function<void(const Progress&)> progress;
};

struct ScenarioSummary {
  std::string file, name;
  std::string error;  // why the file gave no strategy (its error row says the same)
  bool searched = false, automatic = false;
  std::size_t combinations = 0, valid = 0;
  std::map<std::string, PruneBucket> pruned;
};

struct SweepResult {
  std::vector<ScenarioSummary> scenarios;
  std::vector<std::string> skipped;  // JSON files in folders that are not scenarios
  std::size_t total_rows = 0;        // the whole sweep, every shard
  std::size_t shard_rows = 0;        // this shard
  std::size_t resumed = 0, computed = 0;
  std::size_t dropped_lines = 0;     // unreadable journal lines discarded by --resume
  bool complete = false;             // false when stopped early (stop_after)
  std::vector<Row> rows;             // this shard's rows, by index
};

// The scenario files named by the inputs: files as given; folders walked recursively for *.json,
// sorted, keeping JSON objects with "model" and "cluster" (and unreadable files, which become
// error rows); the rest go to `skipped`. Duplicates are dropped. Throws InputError when an input
// does not exist.
std::vector<std::string> discover_inputs(const std::vector<std::string>& inputs, std::vector<std::string>* skipped);

// "K/N" with 1 <= K <= N. Throws InputError.
void parse_shard(const std::string& spec, int& shard, int& shards);

std::string journal_path(const std::string& out);

// Runs the sweep. Throws InputError for bad options (an input that does not exist, a journal in
// the way without --resume); everything about single scenarios becomes rows.
SweepResult run_sweep(const SweepOptions& options, const Evaluator& evaluator);

// The human summary: per scenario file, the search and its pruning (when summaries are given),
// the best `top` rows by `key` and the Pareto front of throughput against peak memory.
std::string format_results(const std::vector<Row>& rows, const std::vector<ScenarioSummary>& summaries,
                           const RankKey& key, std::size_t top);

}  // namespace strata::sweep
