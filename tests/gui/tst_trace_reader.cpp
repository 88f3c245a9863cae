// The GUI's trace reader: it reads what timeline_to_json writes exactly as timeline_from_json
// does, reads other Chrome traces, and turns every kind of bad file into an InputError that
// names the file (and the line), never a crash.
#include <QTemporaryDir>
#include <QtTest>
#include <fstream>

#include "core/synthetic.hpp"
#include "core/trace_reader.hpp"
#include "io/input_error.hpp"
#include "report/timeline_json.hpp"

using namespace strata;
using namespace strata::gui;

namespace {

void same_timeline(const Timeline& a, const Timeline& b) {
  QCOMPARE(a.events.size(), b.events.size());
  QCOMPARE(a.memory.size(), b.memory.size());
  QCOMPARE(a.ranks.size(), b.ranks.size());
  for (std::size_t i = 0; i < a.ranks.size(); ++i) {
    QCOMPARE(a.ranks[i].rank, b.ranks[i].rank);
    QCOMPARE(a.ranks[i].node, b.ranks[i].node);
    QCOMPARE(a.ranks[i].local_gpu, b.ranks[i].local_gpu);
    QCOMPARE(a.ranks[i].stage, b.ranks[i].stage);
  }
  for (std::size_t i = 0; i < a.events.size(); ++i) {
    const TimelineEvent &x = a.events[i], &y = b.events[i];
    QCOMPARE(x.rank, y.rank);
    QCOMPARE(int(x.stream), int(y.stream));
    QCOMPARE(int(x.category), int(y.category));
    QCOMPARE(x.task, y.task);
    QCOMPARE(a.names[x.name], b.names[y.name]);
    QVERIFY(std::abs(x.start_s - y.start_s) <= 1e-12 + 1e-12 * std::abs(x.start_s));
    QVERIFY(std::abs(x.dur_s - y.dur_s) <= 1e-12 + 1e-12 * std::abs(x.dur_s));
    QCOMPARE(x.layer, y.layer);
    QCOMPARE(x.microbatch, y.microbatch);
    QVERIFY(std::abs(x.flops - y.flops) <= 1e-6 * std::abs(x.flops));
    QVERIFY(std::abs(x.bytes - y.bytes) <= 1e-6 * std::abs(x.bytes));
    QCOMPARE(x.flow, y.flow);
    if (x.flow >= 0) QCOMPARE(x.flow_out, y.flow_out);
    QCOMPARE(x.exposed, y.exposed);
    QCOMPARE(x.measured, y.measured);
  }
  for (std::size_t i = 0; i < a.memory.size(); ++i) {
    QCOMPARE(a.memory[i].rank, b.memory[i].rank);
    QVERIFY(std::abs(a.memory[i].bytes - b.memory[i].bytes) <= 1e-6 * std::abs(a.memory[i].bytes));
  }
  QVERIFY(std::abs(a.capacity_bytes - b.capacity_bytes) <= 1e-6 * a.capacity_bytes);
}

QString error_of(const std::string& text) {
  try {
    parse_trace_text(text, "bad.json");
  } catch (const InputError& e) {
    return QString::fromStdString(e.what());
  }
  return {};
}

}  // namespace

class TraceReaderTest : public QObject {
  Q_OBJECT
private slots:
  void readsWhatTheLibraryWrites() {
    // timeline_to_json (the writer `strata simulate --trace` uses) -> this reader == the original.
    SyntheticSpec s;
    Timeline t = make_synthetic_timeline(s);
    t.events[3].measured = false;
    t.names[t.events[5].name] = t.names[t.events[5].name];  // keep ids stable
    std::string text = timeline_to_string(t);
    LoadedTrace mine = parse_trace_text(text, "lib.json");
    same_timeline(t, mine.timeline);
    QCOMPARE(QString::fromStdString(mine.timeline.source), QString("synthetic"));
    QCOMPARE(mine.args.size(), t.events.size());
    // ...and agrees with timeline_from_json on the same text.
    Timeline lib = timeline_from_json(Json::parse(text), "lib.json");
    same_timeline(lib, mine.timeline);
  }

  void theLibraryReadsWhatTheFixturesWrite() {
    // write_chrome_trace (bench and fixtures) produces what timeline_from_json accepts.
    Timeline t = make_synthetic_timeline({});
    std::string text = write_chrome_trace(t);
    same_timeline(t, timeline_from_json(Json::parse(text), "fx.json"));
    same_timeline(t, parse_trace_text(text, "fx.json").timeline);
  }

