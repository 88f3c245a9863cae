#pragma once
// The timeline page: toolbar (fit, zoom back, collapse, flows, memory, search), legend,
// overview strip, the timeline itself, and a side panel with the details of the selected task
// and the statistics.
#include <QWidget>

#include "core/bundle.hpp"

class QLabel;
class QLineEdit;
class QSplitter;
class QTabWidget;
class QCheckBox;

namespace strata::gui {

class TimelineWidget;
class OverviewWidget;
class DetailsPanel;
class StatsPanel;
class LegendWidget;

class TimelineView : public QWidget {
  Q_OBJECT
public:
  // `side_panel` false: no details/statistics (the compare view shows its own tables).
  explicit TimelineView(QWidget* parent = nullptr, bool side_panel = true);
  void setBundle(const TimelineBundle& b);
  const TimelineBundle& bundle() const { return bundle_; }
  TimelineWidget* timeline() const { return timeline_; }
  DetailsPanel* details() const { return details_; }
  StatsPanel* stats() const { return stats_; }
  QTabWidget* sideTabs() const { return side_; }
  void search(const QString& text);
  void setTitle(const QString& title);

signals:
  void eventSelected(quint32 e);

private:
  void stepHit(int dir);
  void syncOverview();

  TimelineBundle bundle_;
  QLabel* title_ = nullptr;
  LegendWidget* legend_ = nullptr;
  OverviewWidget* overview_ = nullptr;
  TimelineWidget* timeline_ = nullptr;
  DetailsPanel* details_ = nullptr;
  StatsPanel* stats_ = nullptr;
  QTabWidget* side_ = nullptr;
  QSplitter* split_ = nullptr;
  QLineEdit* search_ = nullptr;
  QLabel* hits_label_ = nullptr;
  QLabel* status_ = nullptr;
  QCheckBox* flows_ = nullptr;
  QCheckBox* memory_ = nullptr;
  std::vector<std::uint32_t> hits_;
  int hit_pos_ = -1;
};

}  // namespace strata::gui
