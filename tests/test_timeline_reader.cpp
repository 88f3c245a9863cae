// The one timeline reader (report/timeline_reader.hpp), behind read_timeline, timeline_from_json
// and strata-gui: what timeline_to_string writes reads back as the same Timeline; other Chrome
// traces read as they did; every bad input is an InputError with an exact message (file, event
// and field, what was expected and found, line and column), never a crash.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "io/input_error.hpp"
#include "report/timeline_json.hpp"
#include "report/timeline_reader.hpp"

using namespace strata;
namespace fs = std::filesystem;

namespace {

// Every field the writer writes, in its awkward cases: escaped and non-ASCII names, negative and
// fractional times, flows both ways, unmeasured and exposed events, bubbles, ranks that are
// listed but have no events, memory counters, a report.
Timeline rich_timeline() {
  Timeline t;
  t.source = "measured";
  t.capacity_bytes = 141e9;
  for (int r = 0; r < 6; ++r) t.ranks.push_back({r, r / 4, r % 4, r % 3, r / 2});
  const char* names[] = {"attn_qkv", "tp \"all\" reduce\\", "caf\xC3\xA9 \xF0\x9F\x9A\x80", "tab\there", "pp_send_act", "bubble"};
  std::uint32_t ids[6];
  for (int i = 0; i < 6; ++i) ids[i] = t.intern(names[i]);
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < 400; ++i) {
    TimelineEvent e;
    e.rank = i % 5;  // rank 5 has no events
    e.stream = Stream(i % kStreams);
    e.category = Category(i % int(Category::count));
    e.task = i % 7 == 0 ? -1 : i;
    e.name = ids[i % 6];
    e.start_s = (i % 11 == 0 ? -1e-3 : 1e-3) * u(rng) + 1e-9 * i;
    e.dur_s = i % 13 == 0 ? 0.0 : 1e-4 * u(rng);
    e.layer = i % 9 - 1;
    e.microbatch = i % 4 - 1;
    e.flops = i % 3 == 0 ? 0.0 : 1e12 * u(rng);
    e.bytes = i % 5 == 0 ? 0.0 : std::floor(1e9 * u(rng));
    if (i % 17 == 0) e.flow = 1000 + i / 17, e.flow_out = (i / 17) % 2 == 0;
    e.measured = i % 19 != 0;
    e.exposed = i % 6 == 1;
    t.events.push_back(e);
  }
  for (int i = 0; i < 50; ++i) t.memory.push_back({i % 6, 1e-5 * i, 1e9 + 12345.678 * i});
  t.report = {{"step_time_s", 0.125}, {"source", "measured"}, {"memory", {{"capacity_bytes", 141e9}}}};
  return t;
}

