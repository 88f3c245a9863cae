#include "timeline/legend_widget.hpp"

#include <QPainter>
#include <QPainterPath>

#include "core/palette.hpp"

namespace strata::gui {

LegendWidget::LegendWidget(QWidget* parent) : QWidget(parent) { setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed); }

QSize LegendWidget::sizeHint() const { return {900, 22}; }

void LegendWidget::paintEvent(QPaintEvent*) {
  QPainter p(this);
  QFont f = font();
  f.setPointSizeF(8.5);
  p.setFont(f);
  const int h = height(), sw = 14, sh = 10, y = (h - sh) / 2;
  int x = 6;
  auto label = [&](const QString& s) {
    p.setPen(QColor(0x30343a));
    int w = p.fontMetrics().horizontalAdvance(s);
    p.drawText(QRect(x, 0, w + 2, h), Qt::AlignLeft | Qt::AlignVCenter, s);
    x += w + 14;
  };
  for (int c = 0; c < kCategories; ++c) {
    Category cat = Category(c);
    QRect r(x, y, sw, sh);
    if (cat == Category::bubble) {
      p.fillRect(r, bubble_fill());
      p.fillRect(r, QBrush(bubble_hatch(), Qt::BDiagPattern));
    } else {
      p.fillRect(r, category_color(cat));
    }
    x += sw + 4;
    label(category_label(cat));
  }
  QRect idle(x, y, sw, sh);
  p.fillRect(idle, idle_fill());
  p.fillRect(idle, QBrush(QColor(0xe06666), Qt::BDiagPattern));
  x += sw + 4;
  label(tr("idle"));
  QRect ex(x, y, sw + 4, sh);
  p.fillRect(ex, category_color(Category::tp));
  p.setPen(QPen(exposed_color(), 1.5));
  p.drawRect(QRectF(ex).adjusted(0.75, 0.75, -0.75, -0.75));
  p.fillRect(QRect(ex.left(), ex.bottom() - 2, ex.width(), 3), exposed_color());
  x += sw + 8;
  label(tr("exposed comm"));
  p.setRenderHint(QPainter::Antialiasing, true);
  p.setPen(QPen(QColor(50, 50, 60), 1));
  QPainterPath path(QPointF(x, y + sh));
  path.cubicTo(QPointF(x + 8, y + sh), QPointF(x + 10, y), QPointF(x + 18, y));
  p.drawPath(path);
  x += 22;
  label(tr("send → recv"));
}

}  // namespace strata::gui
