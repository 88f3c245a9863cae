// Painting of TimelineWidget: headers, tracks through the LOD fold, idle gaps and bubbles,
// exposed communication, memory counters, flows, selection and the ruler.
#include <QPainter>
#include <QPainterPath>
#include <algorithm>
#include <array>
#include <cmath>

#include "core/palette.hpp"
#include "timeline/ruler.hpp"
#include "timeline/timeline_widget.hpp"

namespace strata::gui {
namespace {

constexpr QRgb kBackground = 0xffffff;
constexpr QRgb kHeaderBg = 0xf7f8fa;
constexpr QRgb kGridLine = 0xe6e8eb;

int px(double x) { return int(std::floor(std::clamp(x, -1e7, 1e7))); }

Category stream_category(Stream s) {
  switch (s) {
    case Stream::tp: return Category::tp;
    case Stream::cp: case Stream::cp_recv: return Category::cp;
    case Stream::ep: return Category::ep;
    case Stream::dp: return Category::dp;
    case Stream::pp_send: case Stream::pp_recv_fwd: case Stream::pp_recv_bwd: return Category::pp;
    default: return Category::compute;
  }
}

QString gpu_label(const GpuInfo& g) {
  return QString("GPU %1 · rank %2").arg(g.rank.local_gpu).arg(g.rank.rank);
}

}  // namespace

void TimelineWidget::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing, false);
  p.fillRect(rect(), QColor(kBackground));
  QRect area = eventArea();
  if (!idx_) {
    p.setPen(QColor(0x808080));
    p.drawText(rect(), Qt::AlignCenter, tr("Open a timeline (Chrome trace JSON) or a scenario"));
    return;
  }
  QFont f = font();
  f.setPointSizeF(8.5);
  p.setFont(f);

  // Rows intersecting the viewport.
  int first = layout_.first_row_below(vscroll_);
  for (int i = first; i < int(layout_.rows.size()); ++i) {
    const Row& row = layout_.rows[std::size_t(i)];
    int y = rowTop(row);
    if (y > height()) break;
    QRect body(area.left(), y, area.width(), row.h);
    QRect head(0, y, kHeaderWidth, row.h);
    p.setClipRect(area);
    switch (row.kind) {
      case RowKind::track: paintTrackRow(p, row, body); break;
      case RowKind::memory: paintMemoryRow(p, row, body); break;
      case RowKind::gpu:
      case RowKind::node:
        if (row.collapsed) paintSummaryRow(p, row, body);
        else p.fillRect(body, QColor(row.kind == RowKind::node ? 0xeef0f3 : 0xf7f8fa));
        break;
    }
    p.setPen(QColor(kGridLine));
    p.drawLine(area.left(), y + row.h - 1, area.right(), y + row.h - 1);
    p.setClipRect(QRect(0, kRulerHeight, kHeaderWidth, height() - kRulerHeight));
    paintHeader(p, row, head);
  }
  p.setClipRect(area);
  if (show_flows_) paintFlows(p);
  paintSelection(p);
  if (std::isfinite(hover_t_) && drag_ == Drag::none) {
    int x = area.left() + px(view_.x_at(hover_t_));
    p.setPen(QPen(QColor(40, 40, 40, 90), 1, Qt::DashLine));
    p.drawLine(x, area.top(), x, area.bottom());
  }
  if (drag_ == Drag::select) {
    QRect band(std::min(select_x0_, select_x1_), area.top(), std::abs(select_x1_ - select_x0_), area.height());
    p.fillRect(band, QColor(60, 120, 220, 50));
    p.setPen(QColor(60, 120, 220));
    p.drawRect(band.adjusted(0, 0, -1, -1));
  }
  p.setClipping(false);
  // Ruler and the corner above the headers.
  paint_ruler(p, QRect(area.left(), 0, area.width(), kRulerHeight), view_, hit_times_, drag_ == Drag::none ? hover_t_ : std::nan(""));
  if (drag_ == Drag::select) {
    double t0 = view_.time_at(std::min(select_x0_, select_x1_) - area.left());
    double t1 = view_.time_at(std::max(select_x0_, select_x1_) - area.left());
    QString s = QString::fromStdString(format_duration(t1 - t0));
    p.fillRect(QRect(std::min(select_x0_, select_x1_), 2, p.fontMetrics().horizontalAdvance(s) + 10, kRulerHeight - 6), QColor(60, 120, 220));
    p.setPen(Qt::white);
    p.drawText(QRect(std::min(select_x0_, select_x1_) + 5, 2, 200, kRulerHeight - 6), Qt::AlignLeft | Qt::AlignVCenter, s);
  }
  QRect corner(0, 0, kHeaderWidth, kRulerHeight);
  p.fillRect(corner, QColor(0xe9ebee));
  p.setPen(QColor(0x40444a));
  p.drawText(corner.adjusted(8, 0, -4, 0), Qt::AlignLeft | Qt::AlignVCenter,
             tr("view %1 · step %2").arg(QString::fromStdString(format_duration(areaWidth() * view_.spp)),
                                          QString::fromStdString(format_duration(idx_->step_s()))));
  p.setPen(QColor(0xc8ccd2));
  p.drawLine(kHeaderWidth - 1, 0, kHeaderWidth - 1, height());
  p.drawLine(0, kRulerHeight - 1, kHeaderWidth, kRulerHeight - 1);
}

