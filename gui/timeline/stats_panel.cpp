#include "timeline/stats_panel.hpp"

#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

#include "common/list_table.hpp"
#include "core/stats_model.hpp"
#include "core/time_axis.hpp"

namespace strata::gui {

StatsPanel::StatsPanel(QWidget* parent) : QWidget(parent) {
  cat_model_ = new CategoryStatsModel(this);
  op_model_ = new OpStatsModel(this);
  cat_proxy_ = new QSortFilterProxyModel(this);
  cat_proxy_->setSourceModel(cat_model_);
  cat_proxy_->setSortRole(SortRole);
  op_proxy_ = new QSortFilterProxyModel(this);
  op_proxy_->setSourceModel(op_model_);
  op_proxy_->setSortRole(SortRole);
  op_proxy_->setFilterKeyColumn(OpStatsModel::Name);
  op_proxy_->setFilterCaseSensitivity(Qt::CaseInsensitive);
  cat_view_ = make_list_table(this, cat_proxy_);
  op_view_ = make_list_table(this, op_proxy_);
  cat_view_->setWordWrap(false);
  op_view_->setWordWrap(false);
  filter_ = new QLineEdit(this);
  filter_->setPlaceholderText(tr("Filter ops by name…"));
  filter_->setClearButtonEnabled(true);
  summary_ = new QLabel(this);
  summary_->setWordWrap(true);
  auto* lay = new QVBoxLayout(this);
  lay->setContentsMargins(4, 4, 4, 4);
  lay->addWidget(summary_);
  lay->addWidget(new QLabel(tr("<b>By kind</b> (busy time summed over ranks)"), this));
  lay->addWidget(cat_view_, 2);
  lay->addWidget(new QLabel(tr("<b>By op</b> — double-click to search"), this));
  lay->addWidget(filter_);
  lay->addWidget(op_view_, 5);
  connect(filter_, &QLineEdit::textChanged, op_proxy_, &QSortFilterProxyModel::setFilterFixedString);
  connect(op_view_, &QTableView::doubleClicked, this, [this](const QModelIndex& i) {
    emit searchRequested(op_model_->opName(op_proxy_->mapToSource(i).row()));
  });
}

void StatsPanel::setData(std::shared_ptr<const TimelineStats> stats, std::shared_ptr<const TimelineIndex> idx) {
  cat_model_->setStats(stats);
  op_model_->setStats(stats, idx);
  cat_view_->sortByColumn(CategoryStatsModel::Total, Qt::DescendingOrder);
  op_view_->sortByColumn(OpStatsModel::Total, Qt::DescendingOrder);
  cat_view_->resizeColumnsToContents();
  op_view_->resizeColumnsToContents();
  if (stats)
    summary_->setText(tr("Step %1 on %2 GPUs; shares are of step × GPUs.")
                          .arg(QString::fromStdString(format_duration(stats->step_s)))
                          .arg(stats->ranks));
  else
    summary_->clear();
}

}  // namespace strata::gui
