// Level-of-detail merging: narrow events and narrow gaps fold into counted items, wide events
// stay themselves, nothing in view is lost, the cost follows pixels, and the result equals a
// plain one-event-at-a-time reference of the same rule.
#include <QtTest>
#include <random>

#include "core/lod.hpp"

using namespace strata::gui;

namespace {

// A lane of `n` events with log-uniform widths and gaps between lo and hi seconds.
Lane random_lane(std::size_t n, double lo, double hi, unsigned seed, int categories = 1, double exposed_p = 0.1) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(std::log(lo), std::log(hi));
  std::uniform_real_distribution<double> p(0, 1);
  std::uniform_int_distribution<int> cat(0, categories - 1);
  Lane l;
  double t = 0;
  for (std::size_t i = 0; i < n; ++i) {
    t += std::exp(u(rng));
    double w = std::exp(u(rng));
    l.push(std::uint32_t(i), t, t + w, std::uint8_t(cat(rng)), p(rng) < exposed_p);
    t += w;
  }
  l.finish();
  return l;
}

// The rule, one event at a time, for the whole lane in view.
std::vector<DrawItem> reference(const Lane& l, double tol) {
  std::vector<DrawItem> out;
  std::size_t i = 0, n = l.size();
  while (i < n) {
    if (l.end[i] - l.start[i] >= tol) {
      out.push_back({l.start[i], l.end[i], std::uint32_t(i), 1, l.cat[i], l.exposed_before[i + 1] > l.exposed_before[i]});
      ++i;
      continue;
    }
    std::size_t j = i + 1;
    double run_end = l.end[i];
    while (j < n && l.end[j] - l.start[j] < tol && l.start[j] - run_end <= tol) run_end = std::max(run_end, l.end[j++]);
    out.push_back({l.start[i], run_end, std::uint32_t(i), std::uint32_t(j - i), 0, l.exposed_before[j] > l.exposed_before[i]});
    i = j;
  }
  return out;
}

}  // namespace

class LodTest : public QObject {
  Q_OBJECT
private slots:
  void wideEventsAreNeverMerged() {
    Lane l;
    for (int i = 0; i < 10; ++i) l.push(std::uint32_t(i), i * 10.0, i * 10.0 + 8, 0, false);
    l.finish();
    std::vector<DrawItem> out;
    build_draw_list(l, {0, 100, 0.1, 2}, out);  // each event is 80 px
    QCOMPARE(out.size(), std::size_t(10));
    for (std::size_t i = 0; i < out.size(); ++i) {
      QCOMPARE(out[i].count, 1u);
      QCOMPARE(out[i].first, std::uint32_t(i));
    }
  }

  void narrowNeighboursFoldIntoOneCountedItem() {
    Lane l;
    for (int i = 0; i < 1000; ++i) l.push(std::uint32_t(i), i * 1e-6, i * 1e-6 + 0.5e-6, 0, i == 500);
    l.finish();
    std::vector<DrawItem> out;
    build_draw_list(l, {0, 1e-3, 1e-6, 2}, out);  // events 0.5 px, gaps 0.5 px
    QCOMPARE(out.size(), std::size_t(1));
    QCOMPARE(out[0].count, 1000u);
    QVERIFY(out[0].exposed);  // one exposed event inside marks the run
    QCOMPARE(out[0].t0, 0.0);
    QCOMPARE(out[0].t1, 999e-6 + 0.5e-6);
    QVERIFY(std::abs(out[0].occupancy - 0.5f) < 0.01f);  // busy half of the time: drawn lighter
  }

  void visibleGapsSplitRuns() {
    Lane l;
    // Two clusters of narrow events 100 px apart.
    for (int i = 0; i < 50; ++i) l.push(std::uint32_t(i), i * 1e-6, i * 1e-6 + 0.4e-6, 0, false);
    for (int i = 0; i < 50; ++i) l.push(std::uint32_t(50 + i), 150e-6 + i * 1e-6, 150e-6 + i * 1e-6 + 0.4e-6, 0, false);
    l.finish();
    std::vector<DrawItem> out;
    build_draw_list(l, {0, 300e-6, 1e-6, 2}, out);
    QCOMPARE(out.size(), std::size_t(2));
    QCOMPARE(out[0].count + out[1].count, 100u);
    QVERIFY(!out[0].exposed && !out[1].exposed);
  }

  void equalsTheReferenceOnRandomLanes_data() {
    QTest::addColumn<unsigned>("seed");
    QTest::addColumn<double>("spp");
    QTest::addColumn<double>("min_px");
    for (unsigned seed : {1u, 2u, 3u})
      for (double spp : {1e-9, 1e-7, 1e-5, 1e-3})
        for (double px : {1.0, 2.0, 3.0}) QTest::newRow(qPrintable(QString("seed %1 spp %2 px %3").arg(seed).arg(spp).arg(px))) << seed << spp << px;
  }
  void equalsTheReferenceOnRandomLanes() {
    QFETCH(unsigned, seed);
    QFETCH(double, spp);
    QFETCH(double, min_px);
    Lane l = random_lane(20000, 1e-9, 1e-5, seed);
    std::vector<DrawItem> out;
    build_draw_list(l, {-1, 1e9, spp, min_px}, out);
    std::vector<DrawItem> ref = reference(l, min_px * spp);
    QCOMPARE(out.size(), ref.size());
    for (std::size_t i = 0; i < ref.size(); ++i) {
      QCOMPARE(out[i].first, ref[i].first);
      QCOMPARE(out[i].count, ref[i].count);
      QCOMPARE(out[i].t0, ref[i].t0);
      QCOMPARE(out[i].t1, ref[i].t1);
      QCOMPARE(out[i].exposed, ref[i].exposed);
    }
  }

