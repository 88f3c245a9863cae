// Model logic without windows: the track index (node -> GPU -> stream, lanes, idle gaps, flows,
// tasks), the row layout (collapse, hit-testing), statistics, the comparison of two timelines,
// the Pareto front, the strategy enumeration and the Qt item models over them.
#include <QAbstractItemModelTester>
#include <QtTest>
#include <set>

#include "core/compare.hpp"
#include "core/compare_model.hpp"
#include "core/explorer_model.hpp"
#include "core/overview.hpp"
#include "core/pareto.hpp"
#include "core/row_layout.hpp"
#include "core/stats.hpp"
#include "core/stats_model.hpp"
#include "core/strategy_enum.hpp"
#include "core/synthetic.hpp"
#include "core/trace_reader.hpp"
#include "io/input_error.hpp"

using namespace strata;
using namespace strata::gui;

namespace {

TimelineEvent ev(int rank, Stream s, Category c, int task, double t0, double t1, bool exposed = false) {
  TimelineEvent e;
  e.rank = rank;
  e.stream = s;
  e.category = c;
  e.task = task;
  e.start_s = t0;
  e.dur_s = t1 - t0;
  e.exposed = exposed;
  return e;
}

// Two ranks on two nodes. Rank 0: compute [0,1] [2,3], tp [1,2.5] (1.5 s, 0.5 s hidden), a
// bubble [3,4] and overlapping recvs. Rank 1: compute [0.5, 4].
std::shared_ptr<TimelineIndex> small_index() {
  LoadedTrace lt;
  Timeline& t = lt.timeline;
  t.names = {"gemm", "allreduce", "bubble", "recv", "send"};
  t.ranks = {{0, 0, 0, 0, 0}, {1, 1, 0, 1, 1}};
  t.events.push_back(ev(0, Stream::compute, Category::compute, 0, 0, 1));
  t.events.push_back(ev(0, Stream::compute, Category::compute, 1, 2, 3));
  t.events.push_back(ev(0, Stream::tp, Category::tp, 2, 1, 2.5, true));
  t.events.push_back(ev(0, Stream::compute, Category::bubble, -1, 3, 4));
  t.events.push_back(ev(0, Stream::pp_recv_fwd, Category::pp, 3, 0, 2));
  t.events.push_back(ev(0, Stream::pp_recv_fwd, Category::pp, 4, 1, 3));  // overlaps the first: a second lane
  t.events.push_back(ev(1, Stream::compute, Category::compute, 0, 0.5, 4));
  t.events.push_back(ev(1, Stream::pp_send, Category::pp, 1, 0.2, 0.4));
  t.events[1].name = 0;
  t.events[2].name = 1;
  t.events[3].name = 2;
  t.events[4].name = t.events[5].name = 3;
  t.events[7].name = 4;
  t.events[7].flow = 42;
  t.events[7].flow_out = true;
  t.events[4].flow = 42;
  t.events[4].flow_out = false;
  t.memory = {{0, 0, 1e9}, {0, 2, 3e9}, {0, 4, 1e9}};
  t.capacity_bytes = 2e9;
  return TimelineIndex::build(std::move(lt));
}

}  // namespace

class ModelsTest : public QObject {
  Q_OBJECT
private slots:
  void indexGroupsNodeGpuStream() {
    auto idx = small_index();
    QCOMPARE(idx->nodes().size(), std::size_t(2));
    QCOMPARE(idx->gpus().size(), std::size_t(2));
    QCOMPARE(idx->t_begin, 0.0);
    QCOMPARE(idx->t_end, 4.0);
    const GpuInfo& g0 = idx->gpus()[0];
    QCOMPARE(g0.tracks.size(), std::size_t(3));  // compute, tp, pp_recv_fwd in stream order
    QCOMPARE(int(idx->tracks()[std::size_t(g0.tracks[0])].stream), int(Stream::compute));
    QCOMPARE(int(idx->tracks()[std::size_t(g0.tracks[1])].stream), int(Stream::tp));
    const Track& recv = idx->tracks()[std::size_t(idx->track_for(0, Stream::pp_recv_fwd))];
    QCOMPARE(recv.lanes.size(), std::size_t(2));  // overlapping receives get their own lanes
    QCOMPARE(idx->lane_of(5), 1);
    QCOMPARE(idx->gpu_of_rank(1), 1);
    QCOMPARE(idx->gpu_of_rank(7), -1);
    QCOMPARE(idx->track_for(1, Stream::tp), -1);
  }

