// Scenario input at the edge: validation rules with their exact messages, Hugging Face config
// import, --set overrides, and a robustness test over >= 1,000 mutated shipped scenarios.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "io/input_error.hpp"
#include "io/scenario.hpp"
#include "model/hf_config.hpp"

using namespace strata;
namespace fs = std::filesystem;

namespace {

const std::string kRoot = STRATA_SOURCE_ROOT;

Json base() {
  return {{"name", "t"},
          {"model", {{"preset", "llama3-8b"}}},
          {"cluster", {{"topology", "topologies/dgx-h100.json"}, {"nodes", 2}}},
          {"strategy", {{"dp", 2}, {"tp", 4}, {"pp", 2}, {"schedule", "1f1b"}, {"micro_batch", 1}, {"global_batch", 32}}},
          {"workload", {{"kind", "train"}, {"seq_len", 8192}}}};
}

std::string error_of(const Json& j) {
  try {
    parse_scenario(j, kRoot + "/scenarios/x.json");
  } catch (const InputError& e) {
    std::string m = e.what();
    return m.substr(m.find("x.json: ") + 8);
  }
  return "";
}

Json with(Json j, const std::string& assignment) {
  apply_override(j, assignment, "x.json");
  return j;
}

}  // namespace

TEST(ScenarioValidation, ShippedScenarioParses) { EXPECT_EQ(error_of(base()), ""); }

TEST(ScenarioValidation, EveryRuleHasItsMessage) {
  struct Case {
    const char* set;
    const char* message;
  };
  const Case cases[] = {
      {"strategy.dp=4", "strategy: dp·tp·pp·cp = 4·4·2·1 = 32 ≠ 16 GPUs (2 nodes × 8)"},
      {"strategy.tp=3", "strategy: dp·tp·pp·cp = 2·3·2·1 = 12 ≠ 16 GPUs (2 nodes × 8)"},
      {"strategy.pp=3", "strategy: dp·tp·pp·cp = 2·4·3·1 = 24 ≠ 16 GPUs (2 nodes × 8)"},
      {"strategy.global_batch=33", "strategy.global_batch: 33 is not divisible by micro_batch·dp = 1·2 = 2"},
      {"strategy.vpp=2", "strategy.vpp: vpp = 2 needs schedule \"interleaved\" (got \"1f1b\")"},
      {"strategy.schedule=interleaved", "strategy.schedule: \"interleaved\" needs vpp > 1 (got vpp = 1)"},
      {"strategy.ep=2", "strategy.ep: ep = 2 needs a Mixture-of-Experts model (llama3-8b is dense)"},
      {"strategy.layer_split=[10,10]", "strategy.layer_split: sums to 20 layers but the model has 32"},
      {"strategy.layer_split=[32]", "strategy.layer_split: lists 1 stages but pp = 2"},
      {"workload.seq_len=8191", "workload.seq_len: with sequence_parallel, seq_len/cp = 8191 must be divisible by tp = 4"},
      {"strategy.schedule=zigzag", "strategy.schedule: \"zigzag\" is not one of \"gpipe\", \"1f1b\", \"interleaved\", \"zb-h1\""},
      {"strategy.zero=4", "strategy.zero: 4 is out of range [0, 3]"},
      {"strategy.dtype=\"fp4\"", "strategy.dtype: \"fp4\" is not one of \"bf16\", \"fp16\", \"fp8\""},
      {"model.preset=\"llama9\"", "model.preset: unknown preset \"llama9\" (known: gpt3-175b, llama2-70b, llama3-8b, llama3-70b, llama3-405b, mixtral-8x7b, mixtral-8x22b, deepseek-v3, gpt-1t)"},
      {"cluster.nodes=-1", "cluster.nodes: -1 is out of range [1, 1048576]"},
  };
  for (const Case& c : cases) {
    Json j = with(base(), c.set);
    if (std::string(c.set) == "workload.seq_len=8191") j["strategy"]["sequence_parallel"] = true;
    EXPECT_EQ(error_of(j), c.message) << c.set;
  }
}

TEST(ScenarioValidation, TyposAreRejected) {
  EXPECT_EQ(error_of(with(base(), "strategy.tpp=8")).rfind("strategy.tpp: unknown field (expected one of: dp, tp, pp, cp, ep,", 0), 0u);
  EXPECT_EQ(error_of(with(base(), "modle.preset=\"x\"")).rfind("modle: unknown field", 0), 0u);
}

TEST(ScenarioValidation, HeadsAndExpertsAndContext) {
  Json j = with(with(with(base(), "strategy.tp=16"), "strategy.dp=1"), "strategy.pp=1");
  j["model"] = {{"preset", "llama3-8b"}, {"heads", 24}};
  EXPECT_EQ(error_of(j), "strategy.tp: 16 does not divide heads = 24");
  Json moe = base();
  moe["model"] = {{"preset", "mixtral-8x7b"}};
  moe["strategy"] = {{"dp", 4}, {"tp", 4}, {"pp", 1}, {"ep", 3}, {"global_batch", 8}};
  EXPECT_EQ(error_of(moe), "strategy.ep: 3 does not divide experts = 8");
  Json cp = base();
  cp["strategy"] = {{"dp", 1}, {"tp", 4}, {"pp", 2}, {"cp", 2}, {"global_batch", 4}};
  cp["workload"]["seq_len"] = 8190;
  EXPECT_EQ(error_of(cp), "workload.seq_len: 8190 is not divisible by 2·cp = 4 (causal load balancing)");
  Json uly = cp;
  uly["workload"]["seq_len"] = 8192;
  uly["strategy"]["cp_kind"] = "ulysses";
  uly["model"] = {{"preset", "llama3-8b"}, {"heads", 36}, {"kv_heads", 4}};
  EXPECT_EQ(error_of(uly), "strategy.cp: ulysses needs cp to divide heads per tp rank: 36/4 = 9 is not divisible by cp = 2");
}

