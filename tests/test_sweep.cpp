// The sweep machinery (sim/sweep/): search expansion and pruning, the automatic space, parallel
// evaluation with a deterministic order, sharding + merge (byte-identical to an unsharded run),
// kill + resume (nothing lost, nothing duplicated, nothing recomputed), output formats, ranking,
// the Pareto front and progress. A fake evaluator stands in for the simulator so that these
// tests are about the machinery and run in milliseconds.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "io/atomic_file.hpp"
#include "sweep/evaluate.hpp"
#include "sweep/sweep.hpp"

using namespace strata;
using namespace strata::sweep;
namespace fs = std::filesystem;

namespace {

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::size_t count_lines(const std::string& s) { return std::size_t(std::count(s.begin(), s.end(), '\n')); }

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name) {
    path = fs::temp_directory_path() / ("strata-sweep-" + std::to_string(::getpid()) + "-" + name);
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name, const Json& j) const {
    fs::path p = path / name;
    fs::create_directories(p.parent_path());
    write_file_atomic(p.string(), j.dump(2));
    return p.string();
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

// Llama-3-8B (32 heads, 8 KV heads, 32 layers) on 2 DGX H100 nodes = 16 GPUs.
Json base_scenario(Json search = nullptr) {
  Json j = {{"name", "llama3-8b-16"},
            {"model", {{"preset", "llama3-8b"}}},
            {"cluster", {{"topology", "topologies/dgx-h100.json"}, {"nodes", 2}}},
            {"strategy", {{"dp", 2}, {"tp", 4}, {"pp", 2}, {"micro_batch", 1}, {"global_batch", 64},
                          {"zero", 1}, {"recompute", "selective"}, {"sequence_parallel", true}}},
            {"workload", {{"kind", "train"}, {"seq_len", 4096}}}};
  if (!search.is_null()) j["search"] = search;
  return j;
}

Json small_search() {
  return {{"tp", {1, 2, 3, 4, 8}}, {"pp", {1, 2, 3, 4}}, {"micro_batch", {1, 2}}};
}

// A deterministic stand-in for the simulator: throughput and memory from the strategy alone.
// tp 2 x pp 2 x micro-batch 2 throws (an error row, message on two lines).
std::atomic<int> g_calls{0};
Json fake_memory(const Scenario& s) {
  const Strategy& st = s.strategy;
  double mem = 160e9 / (st.tp * st.pp) + 10e9 * st.micro_batch / st.tp;
  double cap = 80e9;
  return Json{{"peak_bytes", mem}, {"weights_bytes", mem / 2}, {"capacity_bytes", cap}, {"fits", mem <= cap}};
}
Json fake_report(const Scenario& s) {
  ++g_calls;
  const Strategy& st = s.strategy;
  if (st.tp == 2 && st.pp == 2 && st.micro_batch == 2 && st.zero != 3) throw std::runtime_error("boom\nsecond line");
  double step = 1.0 + 0.05 * st.tp + 0.1 * (st.pp - 1) / st.micro_batch + 0.3 / st.micro_batch;
  double tokens = double(st.global_batch) * double(s.workload.seq_len) / step;
  return Json{{"step_time_s", step},
              {"tokens_per_s", tokens},
              {"tflops_per_gpu", tokens / 1e4},
              {"mfu", tokens / 1e7},
              {"bubble_fraction", double(st.pp - 1) / (st.pp - 1 + 8)},
              {"exposed_comm_s", {{"tp", 0.01 * st.tp}, {"cp", 0.0}, {"ep", 0.0}, {"pp", 0.02 * st.pp}, {"dp", 0.1 / 3}}},
              {"memory", fake_memory(s)}};
}

Evaluator fake(int delay_us = 0) {
  Evaluator e;
  e.report = [delay_us](const Scenario& s) {
    if (delay_us) std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
    return fake_report(s);
  };
  return e;
}

SweepOptions opts(const std::vector<std::string>& inputs, int jobs = 2) {
  SweepOptions o;
  o.inputs = inputs;
  o.jobs = jobs;
  return o;
}

}  // namespace

// ---------------------------------------------------------------- search blocks and pruning

