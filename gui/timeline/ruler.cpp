#include "timeline/ruler.hpp"

#include <cmath>

namespace strata::gui {

void paint_ruler(QPainter& p, const QRect& r, const ViewRange& v, const std::vector<double>& marks, double hover_t) {
  p.save();
  p.setClipRect(r);
  p.fillRect(r, QColor(0xf4f5f7));
  p.setPen(QColor(0xc8ccd2));
  p.drawLine(r.bottomLeft(), r.bottomRight());
  TimeTicks ticks = compute_ticks(v, r.width());
  p.setPen(QColor(0xa0a4aa));
  for (double t : ticks.minor) {
    int x = r.left() + int(std::lround(v.x_at(t)));
    p.drawLine(x, r.bottom() - 4, x, r.bottom());
  }
  QFont f = p.font();
  f.setPointSizeF(8);
  p.setFont(f);
  for (double t : ticks.major) {
    int x = r.left() + int(std::lround(v.x_at(t)));
    p.setPen(QColor(0x70757c));
    p.drawLine(x, r.bottom() - 9, x, r.bottom());
    p.setPen(QColor(0x303438));
    p.drawText(QRect(x + 3, r.top(), 120, r.height() - 6), Qt::AlignLeft | Qt::AlignVCenter, QString::fromStdString(format_tick(t, ticks)));
  }
  // Search hits: one mark per pixel column at most.
  p.setPen(QColor(0xe0a800));
  int last = -1;
  for (double t : marks) {
    int x = r.left() + int(std::lround(v.x_at(t)));
    if (x == last || x < r.left() || x > r.right()) continue;
    last = x;
    p.drawLine(x, r.top(), x, r.top() + 5);
  }
  if (std::isfinite(hover_t)) {
    int x = r.left() + int(std::lround(v.x_at(hover_t)));
    QString label = QString::fromStdString(format_duration(hover_t));
    QRect box(x + 4, r.top() + 2, p.fontMetrics().horizontalAdvance(label) + 8, r.height() - 6);
    if (box.right() > r.right()) box.moveRight(x - 4);
    p.fillRect(box, QColor(0x2b2f36));
    p.setPen(Qt::white);
    p.drawText(box, Qt::AlignCenter, label);
  }
  p.restore();
}

}  // namespace strata::gui
