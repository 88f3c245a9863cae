// One process per rank under mpirun (exec/processes.hpp): the MPI process group's operations,
// the gathering and merging of every process's part of a run, and the clear refusal of the cpu
// backend under mpirun. The cuda path itself (ncclCommInitRank from a broadcast unique id) needs
// GPUs: scripts/gpu-run.sh runs it where there are some.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "demo_graph.hpp"
#include "executor.hpp"
#include "processes.hpp"

using namespace strata;
using namespace strata::exec;

namespace {

struct Shell {
  int code = -1;
  std::string out;
};
Shell run(const std::string& cmd) {
  Shell r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), int(buf.size()), p)) r.out += buf.data();
  const int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// mpirun as root (CI containers) needs both flags; --oversubscribe: 2 processes on any machine.
// Open MPI's own allocations outlive MPI_Finalize: LeakSanitizer (sanitizer builds) must not
// count them against the child processes.
std::string mpirun(int n) {
  return "ASAN_OPTIONS=detect_leaks=0 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
         "OMPI_MCA_rmaps_base_oversubscribe=1 mpirun -np " +
         std::to_string(n) + " ";
}

bool have_mpirun() { return run("command -v mpirun").code == 0; }

std::string self() { return std::filesystem::read_symlink("/proc/self/exe").string(); }

}  // namespace

// The process group's operations, run for real in 3 processes: this test starts itself under
// mpirun and each child checks what it receives.
TEST(Processes, GroupOperationsUnderMpirun) {
  if (!mpi_built()) GTEST_SKIP() << "built without MPI";
  if (launched_by_mpirun()) {  // a child
    auto g = join_mpirun();
    ASSERT_EQ(g->size(), 3);
    ASSERT_EQ(mpirun_size(), 3);
    EXPECT_GE(g->local_rank(), 0);
    long long token = g->rank() == 0 ? 0x5eed : 0;
    g->broadcast(&token, sizeof token, 0);
    EXPECT_EQ(token, 0x5eed);
    EXPECT_DOUBLE_EQ(g->min(10.0 + g->rank()), 10.0);
    g->barrier();
    const std::string mine(std::size_t(1000 * (g->rank() + 1)), char('a' + g->rank()));
    const auto all = g->gather(mine, 0);
    if (g->rank() == 0) {
      ASSERT_EQ(all.size(), 3u);
      for (int r = 0; r < 3; ++r) EXPECT_EQ(all[std::size_t(r)], std::string(std::size_t(1000 * (r + 1)), char('a' + r)));
    } else {
      EXPECT_TRUE(all.empty());
    }
    return;
  }
  if (!have_mpirun()) GTEST_SKIP() << "no mpirun";
  const Shell r = run(mpirun(3) + self() + " --gtest_color=no --gtest_filter=Processes.GroupOperationsUnderMpirun");
  EXPECT_EQ(r.code, 0) << r.out;
  std::size_t passed = 0;
  for (std::size_t at = 0; (at = r.out.find("[  PASSED  ] 1 test", at)) != std::string::npos; ++at) ++passed;
  EXPECT_EQ(passed, 3u) << r.out;
}

// Every process measures its own rank and the parts are joined at rank 0: splitting a real
// (cpu) run into one part per rank, sending each through the text the processes exchange, and
// merging them gives back the whole run.
TEST(Processes, PartsOfARunMergeIntoTheWholeRun) {
  PartitionGraph g = make_demo_graph({.tp = 2, .pp = 2, .micro_batches = 2});
  ExecOptions o;
  o.timeout_s = 60;
  const ExecResult whole = execute(g, o);
  std::vector<ExecResult> parts;
  for (const auto& rt : whole.ranks) {
    ExecResult p = whole;
    p.timeline.events.clear();
    p.timeline.ranks.clear();
    p.timeline.memory.clear();
    p.ranks = {rt};
    p.tasks = p.unmeasured = 0;
    p.step_time_s = 0;
    for (const auto& e : whole.timeline.events)
      if (e.rank == rt.rank) {
        p.timeline.events.push_back(e);
        ++p.tasks;
        p.step_time_s = std::max(p.step_time_s, e.start_s + e.dur_s);
      }
    for (const auto& tr : whole.timeline.ranks)
      if (tr.rank == rt.rank) p.timeline.ranks.push_back(tr);
    for (const auto& m : whole.timeline.memory)
      if (m.rank == rt.rank) p.timeline.memory.push_back(m);
    parts.push_back(process_result_from_string(process_result_to_string(p)));
  }
  ASSERT_EQ(parts.size(), 4u);
  const ExecResult merged = merge_process_results(std::move(parts));
  EXPECT_EQ(merged.tasks, whole.tasks);
  EXPECT_EQ(merged.timeline.events.size(), whole.timeline.events.size());
  EXPECT_EQ(merged.timeline.ranks.size(), 4u);
  EXPECT_NEAR(merged.step_time_s, whole.step_time_s, 1e-9);
  EXPECT_EQ(merged.info["processes"], 4);
  std::map<std::pair<int, int>, const TimelineEvent*> idx;
  for (const auto& e : merged.timeline.events) idx[{e.rank, e.task}] = &e;
  for (const auto& e : whole.timeline.events) {
    auto it = idx.find({e.rank, e.task});
    ASSERT_NE(it, idx.end());
    EXPECT_EQ(merged.timeline.names[it->second->name], whole.timeline.names[e.name]);
    EXPECT_NEAR(it->second->start_s, e.start_s, 1e-9);
    EXPECT_NEAR(it->second->dur_s, e.dur_s, 1e-9);
  }
}

// The cpu backend runs all ranks as threads of one process: under mpirun with several processes
// it says so instead of running the job N times.
TEST(Processes, CpuBackendUnderMpirunIsRefusedClearly) {
  if (!have_mpirun()) GTEST_SKIP() << "no mpirun";
  const std::string sc = std::string(STRATA_SOURCE_ROOT) + "/scenarios/exec-small.json";
  const Shell r = run(mpirun(2) + STRATA_CLI + " exec " + sc + " --backend cpu");
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("run it without mpirun"), std::string::npos) << r.out;
}