TEST(SweepSearch, ParsesValueSetsInCanonicalOrderAndRejectsBadBlocks) {
  SearchSpec s = parse_search(Json{{"micro_batch", {1, 2}}, {"strategy.pp", {1, 2}}, {"tp", {1}}, {"cluster.nodes", 4}}, "f.json");
  ASSERT_EQ(s.dims.size(), 4u);
  EXPECT_EQ(s.dims[0].first, "tp");
  EXPECT_EQ(s.dims[1].first, "pp");
  EXPECT_EQ(s.dims[2].first, "micro_batch");
  EXPECT_EQ(s.dims[3].first, "cluster.nodes");
  EXPECT_EQ(s.dims[3].second.size(), 1u);  // a scalar is a one-value set
  EXPECT_TRUE(parse_search("auto", "f.json").automatic);
  EXPECT_TRUE(parse_search(Json{{"auto", true}, {"zero", {0}}}, "f.json").automatic);
  EXPECT_TRUE(parse_search(nullptr, "f.json").empty());

  auto path_of = [](const Json& block) {
    try {
      parse_search(block, "f.json");
    } catch (const InputError& e) {
      return e.path();
    }
    return std::string("(accepted)");
  };
  EXPECT_EQ(path_of(Json{{"tpp", {1, 2}}}), "search.tpp");
  EXPECT_EQ(path_of(Json{{"tp", Json::array()}}), "search.tp");
  EXPECT_EQ(path_of(Json{{"gpu.x", {1}}}), "search.gpu.x");
  EXPECT_EQ(path_of(Json{{"auto", 1}}), "search.auto");
  EXPECT_EQ(path_of("everything"), "search");
  EXPECT_EQ(path_of(Json::array()), "search");
}

TEST(SweepSearch, ProductIsExpandedAndInvalidCombinationsCountedPerReason) {
  SearchSpec spec = parse_search(small_search(), "f.json");
  std::vector<Point> points = product_points(spec);
  ASSERT_EQ(points.size(), 5u * 4u * 2u);
  EXPECT_EQ(point_label(points[0]), "tp=1 pp=1 micro_batch=1");
  EXPECT_EQ(point_label(points[1]), "tp=1 pp=1 micro_batch=2");  // last dimension fastest

  Expansion e = expand(base_scenario(), "mem.json", points, 2);
  EXPECT_EQ(e.combinations, 40u);
  EXPECT_EQ(e.valid.size() + e.pruned_total(), 40u);
  // Valid: tp in {1,2,4,8} x pp in {1,2,4} with tp·pp <= 16, x 2 micro-batches.
  EXPECT_EQ(e.valid.size(), 22u);
  // tp = 3 or pp = 3 (or tp·pp = 32) cannot tile 16 GPUs: dp cannot follow from the GPU count.
  ASSERT_TRUE(e.pruned.count("strategy.dp"));
  EXPECT_EQ(e.pruned.at("strategy.dp").count, 18u);
  EXPECT_NE(e.pruned.at("strategy.dp").example.find("does not divide 16 GPUs"), std::string::npos);
  for (const auto& c : e.valid) EXPECT_EQ(c.scenario.strategy.gpus(), 16);  // dp followed
  // Deterministic, and the same with any number of threads.
  Expansion e1 = expand(base_scenario(), "mem.json", points, 1);
  ASSERT_EQ(e1.valid.size(), e.valid.size());
  for (std::size_t i = 0; i < e.valid.size(); ++i) EXPECT_EQ(point_label(e1.valid[i].point), point_label(e.valid[i].point));
}

TEST(SweepSearch, PruningNamesTheFieldValidationNames) {
  // heads = 32: tp 64 would not divide; 32 layers: pp 3 does not divide; global batch 64 with
  // micro-batch 3 is not divisible.
  Json b = base_scenario();
  b["cluster"]["nodes"] = 48;  // 384 GPUs
  Expansion e = expand(b, "f.json", product_points(parse_search(Json{{"tp", {8, 64}}, {"pp", {2, 3}}, {"micro_batch", {1, 3}}}, "f.json")), 1);
  EXPECT_EQ(e.combinations, 8u);
  EXPECT_TRUE(e.pruned.count("strategy.tp"));
  EXPECT_TRUE(e.pruned.count("strategy.pp") || e.pruned.count("strategy.global_batch"));
  EXPECT_EQ(e.valid.size() + e.pruned_total(), 8u);
}

TEST(SweepSearch, DerivedRulesFollowTheSearchedFields) {
  Json b = base_scenario();
  b["strategy"]["layer_split"] = {16, 16};
  Json j = apply_point(b, Point{{"pp", 4}, {"vpp", 2}});
  EXPECT_FALSE(j["strategy"].contains("dp"));           // follows from the GPU count
  EXPECT_FALSE(j["strategy"].contains("layer_split"));  // pp changed
  EXPECT_EQ(j["strategy"]["schedule"], "interleaved");  // vpp > 1
  Json k = apply_point(j, Point{{"vpp", 1}});
  EXPECT_FALSE(k["strategy"].contains("schedule"));     // back to the default 1F1B
  Json d = apply_point(b, Point{{"dp", 4}, {"cluster.nodes", 4}});
  EXPECT_EQ(d["strategy"]["dp"], 4);
  EXPECT_EQ(d["cluster"]["nodes"], 4);
  EXPECT_EQ(apply_point(b, {}), b);  // no search: the scenario as written
}