  void idleGapsAndExposure() {
    auto idx = small_index();
    // Rank 0's compute stream is busy [0,1] [2,3] plus bubble [3,4]; the tp collective covers
    // [1,2.5]: nothing is idle. Rank 1 idles for [0, 0.5].
    QVERIFY(idx->gpus()[0].idle.empty());
    QCOMPARE(idx->gpus()[1].idle.size(), std::size_t(1));
    QCOMPARE(idx->gpus()[1].idle[0].t1, 0.5);
    QCOMPARE(idx->exposed_part(2), 1.0);  // tp [1,2.5] minus compute [2,3] overlap 0.5
    QCOMPARE(idx->exposed_part(0), 0.0);  // compute is never "exposed"
  }

  void flowsTasksAndSearch() {
    auto idx = small_index();
    QCOMPARE(idx->flows().size(), std::size_t(1));
    QCOMPARE(idx->flows()[0].from, 7u);
    QCOMPARE(idx->flows()[0].to, 4u);
    QCOMPARE(idx->flow_peer(4), 7u);
    QCOMPARE(idx->deps_of(4), std::vector<std::uint32_t>{7u});  // a receive waits for its send
    QCOMPARE(idx->find_task(0, 2), 2u);
    QCOMPARE(idx->find_task(1, 0), 6u);
    QCOMPARE(idx->find_task(1, 99), kNoEvent);
    QCOMPARE(idx->find_task(0, -1), kNoEvent);
    auto hits = idx->search("GEM");
    QCOMPARE(hits, (std::vector<std::uint32_t>{0, 6, 1}));  // by start time
    QVERIFY(idx->search("nothing").empty());
    QVERIFY(idx->search("").empty());
  }

  void memoryPerGpu() {
    auto idx = small_index();
    QCOMPARE(idx->gpus()[0].mem_t.size(), std::size_t(3));
    QCOMPARE(idx->gpus()[0].mem_peak, 3e9);
    QVERIFY(idx->gpus()[1].mem_t.empty());
  }

  void rowLayoutCollapsesAndHitTests() {
    auto idx = small_index();
    CollapseState c;
    c.reset(*idx, false, false);
    RowMetrics m;
    RowLayout L = layout_rows(*idx, c, m);
    // node 0, gpu 0, compute, tp, recv (2 lanes), memory, node 1, gpu 1, compute, send.
    QCOMPARE(L.rows.size(), std::size_t(10));
    QCOMPARE(int(L.rows[0].kind), int(RowKind::node));
    QCOMPARE(int(L.rows[5].kind), int(RowKind::memory));
    QCOMPARE(L.rows[4].h, 2 * m.lane_h);
    int y = 0;
    for (const Row& r : L.rows) {
      QCOMPARE(r.y, y);  // contiguous
      y += r.h;
    }
    QCOMPARE(L.height, y);
    for (std::size_t i = 0; i < L.rows.size(); ++i) {
      QCOMPARE(L.row_at(L.rows[i].y), int(i));
      QCOMPARE(L.row_at(L.rows[i].y + L.rows[i].h - 1), int(i));
    }
    QCOMPARE(L.row_at(-1), -1);
    QCOMPARE(L.row_at(L.height), -1);
    int tp = idx->track_for(0, Stream::tp);
    QCOMPARE(L.track_row[std::size_t(tp)], 3);
    // Collapse GPU 0: its tracks map to its header row, which shows the compute summary.
    c.gpu[0] = 1;
    L = layout_rows(*idx, c, m);
    QCOMPARE(L.rows.size(), std::size_t(6));
    QCOMPARE(L.track_row[std::size_t(tp)], 1);
    QCOMPARE(L.rows[1].track, idx->gpus()[0].compute_track);
    // Collapse node 1 as well, and hide memory.
    c.node[1] = 1;
    c.show_memory = false;
    L = layout_rows(*idx, c, m);
    QCOMPARE(L.rows.size(), std::size_t(3));
    QVERIFY(L.rows[2].collapsed);
  }

  void statistics() {
    auto idx = small_index();
    TimelineStats s = compute_stats(*idx);
    QCOMPARE(s.ranks, 2);
    QCOMPARE(s.step_s, 4.0);
    const CategoryStat& comp = s.by_category[std::size_t(Category::compute)];
    QCOMPARE(comp.count, std::size_t(3));
    QCOMPARE(comp.total_s, 1.0 + 1.0 + 3.5);
    QCOMPARE(comp.share, 5.5 / 8.0);
    QCOMPARE(s.by_category[std::size_t(Category::tp)].exposed_s, 1.0);
    QCOMPARE(s.by_category[std::size_t(Category::bubble)].total_s, 1.0);
    QCOMPARE(s.idle_s, 0.5);
    QCOMPARE(s.ops.front().total_s, 5.5);  // "gemm" first
    QCOMPARE(QString::fromStdString(idx->timeline().names[s.ops.front().name]), QString("gemm"));
    // Item models over them behave (QAbstractItemModelTester) and sort by value.
    auto sp = std::make_shared<const TimelineStats>(s);
    CategoryStatsModel cm;
    QAbstractItemModelTester t1(&cm, QAbstractItemModelTester::FailureReportingMode::QtTest);
    cm.setStats(sp);
    QCOMPARE(cm.rowCount(), 5);  // compute, tp, pp, bubble + the idle row
    OpStatsModel om;
    QAbstractItemModelTester t2(&om, QAbstractItemModelTester::FailureReportingMode::QtTest);
    om.setStats(sp, idx);
    QCOMPARE(om.rowCount(), int(s.ops.size()));
    QCOMPARE(om.data(om.index(0, OpStatsModel::Total), SortRole).toDouble(), 5.5);
    QCOMPARE(om.data(om.index(0, OpStatsModel::Total), Qt::DisplayRole).toString(), QString("5.50 s"));
    QCOMPARE(om.opName(0), QString("gemm"));
  }