  void readsTheFixtureFile() {
    LoadedTrace lt = read_trace_file(STRATA_GUI_FIXTURES "/pipeline_4gpu.json");
    const Timeline& t = lt.timeline;
    QCOMPARE(t.ranks.size(), std::size_t(4));
    QCOMPARE(t.ranks[2].stage, 1);
    QCOMPARE(t.ranks[3].node, 1);
    QVERIFY(t.events.size() > 400);
    QVERIFY(!t.memory.empty());
    QCOMPARE(t.capacity_bytes, 80e9);
    int sends = 0, recvs = 0, exposed = 0;
    for (const auto& e : t.events) {
      if (e.flow >= 0) (e.flow_out ? sends : recvs)++;
      exposed += e.exposed;
    }
    QVERIFY(sends > 0);
    QCOMPARE(sends, recvs);
    QVERIFY(exposed > 0);
    // The details panel re-reads an event's args from the file.
    std::string args = read_args_text(lt.path, lt.args[10]);
    QVERIFY(args.front() == '{' && args.find("\"task\"") != std::string::npos);
  }

  void readsOtherChromeTraces() {
    // Bare array form, string pids/tids, comma-separated categories, escapes, kinds it skips.
    std::string text = "[\n"
      "      {\"ph\":\"M\",\"name\":\"process_name\",\"pid\":\"gpu-a\",\"args\":{\"name\":\"node 1 / gpu 3 (rank 9)\"}},\n"
      "      {\"name\":\"caf\\u00e9 \\ud83d\\ude80\",\"ph\":\"X\",\"cat\":\"comm,tp\",\"pid\":\"gpu-a\",\"tid\":\"stream 7\",\"ts\":10,\"dur\":5.5,\"args\":{\"task\":\"n/a\",\"bytes\":1e6}},\n"
      "      {\"ph\":\"X\",\"name\":\"k\\\"2\",\"pid\":7,\"tid\":0,\"ts\":1,\"dur\":0,\"args\":{\"task\":3,\"exposed\":true,\"measured\":false,\"nested\":{\"a\":[1,2,{\"b\":null}]}}},\n"
      "      {\"ph\":\"B\",\"name\":\"open\",\"pid\":7,\"tid\":0,\"ts\":2},\n"
      "      {\"ph\":\"i\",\"name\":\"mark\",\"pid\":7,\"ts\":2,\"s\":\"g\"},\n"
      "      {\"ph\":\"C\",\"name\":\"memory\",\"pid\":7,\"ts\":3,\"args\":{\"used\":1.5e9}},\n"
      "      {\"ph\":\"C\",\"name\":\"link util\",\"pid\":7,\"ts\":3,\"args\":{\"GBps\":12}}\n"
      "    ]";
    LoadedTrace lt = parse_trace_text(text, "other.json");
    const Timeline& t = lt.timeline;
    QCOMPARE(t.events.size(), std::size_t(2));
    QCOMPARE(lt.skipped_events, std::size_t(3));  // B, i, and a counter that is not memory
    QCOMPARE(QString::fromStdString(t.names[t.events[0].name]), QString::fromUtf8("café 🚀"));
    QCOMPARE(QString::fromStdString(t.names[t.events[1].name]), QString("k\"2"));
    QCOMPARE(int(t.events[0].category), int(Category::tp));
    QCOMPARE(int(t.events[0].stream), int(Stream::tp));  // unknown thread: by category
    QCOMPARE(t.events[0].task, -1);                      // non-numeric args are ignored
    QCOMPARE(t.events[0].rank, 9);                       // from "node 1 / gpu 3 (rank 9)"
    QCOMPARE(t.events[1].task, 3);
    QVERIFY(t.events[1].exposed && !t.events[1].measured);
    QCOMPARE(t.memory.size(), std::size_t(1));
    QCOMPARE(t.memory[0].bytes, 1.5e9);
    QCOMPARE(t.ranks.size(), std::size_t(2));
  }

