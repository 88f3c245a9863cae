#pragma once
// The explorer's table: one row per candidate strategy with its simulated figures, and the
// proxy that sorts by value and filters by text and "fits in memory".
#include <QAbstractTableModel>
#include <QSortFilterProxyModel>
#include <vector>

#include "core/sim_runner.hpp"
#include "core/strategy_enum.hpp"

namespace strata::gui {

enum class RowState { pending, running, done, failed, unavailable };

struct ExplorerRow {
  Candidate candidate;
  StrategyMetrics metrics;
  RowState state = RowState::pending;
  std::string message;  // error text, or why metrics are missing
};

class ExplorerModel : public QAbstractTableModel {
  Q_OBJECT
public:
  enum Column { Strategy, TP, PP, DP, EP, MicroBatch, StepTime, TokensPerS, MFU, Bubble, ExposedComm, Memory, Fits, ColumnCount };
  using QAbstractTableModel::QAbstractTableModel;

  void setRows(std::vector<ExplorerRow> rows);
  void setResult(int row, const StrategyMetrics& m);
  void setState(int row, RowState s, const std::string& message = {});
  void setParetoRows(const std::vector<int>& rows);  // shown in bold: the best trade-offs
  bool onPareto(int row) const { return row >= 0 && row < int(pareto_.size()) && pareto_[std::size_t(row)]; }
  const ExplorerRow& rowAt(int row) const { return rows_[std::size_t(row)]; }
  int rows() const { return int(rows_.size()); }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation o, int role) const override;

private:
  std::vector<ExplorerRow> rows_;
  std::vector<char> pareto_;
};

class ExplorerFilter : public QSortFilterProxyModel {
  Q_OBJECT
public:
  explicit ExplorerFilter(QObject* parent = nullptr);
  void setFitsOnly(bool on);
  bool fitsOnly() const { return fits_only_; }

protected:
  bool filterAcceptsRow(int row, const QModelIndex& parent) const override;

private:
  bool fits_only_ = false;
};

}  // namespace strata::gui
