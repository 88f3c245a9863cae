#pragma once
// Sweep rows: one per (scenario, strategy), with every strategy field, the report fields and the
// error if it failed; written as CSV or JSONL (one line per row, the same columns in the same
// order), read back for --resume and --merge, ranked for --top, and the Pareto front of
// throughput against memory.
#include <cstddef>
#include <string>
#include <vector>

#include "io/json_reader.hpp"

namespace strata {
struct Scenario;
}

namespace strata::sweep {

// The columns, in output order. "index" (the row's place in the whole, unsharded sweep) is first.
const std::vector<std::string>& columns();
// Index of a column by name; also accepts report-style paths ("memory.peak_bytes",
// "exposed_comm_s.dp", "inference.ttft_s"). -1 when unknown.
int column_index(const std::string& name);

enum class Format { csv, jsonl };
// By extension: ".jsonl" / ".ndjson" -> jsonl, anything else -> csv.
Format format_for(const std::string& path);

struct Row {
  std::size_t index = 0;
  std::vector<Json> cells;  // one per column; null = empty

  const Json& at(const std::string& column) const;
  std::string key() const;  // file + '\t' + search label: the identity --resume matches on
  std::string status() const;
  double number(int column) const;  // NaN when not a number
};

// Builders. Status is "ok", "oom" (the strategy does not fit in memory; reported, not dropped)
// or "error".
Row make_row(std::size_t index, const std::string& file, const std::string& scenario_name,
             const std::string& search_label, const Scenario* scenario, const Json* report,
             const std::string& error);

// One line, no newline. CSV fields are quoted only when needed (RFC 4180); error messages never
// hold newlines, so one row is always one line.
std::string render(const Row& row, Format f);
std::string csv_header();
// Parses one line written by render(); throws std::runtime_error on a malformed line.
Row parse_row(const std::string& line, Format f);

// The whole output file: (header +) rows sorted by index.
std::string render_file(std::vector<Row> rows, Format f);

// Joins shard outputs into one file, byte-identical to the unsharded output. Fails (runtime_error)
// on mixed formats, foreign headers, conflicting duplicates or missing rows.
std::string merge_files(const std::vector<std::string>& inputs, Format f);

// Ranking: --rank-by FIELD[:asc|:desc]. Throughput-like fields (tokens_per_s, tflops_per_gpu,
// mfu) rank high first, everything else (times, bytes, fractions) low first.
struct RankKey {
  int column = -1;
  bool descending = true;
};
RankKey parse_rank_key(const std::string& spec);  // throws InputError on an unknown field
// The best n "ok" rows (fit in memory, no error); ties broken by index.
std::vector<const Row*> top_rows(const std::vector<const Row*>& rows, const RankKey& key, std::size_t n);
// "ok" rows not dominated in (tokens_per_s high, memory_peak_bytes low), by memory ascending.
std::vector<const Row*> pareto_front(const std::vector<const Row*>& rows);
// A small fixed-width table of rows (strategy, throughput, memory, and the rank field).
std::string format_table(const std::vector<const Row*>& rows, int extra_column = -1);

// "1234/2000 rows (61.7%)  45.2 rows/s  ~17s left"
std::string format_progress(std::size_t done, std::size_t total, std::size_t computed, double elapsed_s);

}  // namespace strata::sweep
