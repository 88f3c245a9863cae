#include "core/explorer_model.hpp"

#include <QColor>
#include <QFont>

#include "core/stats_model.hpp"
#include "core/time_axis.hpp"

namespace strata::gui {

void ExplorerModel::setRows(std::vector<ExplorerRow> rows) {
  beginResetModel();
  rows_ = std::move(rows);
  pareto_.clear();
  endResetModel();
}

void ExplorerModel::setResult(int row, const StrategyMetrics& m) {
  if (row < 0 || row >= int(rows_.size())) return;
  rows_[std::size_t(row)].metrics = m;
  rows_[std::size_t(row)].state = RowState::done;
  emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

void ExplorerModel::setState(int row, RowState s, const std::string& message) {
  if (row < 0 || row >= int(rows_.size())) return;
  rows_[std::size_t(row)].state = s;
  rows_[std::size_t(row)].message = message;
  emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

void ExplorerModel::setParetoRows(const std::vector<int>& rows) {
  std::vector<char> p(rows_.size(), 0);
  for (int r : rows)
    if (r >= 0 && r < int(p.size())) p[std::size_t(r)] = 1;
  if (p == pareto_) return;
  pareto_ = std::move(p);
  if (!rows_.empty()) emit dataChanged(index(0, 0), index(int(rows_.size()) - 1, ColumnCount - 1), {Qt::FontRole, Qt::ToolTipRole});
}

int ExplorerModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(rows_.size()); }
int ExplorerModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant ExplorerModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= int(rows_.size())) return {};
  const ExplorerRow& r = rows_[std::size_t(index.row())];
  const auto& s = r.candidate.scenario.strategy;
  const StrategyMetrics& m = r.metrics;
  const bool have = r.state == RowState::done && m.simulated;
  const int col = index.column();
  if (role == Qt::TextAlignmentRole && col != Strategy) return int(Qt::AlignRight | Qt::AlignVCenter);
  if (role == Qt::ToolTipRole)
    return QString::fromStdString(r.message.empty() ? r.candidate.label : r.message) +
           (onPareto(index.row()) ? QStringLiteral(" — on the Pareto front") : QString());
  if (role == Qt::FontRole && onPareto(index.row())) {
    QFont f;
    f.setBold(true);
    return f;
  }
  if (role == Qt::ForegroundRole && have && !m.fits) return QColor(0xb03030);
  if (role == Qt::DisplayRole && !have && col >= StepTime) {
    switch (r.state) {
      case RowState::pending: return col == StepTime ? QStringLiteral("queued") : QString();
      case RowState::running: return col == StepTime ? QStringLiteral("simulating…") : QString();
      case RowState::failed: return col == StepTime ? QStringLiteral("error") : QString();
      default: return QStringLiteral("—");
    }
  }
  if (role == SortRole && !have && col >= StepTime) return QVariant(col == TokensPerS || col == MFU ? -1.0 : 1e300);
  if (role != Qt::DisplayRole && role != SortRole) return {};
  const bool sort = role == SortRole;
  switch (col) {
    case Strategy: return QString::fromStdString(r.candidate.label);
    case TP: return s.tp;
    case PP: return s.pp;
    case DP: return s.dp;
    case EP: return s.ep;
    case MicroBatch: return s.micro_batch;
    case StepTime: return sort ? QVariant(m.step_s) : QVariant(QString::fromStdString(format_duration(m.step_s)));
    case TokensPerS: return sort ? QVariant(m.tokens_per_s) : QVariant(QString::fromStdString(format_si(m.tokens_per_s, "")).trimmed());
    case MFU: return sort ? QVariant(m.mfu) : QVariant(QString::number(100 * m.mfu, 'f', 1) + " %");
    case Bubble: return sort ? QVariant(m.bubble) : QVariant(QString::number(100 * m.bubble, 'f', 1) + " %");
    case ExposedComm: return sort ? QVariant(m.exposed_comm_s) : QVariant(QString::fromStdString(format_duration(m.exposed_comm_s)));
    case Memory: return sort ? QVariant(m.memory_bytes) : QVariant(QString::fromStdString(format_bytes(m.memory_bytes)));
    case Fits: return sort ? QVariant(m.fits ? 1 : 0) : QVariant(m.fits ? QStringLiteral("fits") : QStringLiteral("OOM"));
    default: return {};
  }
}

QVariant ExplorerModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal) return {};
  static const char* h[] = {"Strategy", "TP", "PP", "DP", "EP", "MB", "Step time", "Tokens/s", "MFU", "Bubble", "Exposed comm", "Memory", "Fits"};
  static const char* tip[] = {"tensor x pipeline x data (x expert) parallel, micro-batch size", "tensor parallel", "pipeline parallel",
                              "data parallel", "expert parallel", "micro-batch size", "one optimizer step", "whole job",
                              "model FLOP utilisation", "pipeline idle share of the step", "communication not hidden behind compute",
                              "peak memory of the worst rank", "peak memory within the GPU's capacity"};
  if (section < 0 || section >= ColumnCount) return {};
  if (role == Qt::DisplayRole) return QString(h[section]);
  if (role == Qt::ToolTipRole) return QString(tip[section]);
  return {};
}

ExplorerFilter::ExplorerFilter(QObject* parent) : QSortFilterProxyModel(parent) {
  setSortRole(SortRole);
  setFilterCaseSensitivity(Qt::CaseInsensitive);
  setFilterKeyColumn(ExplorerModel::Strategy);
}

void ExplorerFilter::setFitsOnly(bool on) {
  fits_only_ = on;
  invalidateFilter();
}

bool ExplorerFilter::filterAcceptsRow(int row, const QModelIndex& parent) const {
  if (fits_only_) {
    auto* m = qobject_cast<const ExplorerModel*>(sourceModel());
    if (m && row < m->rows()) {
      const ExplorerRow& r = m->rowAt(row);
      if (r.state == RowState::done && r.metrics.simulated && !r.metrics.fits) return false;
    }
  }
  return QSortFilterProxyModel::filterAcceptsRow(row, parent);
}

}  // namespace strata::gui
