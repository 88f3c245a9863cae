#pragma once
// Compare two timelines of one partition graph (predicted vs measured, or strategy A vs B):
// the two timelines one above the other with linked zoom and pan, a table of tasks aligned by
// (rank, task id) with the worst differences first, and per-kind sums. Clicking a task locates
// it in both timelines.
#include <QWidget>
#include <memory>

#include "core/bundle.hpp"
#include "core/compare.hpp"
#include "core/time_axis.hpp"

class QLabel;
class QTableView;
class QCheckBox;
class QSortFilterProxyModel;
class QLineEdit;

namespace strata::gui {

class TimelineView;
class TaskDiffModel;
class CategoryDiffModel;

class CompareView : public QWidget {
  Q_OBJECT
public:
  explicit CompareView(QWidget* parent = nullptr);
  void setA(const TimelineBundle& a);
  void setB(const TimelineBundle& b);
  const CompareResult* result() const { return result_.get(); }
  TimelineView* viewA() const { return a_view_; }
  TimelineView* viewB() const { return b_view_; }
  QTableView* taskTable() const { return tasks_; }
  void locate(int proxy_row);

signals:
  void openRequested(int side);  // 0: A, 1: B

private:
  void recompute();
  void syncFrom(bool from_a);

  TimelineBundle a_, b_;
  std::shared_ptr<const CompareResult> result_;
  TimelineView* a_view_;
  TimelineView* b_view_;
  QLabel* summary_;
  QCheckBox* link_;
  QTableView* tasks_;
  QTableView* cats_;
  QLineEdit* filter_;
  TaskDiffModel* task_model_;
  CategoryDiffModel* cat_model_;
  QSortFilterProxyModel* task_proxy_;
  QSortFilterProxyModel* cat_proxy_;
  // Linked views map A's time to B's proportionally to the steps (predicted and measured steps
  // may differ by orders of magnitude): tB = b.t_begin + shift_ + (tA - a.t_begin) * scale_.
  double scale_ = 1, shift_ = 0;
  ViewRange mapToB(const ViewRange& a) const;
  ViewRange mapToA(const ViewRange& b) const;
  bool syncing_ = false;
};

}  // namespace strata::gui
