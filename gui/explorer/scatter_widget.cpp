#include "explorer/scatter_widget.hpp"

#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <algorithm>
#include <cmath>

#include "core/pareto.hpp"
#include "core/time_axis.hpp"

namespace strata::gui {
namespace {

// A "nice" axis maximum and step (1-2-5) for about `ticks` intervals.
double nice_step(double max, int ticks) {
  double raw = max / ticks;
  double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= raw) return m * p;
  return 10 * p;
}

}  // namespace

ScatterWidget::ScatterWidget(QWidget* parent) : QWidget(parent) {
  setMinimumSize(260, 200);
  setMouseTracking(false);
}

void ScatterWidget::setPoints(std::vector<ScatterPoint> pts, double capacity_bytes) {
  pts_ = std::move(pts);
  capacity_ = capacity_bytes;
  std::vector<ParetoPoint> pp;
  for (const auto& p : pts_) pp.push_back({p.memory, p.throughput, p.fits && p.throughput > 0});
  front_ = pareto_front(pp);
  double xm = capacity_ > 0 ? capacity_ : 0, ym = 0;
  for (const auto& p : pts_) xm = std::max(xm, p.memory), ym = std::max(ym, p.throughput);
  double xs = nice_step(std::max(xm * 1.05, 1e9), 5), ys = nice_step(std::max(ym * 1.05, 1.0), 4);
  xmax_ = std::ceil(std::max(xm * 1.05, 1e9) / xs) * xs;
  ymax_ = std::ceil(std::max(ym * 1.05, 1.0) / ys) * ys;
  update();
}

void ScatterWidget::setSelectedRow(int row) {
  selected_row_ = row;
  update();
}

QRectF ScatterWidget::plotRect() const { return QRectF(62, 26, std::max(10, width() - 80), std::max(10, height() - 66)); }

QPointF ScatterWidget::toScreen(const ScatterPoint& p) const {
  QRectF r = plotRect();
  return {r.left() + r.width() * std::clamp(p.memory / xmax_, 0.0, 1.02), r.bottom() - r.height() * std::clamp(p.throughput / ymax_, 0.0, 1.02)};
}

