// Widgets, offscreen: the fixture timeline rendered to PNG shows the expected category colours
// in the expected track rows; wheel, drag, Shift+drag, keys and clicks do what they say; bad
// files reach the user as messages, never crashes; the explorer and the compare view fill in.
#include <QtTest>

#include "app/main_window.hpp"
#include "compare/compare_view.hpp"
#include "core/palette.hpp"
#include "core/sim_runner.hpp"
#include "explorer/explorer_view.hpp"
#include "explorer/scatter_widget.hpp"
#include "timeline/details_panel.hpp"
#include "timeline/timeline_view.hpp"
#include "timeline/timeline_widget.hpp"

using namespace strata;
using namespace strata::gui;

namespace {

const QString kFixture = STRATA_GUI_FIXTURES "/pipeline_4gpu.json";
const QString kMeasured = STRATA_GUI_FIXTURES "/pipeline_4gpu_measured.json";
const QString kOut = STRATA_GUI_TEST_OUT;

TimelineBundle fixture() { return make_bundle(TimelineIndex::build(read_trace_file(kFixture.toStdString()))); }

int count_colour(const QImage& img, const QRect& r, QColor c) {
  int n = 0;
  QRgb want = c.rgb() & 0xffffff;
  QRect rr = r.intersected(img.rect());
  for (int y = rr.top(); y <= rr.bottom(); ++y)
    for (int x = rr.left(); x <= rr.right(); ++x) n += (img.pixel(x, y) & 0xffffff) == want;
  return n;
}

void wheel(QWidget* w, QPoint pos, int delta, Qt::KeyboardModifiers mods = Qt::NoModifier) {
  QWheelEvent e(pos, w->mapToGlobal(pos), QPoint(), QPoint(0, delta), Qt::NoButton, mods, Qt::NoScrollPhase, false);
  QApplication::sendEvent(w, &e);
}

}  // namespace

class WidgetsTest : public QObject {
  Q_OBJECT
private slots:
  void timelineScreenshotHasTheExpectedColoursInTheExpectedRows() {
    TimelineView view;
    view.resize(1400, 900);
    view.setBundle(fixture());
    view.show();
    QApplication::processEvents();
    TimelineWidget* tw = view.timeline();
    QImage img = tw->grab().toImage().convertToFormat(QImage::Format_RGB32);
    QVERIFY(view.grab().save(kOut + "/timeline-fixture.png"));
    QVERIFY(img.save(kOut + "/timeline-fixture-widget.png"));

    QRect compute0 = tw->trackRect(0, Stream::compute);
    QRect tp0 = tw->trackRect(0, Stream::tp);
    QRect send0 = tw->trackRect(0, Stream::pp_send);
    QRect compute2 = tw->trackRect(2, Stream::compute);
    QVERIFY(!compute0.isEmpty() && !tp0.isEmpty() && !send0.isEmpty() && !compute2.isEmpty());
    const int area = compute0.width() * compute0.height();
    // Compute work fills most of rank 0's compute row; no TP colour there.
    QVERIFY2(count_colour(img, compute0, category_color(Category::compute)) > area / 4,
             qPrintable(QString::number(count_colour(img, compute0, category_color(Category::compute)))));
    QCOMPARE(count_colour(img, compute0, category_color(Category::tp)), 0);
    // TP collectives on the TP row, exposed: red underline.
    QVERIFY(count_colour(img, tp0, category_color(Category::tp)) > 200);
    QVERIFY(count_colour(img, tp0, exposed_color()) > 100);
    QCOMPARE(count_colour(img, tp0, category_color(Category::compute)), 0);
    // Pipeline sends on the send row.
    QVERIFY(count_colour(img, send0, category_color(Category::pp)) > 20);
    // The last stage waits for its first micro-batch: a bubble (hatched light red) at its start.
    QVERIFY(count_colour(img, compute2, bubble_fill()) > 50);
    QVERIFY(count_colour(img, compute2.adjusted(0, 0, -compute2.width() / 2, 0), bubble_fill()) > 0);
    // The optimizer step closes the step on every rank.
    QVERIFY(count_colour(img, compute0, category_color(Category::optimizer)) > 20);
    // Ruler labels and the header column are drawn.
    QVERIFY(count_colour(img, QRect(0, 0, img.width(), TimelineWidget::kRulerHeight), QColor(0xf4f5f7)) > 1000);
  }

