#include "timeline/timeline_widget.hpp"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QToolTip>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

namespace strata::gui {

TimelineWidget::TimelineWidget(QWidget* parent) : QWidget(parent) {
  setFocusPolicy(Qt::StrongFocus);
  setMouseTracking(true);
  setAttribute(Qt::WA_OpaquePaintEvent);
  setMinimumSize(400, 160);
  vbar_ = new QScrollBar(Qt::Vertical, this);
  connect(vbar_, &QScrollBar::valueChanged, this, [this](int v) {
    vscroll_ = v;
    update();
  });
}

void TimelineWidget::setIndex(std::shared_ptr<const TimelineIndex> idx) {
  idx_ = std::move(idx);
  selected_ = kNoEvent;
  hits_.clear();
  hit_times_.clear();
  zoom_stack_.clear();
  vscroll_ = 0;
  if (idx_) {
    // Large jobs start with GPUs collapsed so that every rank fits; small ones fully open.
    bool many = idx_->gpus().size() > 16;
    collapse_.reset(*idx_, false, many);
  }
  relayout();
  fitAll();
  zoom_stack_.clear();
}

QRect TimelineWidget::eventArea() const {
  int sb = vbar_->isVisible() ? vbar_->width() : 0;
  return QRect(kHeaderWidth, kRulerHeight, std::max(1, width() - kHeaderWidth - sb), std::max(1, height() - kRulerHeight));
}

void TimelineWidget::relayout() {
  if (idx_) layout_ = layout_rows(*idx_, collapse_, metrics_);
  else layout_ = {};
  updateScrollBar();
  update();
}

void TimelineWidget::updateScrollBar() {
  int sbw = vbar_->sizeHint().width();
  int area_h = std::max(1, height() - kRulerHeight);
  int max = std::max(0, layout_.height - area_h);
  vbar_->setGeometry(width() - sbw, kRulerHeight, sbw, area_h);
  vbar_->setRange(0, max);
  vbar_->setPageStep(area_h);
  vbar_->setSingleStep(metrics_.lane_h * 2);
  vbar_->setVisible(max > 0);
  vscroll_ = std::clamp(vscroll_, 0, max);
  vbar_->setValue(vscroll_);
}

void TimelineWidget::resizeEvent(QResizeEvent*) {
  updateScrollBar();
  if (auto_fit_ && idx_) applyView(fit_range(idx_->t_begin, idx_->t_end, areaWidth(), 0.01));
  else applyView(view_);
}

void TimelineWidget::setView(const ViewRange& v, bool by_user) {
  if (by_user) auto_fit_ = false;
  applyView(v);
}

void TimelineWidget::applyView(const ViewRange& v) {
  ViewRange nv = v;
  if (idx_) {
    ZoomLimits lim = limits_for(idx_->t_begin, idx_->t_end, areaWidth());
    nv.spp = std::clamp(nv.spp, lim.min_spp, lim.max_spp);
    nv = clamp_view(nv, areaWidth(), idx_->t_begin, idx_->t_end);
  }
  if (nv == view_) return;
  view_ = nv;
  update();
  emit viewChanged();
}

void TimelineWidget::pushZoom() {
  if (zoom_stack_.empty() || !(zoom_stack_.back() == view_)) zoom_stack_.push_back(view_);
  if (zoom_stack_.size() > 64) zoom_stack_.erase(zoom_stack_.begin());
}

void TimelineWidget::fitAll() {
  if (!idx_) return;
  pushZoom();
  applyView(fit_range(idx_->t_begin, idx_->t_end, areaWidth(), 0.01));
  auto_fit_ = true;
}

void TimelineWidget::zoomAt(double factor, double x) {
  if (!idx_) return;
  setView(zoom_around(view_, x, factor, limits_for(idx_->t_begin, idx_->t_end, areaWidth())));
}

void TimelineWidget::panPixels(double dx) { setView(pan_by_pixels(view_, dx)); }

void TimelineWidget::zoomBack() {
  if (zoom_stack_.empty()) return;
  ViewRange v = zoom_stack_.back();
  zoom_stack_.pop_back();
  setView(v);
}

void TimelineWidget::zoomToEvent(std::uint32_t e) {
  if (!idx_ || e >= idx_->event_count()) return;
  const TimelineEvent& ev = idx_->event(e);
  pushZoom();
  setView(fit_range(ev.start_s, ev.start_s + std::max(ev.dur_s, 1e-9), areaWidth(), 0.2));
}

void TimelineWidget::centerOn(double t) {
  ViewRange v = view_;
  v.start_s = t - areaWidth() / 2 * v.spp;
  setView(v);
}

void TimelineWidget::revealRow(int row) {
  if (row < 0 || row >= int(layout_.rows.size())) return;
  const Row& r = layout_.rows[std::size_t(row)];
  int area_h = eventArea().height();
  if (r.y < vscroll_ || r.y + r.h > vscroll_ + area_h) {
    vscroll_ = std::clamp(r.y - area_h / 3, 0, vbar_->maximum());
    vbar_->setValue(vscroll_);
  }
}

void TimelineWidget::selectEvent(std::uint32_t e, bool reveal) {
  if (!idx_ || e >= idx_->event_count()) e = kNoEvent;
  selected_ = e;
  if (e != kNoEvent && reveal) {
    const TimelineEvent& ev = idx_->event(e);
    double w = areaWidth() * view_.spp;
    if (ev.dur_s > 0.9 * w) {
      zoomToEvent(e);
    } else if (ev.start_s < view_.start_s || ev.start_s + ev.dur_s > view_.end_s(areaWidth())) {
      centerOn(ev.start_s + ev.dur_s / 2);
    }
    // Open a collapsed parent so that the event's own row shows.
    int t = idx_->track_of(e);
    if (t >= 0) {
      int g = idx_->tracks()[std::size_t(t)].gpu;
      const GpuInfo& gi = idx_->gpus()[std::size_t(g)];
      for (std::size_t n = 0; n < idx_->nodes().size(); ++n)
        if (idx_->nodes()[n].node == gi.rank.node && n < collapse_.node.size()) collapse_.node[n] = 0;
      if (std::size_t(g) < collapse_.gpu.size()) collapse_.gpu[std::size_t(g)] = 0;
      relayout();
      revealRow(layout_.track_row[std::size_t(t)]);
    }
  }
  update();
  emit eventSelected(selected_);
}

void TimelineWidget::setSearchHits(std::vector<std::uint32_t> hits) {
  hits_ = std::move(hits);
  hit_times_.clear();
  if (idx_)
    for (std::uint32_t e : hits_) hit_times_.push_back(idx_->event(e).start_s);
  update();
}

void TimelineWidget::setShowFlows(bool on) {
  show_flows_ = on;
  update();
}

void TimelineWidget::setShowMemory(bool on) {
  collapse_.show_memory = on;
  relayout();
}

void TimelineWidget::collapseAll(bool nodes, bool gpus) {
  if (!idx_) return;
  collapse_.reset(*idx_, nodes, gpus);
  relayout();
}

void TimelineWidget::toggleRow(int row) {
  if (row < 0 || row >= int(layout_.rows.size())) return;
  const Row& r = layout_.rows[std::size_t(row)];
  if (r.kind == RowKind::node && std::size_t(r.node) < collapse_.node.size())
    collapse_.node[std::size_t(r.node)] ^= 1;
  else if (r.kind == RowKind::gpu && std::size_t(r.gpu) < collapse_.gpu.size())
    collapse_.gpu[std::size_t(r.gpu)] ^= 1;
  else
    return;
  relayout();
}

QRect TimelineWidget::trackRect(int rank, Stream s) const {
  if (!idx_) return {};
  int t = idx_->track_for(idx_->gpu_of_rank(rank), s);
  if (t < 0) return {};
  int row = layout_.track_row[std::size_t(t)];
  if (row < 0) return {};
  const Row& r = layout_.rows[std::size_t(row)];
  QRect area = eventArea();
  QRect rr(area.left(), rowTop(r), area.width(), r.h);
  return rr.intersected(area);
}

std::uint32_t TimelineWidget::pickInLane(const Lane& lane, double t, double tol) const {
  std::size_t i = std::size_t(std::upper_bound(lane.reach.begin(), lane.reach.end(), t - tol) - lane.reach.begin());
  std::uint32_t best = kNoEvent;
  double best_d = tol;
  for (int k = 0; i < lane.size() && lane.start[i] <= t + tol && k < 256; ++i, ++k) {
    double d = t < lane.start[i] ? lane.start[i] - t : (t > lane.end[i] ? t - lane.end[i] : 0);
    if (d <= best_d) {
      best_d = d;
      best = lane.ev[i];
      if (d == 0) break;
    }
  }
  return best;
}

std::uint32_t TimelineWidget::eventAt(const QPoint& pos) const {
  QRect area = eventArea();
  if (!idx_ || !area.contains(pos)) return kNoEvent;
  int y = pos.y() - kRulerHeight + vscroll_;
  int row = layout_.row_at(y);
  if (row < 0) return kNoEvent;
  const Row& r = layout_.rows[std::size_t(row)];
  if (r.track < 0 || r.kind == RowKind::memory) return kNoEvent;
  const Track& tr = idx_->tracks()[std::size_t(r.track)];
  if (tr.lanes.empty()) return kNoEvent;
  int lane = 0;
  if (r.kind == RowKind::track) {
    lane = std::clamp((y - r.y) / metrics_.lane_h, 0, int(tr.lanes.size()) - 1);
  } else if (y < r.y + r.h - metrics_.summary_h - 2) {
    return kNoEvent;  // the label part of a collapsed header
  }
  double t = view_.time_at(pos.x() - area.left());
  return pickInLane(tr.lanes[std::size_t(lane)], t, 3 * view_.spp);
}

QRect TimelineWidget::eventRect(std::uint32_t e) const {
  if (!idx_ || e >= idx_->event_count()) return {};
  int t = idx_->track_of(e);
  if (t < 0) return {};
  int row = layout_.track_row[std::size_t(t)];
  if (row < 0) return {};
  const Row& r = layout_.rows[std::size_t(row)];
  QRect area = eventArea();
  const TimelineEvent& ev = idx_->event(e);
  int x0 = area.left() + int(std::floor(std::clamp(view_.x_at(ev.start_s), -1e6, 1e6)));
  int x1 = area.left() + int(std::ceil(std::clamp(view_.x_at(ev.start_s + ev.dur_s), -1e6, 1e6)));
  int y = rowTop(r), h = metrics_.lane_h;
  if (r.kind == RowKind::track) y += idx_->lane_of(e) * metrics_.lane_h;
  else y += r.h - metrics_.summary_h - 2, h = metrics_.summary_h;
  return QRect(x0, y, std::max(1, x1 - x0), h);
}

std::uint32_t TimelineWidget::stepSelection(int dir) const {
  if (!idx_ || selected_ == kNoEvent) return kNoEvent;
  int t = idx_->track_of(selected_);
  if (t < 0) return kNoEvent;
  const Lane& lane = idx_->tracks()[std::size_t(t)].lanes[std::size_t(idx_->lane_of(selected_))];
  auto it = std::find(lane.ev.begin(), lane.ev.end(), selected_);
  if (it == lane.ev.end()) return kNoEvent;
  std::ptrdiff_t i = (it - lane.ev.begin()) + dir;
  return i >= 0 && i < std::ptrdiff_t(lane.size()) ? lane.ev[std::size_t(i)] : kNoEvent;
}

void TimelineWidget::wheelEvent(QWheelEvent* e) {
  QPoint d = e->angleDelta();
  QRect area = eventArea();
  if (e->modifiers() & Qt::ShiftModifier) {
    vbar_->setValue(vbar_->value() - (d.y() ? d.y() : d.x()));
  } else if (d.y() != 0) {
    double x = std::clamp(e->position().x() - area.left(), 0.0, double(area.width()));
    double step = (e->modifiers() & Qt::ControlModifier) ? 1.0006 : 1.0018;  // Ctrl: finer
    zoomAt(std::pow(step, d.y()), x);
  } else if (d.x() != 0) {
    panPixels(d.x() / 2.0);
  }
  e->accept();
}

void TimelineWidget::mousePressEvent(QMouseEvent* e) {
  setFocus();
  press_pos_ = e->position().toPoint();
  press_view_ = view_;
  press_vscroll_ = vscroll_;
  if (e->button() == Qt::LeftButton && (e->modifiers() & Qt::ShiftModifier) && press_pos_.x() >= kHeaderWidth) {
    drag_ = Drag::select;
    select_x0_ = select_x1_ = press_pos_.x();
  } else if (e->button() == Qt::LeftButton || e->button() == Qt::MiddleButton || e->button() == Qt::RightButton) {
    drag_ = Drag::press;
  }
}

void TimelineWidget::mouseMoveEvent(QMouseEvent* e) {
  QPoint pos = e->position().toPoint();
  QRect area = eventArea();
  if (drag_ == Drag::press && (pos - press_pos_).manhattanLength() > 3 && press_pos_.x() >= kHeaderWidth) drag_ = Drag::pan;
  if (drag_ == Drag::pan) {
    setView(pan_by_pixels(press_view_, pos.x() - press_pos_.x()));
    vbar_->setValue(press_vscroll_ - (pos.y() - press_pos_.y()));
  } else if (drag_ == Drag::select) {
    select_x1_ = std::clamp(pos.x(), area.left(), area.right());
    update();
  }
  double t = area.contains(pos) ? view_.time_at(pos.x() - area.left()) : std::numeric_limits<double>::quiet_NaN();
  if (t != hover_t_) {
    hover_t_ = t;
    update(QRect(0, 0, width(), kRulerHeight));
    update(area);
    emit hoverChanged(t);
  }
  if (drag_ == Drag::none) {
    std::uint32_t ev = eventAt(pos);
    if (ev != kNoEvent) {
      const TimelineEvent& te = idx_->event(ev);
      QString tip = QString("<b>%1</b><br>%2 · %3").arg(QString::fromStdString(idx_->name_of(ev)).toHtmlEscaped(),
                                                      QString(category_name(te.category)), QString::fromStdString(format_duration(te.dur_s)));
      if (te.exposed) tip += "<br><span style='color:#d62728'>exposed communication</span>";
      QToolTip::showText(e->globalPosition().toPoint(), tip, this);
    } else {
      QToolTip::hideText();
    }
  }
}

void TimelineWidget::mouseReleaseEvent(QMouseEvent* e) {
  QPoint pos = e->position().toPoint();
  QRect area = eventArea();
  if (drag_ == Drag::select) {
    if (std::abs(select_x1_ - select_x0_) > 3) {
      pushZoom();
      setView(zoom_to_pixels(view_, select_x0_ - area.left(), select_x1_ - area.left(), areaWidth(),
                             limits_for(idx_ ? idx_->t_begin : 0, idx_ ? idx_->t_end : 1, areaWidth())));
    }
  } else if (drag_ == Drag::press && e->button() == Qt::LeftButton) {
    if (pos.x() < kHeaderWidth && pos.y() >= kRulerHeight) {
      toggleRow(layout_.row_at(pos.y() - kRulerHeight + vscroll_));
    } else if (area.contains(pos)) {
      selectEvent(eventAt(pos), false);
    }
  }
  drag_ = Drag::none;
  update();
}

void TimelineWidget::mouseDoubleClickEvent(QMouseEvent* e) {
  std::uint32_t ev = eventAt(e->position().toPoint());
  if (ev != kNoEvent) {
    selectEvent(ev, false);
    zoomToEvent(ev);
  }
}

void TimelineWidget::keyPressEvent(QKeyEvent* e) {
  double w = areaWidth();
  double x = std::isfinite(hover_t_) ? view_.x_at(hover_t_) : w / 2;
  switch (e->key()) {
    case Qt::Key_W: case Qt::Key_Plus: case Qt::Key_Equal: zoomAt(1.5, x); break;
    case Qt::Key_S: case Qt::Key_Minus: zoomAt(1 / 1.5, x); break;
    case Qt::Key_A: case Qt::Key_Left: panPixels(w * 0.15); break;
    case Qt::Key_D: case Qt::Key_Right: panPixels(-w * 0.15); break;
    case Qt::Key_Up: vbar_->setValue(vbar_->value() - metrics_.lane_h * 3); break;
    case Qt::Key_Down: vbar_->setValue(vbar_->value() + metrics_.lane_h * 3); break;
    case Qt::Key_PageUp: vbar_->setValue(vbar_->value() - vbar_->pageStep()); break;
    case Qt::Key_PageDown: vbar_->setValue(vbar_->value() + vbar_->pageStep()); break;
    case Qt::Key_F:
      if (selected_ != kNoEvent) zoomToEvent(selected_);
      else fitAll();
      break;
    case Qt::Key_0: case Qt::Key_Home: fitAll(); break;
    case Qt::Key_Backspace: zoomBack(); break;
    case Qt::Key_Escape: selectEvent(kNoEvent, false); break;
    case Qt::Key_Period: if (auto n = stepSelection(1); n != kNoEvent) selectEvent(n, true); break;
    case Qt::Key_Comma: if (auto n = stepSelection(-1); n != kNoEvent) selectEvent(n, true); break;
    default: QWidget::keyPressEvent(e); return;
  }
  e->accept();
}

void TimelineWidget::leaveEvent(QEvent*) {
  hover_t_ = std::numeric_limits<double>::quiet_NaN();
  update();
  emit hoverChanged(hover_t_);
}

}  // namespace strata::gui
