#include "compare/compare_view.hpp"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>
#include <algorithm>

#include "common/list_table.hpp"
#include "core/compare_model.hpp"
#include "core/stats_model.hpp"
#include "core/time_axis.hpp"
#include "timeline/timeline_view.hpp"
#include "timeline/timeline_widget.hpp"

namespace strata::gui {

CompareView::CompareView(QWidget* parent) : QWidget(parent) {
  a_view_ = new TimelineView(this, false);
  b_view_ = new TimelineView(this, false);
  a_view_->setTitle(tr("A: (none) — open a timeline"));
  b_view_->setTitle(tr("B: (none) — open a timeline"));
  summary_ = new QLabel(this);
  summary_->setWordWrap(true);
  link_ = new QCheckBox(tr("Link zoom and pan"), this);
  link_->setChecked(true);
  auto* open_a = new QPushButton(tr("Open A…"), this);
  auto* open_b = new QPushButton(tr("Open B…"), this);
  task_model_ = new TaskDiffModel(this);
  cat_model_ = new CategoryDiffModel(this);
  task_proxy_ = new QSortFilterProxyModel(this);
  task_proxy_->setSourceModel(task_model_);
  task_proxy_->setSortRole(SortRole);
  task_proxy_->setFilterKeyColumn(TaskDiffModel::Name);
  task_proxy_->setFilterCaseSensitivity(Qt::CaseInsensitive);
  cat_proxy_ = new QSortFilterProxyModel(this);
  cat_proxy_->setSourceModel(cat_model_);
  cat_proxy_->setSortRole(SortRole);
  tasks_ = make_list_table(this, task_proxy_);
  cats_ = make_list_table(this, cat_proxy_);
  filter_ = new QLineEdit(this);
  filter_->setPlaceholderText(tr("Filter tasks by name…"));
  filter_->setClearButtonEnabled(true);

  auto* bar = new QHBoxLayout;
  bar->addWidget(open_a);
  bar->addWidget(open_b);
  bar->addWidget(link_);
  bar->addWidget(summary_, 1);
  auto* task_page = new QWidget(this);
  auto* tl = new QVBoxLayout(task_page);
  tl->setContentsMargins(0, 0, 0, 0);
  tl->addWidget(filter_);
  tl->addWidget(tasks_);
  auto* tabs = new QTabWidget(this);
  tabs->addTab(task_page, tr("Tasks (worst first)"));
  tabs->addTab(cats_, tr("By kind"));
  auto* views = new QSplitter(Qt::Vertical, this);
  views->addWidget(a_view_);
  views->addWidget(b_view_);
  auto* main = new QSplitter(Qt::Horizontal, this);
  main->addWidget(views);
  main->addWidget(tabs);
  main->setStretchFactor(0, 3);
  main->setStretchFactor(1, 2);
  main->setSizes({1000, 560});
  auto* lay = new QVBoxLayout(this);
  lay->addLayout(bar);
  lay->addWidget(main, 1);

  connect(open_a, &QPushButton::clicked, this, [this] { emit openRequested(0); });
  connect(open_b, &QPushButton::clicked, this, [this] { emit openRequested(1); });
  connect(filter_, &QLineEdit::textChanged, task_proxy_, &QSortFilterProxyModel::setFilterFixedString);
  connect(tasks_->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this](const QModelIndex& i) {
    if (i.isValid()) locate(i.row());
  });
  connect(a_view_->timeline(), &TimelineWidget::viewChanged, this, [this] { syncFrom(true); });
  connect(b_view_->timeline(), &TimelineWidget::viewChanged, this, [this] { syncFrom(false); });
  connect(link_, &QCheckBox::toggled, this, [this](bool on) {
    if (on) syncFrom(true);
  });
}

void CompareView::setA(const TimelineBundle& a) {
  a_ = a;
  a_view_->setBundle(a);
  a_view_->setTitle(tr("A: %1").arg(a ? QString::fromStdString(a.index->title) : tr("(none)")));
  recompute();
}

