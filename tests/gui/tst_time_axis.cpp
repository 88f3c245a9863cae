// Zoom maths and the time ruler: zooming keeps the time under the cursor, fits and clamps, and
// ticks land on 1-2-5 steps with a unit that follows the step.
#include <QtTest>

#include "core/time_axis.hpp"

using namespace strata::gui;

class TimeAxisTest : public QObject {
  Q_OBJECT
private slots:
  void zoomKeepsTimeUnderCursor_data() {
    QTest::addColumn<double>("x");
    QTest::addColumn<double>("factor");
    QTest::newRow("left edge, in") << 0.0 << 2.0;
    QTest::newRow("middle, in") << 500.0 << 3.0;
    QTest::newRow("right, out") << 999.0 << 0.25;
    QTest::newRow("tiny step") << 123.0 << 1.0018;
  }
  void zoomKeepsTimeUnderCursor() {
    QFETCH(double, x);
    QFETCH(double, factor);
    ViewRange v{0.010, 1e-6};
    double t = v.time_at(x);
    ViewRange z = zoom_around(v, x, factor);
    QVERIFY(std::abs(z.time_at(x) - t) < 1e-15);
    QVERIFY(std::abs(z.spp - v.spp / factor) < 1e-18);
  }

  void zoomIsClampedToLimits() {
    ZoomLimits lim = limits_for(0, 1.0, 1000);
    QCOMPARE(lim.max_spp, 4.0 / 1000);
    ViewRange v = fit_range(0, 1.0, 1000);
    for (int i = 0; i < 200; ++i) v = zoom_around(v, 500, 10, lim);  // far past the limit
    QCOMPARE(v.spp, lim.min_spp);
    for (int i = 0; i < 200; ++i) v = zoom_around(v, 500, 0.1, lim);
    QCOMPARE(v.spp, lim.max_spp);
    QCOMPARE(zoom_around(v, 10, 0, lim), v);   // nonsense factors leave the view alone
    QCOMPARE(zoom_around(v, 10, NAN, lim), v);
  }

  void fitShowsTheRangeWithMargins() {
    ViewRange v = fit_range(2.0, 4.0, 800, 0.05);
    QVERIFY(std::abs(v.start_s - 1.9) < 1e-12);
    QVERIFY(std::abs(v.end_s(800) - 4.1) < 1e-12);
    ViewRange r = fit_range(4.0, 2.0, 800, 0.0);  // reversed input
    QVERIFY(std::abs(r.start_s - 2.0) < 1e-12 && std::abs(r.end_s(800) - 4.0) < 1e-12);
  }

  void zoomToDraggedPixels() {
    ViewRange v{0, 1e-3};  // 1 ms per pixel
    ViewRange z = zoom_to_pixels(v, 300, 100, 1000);  // dragged right to left
    QVERIFY(std::abs(z.start_s - 0.1) < 1e-12);
    QVERIFY(std::abs(z.end_s(1000) - 0.3) < 1e-12);
  }

  void panMovesContentWithTheMouse() {
    ViewRange v{1.0, 1e-3};
    ViewRange p = pan_by_pixels(v, 100);  // drag right by 100 px: earlier times come in
    QVERIFY(std::abs(p.start_s - 0.9) < 1e-12);
    QCOMPARE(p.spp, v.spp);
  }

  void clampKeepsTheTimelineInSight() {
    ViewRange v{100.0, 1e-3};  // far to the right of a [0, 1] s timeline, 1 s wide view
    ViewRange c = clamp_view(v, 1000, 0, 1);
    QVERIFY(c.start_s <= 1 - 0.25);  // at least a quarter of the area shows the timeline
    ViewRange l = clamp_view({-100.0, 1e-3}, 1000, 0, 1);
    QVERIFY(l.end_s(1000) >= 0.25);
  }

