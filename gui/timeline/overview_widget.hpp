#pragma once
// The overview strip: the whole step at once (busy time per category summed over ranks, idle
// time in red), the current view as a brush, and search hits as marks. Click or drag to move
// the view; the wheel zooms.
#include <QImage>
#include <QWidget>
#include <memory>
#include <vector>

#include "core/overview.hpp"
#include "core/time_axis.hpp"

namespace strata::gui {

class OverviewWidget : public QWidget {
  Q_OBJECT
public:
  explicit OverviewWidget(QWidget* parent = nullptr);
  void setData(std::shared_ptr<const OverviewBins> bins, int ranks);
  void setViewRange(double t0, double t1);
  void setHits(std::vector<double> times);
  QSize sizeHint() const override { return {800, 46}; }

signals:
  void centerRequested(double t);
  void zoomRequested(double factor);

protected:
  void paintEvent(QPaintEvent*) override;
  void resizeEvent(QResizeEvent*) override;
  void mousePressEvent(QMouseEvent*) override;
  void mouseMoveEvent(QMouseEvent*) override;
  void wheelEvent(QWheelEvent*) override;

private:
  void render();
  double timeAt(double x) const;
  double xAt(double t) const;

  std::shared_ptr<const OverviewBins> bins_;
  int ranks_ = 1;
  QImage image_;
  double v0_ = 0, v1_ = 0;
  std::vector<double> hits_;
};

}  // namespace strata::gui
