#pragma once
// Zoom maths and the time ruler, free of widgets so that they are tested on their own.
// A view maps the event area's x (pixels, 0 at its left edge) to time: t = start_s + x * spp.
#include <string>
#include <vector>

namespace strata::gui {

struct ViewRange {
  double start_s = 0;  // time at x = 0
  double spp = 1e-6;   // seconds per pixel

  double time_at(double x) const { return start_s + x * spp; }
  double x_at(double t) const { return (t - start_s) / spp; }
  double end_s(double width) const { return start_s + width * spp; }
  bool operator==(const ViewRange&) const = default;
};

struct ZoomLimits {
  double min_spp = 1e-12;  // 1 ps per pixel: far below any kernel
  double max_spp = 1e6;
};
// Limits for a timeline spanning [t_begin, t_end] in an area `width` pixels wide: zoom out to
// a few times the whole step, in to 1 ps per pixel.
ZoomLimits limits_for(double t_begin, double t_end, double width);

// Zooms by `factor` (> 1 zooms in) keeping the time under pixel x fixed.
ViewRange zoom_around(const ViewRange& v, double x, double factor, const ZoomLimits& lim = {});
ViewRange pan_by_pixels(const ViewRange& v, double dx);  // dx > 0 moves the content right
// Shows [t0, t1] across `width` pixels with `margin` (a fraction of the span) on each side.
ViewRange fit_range(double t0, double t1, double width, double margin = 0.02);
// Zooms so that pixels [x0, x1] of the current view fill the width (zoom to a dragged selection).
ViewRange zoom_to_pixels(const ViewRange& v, double x0, double x1, double width, const ZoomLimits& lim = {});
// Keeps at least a quarter of the area over [t_begin, t_end] (no panning into the void).
ViewRange clamp_view(const ViewRange& v, double width, double t_begin, double t_end);

// Ruler ticks: a 1-2-5 step such that labels are at least `min_major_px` apart; the unit
// (ns, µs, ms, s) follows the step so that labels stay short ("1.25 ms", not "0.00125 s").
struct TimeTicks {
  double step = 0;        // seconds between major ticks
  double minor_step = 0;
  std::vector<double> major, minor;
  double unit = 1;        // seconds per unit
  const char* unit_name = "s";
  int decimals = 0;
};
TimeTicks compute_ticks(const ViewRange& v, double width, double min_major_px = 90);
std::string format_tick(double t, const TimeTicks& ticks);

// 3 significant digits with a unit chosen by magnitude: "850 ns", "12.5 µs", "1.23 s".
std::string format_duration(double s);
std::string format_bytes(double b);       // "1.50 GB" (SI)
std::string format_flops(double f);       // "2.10 TFLOP"
std::string format_si(double v, const char* unit);  // "312 G" + unit, for rates

}  // namespace strata::gui