  void ticksFollowOneTwoFive_data() {
    QTest::addColumn<double>("spp");
    QTest::addColumn<double>("step");
    QTest::addColumn<QString>("unit");
    QTest::addColumn<QString>("label");  // label of the first major tick at or after t = 0.2 s
    QTest::newRow("seconds") << 1e-2 << 1.0 << "s" << "1 s";
    QTest::newRow("ms") << 1e-5 << 1e-3 << "ms" << "200 ms";
    QTest::newRow("0.2 ms") << 2e-6 << 2e-4 << "ms" << "200.0 ms";
    QTest::newRow("50 µs") << 5e-7 << 5e-5 << "µs" << "200000 µs";
    QTest::newRow("0.5 s") << 5e-3 << 0.5 << "s" << "0.5 s";
    QTest::newRow("us") << 1e-8 << 1e-6 << "µs" << "200000 µs";
    QTest::newRow("ns") << 1e-10 << 1e-8 << "ns" << "200000000 ns";
  }
  void ticksFollowOneTwoFive() {
    QFETCH(double, spp);
    QFETCH(double, step);
    QFETCH(QString, unit);
    QFETCH(QString, label);
    ViewRange v{0.2, spp};
    TimeTicks t = compute_ticks(v, 1000, 90);
    QVERIFY2(std::abs(t.step / step - 1) < 1e-9, qPrintable(QString::number(t.step)));
    QCOMPARE(QString::fromUtf8(t.unit_name), unit);
    QVERIFY(t.step / spp >= 90);        // labels never collide
    QVERIFY(t.step / spp < 90 * 2.5 + 1);  // and are not needlessly sparse
    QVERIFY(!t.major.empty());
    for (std::size_t i = 1; i < t.major.size(); ++i) QVERIFY(std::abs(t.major[i] - t.major[i - 1] - t.step) < t.step * 1e-6);
    // The first tick at or after 0.2 s: 0.2 s itself, except for the 1 s step.
    QCOMPARE(QString::fromStdString(format_tick(t.major.front(), t)), label);
    for (double m : t.minor)
      for (double M : t.major) QVERIFY(std::abs(m - M) > t.minor_step * 1e-3);  // minors skip majors
  }

  void tickLabelsHaveDecimalsWhenNeeded() {
    ViewRange v{0, 2.5e-6};  // 0.25 ms per 100 px -> 0.5 ms steps
    TimeTicks t = compute_ticks(v, 1000, 100);
    QVERIFY(std::abs(t.step / 5e-4 - 1) < 1e-9);
    QCOMPARE(QString::fromStdString(format_tick(1.5e-3, t)), QString("1.5 ms"));
    QCOMPARE(QString::fromStdString(format_tick(-0.0, t)), QString("0.0 ms"));
  }

  void durationsHaveThreeSignificantDigits_data() {
    QTest::addColumn<double>("s");
    QTest::addColumn<QString>("text");
    QTest::newRow("0") << 0.0 << "0 s";
    QTest::newRow("ns") << 850e-9 << "850 ns";
    QTest::newRow("µs") << 12.5e-6 << "12.5 µs";
    QTest::newRow("ms") << 1.234e-3 << "1.23 ms";
    QTest::newRow("s") << 123.4 << "123 s";
    QTest::newRow("negative") << -2e-3 << "-2.00 ms";
  }
  void durationsHaveThreeSignificantDigits() {
    QFETCH(double, s);
    QFETCH(QString, text);
    QCOMPARE(QString::fromStdString(format_duration(s)), text);
  }

  void bytesAndRates() {
    QCOMPARE(QString::fromStdString(format_bytes(1.5e9)), QString("1.50 GB"));
    QCOMPARE(QString::fromStdString(format_bytes(512)), QString("512 B"));
    QCOMPARE(QString::fromStdString(format_flops(2.1e12)), QString("2.10 TFLOP"));
  }
};

QTEST_GUILESS_MAIN(TimeAxisTest)
#include "tst_time_axis.moc"