void expect_same(const Timeline& a, const Timeline& b) {
  EXPECT_EQ(a.source, b.source);
  EXPECT_EQ(a.capacity_bytes, b.capacity_bytes);
  EXPECT_EQ(a.report, b.report);
  ASSERT_EQ(a.ranks.size(), b.ranks.size());
  for (std::size_t i = 0; i < a.ranks.size(); ++i) {
    EXPECT_EQ(a.ranks[i].rank, b.ranks[i].rank);
    EXPECT_EQ(a.ranks[i].node, b.ranks[i].node);
    EXPECT_EQ(a.ranks[i].local_gpu, b.ranks[i].local_gpu);
    EXPECT_EQ(a.ranks[i].rank_class, b.ranks[i].rank_class);
    EXPECT_EQ(a.ranks[i].stage, b.ranks[i].stage);
  }
  ASSERT_EQ(a.events.size(), b.events.size());
  for (std::size_t i = 0; i < a.events.size(); ++i) {
    const TimelineEvent &x = a.events[i], &y = b.events[i];
    SCOPED_TRACE("event " + std::to_string(i));
    EXPECT_EQ(x.rank, y.rank);
    EXPECT_EQ(x.stream, y.stream);
    EXPECT_EQ(x.category, y.category);
    EXPECT_EQ(x.task, y.task);
    EXPECT_EQ(a.names[x.name], b.names[y.name]);
    // Microseconds in shortest round-trip form: exact up to the division by 1e6.
    EXPECT_DOUBLE_EQ(x.start_s, y.start_s);
    EXPECT_DOUBLE_EQ(x.dur_s, y.dur_s);
    EXPECT_EQ(x.layer, y.layer);
    EXPECT_EQ(x.microbatch, y.microbatch);
    EXPECT_EQ(x.flops, y.flops);
    EXPECT_EQ(x.bytes, y.bytes);
    EXPECT_EQ(x.flow, y.flow);
    EXPECT_EQ(x.flow_out, y.flow_out);
    EXPECT_EQ(x.measured, y.measured);
    EXPECT_EQ(x.exposed, y.exposed);
  }
  ASSERT_EQ(a.memory.size(), b.memory.size());
  for (std::size_t i = 0; i < a.memory.size(); ++i) {
    EXPECT_EQ(a.memory[i].rank, b.memory[i].rank);
    EXPECT_DOUBLE_EQ(a.memory[i].t_s, b.memory[i].t_s);
    EXPECT_EQ(a.memory[i].bytes, b.memory[i].bytes);
  }
}

