#pragma once
// Table models of the statistics panel: per category and per op. Display text is formatted;
// SortRole carries the number so that a QSortFilterProxyModel sorts by value.
#include <QAbstractTableModel>
#include <memory>

#include "core/stats.hpp"

namespace strata::gui {

constexpr int SortRole = Qt::UserRole + 1;

class CategoryStatsModel : public QAbstractTableModel {
  Q_OBJECT
public:
  enum Column { Name, Events, Total, Exposed, Share, ColumnCount };
  using QAbstractTableModel::QAbstractTableModel;
  void setStats(std::shared_ptr<const TimelineStats> s);
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation o, int role) const override;

private:
  std::shared_ptr<const TimelineStats> stats_;
  std::vector<int> rows_;  // category index, or kCategories for the idle row
};

class OpStatsModel : public QAbstractTableModel {
  Q_OBJECT
public:
  enum Column { Name, Kind, Count, Total, Mean, Max, Exposed, Share, ColumnCount };
  using QAbstractTableModel::QAbstractTableModel;
  void setStats(std::shared_ptr<const TimelineStats> s, std::shared_ptr<const TimelineIndex> idx);
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation o, int role) const override;
  QString opName(int row) const;

private:
  std::shared_ptr<const TimelineStats> stats_;
  std::shared_ptr<const TimelineIndex> idx_;
};

}  // namespace strata::gui
