#include "core/compare_model.hpp"

#include <QColor>
#include <QFont>
#include <cmath>

#include "core/stats_model.hpp"
#include "core/time_axis.hpp"

namespace strata::gui {
namespace {

QString dur(double s) { return QString::fromStdString(format_duration(s)); }
QString signed_dur(double s) { return (s > 0 ? "+" : "") + dur(s); }
QString pct(double f) { return QString("%1%2 %").arg(f > 0 ? "+" : "").arg(100 * f, 0, 'f', 1); }
// Tracy's compare colours: green when B is faster, red when slower, saturating at 2x.
QVariant diff_colour(double rel) {
  if (std::abs(rel) < 0.02) return {};
  return rel > 0 ? QColor(0xb03030) : QColor(0x2e7d32);
}

}  // namespace

void TaskDiffModel::setResult(std::shared_ptr<const CompareResult> r, std::shared_ptr<const TimelineIndex> a,
                              std::shared_ptr<const TimelineIndex> b) {
  beginResetModel();
  r_ = std::move(r);
  a_ = std::move(a);
  b_ = std::move(b);
  endResetModel();
}

const TaskDiff* TaskDiffModel::diffAt(int row) const {
  return r_ && row >= 0 && row < int(r_->tasks.size()) ? &r_->tasks[std::size_t(row)] : nullptr;
}

int TaskDiffModel::rowCount(const QModelIndex& parent) const { return parent.isValid() || !r_ ? 0 : int(r_->tasks.size()); }
int TaskDiffModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant TaskDiffModel::data(const QModelIndex& index, int role) const {
  const TaskDiff* d = diffAt(index.row());
  if (!d || !a_) return {};
  const TimelineEvent& e = a_->event(d->a);
  int col = index.column();
  if (role == Qt::DecorationRole && col == Kind) return category_color(e.category);
  if (role == Qt::TextAlignmentRole && col != Name && col != Kind) return int(Qt::AlignRight | Qt::AlignVCenter);
  if (role == Qt::ForegroundRole && (col == Diff || col == Rel)) return diff_colour(d->rel());
  if (role != Qt::DisplayRole && role != SortRole) return {};
  bool sort = role == SortRole;
  switch (col) {
    case Rank: return d->rank;
    case Task: return d->task;
    case Name: return QString::fromStdString(a_->name_of(d->a));
    case Kind: return QString(category_name(e.category));
    case A: return sort ? QVariant(d->a_s) : QVariant(dur(d->a_s));
    case B: return sort ? QVariant(d->b_s) : QVariant(dur(d->b_s));
    case Diff: return sort ? QVariant(std::abs(d->diff_s())) : QVariant(signed_dur(d->diff_s()));
    case Rel: return sort ? QVariant(d->rel()) : QVariant(pct(d->rel()));
    default: return {};
  }
}

QVariant TaskDiffModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
  static const char* h[] = {"Rank", "Task", "Name", "Kind", "A", "B", "B − A", "(B − A)/A"};
  return section >= 0 && section < ColumnCount ? QString::fromUtf8(h[section]) : QVariant();
}

void CategoryDiffModel::setResult(std::shared_ptr<const CompareResult> r) {
  beginResetModel();
  r_ = std::move(r);
  rows_.clear();
  if (r_) {
    for (int c = 0; c < kCategories; ++c)
      if (r_->by_category[std::size_t(c)].matched) rows_.push_back(c);
    rows_.push_back(kCategories);
  }
  endResetModel();
}

int CategoryDiffModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(rows_.size()); }
int CategoryDiffModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant CategoryDiffModel::data(const QModelIndex& index, int role) const {
  if (!r_ || !index.isValid() || index.row() >= int(rows_.size())) return {};
  int c = rows_[std::size_t(index.row())];
  bool step = c == kCategories;
  CategoryDiff cd;
  if (step) {
    cd.a_s = r_->a_step_s;
    cd.b_s = r_->b_step_s;
    cd.matched = r_->tasks.size();
  } else {
    cd = r_->by_category[std::size_t(c)];
  }
  int col = index.column();
  if (role == Qt::DecorationRole && col == Kind && !step) return category_color(Category(c));
  if (role == Qt::TextAlignmentRole && col != Kind) return int(Qt::AlignRight | Qt::AlignVCenter);
  if (role == Qt::ForegroundRole && (col == Diff || col == Rel)) return diff_colour(cd.rel());
  if (role == Qt::FontRole && step) {
    QFont f;
    f.setBold(true);
    return f;
  }
  if (role != Qt::DisplayRole && role != SortRole) return {};
  bool sort = role == SortRole;
  switch (col) {
    case Kind: return step ? QStringLiteral("whole step") : QString(category_label(Category(c)));
    case Matched: return qulonglong(cd.matched);
    case A: return sort ? QVariant(cd.a_s) : QVariant(dur(cd.a_s));
    case B: return sort ? QVariant(cd.b_s) : QVariant(dur(cd.b_s));
    case Diff: return sort ? QVariant(cd.diff_s()) : QVariant(signed_dur(cd.diff_s()));
    case Rel: return sort ? QVariant(cd.rel()) : QVariant(pct(cd.rel()));
    default: return {};
  }
}

QVariant CategoryDiffModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
  static const char* h[] = {"Kind", "Matched tasks", "A (sum)", "B (sum)", "B − A", "(B − A)/A"};
  return section >= 0 && section < ColumnCount ? QString::fromUtf8(h[section]) : QVariant();
}

}  // namespace strata::gui
