#include "timeline/overview_widget.hpp"

#include <QMouseEvent>
#include <QPainter>
#include <QWheelEvent>
#include <algorithm>
#include <array>
#include <cmath>

#include "core/palette.hpp"

namespace strata::gui {

OverviewWidget::OverviewWidget(QWidget* parent) : QWidget(parent) {
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
  setMinimumHeight(40);
  setToolTip(tr("The whole step: busy time per kind over all ranks; red is idle. Click or drag to move the view."));
}

void OverviewWidget::setData(std::shared_ptr<const OverviewBins> bins, int ranks) {
  bins_ = std::move(bins);
  ranks_ = std::max(1, ranks);
  render();
  update();
}

void OverviewWidget::setViewRange(double t0, double t1) {
  v0_ = t0;
  v1_ = t1;
  update();
}

void OverviewWidget::setHits(std::vector<double> times) {
  hits_ = std::move(times);
  update();
}

double OverviewWidget::timeAt(double x) const {
  if (!bins_) return 0;
  return bins_->t0 + (bins_->t1 - bins_->t0) * x / std::max(1, width());
}

double OverviewWidget::xAt(double t) const {
  if (!bins_ || bins_->t1 <= bins_->t0) return 0;
  return (t - bins_->t0) / (bins_->t1 - bins_->t0) * width();
}

void OverviewWidget::resizeEvent(QResizeEvent*) { render(); }

void OverviewWidget::render() {
  image_ = QImage(std::max(1, width()), std::max(1, height()), QImage::Format_RGB32);
  image_.fill(QColor(0xf4f5f7));
  if (!bins_ || bins_->bins.empty()) return;
  const int W = image_.width(), H = image_.height() - 2;
  const std::size_t nb = bins_->bins.size();
  // Stack order: compute first (the useful work), communication, then bubble and idle on top.
  static constexpr int kOrder[] = {int(Category::compute), int(Category::optimizer), int(Category::tp), int(Category::cp),
                                   int(Category::ep),      int(Category::dp),        int(Category::pp), int(Category::bubble), kCategories};
  std::vector<std::array<double, kCategories + 1>> cols(static_cast<std::size_t>(W));
  double peak = 0;
  for (int x = 0; x < W; ++x) {
    std::size_t b0 = std::size_t(double(x) * double(nb) / W), b1 = std::max(b0 + 1, std::size_t(double(x + 1) * double(nb) / W));
    auto& c = cols[std::size_t(x)];
    c.fill(0);
    for (std::size_t b = b0; b < std::min(b1, nb); ++b)
      for (int k = 0; k <= kCategories; ++k) c[std::size_t(k)] += bins_->bins[b][std::size_t(k)];
    double sum = 0;
    for (double v : c) sum += v;
    for (double& v : c) v /= double(std::max<std::size_t>(1, std::min(b1, nb) - b0));
    peak = std::max(peak, sum / double(std::max<std::size_t>(1, std::min(b1, nb) - b0)));
  }
  if (peak <= 0) return;
  QPainter p(&image_);
  for (int x = 0; x < W; ++x) {
    double y = H + 1;
    for (int k : kOrder) {
      double v = cols[std::size_t(x)][std::size_t(k)];
      if (v <= 0) continue;
      double h = v / peak * H;
      QColor col = k == kCategories ? QColor(0xe06666) : (k == int(Category::bubble) ? QColor(0xc0392b) : category_color(Category(k)));
      p.fillRect(QRectF(x, y - h, 1, h), col);
      y -= h;
    }
  }
}

void OverviewWidget::paintEvent(QPaintEvent*) {
  QPainter p(this);
  if (image_.size() != size()) render();
  p.drawImage(0, 0, image_);
  if (!bins_) return;
  // Search hits.
  p.setPen(QColor(0xe0a800));
  int last = -1;
  for (double t : hits_) {
    int x = int(xAt(t));
    if (x == last) continue;
    last = x;
    p.drawLine(x, 0, x, 6);
  }
  // The view brush: the rest dimmed, the view outlined.
  int x0 = int(std::floor(xAt(v0_))), x1 = int(std::ceil(xAt(v1_)));
  x0 = std::clamp(x0, 0, width());
  x1 = std::clamp(std::max(x1, x0 + 2), 0, width());
  p.fillRect(QRect(0, 0, x0, height()), QColor(255, 255, 255, 150));
  p.fillRect(QRect(x1, 0, width() - x1, height()), QColor(255, 255, 255, 150));
  p.setPen(QPen(QColor(0x1f5fbf), 2));
  p.drawRect(QRect(x0, 1, std::max(2, x1 - x0), height() - 2));
  p.setPen(QColor(0xc8ccd2));
  p.drawLine(0, height() - 1, width(), height() - 1);
}

void OverviewWidget::mousePressEvent(QMouseEvent* e) { emit centerRequested(timeAt(e->position().x())); }
void OverviewWidget::mouseMoveEvent(QMouseEvent* e) {
  if (e->buttons() & Qt::LeftButton) emit centerRequested(timeAt(e->position().x()));
}
void OverviewWidget::wheelEvent(QWheelEvent* e) {
  emit centerRequested(timeAt(e->position().x()));
  emit zoomRequested(std::pow(1.0018, e->angleDelta().y()));
}

}  // namespace strata::gui
