#include "core/stats_model.hpp"

#include "core/time_axis.hpp"

namespace strata::gui {
namespace {

QString dur(double s) { return QString::fromStdString(format_duration(s)); }
QString pct(double f) { return QString::number(100.0 * f, 'f', 1) + " %"; }

}  // namespace

void CategoryStatsModel::setStats(std::shared_ptr<const TimelineStats> s) {
  beginResetModel();
  stats_ = std::move(s);
  rows_.clear();
  if (stats_) {
    for (int c = 0; c < kCategories; ++c)
      if (stats_->by_category[std::size_t(c)].count) rows_.push_back(c);
    rows_.push_back(kCategories);
  }
  endResetModel();
}

int CategoryStatsModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(rows_.size()); }
int CategoryStatsModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant CategoryStatsModel::data(const QModelIndex& index, int role) const {
  if (!stats_ || !index.isValid() || index.row() >= int(rows_.size())) return {};
  int c = rows_[std::size_t(index.row())];
  bool idle = c == kCategories;
  const CategoryStat* cs = idle ? nullptr : &stats_->by_category[std::size_t(c)];
  double total = idle ? stats_->idle_s : cs->total_s;
  double exposed = idle ? 0 : cs->exposed_s;
  double share = idle ? stats_->idle_share : cs->share;
  if (role == Qt::DecorationRole && index.column() == Name) return idle ? idle_fill() : category_color(Category(c));
  if (role == Qt::TextAlignmentRole && index.column() != Name) return int(Qt::AlignRight | Qt::AlignVCenter);
  if (role == Qt::ToolTipRole && idle) return QStringLiteral("Time on the compute stream that no event and no collective covers");
  if (role == Qt::ToolTipRole && index.column() == Exposed)
    return QStringLiteral("Communication time not hidden behind compute on the same rank");
  if (role == Qt::DisplayRole || role == SortRole) {
    bool sort = role == SortRole;
    switch (index.column()) {
      case Name: return idle ? QStringLiteral("idle (compute stream)") : QString(category_label(Category(c)));
      case Events:
        if (idle) return sort ? QVariant(0) : QVariant(QString());
        return qulonglong(cs->count);
      case Total: return sort ? QVariant(total) : QVariant(dur(total));
      case Exposed: return sort ? QVariant(exposed) : (exposed > 0 ? QVariant(dur(exposed)) : QVariant(QString()));
      case Share: return sort ? QVariant(share) : QVariant(pct(share));
      default: break;
    }
  }
  return {};
}

QVariant CategoryStatsModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
  static const char* h[] = {"Kind", "Events", "Total (all ranks)", "Exposed", "Share of step"};
  return section >= 0 && section < ColumnCount ? QString(h[section]) : QVariant();
}

void OpStatsModel::setStats(std::shared_ptr<const TimelineStats> s, std::shared_ptr<const TimelineIndex> idx) {
  beginResetModel();
  stats_ = std::move(s);
  idx_ = std::move(idx);
  endResetModel();
}

int OpStatsModel::rowCount(const QModelIndex& parent) const { return parent.isValid() || !stats_ ? 0 : int(stats_->ops.size()); }
int OpStatsModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QString OpStatsModel::opName(int row) const {
  if (!stats_ || !idx_ || row < 0 || row >= int(stats_->ops.size())) return {};
  return QString::fromStdString(idx_->timeline().names[stats_->ops[std::size_t(row)].name]);
}

QVariant OpStatsModel::data(const QModelIndex& index, int role) const {
  if (!stats_ || !index.isValid() || index.row() >= int(stats_->ops.size())) return {};
  const OpStat& o = stats_->ops[std::size_t(index.row())];
  if (role == Qt::DecorationRole && index.column() == Kind) return category_color(o.cat);
  if (role == Qt::TextAlignmentRole && index.column() >= Count) return int(Qt::AlignRight | Qt::AlignVCenter);
  if (role != Qt::DisplayRole && role != SortRole) return {};
  bool sort = role == SortRole;
  switch (index.column()) {
    case Name: return opName(index.row());
    case Kind: return QString(category_name(o.cat));
    case Count: return qulonglong(o.count);
    case Total: return sort ? QVariant(o.total_s) : QVariant(dur(o.total_s));
    case Mean: return sort ? QVariant(o.mean_s()) : QVariant(dur(o.mean_s()));
    case Max: return sort ? QVariant(o.max_s) : QVariant(dur(o.max_s));
    case Exposed: return sort ? QVariant(o.exposed_s) : (o.exposed_s > 0 ? QVariant(dur(o.exposed_s)) : QVariant(QString()));
    case Share: return sort ? QVariant(o.share) : QVariant(pct(o.share));
    default: return {};
  }
}

QVariant OpStatsModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
  static const char* h[] = {"Op", "Kind", "Count", "Total", "Mean", "Max", "Exposed", "Share"};
  return section >= 0 && section < ColumnCount ? QString(h[section]) : QVariant();
}

}  // namespace strata::gui
