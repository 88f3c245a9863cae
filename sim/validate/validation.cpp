#include "validate/validation.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <thread>

#include "engine/simulate.hpp"
#include "io/scenario.hpp"
#include "report/summary.hpp"

namespace strata {

ValidationSummary run_validation(const std::string& path, unsigned jobs) {
  ValidationSummary v;
  v.file = path;
  for (auto& r : load_published_runs(path)) {
    ValidationRow row;
    row.run = std::move(r);
    v.rows.push_back(std::move(row));
  }
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i = next++; i < v.rows.size(); i = next++) {
      ValidationRow& row = v.rows[i];
      if (!row.run.unsupported.empty()) continue;
      try {
        Scenario s = parse_scenario(row.run.scenario, row.run.id);
        SimOptions opt;
        opt.want_timeline = false;
        SimResult res = simulate(s, opt);
        row.predicted_step_s = res.report.step_time_s;
        row.rel_error = (row.predicted_step_s - row.run.published_step_s) / row.run.published_step_s;
        Json rep = res.report.to_json();
        row.explain = {{"breakdown", rep.value("breakdown", Json::object())},
                       {"exposed_comm_s", rep["exposed_comm_s"]},
                       {"bubble_fraction", rep["bubble_fraction"]},
                       {"mfu", rep["mfu"]},
                       {"memory_fits", rep["memory"]["fits"]}};
        row.ok = true;
      } catch (const std::exception& e) {
        row.error = e.what();
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned j = 0; j < std::max(1u, jobs); ++j) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  std::vector<double> errs;
  for (const auto& r : v.rows) {
    if (!r.run.unsupported.empty()) ++v.unsupported;
    else if (!r.ok) ++v.failed;
    else {
      ++v.simulated;
      errs.push_back(std::fabs(r.rel_error));
    }
  }
  if (!errs.empty()) {
    std::sort(errs.begin(), errs.end());
    std::size_t n = errs.size();
    v.median_abs_error = n % 2 ? errs[n / 2] : 0.5 * (errs[n / 2 - 1] + errs[n / 2]);
    v.max_abs_error = errs.back();
  }
  return v;
}

std::string format_validation(const ValidationSummary& v, bool explain) {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "%-36s %6s %12s %12s %9s\n", "run", "gpus", "published", "predicted", "error");
  out += line;
  for (const auto& r : v.rows) {
    long long gpus = r.run.scenario.is_null() ? 0 : 0;
    if (!r.run.scenario.is_null()) {
      const Json& st = r.run.scenario["strategy"];
      gpus = st["tp"].get<long long>() * st["pp"].get<long long>() * st["dp"].get<long long>() * st["cp"].get<long long>();
    }
    if (!r.run.unsupported.empty()) {
      std::snprintf(line, sizeof line, "%-36s %6s %12s %12s %9s  unsupported: %s\n", r.run.id.c_str(), "-", "-", "-", "-",
                    r.run.unsupported.c_str());
    } else if (!r.ok) {
      std::snprintf(line, sizeof line, "%-36s %6lld %12s %12s %9s  failed: %s\n", r.run.id.c_str(), gpus,
                    format_seconds(r.run.published_step_s).c_str(), "-", "-", r.error.c_str());
    } else {
      std::snprintf(line, sizeof line, "%-36s %6lld %12s %12s %+8.1f%%\n", r.run.id.c_str(), gpus,
                    format_seconds(r.run.published_step_s).c_str(), format_seconds(r.predicted_step_s).c_str(),
                    r.rel_error * 100);
    }
    out += line;
    if (explain && r.ok) {
      const Json& b = r.explain["breakdown"];
      std::string ops;
      if (b.contains("compute_by_op_s"))
        for (auto it = b["compute_by_op_s"].begin(); it != b["compute_by_op_s"].end(); ++it) {
          char buf[96];
          std::snprintf(buf, sizeof buf, " %s=%.3g", it.key().c_str(), it.value().get<double>());
          ops += buf;
        }
      const Json& ex = r.explain["exposed_comm_s"];
      std::snprintf(line, sizeof line, "    compute:%s\n    exposed comm: tp %.3g cp %.3g ep %.3g pp %.3g dp %.3g s; bubble %.1f%%; MFU %.1f%%\n",
                    ops.c_str(), ex["tp"].get<double>(), ex["cp"].get<double>(), ex["ep"].get<double>(), ex["pp"].get<double>(),
                    ex["dp"].get<double>(), r.explain["bubble_fraction"].get<double>() * 100, r.explain["mfu"].get<double>() * 100);
      out += line;
    }
  }
  std::snprintf(line, sizeof line, "\n%d simulated, %d unsupported, %d failed; |error| median %.1f%%, max %.1f%%\n", v.simulated,
                v.unsupported, v.failed, v.median_abs_error * 100, v.max_abs_error * 100);
  out += line;
  return out;
}

std::string validation_csv(const ValidationSummary& v) {
  std::string out = "id,published_step_s,predicted_step_s,rel_error,status,step_basis\n";
  for (const auto& r : v.rows) {
    char line[512];
    const char* status = !r.run.unsupported.empty() ? "unsupported" : r.ok ? "ok" : "failed";
    std::snprintf(line, sizeof line, "%s,%.6g,%.6g,%.6g,%s,\"%s\"\n", r.run.id.c_str(), r.run.published_step_s, r.predicted_step_s,
                  r.rel_error, status, r.run.step_basis.c_str());
    out += line;
  }
  return out;
}

Json validation_json(const ValidationSummary& v) {
  Json rows = Json::array();
  for (const auto& r : v.rows) {
    Json j = {{"id", r.run.id}, {"published_step_s", r.run.published_step_s}, {"step_basis", r.run.step_basis},
              {"assumptions", r.run.assumptions}};
    if (!r.run.scenario.is_null()) j["scenario"] = r.run.scenario;  // exactly what was simulated
    if (!r.run.unsupported.empty()) j["unsupported"] = r.run.unsupported;
    else if (!r.ok) j["error"] = r.error;
    else {
      j["predicted_step_s"] = r.predicted_step_s;
      j["rel_error"] = r.rel_error;
      j["explain"] = r.explain;
    }
    rows.push_back(j);
  }
  return {{"file", v.file}, {"median_abs_error", v.median_abs_error}, {"max_abs_error", v.max_abs_error},
          {"simulated", v.simulated}, {"unsupported", v.unsupported}, {"failed", v.failed}, {"rows", rows}};
}

}  // namespace strata