std::string error_of(const std::string& text) {
  try {
    parse_timeline(text, "bad.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& text, const std::string& name = "strata_test_timeline_reader.json")
      : path((fs::temp_directory_path() / name).string()) {
    std::ofstream(path, std::ios::binary) << text;
  }
  ~TempFile() { fs::remove(path); }
};

}  // namespace

TEST(TimelineReader, ReadsBackWhatTheWriterWrites) {
  Timeline t = rich_timeline();
  std::string text = timeline_to_string(t);
  TimelineFile f = parse_timeline(text, "mem.json");
  expect_same(t, f.timeline);
  EXPECT_EQ(f.skipped_events, 0u);
  EXPECT_TRUE(f.args.empty());  // spans only when asked for

  TempFile file(text);
  expect_same(t, read_timeline(file.path));
  expect_same(t, timeline_from_json(timeline_to_json(t), "dom.json"));  // keys re-ordered by the DOM
  // Written again, read again: a fixed point.
  EXPECT_EQ(timeline_to_string(read_timeline(file.path)), text);
}

TEST(TimelineReader, EmptyAndMinimalTimelinesRoundTrip) {
  Timeline t;
  expect_same(t, parse_timeline(timeline_to_string(t), "e.json").timeline);
  t.ranks.push_back({3, 1, 2, 0, 1});  // a rank and nothing else
  expect_same(t, parse_timeline(timeline_to_string(t), "e.json").timeline);
}

TEST(TimelineReader, ArgSpansPointAtEachEventsArgs) {
  Timeline t = rich_timeline();
  std::string text = timeline_to_string(t);
  TimelineReadOptions o;
  o.arg_spans = true;
  TempFile file(text);
  TimelineFile f = read_timeline_file(file.path, o);
  ASSERT_EQ(f.args.size(), t.events.size());
  EXPECT_EQ(f.path, file.path);
  for (std::size_t i : {std::size_t(0), std::size_t(17), t.events.size() - 1}) {
    std::string args = read_text_span(file.path, f.args[i]);
    Json a = Json::parse(args);
    EXPECT_EQ(a["task"].get<int>(), t.events[i].task);
    EXPECT_EQ(args, text.substr(f.args[i].offset, f.args[i].length));
  }
  EXPECT_EQ(read_text_span(file.path, {f.args[0].offset + 1, f.args[0].length}), "");  // not an object there
  EXPECT_EQ(read_text_span("/nonexistent/x.json", f.args[0]), "");
}

TEST(TimelineReader, ReadsOtherChromeTraces) {
  // Bare array form, string pids/tids, comma-separated categories, escapes, kinds it skips.
  std::string text = "[\n"
    "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":\"gpu-a\",\"args\":{\"name\":\"node 1 / gpu 3 (rank 9)\"}},\n"
    "{\"name\":\"caf\\u00e9 \\ud83d\\ude80\",\"ph\":\"X\",\"cat\":\"comm,tp\",\"pid\":\"gpu-a\",\"tid\":\"stream 7\",\"ts\":10,\"dur\":5.5,\"args\":{\"task\":\"n/a\",\"bytes\":1e6}},\n"
    "{\"ph\":\"X\",\"name\":\"k\\\"2\",\"pid\":7,\"tid\":0,\"ts\":1,\"dur\":0,\"args\":{\"task\":3,\"exposed\":true,\"measured\":false,\"nested\":{\"a\":[1,2,{\"b\":null}]}}},\n"
    "{\"ph\":\"B\",\"name\":\"open\",\"pid\":7,\"tid\":0,\"ts\":2},\n"
    "{\"ph\":\"i\",\"name\":\"mark\",\"pid\":7,\"ts\":2,\"s\":\"g\"},\n"
    "{\"ph\":\"C\",\"name\":\"memory\",\"pid\":7,\"ts\":3,\"args\":{\"used\":1.5e9}},\n"
    "{\"ph\":\"C\",\"name\":\"link util\",\"pid\":7,\"ts\":3,\"args\":{\"GBps\":12}},\n"
    "{\"ph\":\"X\",\"name\":\"flow\",\"pid\":7,\"tid\":1,\"ts\":4,\"bind_id\":\"0x1f\",\"flow_in\":true},\n"
    "{\"ph\":\"Q\",\"name\":\"unknown phase\"},{\"ph\":\"XX\"},{\"name\":\"no phase\"}\n"
    "]";
  TimelineFile f = parse_timeline(text, "other.json");
  const Timeline& t = f.timeline;
  ASSERT_EQ(t.events.size(), 3u);
  EXPECT_EQ(f.skipped_events, 6u);  // B, i, a counter that is not memory, Q, XX, no ph
  EXPECT_EQ(t.names[t.events[0].name], "caf\xC3\xA9 \xF0\x9F\x9A\x80");
  EXPECT_EQ(t.names[t.events[1].name], "k\"2");
  EXPECT_EQ(t.events[0].category, Category::tp);
  EXPECT_EQ(t.events[0].stream, Stream::tp);  // unknown thread: by category
  EXPECT_EQ(t.events[0].task, -1);            // non-numeric args are ignored
  EXPECT_EQ(t.events[0].rank, 9);             // from "node 1 / gpu 3 (rank 9)"
  EXPECT_EQ(t.events[0].bytes, 1e6);
  EXPECT_EQ(t.events[1].task, 3);
  EXPECT_TRUE(t.events[1].exposed);
  EXPECT_FALSE(t.events[1].measured);
  EXPECT_EQ(t.events[2].flow, 31);
  EXPECT_FALSE(t.events[2].flow_out);
  EXPECT_EQ(t.events[2].stream, Stream::tp);  // tid 1, no thread name: the Strata stream
  ASSERT_EQ(t.memory.size(), 1u);
  EXPECT_EQ(t.memory[0].bytes, 1.5e9);
  EXPECT_EQ(t.memory[0].rank, 7);
  ASSERT_EQ(t.ranks.size(), 2u);
  EXPECT_EQ(t.ranks[0].rank, 7);
  EXPECT_EQ(t.ranks[1].rank, 9);
  EXPECT_EQ(t.ranks[1].node, 1);
  EXPECT_EQ(t.ranks[1].local_gpu, 3);
}

TEST(TimelineReader, RanksFromMetadataWithoutTheStrataBlock) {
  std::string text = R"j([{"ph":"M","pid":4,"name":"process_name","args":{"name":"node 2 / gpu 0 (rank 4)"}},
    {"ph":"M","pid":4,"name":"process_labels","args":{"labels":"stage 3, class 1"}},
    {"ph":"M","pid":4,"tid":2,"name":"thread_name","args":{"name":"dp"}},
    {"ph":"X","pid":4,"tid":2,"name":"g","cat":"dp","ts":0,"dur":1,"bind_id":5}])j";
  Timeline t = parse_timeline(text, "m.json").timeline;
  ASSERT_EQ(t.ranks.size(), 1u);
  EXPECT_EQ(t.ranks[0].node, 2);
  EXPECT_EQ(t.ranks[0].stage, 3);
  ASSERT_EQ(t.events.size(), 1u);
  EXPECT_EQ(t.events[0].stream, Stream::dp);  // a thread named, but not a Strata stream name: by category, not tid 2 (cp)
  EXPECT_EQ(t.events[0].flow, -1);            // bind_id without flow_in/flow_out is no flow
}