void TimelineWidget::paintHeader(QPainter& p, const Row& row, const QRect& r) const {
  p.fillRect(r, QColor(row.kind == RowKind::node ? 0xe9ebee : kHeaderBg));
  p.setPen(QColor(kGridLine));
  p.drawLine(r.left(), r.bottom(), r.right(), r.bottom());
  const auto& gpus = idx_->gpus();
  auto triangle = [&](int x, int y, bool collapsed) {
    QPolygon tri;
    if (collapsed) tri << QPoint(x, y - 4) << QPoint(x + 5, y) << QPoint(x, y + 4);
    else tri << QPoint(x - 1, y - 2) << QPoint(x + 7, y - 2) << QPoint(x + 3, y + 3);
    p.setPen(Qt::NoPen);
    p.setBrush(QColor(0x5a5f66));
    p.drawPolygon(tri);
    p.setBrush(Qt::NoBrush);
  };
  QFont f = p.font();
  switch (row.kind) {
    case RowKind::node: {
      const NodeInfo& n = idx_->nodes()[std::size_t(row.node)];
      int cy = r.top() + 11;
      triangle(6, cy, row.collapsed);
      f.setBold(true);
      p.setFont(f);
      p.setPen(QColor(0x202428));
      QString s = tr("node %1").arg(n.node);
      QString extra = tr("%n GPU(s)", "", int(n.gpus.size()));
      if (row.collapsed && !n.gpus.empty()) extra += tr(" · showing GPU %1").arg(gpus[std::size_t(n.gpus.front())].rank.local_gpu);
      p.drawText(QRect(18, r.top(), r.width() - 20, 22), Qt::AlignLeft | Qt::AlignVCenter, s);
      f.setBold(false);
      p.setFont(f);
      p.setPen(QColor(0x6a6f76));
      p.drawText(QRect(80, r.top(), r.width() - 84, 22), Qt::AlignLeft | Qt::AlignVCenter, extra);
      break;
    }
    case RowKind::gpu: {
      const GpuInfo& g = gpus[std::size_t(row.gpu)];
      int cy = r.top() + std::min(r.height(), 20) / 2;
      // Pipeline stage: a coloured band and a badge, so stages read at a glance down the list.
      p.fillRect(QRect(0, r.top(), 4, r.height()), stage_color(g.rank.stage));
      triangle(14, cy, row.collapsed);
      p.setPen(QColor(0x202428));
      p.drawText(QRect(26, r.top(), r.width() - 80, std::min(r.height(), 20)), Qt::AlignLeft | Qt::AlignVCenter, gpu_label(g));
      QString stage = tr("stage %1").arg(g.rank.stage);
      int sw = p.fontMetrics().horizontalAdvance(stage) + 10;
      QRect badge(r.right() - sw - 6, cy - 7, sw, 14);
      p.setPen(Qt::NoPen);
      p.setBrush(stage_color(g.rank.stage));
      p.drawRoundedRect(badge, 3, 3);
      p.setBrush(Qt::NoBrush);
      p.setPen(QColor(0x202428));
      p.drawText(badge, Qt::AlignCenter, stage);
      break;
    }
    case RowKind::track: {
      const Track& t = idx_->tracks()[std::size_t(row.track)];
      p.fillRect(QRect(0, r.top(), 4, r.height()), stage_color(gpus[std::size_t(row.gpu)].rank.stage));
      // A swatch of the stream's own kind of work.
      Category c = stream_category(t.stream);
      p.fillRect(QRect(28, r.top() + 5, 8, 8), category_color(c));
      p.setPen(QColor(0x30343a));
      p.drawText(QRect(42, r.top(), r.width() - 46, std::min(r.height(), metrics_.lane_h)), Qt::AlignLeft | Qt::AlignVCenter,
                 QString(stream_name(t.stream)) + (t.lanes.size() > 1 ? tr(" (%1 lanes)").arg(t.lanes.size()) : QString()));
      break;
    }
    case RowKind::memory: {
      const GpuInfo& g = gpus[std::size_t(row.gpu)];
      p.fillRect(QRect(0, r.top(), 4, r.height()), stage_color(g.rank.stage));
      p.setPen(QColor(0x30343a));
      double cap = idx_->timeline().capacity_bytes;
      QString s = tr("memory  peak %1").arg(QString::fromStdString(format_bytes(g.mem_peak)));
      if (cap > 0) s += tr(" / %1").arg(QString::fromStdString(format_bytes(cap)));
      p.drawText(QRect(28, r.top() + 2, r.width() - 32, 16), Qt::AlignLeft | Qt::AlignVCenter, s);
      if (cap > 0 && g.mem_peak > cap) {
        p.setPen(exposed_color());
        p.drawText(QRect(28, r.top() + 18, r.width() - 32, 16), Qt::AlignLeft | Qt::AlignVCenter, tr("exceeds capacity"));
      }
      break;
    }
  }
}