  void overviewBinsConserveTime() {
    auto idx = small_index();
    OverviewBins o = compute_overview(*idx, 64);
    double compute = 0, idle = 0;
    for (const auto& b : o.bins) compute += b[std::size_t(Category::compute)], idle += b[kCategories];
    QVERIFY(std::abs(compute - 5.5) < 1e-5);
    QVERIFY(std::abs(idle - 0.5) < 1e-5);
  }

  void compareAlignsByRankAndTask() {
    Timeline a = make_synthetic_timeline({});
    Timeline b = a;
    for (auto& e : b.events)
      if (e.category == Category::tp) e.dur_s *= 2;  // B's TP collectives take twice as long
    b.events.erase(b.events.begin() + 5);          // one task only in A
    LoadedTrace la, lb;
    la.timeline = a;
    lb.timeline = b;
    auto ia = TimelineIndex::build(std::move(la)), ib = TimelineIndex::build(std::move(lb));
    CompareResult r = compare_timelines(*ia, *ib);
    QCOMPARE(r.only_a, std::size_t(a.events[5].task >= 0 ? 1 : 0));
    QCOMPARE(r.only_b, std::size_t(0));
    const CategoryDiff& tp = r.by_category[std::size_t(Category::tp)];
    QVERIFY(tp.matched > 0);
    QVERIFY(std::abs(tp.rel() - 1.0) < 1e-9);
    QVERIFY(std::abs(r.by_category[std::size_t(Category::compute)].rel()) < 1e-12);
    // Worst first, and the worst are the TP collectives.
    for (std::size_t i = 1; i < r.tasks.size(); ++i) QVERIFY(std::abs(r.tasks[i - 1].diff_s()) >= std::abs(r.tasks[i].diff_s()));
    QCOMPARE(int(ia->event(r.tasks.front().a).category), int(Category::tp));
    // A simulated timeline keeps one rank per class, a measured one has them all: ranks missing
    // on one side match the rank of their class (task ids are per class).
    LoadedTrace lrep, lall;
    lrep.timeline = a;
    std::erase_if(lrep.timeline.events, [](const TimelineEvent& e) { return e.rank == 1 || e.rank == 3; });
    std::erase_if(lrep.timeline.ranks, [](const TimelineRank& x) { return x.rank == 1 || x.rank == 3; });
    lall.timeline = a;
    auto irep = TimelineIndex::build(std::move(lrep)), iall = TimelineIndex::build(std::move(lall));
    CompareResult byclass = compare_timelines(*irep, *iall);
    QCOMPARE(byclass.only_b, std::size_t(0));
    QCOMPARE(byclass.only_a, std::size_t(0));
    std::size_t tasks = 0;
    for (const auto& e : a.events) tasks += e.task >= 0;
    QCOMPARE(byclass.tasks.size(), tasks);
    QCOMPARE(byclass.mean_abs_rel, 0.0);
    auto rp = std::make_shared<const CompareResult>(r);
    TaskDiffModel tm;
    QAbstractItemModelTester t1(&tm, QAbstractItemModelTester::FailureReportingMode::QtTest);
    tm.setResult(rp, ia, ib);
    QCOMPARE(tm.rowCount(), int(r.tasks.size()));
    CategoryDiffModel cm;
    QAbstractItemModelTester t2(&cm, QAbstractItemModelTester::FailureReportingMode::QtTest);
    cm.setResult(rp);
    QVERIFY(cm.rowCount() >= 3);
  }

  void paretoFront() {
    std::vector<ParetoPoint> p = {
        {10, 100, true},  // 0: front
        {20, 90, true},   // 1: dominated by 0
        {30, 300, true},  // 2: front
        {5, 50, true},    // 3: front (least memory)
        {30, 250, true},  // 4: dominated by 2 (same memory, less throughput)
        {40, 900, false}, // 5: not eligible (OOM)
        {50, 400, true},  // 6: front
    };
    QCOMPARE(pareto_front(p), (std::vector<int>{3, 0, 2, 6}));
    QVERIFY(pareto_front({}).empty());
  }