  void badFilesGiveClearErrors_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("expect");  // a fragment of the message
    QTest::newRow("empty") << "" << "empty";
    QTest::newRow("blank") << "  \n " << "empty";
    QTest::newRow("not json") << "hello" << "not a JSON object or array";
    QTest::newRow("scenario") << "{\"model\":{\"preset\":\"llama3-8b\"}}" << "not a Chrome trace";
    QTest::newRow("events not array") << "{\"traceEvents\": 5}" << "traceEvents: expected an array";
    QTest::newRow("element not object") << "[1,2]" << "traceEvents[0]: expected a trace event object";
    QTest::newRow("truncated") << "{\"traceEvents\":[{\"ph\":\"X\",\"ts\":1,\"dur\":2" << "line 1";
    QTest::newRow("unterminated string") << "{\"traceEvents\":[{\"ph\":\"X\",\"name\":\"abc" << "unterminated string";
    QTest::newRow("ts not a number") << "[{\"ph\":\"X\",\"ts\":\"abc\",\"dur\":1}]" << "traceEvents[0].ts: expected a number";
    QTest::newRow("ts missing") << "[{\"ph\":\"X\",\"dur\":1}]" << "traceEvents[0].ts: missing";
    QTest::newRow("negative dur") << "[{\"ph\":\"X\",\"ts\":0,\"dur\":-3}]" << "traceEvents[0].dur";
    QTest::newRow("huge number") << "[{\"ph\":\"X\",\"ts\":1e999,\"dur\":1}]" << "out of range";
    QTest::newRow("bad escape") << "[{\"ph\":\"X\",\"name\":\"a\\qb\",\"ts\":0}]" << "invalid escape";
    QTest::newRow("control char") << "[{\"ph\":\"X\",\"name\":\"a\tb\",\"ts\":0}]" << "control character";
    QTest::newRow("trailing text") << "[] []" << "unexpected text after";
    QTest::newRow("missing comma") << "[{\"ph\":\"X\",\"ts\":0} {\"ph\":\"X\",\"ts\":1}]" << "expected ',' or ']'";
    QTest::newRow("bad literal") << "[{\"ph\":\"X\",\"ts\":0,\"x\":tru}]" << "invalid literal";
    QTest::newRow("strata not object") << "{\"traceEvents\":[],\"strata\":[1]}" << "strata: expected an object";
    QTest::newRow("strata ranks bad") << "{\"traceEvents\":[],\"strata\":{\"ranks\":[{\"rank\":-1}]}}" << "strata.ranks[0].rank";
    QTest::newRow("line numbers") << "[\n{\"ph\":\"X\",\"ts\":0},\n{\"ph\":\"X\",\"ts\":}\n]" << "line 3";
  }
  void badFilesGiveClearErrors() {
    QFETCH(QString, text);
    QFETCH(QString, expect);
    QString msg = error_of(text.toStdString());
    QVERIFY2(!msg.isEmpty(), "no error");
    QVERIFY2(msg.startsWith("bad.json"), qPrintable(msg));
    QVERIFY2(msg.contains(expect), qPrintable(msg));
  }

  void deepNestingIsAnErrorNotAStackOverflow() {
    std::string text = "[{\"ph\":\"X\",\"ts\":0,\"args\":{\"x\":" + std::string(100000, '[') + std::string(100000, ']') + "}}]";
    QVERIFY(error_of(text).contains("nesting too deep"));
  }

  void filesOnDisk() {
    QTemporaryDir dir;
    std::string empty = dir.filePath("empty.json").toStdString();
    std::ofstream(empty).close();
    QVERIFY_THROWS_EXCEPTION(InputError, read_trace_file(empty));
    QVERIFY_THROWS_EXCEPTION(InputError, read_trace_file(dir.filePath("missing.json").toStdString()));
    QVERIFY_THROWS_EXCEPTION(InputError, read_trace_file(dir.path().toStdString()));  // a directory
    try {
      read_trace_file(dir.filePath("missing.json").toStdString());
    } catch (const InputError& e) {
      QVERIFY(QString(e.what()).contains("missing.json"));
      QVERIFY(QString(e.what()).contains("cannot open"));
    }
  }

  void detectsWhatAFileHolds() {
    QCOMPARE(detect_file_kind(STRATA_GUI_FIXTURES "/pipeline_4gpu.json"), FileKind::timeline);
    QCOMPARE(detect_file_kind(project_root_scenario()), FileKind::scenario);
    QTemporaryDir dir;
    std::string arr = dir.filePath("a.json").toStdString();
    std::ofstream(arr) << "  [ ]";
    QCOMPARE(detect_file_kind(arr), FileKind::timeline);
    std::string txt = dir.filePath("b.txt").toStdString();
    std::ofstream(txt) << "hello";
    QVERIFY_THROWS_EXCEPTION(InputError, detect_file_kind(txt));
  }

private:
  static std::string project_root_scenario() { return std::string(STRATA_GUI_FIXTURES) + "/../../../scenarios/default.json"; }
};

QTEST_GUILESS_MAIN(TraceReaderTest)
#include "tst_trace_reader.moc"