void TimelineWidget::paintIdle(QPainter& p, int gpu, int y, int h) const {
  const auto& idle = idx_->gpus()[std::size_t(gpu)].idle;
  if (idle.empty()) return;
  const QRect area = eventArea();
  double v0 = view_.start_s, v1 = view_.end_s(area.width());
  auto it = std::upper_bound(idle.begin(), idle.end(), v0, [](double v, const Interval& iv) { return v < iv.t1; });
  QBrush hatch(QColor(0xe06666), Qt::BDiagPattern);
  for (; it != idle.end() && it->t0 < v1; ++it) {
    int x0 = area.left() + px(view_.x_at(it->t0)), x1 = area.left() + px(view_.x_at(it->t1));
    if (x1 - x0 < 1) continue;
    QRect r(x0, y, x1 - x0, h);
    p.fillRect(r, idle_fill());
    p.fillRect(r, hatch);
  }
}

void TimelineWidget::paintLane(QPainter& p, const Lane& lane, int y, int h, bool labels) {
  const QRect area = eventArea();
  items_.clear();
  build_draw_list(lane, {view_.start_s, view_.end_s(area.width()), view_.spp, kMinPx}, items_);
  static const std::array<QColor, kCategories> colors = [] {
    std::array<QColor, kCategories> c;
    for (int i = 0; i < kCategories; ++i) c[std::size_t(i)] = category_color(Category(i));
    return c;
  }();
  const QBrush bubble_brush(bubble_hatch(), Qt::BDiagPattern);
  const QColor exposed = exposed_color();
  int last_x1 = -1 << 30;
  for (const DrawItem& d : items_) {
    int x0 = area.left() + px(view_.x_at(d.t0));
    int x1 = area.left() + int(std::ceil(std::clamp(view_.x_at(d.t1), -1e7, 1e7)));
    if (x1 <= x0) x1 = x0 + 1;
    if (x1 <= last_x1 && x1 - x0 <= 1 && !d.exposed) continue;  // same pixel as the previous item
    last_x1 = x1;
    int w = x1 - x0;
    QRect r(x0, y + 1, w >= 4 ? w - 1 : w, h - 2);  // a 1 px seam between wide neighbours
    Category c = Category(d.cat < kCategories ? d.cat : 0);
    if (c == Category::bubble) {
      p.fillRect(r, bubble_fill());
      p.fillRect(r, bubble_brush);
    } else if (d.count > 1 && d.occupancy < 0.9f) {
      // A folded run drawn as dense as it is busy: a run of sparse kernels reads lighter than
      // a stream that is busy all along (the true density survives the zoom-out).
      const QColor& base = colors[std::size_t(c)];
      double k = 0.3 + 0.7 * double(d.occupancy);
      p.fillRect(r, QColor(int(255 - (255 - base.red()) * k), int(255 - (255 - base.green()) * k), int(255 - (255 - base.blue()) * k)));
    } else {
      p.fillRect(r, colors[std::size_t(c)]);
    }
    if (d.exposed) {
      // Exposed communication: a red underline that survives any zoom, and an outline when wide.
      p.fillRect(QRect(r.left(), r.bottom() - 2, std::max(r.width(), 2), 3), exposed);
      if (r.width() >= 6 && d.count == 1) {
        p.setPen(QPen(exposed, 1.5));
        p.drawRect(QRectF(r).adjusted(0.75, 0.75, -0.75, -0.75));
      }
    }
    if (labels && d.count == 1 && r.width() > 40 && h >= 14) {
      const std::string& name = idx_->name_of(lane.ev[d.first]);
      QRect tr_(std::max(r.left(), area.left()) + 3, r.top(), std::min(r.right(), area.right()) - std::max(r.left(), area.left()) - 5, r.height());
      if (tr_.width() > 20) {
        p.setPen(category_text_color(c));
        p.drawText(tr_, Qt::AlignLeft | Qt::AlignVCenter, p.fontMetrics().elidedText(QString::fromStdString(name), Qt::ElideRight, tr_.width()));
      }
    }
  }
}