// A string pid and a number pid are different processes, whatever their ids are inside: the
// thread names of one never name the streams of the other (string ids are 2^40 + n, and a key
// made by shifting the pid once wrapped the first string pid onto pid 0).
TEST(TimelineReader, ThreadNamesStayWithTheirOwnProcess) {
  std::string text = R"j([{"ph":"M","pid":0,"tid":1,"name":"thread_name","args":{"name":"compute"}},
    {"ph":"M","pid":"gpu-a","tid":1,"name":"thread_name","args":{"name":"dp comm"}},
    {"ph":"X","pid":0,"tid":1,"name":"g","ts":0,"dur":1},
    {"ph":"X","pid":"gpu-a","tid":1,"name":"r","ts":0,"dur":1}])j";
  Timeline t = parse_timeline(text, "two.json").timeline;
  ASSERT_EQ(t.events.size(), 2u);
  EXPECT_EQ(t.events[0].stream, Stream::compute);
  EXPECT_EQ(t.events[1].stream, Stream::dp);
  EXPECT_NE(t.events[0].rank, t.events[1].rank);
}

TEST(TimelineReader, OddButValidNumbers) {
  Timeline t = parse_timeline(R"([{"ph":"X","ts":1.5e3,"dur":2E-1,"args":{"flops":1e-400,"bytes":123456789012345678901234567890,"task":-0}},
                                  {"ph":"X","ts":-0.000001,"dur":0.1234567890123456789}])", "n.json").timeline;
  ASSERT_EQ(t.events.size(), 2u);
  EXPECT_DOUBLE_EQ(t.events[0].start_s, 1.5e-3);
  EXPECT_DOUBLE_EQ(t.events[0].dur_s, 2e-7);
  EXPECT_EQ(t.events[0].flops, 0.0);  // underflow reads as zero
  EXPECT_DOUBLE_EQ(t.events[0].bytes, 1.2345678901234568e29);
  EXPECT_DOUBLE_EQ(t.events[1].dur_s, 0.1234567890123456789e-6);
}