TEST(ScenarioInput, MissingFileAndBadJsonNameTheFile) {
  try {
    load_scenario("/nonexistent/s.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "/nonexistent/s.json: cannot open the file");
  }
  std::string bad = (fs::temp_directory_path() / "strata_bad.json").string();
  {
    std::ofstream(bad) << "{\n  \"name\": \"x\",\n  oops\n}";
  }
  try {
    load_scenario(bad);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), bad + ": invalid JSON at line 3, column 3");
  }
}

TEST(ScenarioInput, SetOverridesByDottedPath) {
  Scenario s = parse_scenario(with(with(base(), "strategy.tp=8"), "strategy.pp=1"), kRoot + "/scenarios/x.json");
  EXPECT_EQ(s.strategy.tp, 8);
  Scenario o = parse_scenario(with(base(), "cluster.fabric.oversubscription=2"), kRoot + "/scenarios/x.json");
  EXPECT_DOUBLE_EQ(o.cluster.fabric.oversubscription, 2.0);
  EXPECT_EQ(o.cluster.fabric.kind, FabricKind::rail_optimized);  // the rest of the topology's fabric kept
  EXPECT_THROW(with(base(), "noequals"), InputError);
}

TEST(HfConfig, ImportsEverySupportedArchitecture) {
  // Published totals (model cards / papers); Strata's count within 1%.
  struct Case {
    const char* file;
    double params;
  };
  const Case cases[] = {{"llama.json", 8.03e9},      {"mistral.json", 7.24e9},  {"mixtral.json", 46.7e9},
                        {"qwen2.json", 7.62e9},      {"qwen2moe.json", 14.3e9}, {"gptneox.json", 20.55e9},
                        {"deepseekv3.json", 671e9}};
  for (const Case& c : cases) {
    ModelSpec m = import_hf_config_file(std::string(STRATA_TEST_DATA) + "/hf/" + c.file);
    EXPECT_NEAR(count_params(m).total() / c.params, 1.0, 0.01) << c.file << ": " << count_params(m).total() / 1e9;
  }
}

TEST(HfConfig, UnknownArchitectureIsRefusedByName) {
  try {
    import_hf_config_file(std::string(STRATA_TEST_DATA) + "/hf/unknown.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("architectures[0]: architecture \"FalconForCausalLM\" is not supported"), std::string::npos)
        << e.what();
  }
}

// Robustness: >= 1,000 mutations of every shipped scenario (keys deleted, wrong types, huge /
// negative / NaN-like numbers, truncated text, deep nesting). Each must parse or raise an
// InputError with a message: never another exception, a crash or a hang.
TEST(ScenarioRobustness, ThousandsOfMutationsGiveCleanErrors) {
  std::vector<Json> seeds;
  for (const auto& e : fs::directory_iterator(kRoot + "/scenarios"))
    if (e.path().extension() == ".json") seeds.push_back(read_json_file(e.path().string()));
  ASSERT_GE(seeds.size(), 5u);
  std::mt19937_64 rng(12345);
  auto pick = [&](std::size_t n) { return std::size_t(rng() % n); };
  const Json bad_values[] = {Json(), Json(-1), Json(0), Json(1e308), Json(-1e308), Json(3.5), Json("x"), Json(true),
                             Json::array(), Json::object(), Json(std::int64_t(1) << 62), Json("NaN")};
  int mutations = 0, clean_errors = 0;
  for (int i = 0; i < 1200; ++i) {
    Json j = seeds[pick(seeds.size())];
    // Walk to a random object node and damage one of its members.
    Json* node = &j;
    for (int depth = 0; depth < 3 && node->is_object() && !node->empty(); ++depth) {
      auto it = node->begin();
      std::advance(it, long(pick(node->size())));
      if (!it->is_object() || pick(3) == 0) {
        switch (pick(4)) {
          case 0: node->erase(it.key()); break;
          case 1: *it = bad_values[pick(std::size(bad_values))]; break;
          case 2: {
            Json deep = 1;
            for (int k = 0; k < 200; ++k) deep = Json::array({deep});
            *it = deep;
            break;
          }
          default: (*node)["unexpected_" + std::to_string(i)] = 1;
        }
        break;
      }
      node = &*it;
    }
    std::string text = j.dump();
    if (pick(5) == 0) text = text.substr(0, pick(text.size() + 1));  // truncated text
    ++mutations;
    std::string file = (fs::temp_directory_path() / "strata_mut.json").string();
    std::ofstream(file, std::ios::trunc) << text;
    try {
      Scenario s = load_scenario(file);
      (void)s;
    } catch (const InputError& e) {
      EXPECT_FALSE(std::string(e.what()).empty());
      ++clean_errors;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "mutation " << i << " raised a non-input error: " << e.what() << "\n" << text.substr(0, 300);
    }
  }
  EXPECT_GE(mutations, 1000);
  EXPECT_GT(clean_errors, 500);
}