void TimelineWidget::paintTrackRow(QPainter& p, const Row& row, const QRect& r) {
  const Track& t = idx_->tracks()[std::size_t(row.track)];
  if (t.stream == Stream::compute) paintIdle(p, t.gpu, r.top(), r.height());
  for (std::size_t l = 0; l < t.lanes.size(); ++l)
    paintLane(p, t.lanes[l], r.top() + int(l) * metrics_.lane_h, metrics_.lane_h, true);
}

void TimelineWidget::paintSummaryRow(QPainter& p, const Row& row, const QRect& r) {
  p.fillRect(r, QColor(row.kind == RowKind::node ? 0xeef0f3 : 0xf7f8fa));
  if (row.track < 0) return;
  const Track& t = idx_->tracks()[std::size_t(row.track)];
  int y = r.bottom() - metrics_.summary_h - 1;
  if (t.stream == Stream::compute) paintIdle(p, t.gpu, y + 1, metrics_.summary_h - 1);
  if (!t.lanes.empty()) paintLane(p, t.lanes.front(), y, metrics_.summary_h, false);
  // Exposed communication of the other streams, as a red strip along the bottom.
  const GpuInfo& g = idx_->gpus()[std::size_t(t.gpu)];
  const QRect area = eventArea();
  for (int ti : g.tracks) {
    if (ti == row.track) continue;
    for (const Lane& lane : idx_->tracks()[std::size_t(ti)].lanes) {
      if (lane.exposed_before.back() == 0) continue;
      items_.clear();
      build_draw_list(lane, {view_.start_s, view_.end_s(area.width()), view_.spp, kMinPx}, items_);
      for (const DrawItem& d : items_)
        if (d.exposed) {
          int x0 = area.left() + px(view_.x_at(d.t0)), x1 = area.left() + px(view_.x_at(d.t1));
          p.fillRect(QRect(x0, r.bottom() - 2, std::max(2, x1 - x0), 3), exposed_color());
        }
    }
  }
}