TEST(SweepSearch, AutoSpaceFor1024GpusIsLargeValidAndSensible) {
  Json j = base_scenario();
  j["model"] = {{"preset", "llama3-70b"}};
  j["cluster"]["nodes"] = 128;
  j["strategy"] = {{"tp", 8}, {"pp", 8}, {"global_batch", 1024}};
  j["workload"]["seq_len"] = 8192;
  Scenario s = parse_scenario(j, "auto.json");
  std::vector<Json> space = auto_search_space(s);
  EXPECT_GE(space.size(), 500u);
  std::set<std::string> seen;
  for (const auto& st : space) {
    EXPECT_TRUE(seen.insert(st.dump()).second) << "duplicate " << st.dump();
    EXPECT_LE(st["tp"].get<int>(), 8);  // within a node
    EXPECT_EQ(64 % st["tp"].get<int>(), 0);
    int pp = st["pp"].get<int>();
    EXPECT_TRUE(80 % pp == 0 || st.contains("layer_split")) << st.dump();
    EXPECT_EQ(st["dp"].get<long long>() * st["tp"].get<int>() * pp * st["cp"].get<int>(), 1024);
    if (st["zero"] == 3) {
      EXPECT_EQ(pp, 1);
    }
    // Each is a valid strategy for the scenario.
    Json k = j;
    k["strategy"] = st;
    EXPECT_NO_THROW(parse_scenario(k, "auto.json")) << st.dump();
  }
  // Every dimension is explored.
  auto values = [&](const char* f) {
    std::set<std::string> v;
    for (const auto& st : space) v.insert(st[f].dump());
    return v.size();
  };
  EXPECT_GE(values("tp"), 4u);
  EXPECT_GE(values("pp"), 4u);
  EXPECT_GE(values("cp"), 2u);
  EXPECT_GE(values("vpp"), 2u);
  EXPECT_GE(values("micro_batch"), 3u);
  EXPECT_EQ(values("zero"), 2u);
  EXPECT_EQ(values("recompute"), 3u);
}

TEST(SweepSearch, AutoSpaceExploresExpertParallelismForMoe) {
  Json j = base_scenario();
  j["model"] = {{"preset", "mixtral-8x7b"}};
  j["cluster"]["nodes"] = 8;
  j["strategy"] = {{"tp", 2}, {"global_batch", 256}};
  Scenario s = parse_scenario(j, "moe.json");
  std::vector<Json> space = auto_search_space(s);
  ASSERT_FALSE(space.empty());
  std::set<int> eps;
  for (const auto& st : space) eps.insert(st["ep"].get<int>());
  EXPECT_GE(eps.size(), 3u);
  EXPECT_TRUE(eps.count(8));
}

// The explorer shows strategies from auto_search_space and a user re-simulates them: the
// software-stack fields of the base scenario must survive the round trip, or the 2021-stack
// rows of `strata validate` would be re-planned as a modern stack.
TEST(SweepSearch, AutoSpaceKeepsTheSoftwareStackFields) {
  Json j = base_scenario();
  j["strategy"]["attention"] = "unfused";
  j["strategy"]["tp_async_grad_reduce"] = false;
  j["strategy"]["grad_accumulation_fusion"] = false;
  j["strategy"]["pp_scatter_gather"] = true;
  j["strategy"]["overlap_p2p_comm"] = false;
  j["strategy"]["norm_kernel"] = "apex_2020";
  Scenario s = parse_scenario(j, "stack.json");
  std::vector<Json> space = auto_search_space(s);
  ASSERT_FALSE(space.empty());
  for (const auto& st : space) {
    EXPECT_EQ(st.at("attention"), "unfused");
    EXPECT_EQ(st.at("tp_async_grad_reduce"), false);
    EXPECT_EQ(st.at("grad_accumulation_fusion"), false);
    EXPECT_EQ(st.at("pp_scatter_gather"), true);
    EXPECT_EQ(st.at("overlap_p2p_comm"), false);
    EXPECT_EQ(st.at("norm_kernel"), "apex_2020");
    Json back = j;
    back["strategy"] = st;
    const Scenario again = parse_scenario(back, "again.json");
    EXPECT_EQ(again.strategy.attention, s.strategy.attention);
    EXPECT_EQ(again.strategy.pp_scatter_gather, true);
    EXPECT_EQ(again.strategy.norm_kernel, NormKernel::apex_2020);
  }
}

TEST(SweepSearch, AutoValueSetsNextToAutoReplaceDimensions) {
  TempDir d("autoover");
  Json j = base_scenario(Json{{"auto", true}, {"zero", {0}}, {"recompute", {"full"}}, {"micro_batch", {1}}});
  std::string f = d.file("a.json", j);
  SweepResult r = run_sweep(opts({f}), fake());
  ASSERT_FALSE(r.rows.empty());
  ASSERT_TRUE(r.scenarios[0].automatic);
  for (const auto& row : r.rows) {
    EXPECT_EQ(row.at("zero"), 0);
    EXPECT_EQ(row.at("recompute"), "full");
    EXPECT_EQ(row.at("micro_batch"), 1);
  }
  // "search": "auto" as a string works too (CONTRACT-style shorthand), as does --auto.
  j["search"] = "auto";
  std::string g = d.file("b.json", j);
  SweepResult r2 = run_sweep(opts({g}), fake());
  EXPECT_GT(r2.rows.size(), r.rows.size());
  SweepOptions o = opts({d.file("c.json", base_scenario())});
  o.force_auto = true;
  EXPECT_EQ(run_sweep(o, fake()).rows.size(), r2.rows.size());
}

