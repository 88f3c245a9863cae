#pragma once
// `strata validate`: simulate every published run and compare step times.
#include <string>
#include <vector>

#include "validate/published_runs.hpp"

namespace strata {

struct ValidationRow {
  PublishedRun run;
  bool ok = false;
  std::string error;             // simulation failure
  double predicted_step_s = 0;
  double rel_error = 0;          // (predicted - published) / published
  Json explain;                  // where the time goes (report breakdown)
};

struct ValidationSummary {
  std::string file;
  std::vector<ValidationRow> rows;
  double median_abs_error = 0, max_abs_error = 0;
  int simulated = 0, unsupported = 0, failed = 0;
};

ValidationSummary run_validation(const std::string& path, unsigned jobs);
std::string format_validation(const ValidationSummary& v, bool explain);
std::string validation_csv(const ValidationSummary& v);
Json validation_json(const ValidationSummary& v);

}  // namespace strata
