#pragma once
// Table models of the compare view: matched tasks (worst first) and per-category sums.
#include <QAbstractTableModel>
#include <memory>

#include "core/compare.hpp"

namespace strata::gui {

class TaskDiffModel : public QAbstractTableModel {
  Q_OBJECT
public:
  enum Column { Rank, Task, Name, Kind, A, B, Diff, Rel, ColumnCount };
  using QAbstractTableModel::QAbstractTableModel;
  void setResult(std::shared_ptr<const CompareResult> r, std::shared_ptr<const TimelineIndex> a, std::shared_ptr<const TimelineIndex> b);
  const TaskDiff* diffAt(int row) const;
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation o, int role) const override;

private:
  std::shared_ptr<const CompareResult> r_;
  std::shared_ptr<const TimelineIndex> a_, b_;
};

class CategoryDiffModel : public QAbstractTableModel {
  Q_OBJECT
public:
  enum Column { Kind, Matched, A, B, Diff, Rel, ColumnCount };
  using QAbstractTableModel::QAbstractTableModel;
  void setResult(std::shared_ptr<const CompareResult> r);
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation o, int role) const override;

private:
  std::shared_ptr<const CompareResult> r_;
  std::vector<int> rows_;  // categories with matched tasks, then kCategories for the step
};

}  // namespace strata::gui