// ---------------------------------------------------------------- the sweep

TEST(Sweep, OneRowPerValidStrategyInDeterministicOrderWhateverTheJobs) {
  TempDir d("order");
  std::string f = d.file("s.json", base_scenario(small_search()));
  SweepResult r1 = run_sweep(opts({f}, 1), fake());
  SweepResult r4 = run_sweep(opts({f}, 4), fake(200));
  ASSERT_EQ(r1.rows.size(), 22u);
  EXPECT_EQ(r1.total_rows, 22u);
  EXPECT_TRUE(r1.complete);
  for (std::size_t i = 0; i < r1.rows.size(); ++i) EXPECT_EQ(r1.rows[i].index, i);
  EXPECT_EQ(render_file(r1.rows, Format::csv), render_file(r4.rows, Format::csv));
  EXPECT_EQ(render_file(r1.rows, Format::jsonl), render_file(r4.rows, Format::jsonl));
  // Every strategy field and the report fields are there.
  const Row& row = r1.rows[0];
  EXPECT_EQ(row.at("tp"), 1);
  EXPECT_EQ(row.at("dp"), 16);
  EXPECT_EQ(row.at("recompute"), "selective");
  EXPECT_EQ(row.at("search"), "tp=1 pp=1 micro_batch=1");
  EXPECT_TRUE(row.at("tokens_per_s").is_number());
  EXPECT_TRUE(row.at("exposed_pp_s").is_number());
  EXPECT_TRUE(row.at("memory_peak_bytes").is_number());
}

TEST(Sweep, OomStrategiesAreRowsNotDropped) {
  TempDir d("oom");
  std::string f = d.file("s.json", base_scenario(small_search()));
  SweepResult r = run_sweep(opts({f}), fake());
  std::size_t oom = 0;
  for (const auto& row : r.rows)
    if (row.status() == "oom") {
      ++oom;
      EXPECT_EQ(row.at("fits"), false);
      EXPECT_TRUE(row.at("memory_peak_bytes").is_number());
    }
  EXPECT_GT(oom, 0u);  // tp 1 x pp 1: 160 GB + activations > 80 GB
  // The cheap memory estimate: what does not fit is reported without being simulated.
  Evaluator e = fake();
  std::atomic<int> simulated{0};
  e.report = [&](const Scenario& s) {
    ++simulated;
    return fake_report(s);
  };
  e.memory = [](const Scenario& s) { return fake_memory(s); };
  SweepResult r2 = run_sweep(opts({f}), e);
  EXPECT_EQ(std::size_t(simulated.load()), r2.rows.size() - oom);
  std::size_t oom2 = 0;
  for (const auto& row : r2.rows) oom2 += row.status() == "oom";
  EXPECT_EQ(oom2, oom);
}

TEST(Sweep, FailuresBecomeRowsAndFoldersSkipNonScenarios) {
  TempDir d("errors");
  d.file("a-good.json", base_scenario());
  d.file("b-search.json", base_scenario(small_search()));
  write_file_atomic(d / "c-broken.json", "{ \"model\": ");  // not JSON
  Json bad = base_scenario();
  bad["model"]["preset"] = "no-such-model";
  d.file("d-bad-model.json", bad);
  d.file("e-nothing-valid.json", base_scenario(Json{{"tp", {3, 5}}}));
  d.file("sub/topology.json", Json{{"name", "x"}, {"gpu", "H100-SXM"}, {"gpus_per_node", 8}});
  d.file("sub/trace.json", Json{{"traceEvents", Json::array()}});
  write_file_atomic(d / "notes.txt", "not json");

  SweepResult r = run_sweep(opts({d.path.string()}), fake());
  ASSERT_EQ(r.scenarios.size(), 5u);
  EXPECT_EQ(r.skipped.size(), 2u);
  ASSERT_EQ(r.rows.size(), 1u + 22u + 3u);
  EXPECT_EQ(r.rows[0].status(), "ok");
  std::vector<const Row*> errors;
  for (const auto& row : r.rows)
    if (row.status() == "error") errors.push_back(&row);
  ASSERT_EQ(errors.size(), 4u);  // tp 2 x pp 2 x mb 2 threw; three files gave no strategy
  EXPECT_EQ(errors[0]->at("error"), "boom second line");  // one line, always
  EXPECT_NE(errors[1]->at("error").get<std::string>().find("c-broken.json"), std::string::npos);
  EXPECT_NE(errors[2]->at("error").get<std::string>().find("model.preset"), std::string::npos);
  EXPECT_NE(errors[3]->at("error").get<std::string>().find("no valid strategy among 2 combinations"), std::string::npos);
  EXPECT_EQ(r.scenarios[4].combinations, 2u);
  EXPECT_EQ(r.scenarios[4].valid, 0u);

  // A missing input is bad input, not a row.
  EXPECT_THROW(run_sweep(opts({d / "missing.json"}), fake()), InputError);
}