void CompareView::setB(const TimelineBundle& b) {
  b_ = b;
  b_view_->setBundle(b);
  b_view_->setTitle(tr("B: %1").arg(b ? QString::fromStdString(b.index->title) : tr("(none)")));
  recompute();
}

void CompareView::recompute() {
  if (!a_ || !b_) {
    result_.reset();
    task_model_->setResult(nullptr, nullptr, nullptr);
    cat_model_->setResult(nullptr);
    summary_->setText(tr("Open two timelines of the same scenario (e.g. `strata simulate --trace` and `strata exec --trace`)."));
    return;
  }
  result_ = std::make_shared<const CompareResult>(compare_timelines(*a_.index, *b_.index));
  task_model_->setResult(result_, a_.index, b_.index);
  cat_model_->setResult(result_);
  tasks_->sortByColumn(TaskDiffModel::Diff, Qt::DescendingOrder);
  tasks_->resizeColumnsToContents();
  cats_->resizeColumnsToContents();
  const CompareResult& r = *result_;
  double step_rel = r.a_step_s > 0 ? (r.b_step_s - r.a_step_s) / r.a_step_s : 0;
  summary_->setText(tr("Step: A %1, B %2 (%3%4 %). %5 tasks matched by (rank, task id); mean |B−A|/A %6 %; only in A: %7, only in B: %8. "
                       "Linked views show the same share of each step.")
                        .arg(QString::fromStdString(format_duration(r.a_step_s)), QString::fromStdString(format_duration(r.b_step_s)))
                        .arg(step_rel > 0 ? "+" : "")
                        .arg(100 * step_rel, 0, 'f', 1)
                        .arg(r.tasks.size())
                        .arg(100 * r.mean_abs_rel, 0, 'f', 1)
                        .arg(r.only_a)
                        .arg(r.only_b));
  // The same part of each step: both starts aligned, B scaled to A's step.
  scale_ = r.a_step_s > 0 && r.b_step_s > 0 ? r.b_step_s / r.a_step_s : 1;
  shift_ = 0;
  syncFrom(true);
}

ViewRange CompareView::mapToB(const ViewRange& v) const {
  return {b_.index->t_begin + shift_ + (v.start_s - a_.index->t_begin) * scale_, v.spp * scale_};
}

ViewRange CompareView::mapToA(const ViewRange& v) const {
  return {a_.index->t_begin + (v.start_s - b_.index->t_begin - shift_) / scale_, v.spp / scale_};
}

void CompareView::syncFrom(bool from_a) {
  if (syncing_ || !link_->isChecked() || !a_ || !b_) return;
  syncing_ = true;
  if (from_a) b_view_->timeline()->setView(mapToB(a_view_->timeline()->view()), false);
  else a_view_->timeline()->setView(mapToA(b_view_->timeline()->view()), false);
  syncing_ = false;
}

void CompareView::locate(int proxy_row) {
  const TaskDiff* d = task_model_->diffAt(task_proxy_->mapToSource(task_proxy_->index(proxy_row, 0)).row());
  if (!d) return;
  syncing_ = true;
  a_view_->timeline()->selectEvent(d->a, true);
  b_view_->timeline()->selectEvent(d->b, true);
  // Centre each on its own task, then keep that alignment while linked.
  const TimelineEvent& ea = a_.index->event(d->a);
  const TimelineEvent& eb = b_.index->event(d->b);
  // Zoom so that the task and its neighbours read (20 durations, at least 2 % of the step),
  // centred; B follows through the link, shifted so that its task sits where A's does.
  TimelineWidget* ta_w = a_view_->timeline();
  double width = std::max(1, ta_w->eventArea().width());
  double span = std::max({20 * ea.dur_s, 0.02 * a_.index->step_s(), 1e-9});
  ta_w->setView({ea.start_s + ea.dur_s / 2 - span / 2, span / width});
  double ta = ea.start_s + ea.dur_s / 2, tb = eb.start_s + eb.dur_s / 2;
  shift_ = tb - b_.index->t_begin - (ta - a_.index->t_begin) * scale_;
  b_view_->timeline()->setView(mapToB(a_view_->timeline()->view()));
  syncing_ = false;
}

}  // namespace strata::gui