  void zoomAndPanWithMouseAndKeys() {
    TimelineView view;
    view.resize(1200, 800);
    view.setBundle(fixture());
    view.show();
    QApplication::processEvents();
    TimelineWidget* tw = view.timeline();
    QRect area = tw->eventArea();
    ViewRange fit = tw->view();
    // Wheel up at x zooms in around the cursor.
    QPoint at(area.left() + 300, area.top() + 40);
    double t_at = fit.time_at(300);
    wheel(tw, at, 240);
    ViewRange z = tw->view();
    QVERIFY(z.spp < fit.spp);
    QVERIFY2(std::abs(z.time_at(300) - t_at) < z.spp, qPrintable(QString("%1 vs %2, area left %3").arg(z.time_at(300)).arg(t_at).arg(area.left())));
    // Drag pans by the mouse distance.
    QTest::mousePress(tw, Qt::LeftButton, Qt::NoModifier, at);
    QTest::mouseMove(tw, at + QPoint(100, 0));
    QTest::mouseRelease(tw, Qt::LeftButton, Qt::NoModifier, at + QPoint(100, 0));
    QVERIFY(std::abs(tw->view().start_s - (z.start_s - 100 * z.spp)) < z.spp);
    // Shift+drag zooms to the dragged range.
    ViewRange before = tw->view();
    QPoint a(area.left() + 200, area.top() + 50), b(area.left() + 400, area.top() + 50);
    QTest::mousePress(tw, Qt::LeftButton, Qt::ShiftModifier, a);
    QTest::mouseMove(tw, b);
    QTest::mouseRelease(tw, Qt::LeftButton, Qt::ShiftModifier, b);
    ViewRange sel = tw->view();
    QVERIFY(std::abs(sel.time_at(0) - before.time_at(200)) < 2 * sel.spp * area.width() / 200);
    QVERIFY(std::abs(sel.spp - before.spp * 200 / area.width()) < 1e-9 * before.spp + before.spp * 0.01);
    // Backspace goes back, 0 fits, D pans right, S zooms out.
    QTest::keyClick(tw, Qt::Key_Backspace);
    QVERIFY(std::abs(tw->view().spp - before.spp) < 1e-15);
    QTest::keyClick(tw, Qt::Key_0);
    QVERIFY(std::abs(tw->view().spp - fit.spp) < 1e-15);
    double s0 = tw->view().start_s;
    QTest::keyClick(tw, Qt::Key_W);
    QTest::keyClick(tw, Qt::Key_D);
    QVERIFY(tw->view().start_s > s0);
  }

  void clickSelectsAndDetailsFollow() {
    TimelineView view;
    view.resize(1400, 900);
    view.setBundle(fixture());
    view.show();
    QApplication::processEvents();
    TimelineWidget* tw = view.timeline();
    QRect r = tw->trackRect(0, Stream::compute);
    QPoint p;
    std::uint32_t ev = kNoEvent;
    for (int x = r.left() + 5; x < r.right() && ev == kNoEvent; x += 3) {
      p = QPoint(x, r.center().y());
      ev = tw->eventAt(p);
    }
    QVERIFY(ev != kNoEvent);
    QSignalSpy spy(tw, &TimelineWidget::eventSelected);
    QTest::mouseClick(tw, Qt::LeftButton, Qt::NoModifier, p);
    QCOMPARE(spy.count(), 1);
    QCOMPARE(tw->selectedEvent(), ev);
    QString html = view.details()->toPlainText();
    QVERIFY2(html.contains(QString::fromStdString(view.bundle().index->name_of(ev))), qPrintable(html));
    QVERIFY(html.contains("duration"));
    // Search selects the first match and counts them.
    view.search("attention");
    QVERIFY(tw->selectedEvent() != kNoEvent);
    QVERIFY(QString::fromStdString(view.bundle().index->name_of(tw->selectedEvent())).contains("attention"));
    // Next on the track with '.', then Escape clears.
    std::uint32_t cur = tw->selectedEvent();
    QTest::keyClick(tw, Qt::Key_Period);
    QVERIFY(tw->selectedEvent() != cur);
    QTest::keyClick(tw, Qt::Key_Escape);
    QCOMPARE(tw->selectedEvent(), kNoEvent);
    // Clicking a GPU header collapses it into one summary row.
    std::size_t rows = tw->rows().rows.size();
    const Row& gpu_row = tw->rows().rows[1];
    QCOMPARE(int(gpu_row.kind), int(RowKind::gpu));
    QTest::mouseClick(tw, Qt::LeftButton, Qt::NoModifier, QPoint(20, TimelineWidget::kRulerHeight + gpu_row.y + 5));
    QVERIFY(tw->rows().rows.size() < rows);
  }

  void badFilesAreMessagesNotCrashes() {
    MainWindow w;
    w.setInteractive(false);
    QTemporaryDir dir;
    auto write = [&](const char* name, const QByteArray& text) {
      QFile f(dir.filePath(name));
      f.open(QIODevice::WriteOnly);
      f.write(text);
      return dir.filePath(name);
    };
    QStringList bad = {write("empty.json", ""), write("garbage.json", "\x01\x02 not json"),
                       write("truncated.json", "{\"traceEvents\":[{\"ph\":\"X\",\"ts\":1"),
                       write("scenario-bad.json", "{\"model\":{\"preset\":\"nope\"},\"cluster\":{},\"strategy\":{},\"workload\":{}}"),
                       write("binary.json", QByteArray(4096, '\0')), dir.filePath("missing.json"), dir.path()};
    w.openPaths(bad, true);
    QCOMPARE(w.errors().size(), bad.size());
    for (const QString& e : w.errors()) QVERIFY2(!e.isEmpty(), "empty message");
    QVERIFY(w.errors()[0].contains("empty"));
    QVERIFY(w.errors()[3].contains("nope"));
    // The same, on worker threads.
    MainWindow w2;
    w2.setInteractive(false);
    w2.openPaths(bad, false);
    QTRY_COMPARE_WITH_TIMEOUT(w2.pendingLoads(), 0, 20000);
    QCOMPARE(w2.errors().size(), bad.size());
    // A good file after bad ones still opens.
    w2.openPaths({kFixture}, false);
    QTRY_COMPARE_WITH_TIMEOUT(w2.pendingLoads(), 0, 20000);
    QVERIFY(w2.timelineView()->bundle().index != nullptr);
  }