TEST(Sweep, ShardsMergeByteIdenticalToTheUnshardedOutput) {
  TempDir d("shard");
  d.file("in/a.json", base_scenario());
  d.file("in/b.json", base_scenario(small_search()));
  d.file("in/c.json", base_scenario(Json{{"pp", {1, 2, 4}}, {"recompute", {"none", "full"}}, {"zero", {1, 3}}}));
  for (const char* ext : {".csv", ".jsonl"}) {
    SweepOptions whole = opts({d / "in"}, 3);
    whole.out = d / (std::string("whole") + ext);
    SweepResult w = run_sweep(whole, fake());
    ASSERT_TRUE(w.complete);
    std::string expected = read(whole.out);
    ASSERT_EQ(count_lines(expected), w.rows.size() + (std::string(ext) == ".csv" ? 1 : 0));
    for (int n : {2, 3, 7, 64}) {
      std::vector<std::string> parts;
      std::size_t rows = 0;
      for (int k = 1; k <= n; ++k) {
        SweepOptions o = opts({d / "in"}, 2);
        o.shard = k;
        o.shards = n;
        o.out = d / ("part" + std::to_string(k) + "of" + std::to_string(n) + ext);
        SweepResult r = run_sweep(o, fake());
        EXPECT_EQ(r.total_rows, w.total_rows);
        rows += r.rows.size();
        parts.push_back(o.out);
      }
      EXPECT_EQ(rows, w.rows.size()) << n << " shards";
      std::reverse(parts.begin(), parts.end());  // order of the inputs does not matter
      EXPECT_EQ(merge_files(parts, format_for(whole.out)), expected) << n << " shards" << ext;
      // A missing shard is detected, not silently merged.
      parts.pop_back();
      if (n < 64) {
        EXPECT_THROW(merge_files(parts, format_for(whole.out)), std::runtime_error);
      }
    }
  }
  // Mixed formats and foreign files are refused.
  EXPECT_THROW(merge_files({d / "whole.csv", d / "whole.jsonl"}, Format::csv), std::runtime_error);
  write_file_atomic(d / "foreign.csv", "a,b,c\n1,2,3\n");
  EXPECT_THROW(merge_files({d / "foreign.csv"}, Format::csv), std::runtime_error);
}

TEST(Sweep, KilledSweepResumesWithoutLosingDuplicatingOrRecomputing) {
  TempDir d("resume");
  std::string in = d.file("s.json", base_scenario(Json{{"tp", {1, 2, 4, 8}}, {"pp", {1, 2, 4}}, {"micro_batch", {1, 2, 4}},
                                                      {"recompute", {"none", "full"}}}));
  for (const char* ext : {".csv", ".jsonl"}) {
    SweepOptions ref = opts({in}, 1);
    ref.out = d / (std::string("ref") + ext);
    run_sweep(ref, fake());
    const std::string expected = read(ref.out);

    SweepOptions o = opts({in}, 3);
    o.out = d / (std::string("out") + ext);
    o.stop_after = 10;  // "killed" after 10 rows
    g_calls = 0;
    SweepResult first = run_sweep(o, fake(100));
    EXPECT_FALSE(first.complete);
    EXPECT_FALSE(fs::exists(o.out));  // nothing half-written
    std::string journal = read(journal_path(o.out));
    std::size_t finished = count_lines(journal);
    EXPECT_GE(finished, 10u);
    EXPECT_EQ(std::size_t(g_calls.load()), finished);
    // The kill also tore the next line in half.
    {
      std::ofstream j(journal_path(o.out), std::ios::app | std::ios::binary);
      j << "{\"index\":999,\"file\":\"" << in << "\",\"sea";
    }
    // Without --resume the interrupted journal is not clobbered.
    o.stop_after = 0;
    EXPECT_THROW(run_sweep(o, fake()), InputError);

    o.resume = true;
    g_calls = 0;
    SweepResult second = run_sweep(o, fake());
    EXPECT_TRUE(second.complete);
    EXPECT_EQ(second.resumed, finished);
    EXPECT_EQ(second.dropped_lines, 1u);
    EXPECT_EQ(second.computed, second.shard_rows - finished);
    EXPECT_EQ(std::size_t(g_calls.load()), second.shard_rows - finished);  // nothing recomputed
    EXPECT_EQ(read(o.out), expected);                                      // nothing lost or duplicated
    EXPECT_FALSE(fs::exists(journal_path(o.out)));

    // Resuming a finished sweep evaluates nothing and rewrites the same bytes.
    g_calls = 0;
    SweepResult third = run_sweep(o, fake());
    EXPECT_EQ(g_calls.load(), 0);
    EXPECT_EQ(third.resumed, third.shard_rows);
    EXPECT_EQ(read(o.out), expected);
  }
}

