#include "core/time_axis.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace strata::gui {

ZoomLimits limits_for(double t_begin, double t_end, double width) {
  ZoomLimits lim;
  double span = std::max(t_end - t_begin, 1e-9);
  lim.max_spp = 4 * span / std::max(width, 1.0);
  lim.min_spp = std::min(1e-12, lim.max_spp);
  return lim;
}

ViewRange zoom_around(const ViewRange& v, double x, double factor, const ZoomLimits& lim) {
  if (!(factor > 0) || !std::isfinite(factor)) return v;
  double t = v.time_at(x);
  ViewRange r;
  r.spp = std::clamp(v.spp / factor, lim.min_spp, lim.max_spp);
  r.start_s = t - x * r.spp;
  return r;
}

ViewRange pan_by_pixels(const ViewRange& v, double dx) { return {v.start_s - dx * v.spp, v.spp}; }

ViewRange fit_range(double t0, double t1, double width, double margin) {
  if (t1 < t0) std::swap(t0, t1);
  double span = std::max(t1 - t0, 1e-12);
  double padded = span * (1 + 2 * margin);
  ViewRange r;
  r.spp = padded / std::max(width, 1.0);
  r.start_s = t0 - span * margin;
  return r;
}

ViewRange zoom_to_pixels(const ViewRange& v, double x0, double x1, double width, const ZoomLimits& lim) {
  if (x1 < x0) std::swap(x0, x1);
  if (x1 - x0 < 1) x1 = x0 + 1;
  ViewRange r;
  r.spp = std::clamp((x1 - x0) * v.spp / std::max(width, 1.0), lim.min_spp, lim.max_spp);
  double mid = v.time_at((x0 + x1) / 2);
  r.start_s = mid - width / 2 * r.spp;
  return r;
}

ViewRange clamp_view(const ViewRange& v, double width, double t_begin, double t_end) {
  ViewRange r = v;
  double span = width * v.spp;
  double keep = span / 4;  // at least a quarter of the area shows the timeline
  r.start_s = std::clamp(r.start_s, t_begin - span + keep, std::max(t_end - keep, t_begin - span + keep));
  return r;
}

TimeTicks compute_ticks(const ViewRange& v, double width, double min_major_px) {
  TimeTicks t;
  if (!(v.spp > 0) || !(width > 0)) return t;
  double want = min_major_px * v.spp;
  double p = std::pow(10.0, std::floor(std::log10(want)));
  int mant = 1;
  for (int m : {1, 2, 5, 10}) {
    if (m * p >= want * (1 - 1e-9)) {
      mant = m;
      break;
    }
  }
  if (mant == 10) {
    mant = 1;
    p *= 10;
  }
  t.step = mant * p;
  t.minor_step = t.step / (mant == 2 ? 4 : 5);
  // The largest unit in which the step is at least 0.1: "1.5 ms" rather than "1500 µs".
  constexpr double kSlack = 1 - 1e-9;  // 1e-4 computed as 10 * 1e-5 must still read as 0.1 ms
  if (t.step < 1e-7 * kSlack) t.unit = 1e-9, t.unit_name = "ns";
  else if (t.step < 1e-4 * kSlack) t.unit = 1e-6, t.unit_name = "\xC2\xB5s";
  else if (t.step < 0.1 * kSlack) t.unit = 1e-3, t.unit_name = "ms";
  else t.unit = 1, t.unit_name = "s";
  double in_unit = t.step / t.unit;
  t.decimals = std::max(0, int(-std::floor(std::log10(in_unit) + 1e-9)));
  double t0 = v.start_s, t1 = v.end_s(width);
  double first = std::ceil(t0 / t.step - 1e-9) * t.step;
  for (long k = 0;; ++k) {
    double x = first + double(k) * t.step;
    if (x > t1 || k > 10000) break;
    t.major.push_back(x);
  }
  double mfirst = std::ceil(t0 / t.minor_step - 1e-9) * t.minor_step;
  for (long k = 0;; ++k) {
    double x = mfirst + double(k) * t.minor_step;
    if (x > t1 || k > 50000) break;
    double r = x / t.step;
    if (std::abs(r - std::round(r)) > 1e-6) t.minor.push_back(x);
  }
  return t;
}

std::string format_tick(double t, const TimeTicks& ticks) {
  char buf[64];
  double v = t / ticks.unit;
  if (std::abs(v) < 0.5 * std::pow(10.0, -ticks.decimals)) v = 0;  // no "-0"
  std::snprintf(buf, sizeof buf, "%.*f %s", ticks.decimals, v, ticks.unit_name);
  return buf;
}

namespace {

std::string three_digits(double v, const char* unit) {
  char buf[64];
  double a = std::abs(v);
  int dec = a >= 100 ? 0 : a >= 10 ? 1 : 2;
  std::snprintf(buf, sizeof buf, "%.*f %s", dec, v, unit);
  return buf;
}

}  // namespace

std::string format_duration(double s) {
  double a = std::abs(s);
  if (a == 0) return "0 s";
  if (a < 1e-6) return three_digits(s * 1e9, "ns");
  if (a < 1e-3) return three_digits(s * 1e6, "\xC2\xB5s");
  if (a < 1) return three_digits(s * 1e3, "ms");
  return three_digits(s, "s");
}

std::string format_si(double v, const char* unit) {
  double a = std::abs(v);
  std::string u(unit);
  if (a >= 1e15) return three_digits(v / 1e15, ("P" + u).c_str());
  if (a >= 1e12) return three_digits(v / 1e12, ("T" + u).c_str());
  if (a >= 1e9) return three_digits(v / 1e9, ("G" + u).c_str());
  if (a >= 1e6) return three_digits(v / 1e6, ("M" + u).c_str());
  if (a >= 1e3) return three_digits(v / 1e3, ("k" + u).c_str());
  return three_digits(v, u.c_str());
}

std::string format_bytes(double b) { return format_si(b, "B"); }
std::string format_flops(double f) { return format_si(f, "FLOP"); }

}  // namespace strata::gui
