// strata exec SCENARIO.json --backend cpu|cuda [--trace measured.json] [--report R.json] [--set k=v ...]
// Plans the scenario's partition graph (one class per rank), runs it for real on a backend and
// writes the measured timeline (same schema and task ids as `simulate --trace`) and report.
#include <cstdio>
#include <memory>

#include "commands.hpp"
#include "executor.hpp"
#include "processes.hpp"
#include "io/atomic_file.hpp"
#include "io/scenario.hpp"
#include "plan/planner.hpp"
#include "report/timeline_json.hpp"

namespace strata::cli {

void add_exec(CLI::App& app) {
  auto* cmd = app.add_subcommand("exec", "Run the partition graph for real and record a measured timeline");
  static std::string file, backend = "cpu", trace, report;
  static std::vector<std::string> sets;
  static exec::ExecOptions o;
  cmd->add_option("scenario", file, "Scenario JSON file")->required();
  cmd->add_option("--backend", backend, "Backend: cpu (threads + Eigen) or cuda (cuBLASLt + NCCL)")
      ->check(CLI::IsMember({"cpu", "cuda"}));
  cmd->add_option("--trace", trace, "Write the measured timeline (Chrome trace JSON, opens in Perfetto) here");
  cmd->add_option("--report", report, "Write the measured report (JSON) here");
  cmd->add_option("--set", sets, "Override a scenario field by dotted path, e.g. strategy.tp=4");
  cmd->add_option("--scale", o.scale, "Work factor in (0, 1] (GEMM dims x scale^(1/3), bytes x scale); default: automatic")
      ->check(CLI::Range(1e-6, 1.0));
  cmd->add_option("--cpu-gflop-budget", o.cpu_gflop_budget, "cpu automatic scale: most GFLOP one rank may run per step")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--warmup", o.warmup, "Un-timed steps before the measured one (default: cpu 0, cuda 1)")->check(CLI::Range(0, 100));
  cmd->add_option("--timeout", o.timeout_s, "Seconds a rank may wait for a peer before the run is aborted")->check(CLI::PositiveNumber);
  cmd->add_flag("--check", o.check_collectives, "cpu: fill known values and verify every collective and message");
  cmd->add_flag("--representative", o.representative, "cuda: run one representative rank per class even with enough GPUs");
  cmd->add_flag("--progress", o.progress, "Print a line per finished step on stderr");
  cmd->callback([] {
    Scenario s = load_scenario(file, sets);
    PlanOptions po;
    po.expand_ranks = true;
    PartitionGraph g = build_partition_graph(s, po);
    // The class-shared graph `strata simulate` times: its representatives are the ranks to run
    // when only one per class can (one GPU), and its class numbers let compare align every
    // measured rank with a simulated representative of its class.
    const PartitionGraph sym = build_partition_graph(s);
    const bool same_ids = exec::same_task_ids(g, sym);
    o.backend = backend;
    if (same_ids) o.representatives = sym.class_rep;
    // Under mpirun: one process per rank (cuda), rank 0 gathers and writes everything.
    std::unique_ptr<exec::ProcessGroup> procs;
    if (exec::launched_by_mpirun() && exec::mpirun_size() > 1) {
      if (backend != "cuda")
        throw exec::ExecError("under mpirun only the cuda backend runs one rank per process; the cpu backend runs every rank "
                              "as a thread of one process: run it without mpirun");
      procs = exec::join_mpirun();
      o.processes = procs.get();
    }
    exec::ExecResult r;
    try {
      r = exec::execute(g, o);
    } catch (const std::exception& e) {
      if (!procs) throw;
      std::fprintf(stderr, "error: rank %d: %s\n", procs->rank(), e.what());
      procs->abort(1);  // the other ranks would wait for this one in NCCL until their timeout
    }
    if (procs) {
      std::vector<std::string> parts = procs->gather(exec::process_result_to_string(r), 0);
      if (procs->rank() != 0) return;
      std::vector<exec::ExecResult> all;
      all.push_back(std::move(r));
      for (std::size_t i = 1; i < parts.size(); ++i) all.push_back(exec::process_result_from_string(parts[i]));
      r = exec::merge_process_results(std::move(all));
    }
    if (same_ids)
      for (auto& tr : r.timeline.ranks) tr.rank_class = sym.rank_class[std::size_t(tr.rank)];
    r.timeline.report = exec::measured_report(r, g, &s);
    r.timeline.capacity_bytes = s.cluster.gpu.hbm_bytes;
    const Json& rep = r.timeline.report;
    std::printf("exec %s on %s: %zu ranks (%s), %zu tasks, step %.6f s, wall %.2f s\n", s.name.c_str(), backend.c_str(),
                r.ranks.size(), r.representative ? "one per class" : "all at once", r.tasks, r.step_time_s, r.wall_s);
    std::printf("  scale %g, tokens/s %.1f, TFLOP/s per rank %.4f, bubble %.1f%%\n", r.scale, rep.value("tokens_per_s", 0.0),
                rep.value("tflops_per_gpu", 0.0), 100.0 * rep.value("bubble_fraction", 0.0));
    if (rep.contains("exposed_comm_s")) {
      const Json& ex = rep["exposed_comm_s"];
      std::printf("  exposed comm s: tp %.6f cp %.6f ep %.6f pp %.6f dp %.6f\n", ex.value("tp", 0.0), ex.value("cp", 0.0),
                  ex.value("ep", 0.0), ex.value("pp", 0.0), ex.value("dp", 0.0));
    }
    const Json& st = r.info["stats"];
    if (st.contains("checked_collectives") && (st["checked_collectives"].get<long long>() > 0 || st["checked_messages"].get<long long>() > 0))
      std::printf("  data checks: %lld collectives, %lld messages, %lld wrong elements\n", st["checked_collectives"].get<long long>(),
                  st["checked_messages"].get<long long>(), st["mismatches"].get<long long>());
    for (const auto& n : r.info["notes"]) std::printf("  note: %s\n", n.get<std::string>().c_str());
    if (!trace.empty()) write_timeline(r.timeline, trace);
    if (!report.empty()) write_file_atomic(report, rep.dump(2) + "\n");
    if (st.value("mismatches", 0LL) > 0) throw exec::ExecError("collective data checks failed: " + st.value("first_mismatch", std::string()));
  });
}

}  // namespace strata::cli