TEST(Sweep, RealKillNineThenResume) {
  TempDir d("kill9");
  std::string in = d.file("s.json", base_scenario(Json{{"tp", {1, 2, 4, 8}}, {"pp", {1, 2, 4}}, {"micro_batch", {1, 2, 4}},
                                                      {"recompute", {"none", "selective", "full"}}}));
  SweepOptions ref = opts({in}, 1);
  ref.out = d / "ref.csv";
  run_sweep(ref, fake());

  SweepOptions o = opts({in}, 2);
  o.out = d / "out.csv";
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    try {
      run_sweep(o, fake(20000));  // 20 ms per strategy: slow enough to be killed mid-way
    } catch (...) {
    }
    ::_exit(0);
  }
  // Kill it once a few rows are in the journal.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(journal_path(o.out)) && count_lines(read(journal_path(o.out))) >= 6) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  ASSERT_FALSE(fs::exists(o.out));
  std::size_t finished = count_lines(read(journal_path(o.out)));
  ASSERT_GE(finished, 6u);

  o.resume = true;
  g_calls = 0;
  SweepResult r = run_sweep(o, fake());
  EXPECT_EQ(r.resumed, finished);
  EXPECT_EQ(std::size_t(g_calls.load()), r.shard_rows - finished);
  EXPECT_EQ(read(o.out), read(ref.out));
}

TEST(Sweep, ProgressIsReportedUpToTheTotal) {
  TempDir d("progress");
  std::string f = d.file("s.json", base_scenario(small_search()));
  SweepOptions o = opts({f}, 2);
  std::vector<Progress> seen;
  o.progress = [&](const Progress& p) { seen.push_back(p); };
  run_sweep(o, fake());
  ASSERT_GE(seen.size(), 2u);
  EXPECT_EQ(seen.front().done, 0u);
  EXPECT_TRUE(seen.back().final);
  EXPECT_EQ(seen.back().done, 22u);
  EXPECT_EQ(seen.back().total, 22u);
  for (std::size_t i = 1; i < seen.size(); ++i) EXPECT_GE(seen[i].done, seen[i - 1].done);
  EXPECT_EQ(format_progress(50, 200, 50, 10.0), "50/200 rows (25.0%)  5.0 rows/s  ~30s left");
  EXPECT_EQ(format_progress(200, 200, 200, 125.0), "200/200 rows (100.0%)  1.6 rows/s  2m05s");
  EXPECT_EQ(format_progress(0, 10, 0, 0.0), "0/10 rows (0.0%)");
}

TEST(Sweep, ShardSpecIsOneBased) {
  int k = 0, n = 0;
  parse_shard("3/8", k, n);
  EXPECT_EQ(k, 3);
  EXPECT_EQ(n, 8);
  for (const char* bad : {"0/8", "9/8", "3", "a/b", "3/8x", "/8", "-1/2"}) EXPECT_THROW(parse_shard(bad, k, n), InputError) << bad;
}

// ---------------------------------------------------------------- rows, ranking, Pareto

TEST(SweepRows, CsvAndJsonlRoundTripExactly) {
  Json report = fake_report(parse_scenario(base_scenario(), "x.json"));
  Scenario s = parse_scenario(base_scenario(), "x.json");
  s.strategy.layer_split = {16, 16};
  Row r = make_row(7, "dir/a, \"quoted\".json", "name", "tp=4 pp=2", &s, &report, "");
  for (Format f : {Format::csv, Format::jsonl}) {
    std::string line = render(r, f);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    Row back = parse_row(line, f);
    EXPECT_EQ(back.index, 7u);
    EXPECT_EQ(render(back, f), line);
    EXPECT_EQ(back.key(), r.key());
  }
  EXPECT_EQ(render(r, Format::csv).rfind("7,\"dir/a, \"\"quoted\"\".json\",name,", 0), 0u);
  EXPECT_EQ(render(r, Format::jsonl).substr(0, 11), "{\"index\":7,");
  EXPECT_EQ(csv_header().substr(0, 34), "index,file,scenario,search,status,");
  Row e = make_row(3, "f.json", "n", "", nullptr, nullptr, "line one\nline two");
  EXPECT_EQ(e.status(), "error");
  EXPECT_EQ(parse_row(render(e, Format::csv), Format::csv).at("error"), "line one line two");
  EXPECT_THROW(parse_row("1,2,3", Format::csv), std::runtime_error);
  EXPECT_THROW(parse_row("{\"index\":", Format::jsonl), std::runtime_error);
}