TEST(TimelineReader, BadInputsGiveExactMessages) {
  const std::pair<std::string, std::string> cases[] = {
    {"", "bad.json: the file is empty"},
    {"  \n ", "bad.json: the file is empty"},
    {"hello", "bad.json: not a JSON object or array: expected a Chrome trace ({\"traceEvents\": [...]}) (line 1, column 1)"},
    {R"({"model":{"preset":"llama3-8b"}})", "bad.json: traceEvents: missing: this is not a Chrome trace / Strata timeline (no \"traceEvents\" array)"},
    {R"({"traceEvents": 5})", "bad.json: traceEvents: expected an array of trace events, got a number (line 1, column 17)"},
    {"[1,2]", "bad.json: traceEvents[0]: expected a trace event object, got a number (line 1, column 2)"},
    // truncated files
    {R"({"traceEvents":[{"ph":"X","ts":1,"dur":2)", "bad.json: traceEvents[0]: unexpected end of file (truncated?), expected ',' or '}' in a trace event (line 1, column 41)"},
    {R"({"traceEvents":[{"ph":"X","ts":1,"dur":2},)", "bad.json: traceEvents[1]: unexpected end of file (truncated?), expected a trace event object (line 1, column 43)"},
    {R"({"traceEvents":[{"ph":"X","ts":1,"dur":2}])", "bad.json: unexpected end of file (truncated?), expected ',' or '}' in the top-level object (line 1, column 43)"},
    {R"({"traceEvents":[{"ph":"X","name":"abc)", "bad.json: traceEvents[0].name: unterminated string (line 1, column 34)"},
    {R"([{"ph":"X","ts":0,"args":{"task":)", "bad.json: traceEvents[0].args.task: unexpected end of file (truncated?), expected a value (line 1, column 34)"},
    // wrong types
    {R"([{"ph":"X","ts":"abc","dur":1}])", "bad.json: traceEvents[0].ts: expected a number, got a string (line 1, column 17)"},
    {R"([{"ph":"X","ts":1,"dur":[1]}])", "bad.json: traceEvents[0].dur: expected a number, got an array (line 1, column 25)"},
    {R"([{"ph":5,"ts":1}])", "bad.json: traceEvents[0].ph: expected a string, got a number (line 1, column 8)"},
    {R"([{"ph":"X","pid":true,"ts":1}])", "bad.json: traceEvents[0].pid: expected an integer or a string, got a boolean (line 1, column 18)"},
    {R"([{"ph":"X","pid":1e300,"ts":1}])", "bad.json: traceEvents[0].pid: id out of range (line 1, column 18)"},
    {R"([{"ph":"X","dur":1}])", "bad.json: traceEvents[0].ts: missing (the start in microseconds) (line 1, column 2)"},
    {R"([{"ph":"X","ts":0,"dur":-3}])", "bad.json: traceEvents[0].dur: expected a non-negative number of microseconds, got -3 (line 1, column 2)"},
    {R"([{"ph":"C","name":"memory","args":{"bytes":1}}])", "bad.json: traceEvents[0].ts: missing (the time in microseconds) (line 1, column 2)"},
    {R"([{"ph":"X","ts":1e999,"dur":1}])", "bad.json: traceEvents[0].ts: number out of range (line 1, column 17)"},
    {R"([{"ph":"X","ts":1.,"dur":1}])", "bad.json: traceEvents[0].ts: malformed number (line 1, column 19)"},
    {R"([{"ph":"X","ts":-inf}])", "bad.json: traceEvents[0].ts: malformed number (line 1, column 17)"},
    // syntax
    {R"([{"ph":"X","name":"a\qb","ts":0}])", "bad.json: traceEvents[0].name: invalid escape '\\q' in a string (line 1, column 21)"},
    {"[{\"ph\":\"X\",\"name\":\"a\tb\",\"ts\":0}]", "bad.json: traceEvents[0].name: control character inside a string (line 1, column 21)"},
    {"[] []", "bad.json: unexpected text after the JSON value (line 1, column 4)"},
    {R"([{"ph":"X","ts":0} {"ph":"X","ts":1}])", "bad.json: traceEvents: expected ',' or ']' after trace event 0, got an object (line 1, column 20)"},
    {R"([{"ph":"X","ts":0,"x":tru}])", "bad.json: traceEvents[0].x: invalid literal (line 1, column 23)"},
    {R"([{"ph":"X" "ts":0}])", "bad.json: traceEvents[0]: expected ',' or '}' in a trace event, got a string (line 1, column 12)"},
    {R"([{"ph" "X"}])", "bad.json: traceEvents[0].ph: expected ':', got a string (line 1, column 8)"},
    {R"([{"ph":"X","ts":0,"args":{"a":1 "b":2}}])", "bad.json: traceEvents[0].args: expected ',' or '}' in args, got a string (line 1, column 33)"},
    {"[\n{\"ph\":\"X\",\"ts\":0},\n  {\"ph\":\"X\",\"ts\":}\n]", "bad.json: traceEvents[1].ts: expected a value, got '}' (line 3, column 18)"},
    // the strata block
    {R"({"traceEvents":[],"strata":[1]})", "bad.json: strata: expected an object, got an array (line 1, column 28)"},
    {R"({"traceEvents":[],"strata":{"ranks":[{"rank":-1}]}})", "bad.json: strata.ranks[0].rank: expected a non-negative integer, got -1"},
    {R"({"traceEvents":[],"strata":{"capacity_bytes":"big"}})", "bad.json: strata.capacity_bytes: expected a number, got a string"},
    {R"({"traceEvents":[],"strata":{"ranks":{}}})", "bad.json: strata.ranks: expected an array, got an object"},
  };
  for (const auto& [text, message] : cases) EXPECT_EQ(error_of(text), message) << text;
}

