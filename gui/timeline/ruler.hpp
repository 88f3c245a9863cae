#pragma once
// The time ruler above the tracks: major ticks with labels in a unit chosen by the tick step,
// minor ticks between them, search hits as small marks and the hover time.
#include <QPainter>
#include <QRect>
#include <vector>

#include "core/time_axis.hpp"

namespace strata::gui {

// `r` is the ruler's rectangle; x = r.left() is the view's x = 0.
void paint_ruler(QPainter& p, const QRect& r, const ViewRange& v, const std::vector<double>& marks, double hover_t);

}  // namespace strata::gui