  void everyVisibleEventIsCoveredOnce_data() {
    QTest::addColumn<unsigned>("seed");
    QTest::addColumn<double>("v0");
    QTest::addColumn<double>("v1");
    QTest::newRow("start") << 7u << -1.0 << 1e-3;
    QTest::newRow("middle") << 8u << 0.02 << 0.021;
    QTest::newRow("end") << 9u << 0.05 << 10.0;
  }
  void everyVisibleEventIsCoveredOnce() {
    QFETCH(unsigned, seed);
    QFETCH(double, v0);
    QFETCH(double, v1);
    Lane l = random_lane(20000, 1e-8, 1e-5, seed, 3, 0.05);
    double spp = (v1 - v0) / 1000;
    std::vector<DrawItem> out;
    build_draw_list(l, {v0, v1, spp, 2}, out);
    // Items are ordered and disjoint; the union of their ranges holds every event in view.
    std::vector<char> covered(l.size(), 0);
    for (std::size_t k = 0; k < out.size(); ++k) {
      if (k) QVERIFY(out[k].first >= out[k - 1].first + out[k - 1].count);
      for (std::uint32_t i = out[k].first; i < out[k].first + out[k].count; ++i) {
        QVERIFY(!covered[i]);
        covered[i] = 1;
      }
      // A folded item holds only narrow events; its category is one of theirs.
      if (out[k].count > 1) {
        bool has_cat = false;
        for (std::uint32_t i = out[k].first; i < out[k].first + out[k].count; ++i) {
          QVERIFY(l.end[i] - l.start[i] < 2 * spp);
          has_cat |= l.cat[i] == out[k].cat;
        }
        QVERIFY(has_cat);
      }
    }
    for (std::size_t i = 0; i < l.size(); ++i)
      if (l.end[i] >= v0 && l.start[i] <= v1 && l.end[i] > v0) QVERIFY2(covered[i], qPrintable(QString("event %1 lost").arg(i)));
  }

  void costFollowsPixelsNotEvents() {
    // A million 1 ns events in 1 ms: at 1000 px, a handful of items.
    Lane l;
    for (int i = 0; i < 1000000; ++i) l.push(std::uint32_t(i), i * 1e-9, i * 1e-9 + 0.6e-9, 0, false);
    l.finish();
    std::vector<DrawItem> out;
    build_draw_list(l, {0, 1e-3, 1e-6, 2}, out);
    QVERIFY(out.size() <= 2);
    QCOMPARE(out[0].count, 1000000u);
    // A thousand frames: a walk over every event would take seconds, the fold milliseconds.
    QElapsedTimer t;
    t.start();
    for (int frame = 0; frame < 1000; ++frame) {
      out.clear();
      build_draw_list(l, {frame * 1e-7, 1e-3 + frame * 1e-7, 1e-6, 2}, out);
    }
    QVERIFY2(t.elapsed() < 1000, qPrintable(QString("%1 ms for 1000 frames").arg(t.elapsed())));
  }

  void overlappingEventsInTheOverflowLaneAreSafe() {
    // The last lane takes overlapping events; `reach` keeps binary searches valid.
    Lane l;
    l.push(0, 0.0, 10.0, 0, false);
    for (int i = 1; i < 100; ++i) l.push(std::uint32_t(i), i * 0.05, i * 0.05 + 0.01, 1, false);
    l.push(100, 10.5, 11, 0, true);
    l.finish();
    std::vector<DrawItem> out;
    build_draw_list(l, {4.0, 12.0, 0.01, 2}, out);
    std::uint32_t total = 0;
    for (const auto& d : out) total += d.count;
    QVERIFY(total >= 2);  // the long event and the last one are both in view
    QVERIFY(out.front().first == 0);
    QVERIFY(out.back().exposed);
  }

  void emptyAndDegenerateInputs() {
    Lane l;
    l.finish();
    std::vector<DrawItem> out;
    build_draw_list(l, {0, 1, 1e-3, 2}, out);
    QVERIFY(out.empty());
    Lane z;
    z.push(0, 1.0, 1.0, 0, false);  // zero duration
    z.finish();
    build_draw_list(z, {0, 2, 1e-3, 2}, out);
    QCOMPARE(out.size(), std::size_t(1));
    out.clear();
    build_draw_list(z, {2, 1, 1e-3, 2}, out);  // empty view
    build_draw_list(z, {0, 2, 0, 2}, out);     // no scale
    QVERIFY(out.empty());
  }
};

QTEST_GUILESS_MAIN(LodTest)
#include "tst_lod.moc"