void ScatterWidget::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), Qt::white);
  p.setRenderHint(QPainter::Antialiasing, true);
  QFont f = font();
  f.setPointSizeF(8.5);
  p.setFont(f);
  QRectF r = plotRect();
  p.setPen(QColor(0x202428));
  p.drawText(QRectF(0, 2, width(), 20), Qt::AlignCenter, tr("Throughput vs memory — Pareto front"));
  // Grid and axes.
  double xs = nice_step(xmax_, 5), ys = nice_step(ymax_, 4);
  for (double x = 0; x <= xmax_ * 1.0001; x += xs) {
    double sx = r.left() + r.width() * x / xmax_;
    p.setPen(QColor(0xeceef1));
    p.drawLine(QPointF(sx, r.top()), QPointF(sx, r.bottom()));
    p.setPen(QColor(0x50555c));
    p.drawText(QRectF(sx - 40, r.bottom() + 2, 80, 16), Qt::AlignCenter, QString::number(x / 1e9, 'g', 4));
  }
  for (double y = 0; y <= ymax_ * 1.0001; y += ys) {
    double sy = r.bottom() - r.height() * y / ymax_;
    p.setPen(QColor(0xeceef1));
    p.drawLine(QPointF(r.left(), sy), QPointF(r.right(), sy));
    p.setPen(QColor(0x50555c));
    p.drawText(QRectF(0, sy - 8, r.left() - 6, 16), Qt::AlignRight | Qt::AlignVCenter, QString::fromStdString(format_si(y, "")).trimmed());
  }
  p.setPen(QColor(0x8a8f96));
  p.drawRect(r);
  p.setPen(QColor(0x30343a));
  p.drawText(QRectF(r.left(), r.bottom() + 18, r.width(), 16), Qt::AlignCenter, tr("peak memory per GPU (GB)"));
  p.save();
  p.translate(12, r.center().y());
  p.rotate(-90);
  p.drawText(QRectF(-80, -8, 160, 16), Qt::AlignCenter, tr("tokens / s"));
  p.restore();
  if (capacity_ > 0) {
    double sx = r.left() + r.width() * std::min(capacity_ / xmax_, 1.0);
    p.setPen(QPen(QColor(0xd62728), 1.2, Qt::DashLine));
    p.drawLine(QPointF(sx, r.top()), QPointF(sx, r.bottom()));
    p.drawText(QRectF(sx - 124, r.top() + 2, 120, 14), Qt::AlignRight, tr("GPU memory"));
  }
  if (pts_.empty()) {
    p.setPen(QColor(0x808080));
    p.drawText(r, Qt::AlignCenter, tr("no simulated strategies yet"));
    return;
  }
  // Pareto front.
  if (front_.size() > 1) {
    QPainterPath path(toScreen(pts_[std::size_t(front_[0])]));
    for (std::size_t i = 1; i < front_.size(); ++i) {
      QPointF a = toScreen(pts_[std::size_t(front_[i - 1])]), b = toScreen(pts_[std::size_t(front_[i])]);
      path.lineTo(QPointF(b.x(), a.y()));
      path.lineTo(b);
    }
    p.setPen(QPen(QColor(0x2e7d32), 1.6));
    p.drawPath(path);
  }
  for (const auto& pt : pts_) {
    QPointF s = toScreen(pt);
    if (pt.fits) {
      p.setPen(QPen(QColor(0x2c5d8f), 1));
      p.setBrush(QColor(0x4e79a7));
      p.drawEllipse(s, 3.5, 3.5);
    } else {
      p.setPen(QPen(QColor(0x9a9a9a), 1.4));
      p.drawLine(s + QPointF(-3.5, -3.5), s + QPointF(3.5, 3.5));
      p.drawLine(s + QPointF(-3.5, 3.5), s + QPointF(3.5, -3.5));
    }
  }
  p.setBrush(QColor(0x59a14f));
  p.setPen(QPen(QColor(0x1b5e20), 1.2));
  for (int i : front_) p.drawEllipse(toScreen(pts_[std::size_t(i)]), 5, 5);
  // Labels of the front, best throughput first, skipping those that would overlap.
  std::vector<QRectF> placed;
  p.setPen(QColor(0x1b5e20));
  for (auto it = front_.rbegin(); it != front_.rend(); ++it) {
    QPointF s = toScreen(pts_[std::size_t(*it)]);
    const QString& text = pts_[std::size_t(*it)].label;
    QRectF box(s.x() - p.fontMetrics().horizontalAdvance(text) - 8, s.y() - 17, p.fontMetrics().horizontalAdvance(text) + 2, 14);
    if (box.left() < r.left() + 2) box.moveLeft(s.x() + 8);
    bool clash = false;
    for (const QRectF& q : placed) clash |= q.intersects(box.adjusted(-2, -1, 2, 1));
    if (clash) continue;
    placed.push_back(box);
    p.drawText(box, Qt::AlignLeft | Qt::AlignVCenter, text);
  }
  p.setBrush(Qt::NoBrush);
  for (const auto& pt : pts_)
    if (pt.row == selected_row_) {
      p.setPen(QPen(QColor(0x111111), 2));
      p.drawEllipse(toScreen(pt), 8, 8);
    }
}

void ScatterWidget::mousePressEvent(QMouseEvent* e) {
  double best = 12;
  int row = -1;
  for (const auto& pt : pts_) {
    QPointF d = toScreen(pt) - e->position();
    double dist = std::hypot(d.x(), d.y());
    if (dist < best) best = dist, row = pt.row;
  }
  if (row >= 0) emit rowClicked(row);
}

}  // namespace strata::gui