TEST(SweepRows, RankByAnyFieldAndParetoFrontOfThroughputVsMemory) {
  auto row = [](std::size_t i, double tput, double mem, bool fits, double step) {
    Json rep = {{"tokens_per_s", tput}, {"step_time_s", step}, {"memory", {{"peak_bytes", mem}, {"fits", fits}}}};
    return make_row(i, "f", "s", "p" + std::to_string(i), nullptr, &rep, "");
  };
  std::vector<Row> rows = {row(0, 100, 50, true, 3), row(1, 300, 70, true, 1), row(2, 200, 40, true, 2),
                           row(3, 500, 90, false, 0.5), row(4, 300, 60, true, 1.5), row(5, 150, 45, true, 2.5)};
  rows.push_back(make_row(6, "f", "s", "p6", nullptr, nullptr, "failed"));
  std::vector<const Row*> ptrs;
  for (const auto& r : rows) ptrs.push_back(&r);

  auto idx = [](const std::vector<const Row*>& v) {
    std::vector<std::size_t> o;
    for (const Row* r : v) o.push_back(r->index);
    return o;
  };
  RankKey tput = parse_rank_key("tokens_per_s");
  EXPECT_TRUE(tput.descending);
  EXPECT_EQ(idx(top_rows(ptrs, tput, 3)), (std::vector<std::size_t>{1, 4, 2}));  // oom and error excluded; ties by index
  RankKey step = parse_rank_key("step_time_s");
  EXPECT_FALSE(step.descending);
  EXPECT_EQ(idx(top_rows(ptrs, step, 2)), (std::vector<std::size_t>{1, 4}));
  EXPECT_EQ(idx(top_rows(ptrs, parse_rank_key("memory.peak_bytes"), 1)), (std::vector<std::size_t>{2}));
  EXPECT_EQ(idx(top_rows(ptrs, parse_rank_key("tokens_per_s:asc"), 1)), (std::vector<std::size_t>{0}));
  EXPECT_EQ(parse_rank_key("exposed_comm_s.dp").column, column_index("exposed_dp_s"));
  EXPECT_THROW(parse_rank_key("speed"), InputError);
  EXPECT_THROW(parse_rank_key("schedule"), InputError);
  EXPECT_THROW(parse_rank_key("mfu:up"), InputError);

  // Front: 40 GiB -> 200, 60 -> 300; (45,150), (50,100), (70,300) are dominated; 90 does not fit.
  EXPECT_EQ(idx(pareto_front(ptrs)), (std::vector<std::size_t>{2, 4}));
  std::string table = format_table(pareto_front(ptrs), -1);
  EXPECT_NE(table.find("tokens/s"), std::string::npos);
  EXPECT_EQ(count_lines(table), 3u);

  std::string text = format_results(rows, {}, tput, 2);
  EXPECT_NE(text.find("best 2 by tokens_per_s"), std::string::npos);
  EXPECT_NE(text.find("Pareto front"), std::string::npos);
  EXPECT_NE(text.find("1 do not fit in memory, 1 errors"), std::string::npos);
}

// ---------------------------------------------------------------- the command line

namespace {
int run_cli(const std::string& args, std::string* out = nullptr) {
  std::string cmd = std::string(STRATA_CLI) + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return -1;
  std::string text;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) text.append(buf, n);
  int st = ::pclose(p);
  if (out) *out = text;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
}  // namespace

TEST(SweepCli, BadFlagsAreBadInput) {
  std::string out;
  EXPECT_EQ(run_cli("sweep --help", &out), 0);
  EXPECT_NE(out.find("--shard"), std::string::npos);
  TempDir d("cli");
  std::string f = d.file("s.json", base_scenario());
  EXPECT_EQ(run_cli("sweep " + f + " --shard 0/4", &out), 2) << out;
  EXPECT_NE(out.find("--shard"), std::string::npos);
  EXPECT_EQ(run_cli("sweep " + f + " --rank-by speed", &out), 2) << out;
  EXPECT_EQ(run_cli("sweep " + d / "missing.json", &out), 2) << out;
  EXPECT_EQ(run_cli("sweep " + f + " --resume", &out), 2) << out;
  EXPECT_EQ(run_cli("sweep --merge " + f, &out), 2) << out;
}

