#pragma once
// The timeline: one custom-painted widget (no per-event widgets or scene items). Left, the track
// headers (node -> GPU -> stream, collapsible; the GPU header shows rank and pipeline stage);
// top, the time ruler; then one row per track drawn through the level-of-detail fold, the idle
// gaps and bubbles hatched red, exposed communication outlined and underlined in red, pipeline
// flows as arrows, and a memory counter per GPU with its capacity line.
//
// Mouse: wheel zooms around the cursor (Shift+wheel scrolls), drag pans, Shift+drag zooms to the
// dragged range, click selects, double-click zooms to an event, click a header to collapse.
// Keys: W/S or +/- zoom, A/D or arrows pan, F fit selection (or all), 0 fit all, Backspace zoom
// back, . and , next/previous event on the track, Esc clears the selection.
#include <QScrollBar>
#include <QWidget>
#include <limits>
#include <memory>
#include <vector>

#include "core/lod.hpp"
#include "core/row_layout.hpp"
#include "core/time_axis.hpp"
#include "core/timeline_index.hpp"

namespace strata::gui {

class TimelineWidget : public QWidget {
  Q_OBJECT
public:
  static constexpr int kHeaderWidth = 220;
  static constexpr int kRulerHeight = 24;
  static constexpr double kMinPx = 2.0;  // fold events narrower than this

  explicit TimelineWidget(QWidget* parent = nullptr);

  void setIndex(std::shared_ptr<const TimelineIndex> idx);
  const std::shared_ptr<const TimelineIndex>& index() const { return idx_; }

  ViewRange view() const { return view_; }
  // `by_user` false (a linked view following another) keeps refitting on resize until the user
  // zooms or pans this one.
  void setView(const ViewRange& v, bool by_user = true);
  QRect eventArea() const;
  void fitAll();
  void zoomAt(double factor, double x);  // x: pixels from the event area's left edge
  void panPixels(double dx);
  void zoomBack();
  void zoomToEvent(std::uint32_t e);
  void centerOn(double t);

  void selectEvent(std::uint32_t e, bool reveal);  // kNoEvent clears
  std::uint32_t selectedEvent() const { return selected_; }
  void setSearchHits(std::vector<std::uint32_t> hits);

  void setShowFlows(bool on);
  void setShowMemory(bool on);
  void collapseAll(bool nodes, bool gpus);
  void toggleRow(int row);
  const RowLayout& rows() const { return layout_; }

  // Widget rectangle of the row that shows (rank, stream); empty when absent or scrolled away.
  QRect trackRect(int rank, Stream s) const;
  std::uint32_t eventAt(const QPoint& pos) const;

signals:
  void viewChanged();
  void eventSelected(quint32 e);
  void hoverChanged(double t);

protected:
  void paintEvent(QPaintEvent*) override;
  void resizeEvent(QResizeEvent*) override;
  void wheelEvent(QWheelEvent*) override;
  void mousePressEvent(QMouseEvent*) override;
  void mouseMoveEvent(QMouseEvent*) override;
  void mouseReleaseEvent(QMouseEvent*) override;
  void mouseDoubleClickEvent(QMouseEvent*) override;
  void keyPressEvent(QKeyEvent*) override;
  void leaveEvent(QEvent*) override;

private:
  // Layout and scrolling.
  void applyView(const ViewRange& v);  // clamps; emits viewChanged
  void relayout();
  void updateScrollBar();
  int rowTop(const Row& r) const { return kRulerHeight + r.y - vscroll_; }
  void revealRow(int row);
  void pushZoom();
  double areaWidth() const { return std::max(1, eventArea().width()); }
  std::uint32_t stepSelection(int dir) const;
  std::uint32_t pickInLane(const Lane& lane, double t, double tol) const;
  QRect eventRect(std::uint32_t e) const;  // widget coordinates; empty when not shown

  // Painting (timeline_paint.cpp).
  void paintHeader(QPainter& p, const Row& row, const QRect& r) const;
  void paintTrackRow(QPainter& p, const Row& row, const QRect& r);
  void paintSummaryRow(QPainter& p, const Row& row, const QRect& r);
  void paintLane(QPainter& p, const Lane& lane, int y, int h, bool labels);
  void paintIdle(QPainter& p, int gpu, int y, int h) const;
  void paintMemoryRow(QPainter& p, const Row& row, const QRect& r) const;
  void paintFlows(QPainter& p);
  void paintSelection(QPainter& p);
  void paintArrow(QPainter& p, QPointF a, QPointF b) const;

  std::shared_ptr<const TimelineIndex> idx_;
  ViewRange view_;
  std::vector<ViewRange> zoom_stack_;
  CollapseState collapse_;
  RowMetrics metrics_;
  RowLayout layout_;
  QScrollBar* vbar_ = nullptr;
  int vscroll_ = 0;
  bool show_flows_ = true;
  bool auto_fit_ = true;  // until the user zooms or pans, resizing refits the whole step

  std::uint32_t selected_ = kNoEvent;
  std::vector<std::uint32_t> hits_;
  std::vector<double> hit_times_;
  double hover_t_ = std::numeric_limits<double>::quiet_NaN();

  enum class Drag { none, press, pan, select } drag_ = Drag::none;
  QPoint press_pos_;
  ViewRange press_view_;
  int press_vscroll_ = 0;
  int select_x0_ = 0, select_x1_ = 0;

  std::vector<DrawItem> items_;  // scratch for the LOD walk
};

}  // namespace strata::gui