void TimelineWidget::paintMemoryRow(QPainter& p, const Row& row, const QRect& r) const {
  const GpuInfo& g = idx_->gpus()[std::size_t(row.gpu)];
  p.fillRect(r, QColor(0xfbfcfd));
  if (g.mem_t.empty()) return;
  const QRect area = eventArea();
  double cap = idx_->timeline().capacity_bytes;
  double top = std::max(cap, g.mem_peak) * 1.08;
  if (!(top > 0)) return;
  int y0 = r.top() + 3, y1 = r.bottom() - 2;
  auto y_of = [&](double b) { return y1 - (y1 - y0) * std::clamp(b / top, 0.0, 1.0); };
  // Step function with one spike per pixel column at most (the column's maximum), so that the
  // cost follows the samples in view and the peaks survive any zoom.
  const double v0 = view_.start_s, v1 = view_.end_s(area.width());
  std::size_t i = std::size_t(std::upper_bound(g.mem_t.begin(), g.mem_t.end(), v0) - g.mem_t.begin());
  double cur = i > 0 ? g.mem_bytes[i - 1] : 0;
  QPolygonF poly;
  poly << QPointF(area.left(), y1) << QPointF(area.left(), y_of(cur));
  double col_x = std::nan(""), col_hi = 0;
  for (; i < g.mem_t.size() && g.mem_t[i] <= v1; ++i) {
    double x = area.left() + std::floor(view_.x_at(g.mem_t[i]));
    if (x == col_x) {
      col_hi = std::max(col_hi, g.mem_bytes[i]);
      cur = g.mem_bytes[i];
      continue;
    }
    if (!std::isnan(col_x)) poly << QPointF(col_x, y_of(col_hi)) << QPointF(col_x + 1, y_of(col_hi)) << QPointF(col_x + 1, y_of(cur));
    poly << QPointF(x, y_of(cur));
    col_x = x;
    col_hi = std::max(cur, g.mem_bytes[i]);
    cur = g.mem_bytes[i];
  }
  if (!std::isnan(col_x)) poly << QPointF(col_x, y_of(col_hi)) << QPointF(col_x + 1, y_of(col_hi)) << QPointF(col_x + 1, y_of(cur));
  poly << QPointF(area.right() + 1, y_of(cur)) << QPointF(area.right() + 1, y1);
  // An opaque tint of the line colour (same look on white, no blending cost).
  QColor fill = QColor::fromRgbF(1 - (1 - memory_color().redF()) * 0.35, 1 - (1 - memory_color().greenF()) * 0.35,
                                 1 - (1 - memory_color().blueF()) * 0.35);
  p.setPen(QPen(memory_color(), 1));
  p.setBrush(fill);
  p.drawPolygon(poly);
  p.setBrush(Qt::NoBrush);
  if (cap > 0) {
    int yc = int(y_of(cap));
    p.setPen(QPen(exposed_color(), 1, Qt::DashLine));
    p.drawLine(area.left(), yc, area.right(), yc);
    p.drawText(QRect(area.right() - 120, yc + 1, 114, 12), Qt::AlignRight | Qt::AlignVCenter, tr("capacity"));
  }
}

void TimelineWidget::paintArrow(QPainter& p, QPointF a, QPointF b) const {
  QPainterPath path(a);
  double dx = std::max(12.0, std::abs(b.x() - a.x()) / 3);
  path.cubicTo(a + QPointF(dx, 0), b - QPointF(dx, 0), b);
  p.drawPath(path);
  QPointF dir(1, 0);  // the curve arrives horizontally
  QPointF n(0, 1);
  QPolygonF head;
  head << b << b - dir * 6 + n * 3 << b - dir * 6 - n * 3;
  p.setBrush(p.pen().color());
  p.drawPolygon(head);
  p.setBrush(Qt::NoBrush);
}