TEST(SweepCli, SweepsAFileAndWritesOneRow) {
  TempDir d("cli-run");
  std::string f = d.file("s.json", base_scenario());
  std::string out;
  ASSERT_EQ(run_cli("sweep -q " + f + " --out " + d / "r.csv", &out), 0) << out;
  std::string csv = read(d / "r.csv");
  EXPECT_EQ(count_lines(csv), 2u) << csv;
  Row r = parse_row(csv.substr(csv.find('\n') + 1, csv.size() - csv.find('\n') - 2), Format::csv);
  EXPECT_EQ(r.at("tp"), 4);
  EXPECT_EQ(r.at("pp"), 2);
  EXPECT_EQ(r.status(), "ok") << r.at("error");
  EXPECT_TRUE(r.at("tokens_per_s").is_number());
  EXPECT_NE(out.find("wrote"), std::string::npos);
  // --set applies to every scenario, and takes one value per flag (inputs may follow it).
  ASSERT_EQ(run_cli("sweep -q --set strategy.zero=0 --set strategy.recompute=full " + f + " --out " + d / "r2.jsonl", &out), 0) << out;
  Row r2 = parse_row(read(d / "r2.jsonl").substr(0, read(d / "r2.jsonl").size() - 1), Format::jsonl);
  EXPECT_EQ(r2.at("zero"), 0);
  EXPECT_EQ(r2.at("recompute"), "full");
}

// ---------------------------------------------------------------- with the real simulator

TEST(SweepSimulator, PlannedMemoryIsTheReportsMemoryAndOomIsNotSimulated) {
  Json j = base_scenario(Json{{"tp", {1, 2, 8}}, {"pp", {1, 2}}, {"micro_batch", {1, 4}}});
  j["cluster"]["nodes"] = 1;
  j["strategy"]["global_batch"] = 32;
  TempDir d("sim");
  std::string f = d.file("s.json", j);
  SweepResult pre = run_sweep(opts({f}), simulator_evaluator());
  SweepResult all = run_sweep(opts({f}), simulator_evaluator(true));
  ASSERT_EQ(pre.rows.size(), all.rows.size());
  ASSERT_GE(pre.rows.size(), 10u);
  std::size_t oom = 0;
  for (std::size_t i = 0; i < pre.rows.size(); ++i) {
    const Row &a = pre.rows[i], &b = all.rows[i];
    EXPECT_EQ(a.status(), b.status()) << a.at("search");
    EXPECT_NE(a.status(), "error") << a.at("error");
    for (const char* c : {"memory_peak_bytes", "memory_weights_bytes", "memory_activations_bytes", "fits"})
      EXPECT_EQ(a.at(c), b.at(c)) << c << " " << a.at("search");
    if (a.status() == "oom") {
      ++oom;
      EXPECT_TRUE(a.at("tokens_per_s").is_null());  // not simulated
      EXPECT_TRUE(b.at("tokens_per_s").is_number());
    } else {
      EXPECT_EQ(render(a, Format::csv), render(b, Format::csv));
    }
  }
  EXPECT_GT(oom, 0u);  // Llama-3-8B unsplit with micro-batch 4 x 4,096 tokens does not fit
  EXPECT_LT(oom, pre.rows.size());
}

TEST(SweepSimulator, CliShardsMergeToTheUnshardedOutputAndResumeFinishesNothingTwice) {
  TempDir d("cli-shard");
  Json j = base_scenario(Json{{"tp", {2, 4, 8}}, {"pp", {1, 2}}, {"micro_batch", {1, 2}}});
  std::string f = d.file("s.json", j);
  std::string out;
  ASSERT_EQ(run_cli("sweep -q --top 3 " + f + " --out " + d / "whole.jsonl", &out), 0) << out;
  EXPECT_NE(out.find("best 3 by tokens_per_s"), std::string::npos) << out;
  EXPECT_NE(out.find("Pareto front"), std::string::npos) << out;
  for (int k = 1; k <= 3; ++k)
    ASSERT_EQ(run_cli("sweep -q -j 1 " + f + " --shard " + std::to_string(k) + "/3 --out " + d / ("p" + std::to_string(k) + ".jsonl"), &out), 0) << out;
  ASSERT_EQ(run_cli("sweep --merge " + d / "p2.jsonl" + " " + d / "p1.jsonl" + " " + d / "p3.jsonl" + " --out " + d / "merged.jsonl", &out), 0) << out;
  EXPECT_EQ(read(d / "merged.jsonl"), read(d / "whole.jsonl"));
  EXPECT_EQ(count_lines(read(d / "whole.jsonl")), 12u);
  // A finished sweep resumed evaluates nothing and keeps its bytes.
  ASSERT_EQ(run_cli("sweep -q " + f + " --resume --out " + d / "whole.jsonl", &out), 0) << out;
  EXPECT_NE(out.find("(12 resumed, 0 evaluated now)"), std::string::npos) << out;
  EXPECT_EQ(read(d / "merged.jsonl"), read(d / "whole.jsonl"));
  // A merge with a shard missing fails as bad input.
  EXPECT_EQ(run_cli("sweep --merge " + d / "p1.jsonl" + " " + d / "p3.jsonl" + " --out " + d / "m2.jsonl", &out), 2) << out;
}
