#include "timeline/timeline_view.hpp"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSplitter>
#include <QTabWidget>
#include <QToolButton>
#include <QVBoxLayout>
#include <cmath>

#include "core/time_axis.hpp"

#include "timeline/details_panel.hpp"
#include "timeline/legend_widget.hpp"
#include "timeline/overview_widget.hpp"
#include "timeline/stats_panel.hpp"
#include "timeline/timeline_widget.hpp"

namespace strata::gui {
namespace {

QToolButton* button(QWidget* parent, const QString& text, const QString& tip) {
  auto* b = new QToolButton(parent);
  b->setText(text);
  b->setToolTip(tip);
  b->setAutoRaise(true);
  return b;
}

}  // namespace

TimelineView::TimelineView(QWidget* parent, bool side_panel) : QWidget(parent) {
  title_ = new QLabel(this);
  title_->setVisible(false);
  auto* bar = new QHBoxLayout;
  bar->setContentsMargins(4, 2, 4, 2);
  auto* fit = button(this, tr("Fit"), tr("Fit the whole step (0)"));
  auto* back = button(this, tr("Zoom back"), tr("Previous zoom (Backspace)"));
  auto* collapse = button(this, tr("Collapse GPUs"), tr("One summary row per GPU"));
  auto* expand = button(this, tr("Expand all"), tr("Every stream of every GPU"));
  flows_ = new QCheckBox(tr("Flows"), this);
  flows_->setChecked(true);
  flows_->setToolTip(tr("Arrows from each pipeline send to its receive"));
  memory_ = new QCheckBox(tr("Memory"), this);
  memory_->setChecked(true);
  search_ = new QLineEdit(this);
  search_->setPlaceholderText(tr("Search tasks by name (Enter: next)"));
  search_->setClearButtonEnabled(true);
  search_->setMaximumWidth(260);
  auto* prev = button(this, "◀", tr("Previous match"));
  auto* next = button(this, "▶", tr("Next match"));
  hits_label_ = new QLabel(this);
  hits_label_->setMinimumWidth(80);
  for (QWidget* w : std::initializer_list<QWidget*>{fit, back, collapse, expand, flows_, memory_}) bar->addWidget(w);
  bar->addStretch(1);
  bar->addWidget(search_);
  bar->addWidget(prev);
  bar->addWidget(next);
  bar->addWidget(hits_label_);

  legend_ = new LegendWidget(this);
  overview_ = new OverviewWidget(this);
  timeline_ = new TimelineWidget(this);
  status_ = new QLabel(this);
  status_->setContentsMargins(6, 0, 6, 0);

  auto* left = new QWidget(this);
  auto* lv = new QVBoxLayout(left);
  lv->setContentsMargins(0, 0, 0, 0);
  lv->setSpacing(2);
  lv->addWidget(title_);
  lv->addLayout(bar);
  lv->addWidget(legend_);
  lv->addWidget(overview_);
  lv->addWidget(timeline_, 1);
  lv->addWidget(status_);

  split_ = new QSplitter(Qt::Horizontal, this);
  split_->addWidget(left);
  if (side_panel) {
    side_ = new QTabWidget(this);
    details_ = new DetailsPanel(side_);
    stats_ = new StatsPanel(side_);
    side_->addTab(details_, tr("Details"));
    side_->addTab(stats_, tr("Statistics"));
    split_->addWidget(side_);
    split_->setStretchFactor(0, 4);
    split_->setStretchFactor(1, 1);
    split_->setSizes({1100, 380});
    connect(details_, &DetailsPanel::jumpTo, this, [this](quint32 e) { timeline_->selectEvent(e, true); });
    connect(stats_, &StatsPanel::searchRequested, this, [this](const QString& name) {
      search_->setText(name);
      search(name);
    });
  }
  auto* lay = new QVBoxLayout(this);
  lay->setContentsMargins(0, 0, 0, 0);
  lay->addWidget(split_);

  connect(fit, &QToolButton::clicked, timeline_, &TimelineWidget::fitAll);
  connect(back, &QToolButton::clicked, timeline_, &TimelineWidget::zoomBack);
  connect(collapse, &QToolButton::clicked, timeline_, [this] { timeline_->collapseAll(false, true); });
  connect(expand, &QToolButton::clicked, timeline_, [this] { timeline_->collapseAll(false, false); });
  connect(flows_, &QCheckBox::toggled, timeline_, &TimelineWidget::setShowFlows);
  connect(memory_, &QCheckBox::toggled, timeline_, &TimelineWidget::setShowMemory);
  connect(search_, &QLineEdit::returnPressed, this, [this] {
    if (!hits_.empty() && hits_label_->property("query").toString() == search_->text()) stepHit(1);
    else search(search_->text());
  });
  connect(search_, &QLineEdit::textChanged, this, [this](const QString& s) {
    if (s.isEmpty()) search(s);
  });
  connect(prev, &QToolButton::clicked, this, [this] { stepHit(-1); });
  connect(next, &QToolButton::clicked, this, [this] { stepHit(1); });
  connect(timeline_, &TimelineWidget::viewChanged, this, &TimelineView::syncOverview);
  connect(overview_, &OverviewWidget::centerRequested, timeline_, &TimelineWidget::centerOn);
  connect(overview_, &OverviewWidget::zoomRequested, this,
          [this](double f) { timeline_->zoomAt(f, timeline_->eventArea().width() / 2.0); });
  connect(timeline_, &TimelineWidget::eventSelected, this, [this](quint32 e) {
    if (details_) {
      details_->showEvent_(e);
      if (e != kNoEvent) side_->setCurrentWidget(details_);
    }
    emit eventSelected(e);
  });
  connect(timeline_, &TimelineWidget::hoverChanged, this, [this](double t) {
    if (!bundle_) return;
    QString s = std::isfinite(t) ? tr("t = %1").arg(QString::fromStdString(format_duration(t))) : QString();
    status_->setText(s);
  });
}

void TimelineView::setTitle(const QString& title) {
  title_->setText("<b>" + title.toHtmlEscaped() + "</b>");
  title_->setVisible(!title.isEmpty());
}

void TimelineView::setBundle(const TimelineBundle& b) {
  bundle_ = b;
  hits_.clear();
  hit_pos_ = -1;
  hits_label_->clear();
  overview_->setData(b.overview, b.index ? int(b.index->gpus().size()) : 1);
  overview_->setHits({});
  timeline_->setIndex(b.index);
  timeline_->setShowFlows(flows_->isChecked());
  if (details_) details_->setIndex(b.index);
  if (stats_) stats_->setData(b.stats, b.index);
  syncOverview();
}

void TimelineView::syncOverview() {
  ViewRange v = timeline_->view();
  overview_->setViewRange(v.start_s, v.end_s(timeline_->eventArea().width()));
}

void TimelineView::search(const QString& text) {
  hits_.clear();
  hit_pos_ = -1;
  if (bundle_ && !text.isEmpty()) hits_ = bundle_.index->search(text.toStdString());
  timeline_->setSearchHits(hits_);
  std::vector<double> times;
  for (std::uint32_t e : hits_) times.push_back(bundle_.index->event(e).start_s);
  overview_->setHits(std::move(times));
  hits_label_->setProperty("query", text);
  if (text.isEmpty()) {
    hits_label_->clear();
    return;
  }
  hits_label_->setText(hits_.empty() ? tr("no match") : tr("%1 matches").arg(hits_.size()));
  if (!hits_.empty()) stepHit(1);
}

void TimelineView::stepHit(int dir) {
  if (hits_.empty()) return;
  hit_pos_ = (hit_pos_ + dir + int(hits_.size())) % int(hits_.size());
  timeline_->selectEvent(hits_[std::size_t(hit_pos_)], true);
  hits_label_->setText(tr("%1 / %2").arg(hit_pos_ + 1).arg(hits_.size()));
}

}  // namespace strata::gui