  void strategyEnumerationIsValidated() {
    ExplorerInputs in;  // llama3-8b on 2 x DGX H100, train, seq 4096, global batch 64
    Enumeration en = builtin_strategies(in);
    QCOMPARE(en.gpus, 16);
    QVERIFY(en.valid.size() >= 10);
    for (const auto& c : en.valid) {
      const Strategy& s = c.scenario.strategy;
      QCOMPARE(s.dp * s.tp * s.pp * s.cp, 16);
      QVERIFY(s.tp <= 8);  // TP stays inside a node
      QCOMPARE(QString::fromStdString(c.label), QString::fromStdString(strategy_label(s)));
      parse_scenario(c.json, "again.json");  // what the table lists is exactly what the parser accepts
    }
    // llama3-8b has 32 layers: pp 16 is valid only if it divides them; micro-batches must divide.
    for (const auto& r : en.rejected) QVERIFY(!r.reason.empty());
    // A bad topology or model is an error of the inputs, not of a strategy.
    in.topology = "topologies/nope.json";
    QVERIFY_THROWS_EXCEPTION(InputError, enumerate_strategies(in));
    in = ExplorerInputs();
    in.model_preset = "no-such-model";
    QVERIFY_THROWS_EXCEPTION(InputError, enumerate_strategies(in));
    QVERIFY(!list_topologies().empty());
    // What the explorer lists (the sweep's space when present) is valid and labelled uniquely.
    Enumeration all = enumerate_strategies(ExplorerInputs());
    QVERIFY(!all.valid.empty());
    std::set<std::string> labels;
    for (const auto& c : all.valid) {
      QCOMPARE(c.scenario.cluster.gpus(), std::int64_t(16));
      labels.insert(c.label);
    }
    QCOMPARE(labels.size(), all.valid.size());
  }

  void explorerModelSortsAndFilters() {
    Enumeration en = enumerate_strategies(ExplorerInputs());
    std::vector<ExplorerRow> rows;
    for (std::size_t i = 0; i < 4; ++i) {
      ExplorerRow r;
      r.candidate = en.valid[i];
      rows.push_back(r);
    }
    ExplorerModel m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    m.setRows(rows);
    ExplorerFilter f;
    f.setSourceModel(&m);
    StrategyMetrics a, b, c;
    a.simulated = b.simulated = c.simulated = true;
    a.tokens_per_s = 100, b.tokens_per_s = 300, c.tokens_per_s = 200;
    a.fits = true, b.fits = false, c.fits = true;
    m.setResult(0, a);
    m.setResult(1, b);
    m.setResult(2, c);
    m.setState(3, RowState::failed, "boom");
    QCOMPARE(m.data(m.index(3, ExplorerModel::StepTime), Qt::DisplayRole).toString(), QString("error"));
    QCOMPARE(m.data(m.index(3, 0), Qt::ToolTipRole).toString(), QString("boom"));
    QCOMPARE(m.data(m.index(1, ExplorerModel::Fits), Qt::DisplayRole).toString(), QString("OOM"));
    f.sort(ExplorerModel::TokensPerS, Qt::DescendingOrder);
    QCOMPARE(f.mapToSource(f.index(0, 0)).row(), 1);
    QCOMPARE(f.mapToSource(f.index(1, 0)).row(), 2);
    QCOMPARE(f.mapToSource(f.index(3, 0)).row(), 3);  // no figure sorts last
    f.setFitsOnly(true);
    QCOMPARE(f.rowCount(), 3);  // the OOM row is hidden, the failed one stays
    f.setFitsOnly(false);
    f.setFilterFixedString(QString::fromStdString(en.valid[0].label));
    QVERIFY(f.rowCount() >= 1);
    f.setFilterFixedString("no such strategy");
    QCOMPARE(f.rowCount(), 0);
  }

  void reportMetrics() {
    Json r = {{"step_time_s", 2.0}, {"tokens_per_s", 1e5}, {"mfu", 0.4}, {"bubble_fraction", 0.1},
              {"exposed_comm_s", {{"tp", 0.1}, {"dp", 0.2}}},
              {"memory", {{"peak_bytes", 90e9}, {"capacity_bytes", 80e9}, {"fits", false}}}};
    StrategyMetrics m = metrics_from_report_json(r);
    QVERIFY(m.simulated);
    QCOMPARE(m.step_s, 2.0);
    QVERIFY(std::abs(m.exposed_comm_s - 0.3) < 1e-12);
    QVERIFY(!m.fits);
    QVERIFY(!metrics_from_report_json(Json()).simulated);
  }
};

QTEST_GUILESS_MAIN(ModelsTest)
#include "tst_models.moc"