void TimelineWidget::paintFlows(QPainter& p) {
  const auto& flows = idx_->flows();
  if (flows.empty()) return;
  const QRect area = eventArea();
  auto endpoint = [&](std::uint32_t e, bool at_end, QPointF& out) {
    int t = idx_->track_of(e);
    if (t < 0) return false;
    int row = layout_.track_row[std::size_t(t)];
    if (row < 0) return false;
    const Row& r = layout_.rows[std::size_t(row)];
    const TimelineEvent& ev = idx_->event(e);
    double y = rowTop(r) + (r.kind == RowKind::track ? idx_->lane_of(e) * metrics_.lane_h + metrics_.lane_h / 2.0 : r.h - metrics_.summary_h / 2.0);
    out = QPointF(area.left() + std::clamp(view_.x_at(at_end ? ev.start_s + ev.dur_s : ev.start_s), -1e6, 1e6), y);
    return true;
  };
  p.setRenderHint(QPainter::Antialiasing, true);
  const double v0 = view_.start_s, v1 = view_.end_s(area.width());
  // Zoomed far out, hundreds of arrows are noise (and cost a frame): draw them only when few
  // are in view; the selection's own flow is always drawn.
  int drawn = 0;
  constexpr int kMaxFlows = 300;
  std::vector<std::pair<QPointF, QPointF>> lines;
  for (const FlowLink& f : flows) {
    const TimelineEvent& a = idx_->event(f.from);
    const TimelineEvent& b = idx_->event(f.to);
    if (std::max(a.start_s + a.dur_s, b.start_s + b.dur_s) < v0 || std::min(a.start_s, b.start_s) > v1) continue;
    QPointF pa, pb;
    if (!endpoint(f.from, false, pa) || !endpoint(f.to, true, pb)) continue;
    if ((pa.y() < area.top() && pb.y() < area.top()) || (pa.y() > area.bottom() && pb.y() > area.bottom())) continue;
    if (++drawn > kMaxFlows) break;
    lines.emplace_back(pa, pb);
  }
  if (drawn <= kMaxFlows) {
    p.setPen(QPen(QColor(50, 50, 60, 150), 1));
    for (const auto& [a, b] : lines) paintArrow(p, a, b);
  } else {
    p.setRenderHint(QPainter::Antialiasing, false);
    QString hint = tr("flows hidden at this zoom: zoom in or select a send/recv");
    QRect box(area.right() - p.fontMetrics().horizontalAdvance(hint) - 14, area.top() + 2, p.fontMetrics().horizontalAdvance(hint) + 10, 16);
    p.fillRect(box, QColor(255, 255, 255, 220));
    p.setPen(QColor(0x60656c));
    p.drawText(box, Qt::AlignCenter, hint);
    p.setRenderHint(QPainter::Antialiasing, true);
  }
  // The selection's own flows, always, in a strong colour.
  if (selected_ != kNoEvent && idx_->flow_peer(selected_) != kNoEvent) {
    std::uint32_t peer = idx_->flow_peer(selected_);
    bool out = idx_->event(selected_).flow_out;
    QPointF pa, pb;
    if (endpoint(out ? selected_ : peer, false, pa) && endpoint(out ? peer : selected_, true, pb)) {
      p.setPen(QPen(QColor(0x1f5fbf), 2));
      paintArrow(p, pa, pb);
    }
  }
  p.setRenderHint(QPainter::Antialiasing, false);
}

void TimelineWidget::paintSelection(QPainter& p) {
  if (selected_ == kNoEvent) return;
  QRect r = eventRect(selected_);
  if (r.isEmpty()) return;
  // Dependencies of the selection: dashed lines from each one's end to the selection's start.
  p.setRenderHint(QPainter::Antialiasing, true);
  p.setPen(QPen(QColor(0x1f5fbf), 1.2, Qt::DashLine));
  for (std::uint32_t d : idx_->deps_of(selected_)) {
    QRect dr = eventRect(d);
    if (dr.isEmpty()) continue;
    p.drawLine(QPointF(dr.right(), dr.center().y()), QPointF(r.left(), r.center().y()));
  }
  p.setRenderHint(QPainter::Antialiasing, false);
  p.setPen(QPen(selection_color(), 2));
  p.setBrush(Qt::NoBrush);
  QRect box = r.adjusted(-1, 0, 1, 0);
  if (box.width() < 5) box.adjust(-2, 0, 2, 0);
  p.drawRect(box);
  p.setPen(QPen(QColor(255, 255, 255), 1));
  p.drawRect(box.adjusted(2, 2, -2, -2));
}

}  // namespace strata::gui