TEST(TimelineReader, DomMessagesHaveNoPositions) {
  Json j = {{"traceEvents", {{{"ph", "X"}, {"pid", 0}, {"ts", "soon"}}}}};
  try {
    timeline_from_json(j, "dom.json");
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "dom.json: traceEvents[0].ts: expected a number, got a string");
  }
}

TEST(TimelineReader, DeepNestingIsAnErrorNotAStackOverflow) {
  std::string text = "[{\"ph\":\"X\",\"ts\":0,\"args\":{\"x\":" + std::string(100000, '[') + std::string(100000, ']') + "}}]";
  EXPECT_NE(error_of(text).find("traceEvents[0].args.x: nesting too deep"), std::string::npos);
  std::string strata = "{\"traceEvents\":[],\"strata\":{\"report\":" + std::string(100000, '[') + std::string(100000, ']') + "}}";
  EXPECT_NE(error_of(strata).find("bad.json: strata: nesting too deep"), std::string::npos);
}

TEST(TimelineReader, InvalidUtf8InNamesIsReplaced) {
  Timeline t = parse_timeline("[{\"ph\":\"X\",\"ts\":0,\"name\":\"a\xFF" "b\xC3\"}]", "u.json").timeline;
  ASSERT_EQ(t.events.size(), 1u);
  EXPECT_EQ(t.names[t.events[0].name], "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
  EXPECT_NO_THROW(timeline_to_string(t));  // so every writer can write it again
}

TEST(TimelineReader, NoPrefixOrMutationOfATraceCrashes) {
  // Every truncation of a real trace and a few thousand random byte edits: a Timeline or an
  // InputError, nothing else (run under the sanitizers in CI).
  Timeline t = rich_timeline();
  t.events.resize(12);
  t.memory.resize(3);
  std::string text = timeline_to_string(t);
  std::size_t ok = 0, errors = 0;
  for (std::size_t n = 0; n < text.size(); ++n) {
    try {
      parse_timeline(std::string_view(text).substr(0, n), "cut.json");
      ++ok;
    } catch (const InputError&) {
      ++errors;
    }
  }
  EXPECT_EQ(ok, 0u);  // every proper prefix is incomplete
  std::mt19937 rng(1);
  const char alphabet[] = "{}[]\":,\\0123456789-+.eEtfnulXCMph \n\x01\xff";
  for (int i = 0; i < 3000; ++i) {
    std::string s = text;
    for (int k = 0; k < 3; ++k) s[rng() % s.size()] = alphabet[rng() % (sizeof alphabet - 1)];
    try {
      parse_timeline(s, "mutant.json");
    } catch (const InputError&) {
    }
  }
  SUCCEED() << errors << " truncations rejected";
}

TEST(TimelineReader, FilesThatCannotBeRead) {
  TempFile empty("", "strata_test_timeline_empty.json");
  EXPECT_THROW(read_timeline(empty.path), InputError);
  fs::path dir = fs::temp_directory_path();
  try {
    read_timeline((dir / "strata-missing-timeline.json").string());
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), (dir / "strata-missing-timeline.json").string() + ": cannot open: No such file or directory");
  }
  try {
    read_timeline(dir.string());
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), dir.string() + ": not a regular file");
  }
}