  void compareViewAlignsTwoTimelines() {
    CompareView cv;
    cv.resize(1500, 900);
    cv.setA(fixture());
    cv.setB(make_bundle(TimelineIndex::build(read_trace_file(kMeasured.toStdString()))));
    cv.show();
    QApplication::processEvents();
    QVERIFY(cv.result());
    QVERIFY(cv.result()->tasks.size() > 100);
    QCOMPARE(cv.result()->only_a, std::size_t(0));
    cv.locate(0);
    const TaskDiff& worst = *std::max_element(cv.result()->tasks.begin(), cv.result()->tasks.end(), [](const TaskDiff& a, const TaskDiff& b) {
      return std::abs(a.diff_s()) < std::abs(b.diff_s());
    });
    QCOMPARE(cv.viewA()->timeline()->selectedEvent(), worst.a);
    QCOMPARE(cv.viewB()->timeline()->selectedEvent(), worst.b);
    // Linked: zooming A zooms B by the same factor (B's scale follows the ratio of the steps).
    double ratio = cv.viewB()->timeline()->view().spp / cv.viewA()->timeline()->view().spp;
    QVERIFY(std::abs(ratio - cv.result()->b_step_s / cv.result()->a_step_s) < 1e-9 * ratio);
    cv.viewA()->timeline()->zoomAt(2, 100);
    QVERIFY(std::abs(cv.viewB()->timeline()->view().spp / cv.viewA()->timeline()->view().spp - ratio) < 1e-9 * ratio);
    QVERIFY(cv.grab().save(kOut + "/compare-fixture.png"));
  }

  void explorerEnumeratesAndSimulatesWhenItCan() {
    ExplorerView ev;
    ev.resize(1500, 900);
    ev.setMaxStrategies(24);  // keeps the test quick whatever the engine costs
    ev.show();
    QVERIFY2(ev.explore(true), qPrintable(ev.lastError()));
    QVERIFY2(ev.model()->rows() >= 10, qPrintable(QString::number(ev.model()->rows())));
    if (!simulation_available()) {
      QCOMPARE(int(ev.model()->rowAt(0).state), int(RowState::unavailable));
      QVERIFY(ev.scatter()->front().empty());
    } else {
      int done = 0;
      for (int i = 0; i < ev.model()->rows(); ++i) done += ev.model()->rowAt(i).state == RowState::done;
      QVERIFY(done > 0);
      QVERIFY(!ev.scatter()->front().empty());
      QVERIFY(ev.timelineView()->bundle().index != nullptr);  // the best row's timeline
    }
    QVERIFY(ev.grab().save(kOut + "/explorer.png"));
    ExplorerInputs bad = ev.inputs();
    bad.topology = "/no/such/topology.json";
    ev.setInputs(bad);
    QVERIFY(!ev.explore(true));
    QVERIFY(ev.lastError().contains("topology"));
  }

  void realScenarioScreenshot() {
    if (!simulation_available()) QSKIP("the simulation engine is not part of this build yet");
    MainWindow w;
    w.setInteractive(false);
    w.resize(1600, 1000);
    w.show();
    w.openPaths({QString(STRATA_GUI_FIXTURES "/../../../scenarios/default.json")}, true);
    QVERIFY2(w.errors().isEmpty(), qPrintable(w.errors().join("\n")));
    TimelineWidget* tw = w.timelineView()->timeline();
    QVERIFY(tw->index() != nullptr);
    QApplication::processEvents();
    QImage img = tw->grab().toImage().convertToFormat(QImage::Format_RGB32);
    QVERIFY(w.grab().save(kOut + "/timeline-default.png"));
    int rank = tw->index()->gpus().front().rank.rank;
    QRect compute = tw->trackRect(rank, Stream::compute);
    if (compute.isEmpty()) {  // large jobs start collapsed: open the first GPU
      tw->collapseAll(false, false);
      QApplication::processEvents();
      img = tw->grab().toImage().convertToFormat(QImage::Format_RGB32);
      compute = tw->trackRect(rank, Stream::compute);
    }
    QVERIFY(!compute.isEmpty());
    QVERIFY(count_colour(img, compute, category_color(Category::compute)) > 100);
  }
};

QTEST_MAIN(WidgetsTest)
#include "tst_widgets.moc"
