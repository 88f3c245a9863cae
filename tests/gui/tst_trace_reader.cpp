// strata-gui's glue over the library's timeline reader (tests/test_timeline_reader.cpp tests the
// reader itself: round trips, foreign traces, exact error messages): it asks for the args spans
// the details panel re-reads, reads the fixtures and what the GUI's synthetic writer writes, and
// tells a timeline from a scenario.
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
  void readsWhatTheLibraryWritesWithArgSpans() {
    SyntheticSpec s;
    Timeline t = make_synthetic_timeline(s);
    t.events[3].measured = false;
    std::string text = timeline_to_string(t);
    LoadedTrace mine = parse_trace_text(text, "lib.json");
    same_timeline(t, mine.timeline);
    QCOMPARE(QString::fromStdString(mine.timeline.source), QString("synthetic"));
    QCOMPARE(QString::fromStdString(mine.path), QString("lib.json"));
    QCOMPARE(mine.args.size(), t.events.size());
    for (std::size_t i = 0; i < t.events.size(); i += 97) {
      Json args = Json::parse(text.substr(mine.args[i].offset, mine.args[i].length));
      QCOMPARE(args["task"].get<int>(), t.events[i].task);
    }
  }

  void readsWhatTheFixturesWrite() {
    // write_chrome_trace (bench and fixtures) produces what the library reader accepts.
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

  void badFilesGiveTheLibrarysErrors() {
    QString msg = error_of("[\n{\"ph\":\"X\",\"ts\":0},\n{\"ph\":\"X\",\"ts\":\"soon\"}\n]");
    QCOMPARE(msg, QString("bad.json: traceEvents[1].ts: expected a number, got a string (line 3, column 16)"));
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
