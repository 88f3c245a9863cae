#pragma once
// Published training runs (../shared/validation/published_runs.json) turned into scenarios, so
// that `strata validate` can compare Strata's predictions with what real clusters measured.
#include <optional>
#include <string>
#include <vector>

#include "io/json_reader.hpp"

namespace strata {

struct PublishedRun {
  std::string id;
  std::string source;              // citation
  Json scenario;                   // a scenario JSON Strata can simulate (null when unsupported)
  std::string unsupported;         // why the row cannot be expressed yet ("" when supported)
  double published_step_s = 0;     // published or derived from published figures
  std::string step_basis;          // how published_step_s was obtained
  std::vector<std::string> assumptions;  // what Strata had to assume (fabric, dtype, ...)
};

// Reads every training-throughput row of the file. Rows Strata cannot express come back with
// `unsupported` set, never silently dropped.
std::vector<PublishedRun> load_published_runs(const std::string& path);

// The default file: STRATA_VALIDATION_FILE, else ../shared/validation/published_runs.json next
// to the project root, else scenarios/validation/published_runs.json.
std::string default_validation_file();

}  // namespace strata
