#pragma once
// Statistics of a timeline: per category and per op (total, exposed, share of the step),
// sortable; the op table filters by name and a double-click searches for the op.
#include <QWidget>
#include <memory>

#include "core/stats.hpp"

class QTableView;
class QLineEdit;
class QSortFilterProxyModel;
class QLabel;

namespace strata::gui {

class CategoryStatsModel;
class OpStatsModel;

class StatsPanel : public QWidget {
  Q_OBJECT
public:
  explicit StatsPanel(QWidget* parent = nullptr);
  void setData(std::shared_ptr<const TimelineStats> stats, std::shared_ptr<const TimelineIndex> idx);
  QTableView* categoryTable() const { return cat_view_; }
  QTableView* opTable() const { return op_view_; }

signals:
  void searchRequested(QString name);

private:
  CategoryStatsModel* cat_model_;
  OpStatsModel* op_model_;
  QSortFilterProxyModel* cat_proxy_;
  QSortFilterProxyModel* op_proxy_;
  QTableView* cat_view_;
  QTableView* op_view_;
  QLineEdit* filter_;
  QLabel* summary_;
};

}  // namespace strata::gui
