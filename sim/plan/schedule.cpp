#include "plan/schedule.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

namespace strata {

bool splits_backward(Schedule s) { return s == Schedule::zb_h1; }

namespace {

void check_spec(const ScheduleSpec& s) {
  if (s.stages < 1 || s.microbatches < 1 || s.vpp < 1) throw std::invalid_argument("schedule: p, m and v must be positive");
  if (s.kind == Schedule::interleaved) {
    if (s.microbatches % s.stages != 0)
      throw std::invalid_argument("interleaved schedule: micro-batches (" + std::to_string(s.microbatches) +
                                  ") must be a multiple of pp = " + std::to_string(s.stages));
  } else if (s.vpp != 1) {
    throw std::invalid_argument(std::string("schedule ") + schedule_name(s.kind) + " has one chunk per stage (vpp = 1)");
  }
}

// Megatron's interleaved mapping [S7i] (micro-batch group size = p): the k-th forward (or
// backward) unit of a stage runs chunk (k mod p·v) / p — reversed for backward — of micro-batch
// (k / p·v)·p + k mod p.
ScheduleUnit interleaved_unit(const ScheduleSpec& s, int k, bool forward) {
  const int p = s.stages, v = s.vpp;
  const int group = k / (p * v), in_group = k % (p * v);
  int chunk = in_group / p;
  if (!forward) chunk = v - 1 - chunk;
  return {group * p + in_group % p, chunk, forward ? UnitPhase::F : UnitPhase::B};
}

// ZB-H1 [S12n]: 1F1B's memory limit (stage i keeps at most p−i forwards whose B has not run) with
// the backward split into B and W; W passes are deferred to fill what would be bubbles. Built
// by list scheduling with unit times for F, B and W: at each step a free stage runs a ready B,
// else a ready F within the limit, else a pending W.
std::vector<std::vector<ScheduleUnit>> zb_h1_orders(const ScheduleSpec& s) {
  const int p = s.stages, m = s.microbatches;
  constexpr int kNever = std::numeric_limits<int>::max();
  std::vector<std::vector<int>> f_end(std::size_t(p), std::vector<int>(std::size_t(m), kNever));
  std::vector<std::vector<int>> b_end = f_end;
  std::vector<int> next_f(std::size_t(p), 0), next_b(std::size_t(p), 0), next_w(std::size_t(p), 0), free_at(std::size_t(p), 0);
  std::vector<std::vector<ScheduleUnit>> orders(static_cast<std::size_t>(p));
  int remaining = 3 * m * p;
  for (int t = 0; remaining > 0; ++t) {
    if (t > 3 * m * p + 4 * p + 8) throw std::logic_error("zb-h1 list scheduling did not converge");
    for (int st = 0; st < p; ++st) {
      auto S = std::size_t(st);
      if (free_at[S] > t) continue;
      const int limit = p - st;
      // B of the oldest micro-batch whose forward is done and whose gradient has arrived.
      int b = next_b[S];
      if (b < next_f[S] && f_end[S][std::size_t(b)] <= t) {
        int dep = st == p - 1 ? f_end[S][std::size_t(b)] : b_end[S + 1][std::size_t(b)];
        if (dep <= t) {
          orders[S].push_back({b, 0, UnitPhase::B});
          b_end[S][std::size_t(b)] = t + 1;
          ++next_b[S];
          free_at[S] = t + 1;
          --remaining;
          continue;
        }
      }
      int f = next_f[S];
      if (f < m && f - next_b[S] < limit && (st == 0 || f_end[S - 1][std::size_t(f)] <= t)) {
        orders[S].push_back({f, 0, UnitPhase::F});
        f_end[S][std::size_t(f)] = t + 1;
        ++next_f[S];
        free_at[S] = t + 1;
        --remaining;
        continue;
      }
      if (next_w[S] < next_b[S] && b_end[S][std::size_t(next_w[S])] <= t) {
        orders[S].push_back({next_w[S], 0, UnitPhase::W});
        ++next_w[S];
        free_at[S] = t + 1;
        --remaining;
      }
    }
  }
  return orders;
}

}  // namespace

int warmup_units(const ScheduleSpec& s, int stage) {
  const int p = s.stages, m = s.microbatches, v = s.vpp;
  switch (s.kind) {
    case Schedule::gpipe: return m;
    case Schedule::one_f_one_b:
    case Schedule::zb_h1: return std::min(p - stage - 1, m);
    case Schedule::interleaved: return std::min(2 * (p - stage - 1) + (v - 1) * p, m * v);
  }
  return 0;
}

std::vector<ScheduleUnit> stage_order(const ScheduleSpec& s, int stage) {
  check_spec(s);
  if (stage < 0 || stage >= s.stages) throw std::invalid_argument("schedule: stage out of range");
  const int m = s.microbatches;
  std::vector<ScheduleUnit> out;
  switch (s.kind) {
    case Schedule::gpipe:
      // All forwards, then all backwards (GPipe [S12h]; backward in micro-batch order as
      // PyTorch's ScheduleGPipe).
      for (int i = 0; i < m; ++i) out.push_back({i, 0, UnitPhase::F});
      for (int i = 0; i < m; ++i) out.push_back({i, 0, UnitPhase::B});
      break;
    case Schedule::one_f_one_b: {
      // PipeDream-flush / Megatron non-interleaved [S12a][S7i].
      const int w = warmup_units(s, stage);
      for (int i = 0; i < w; ++i) out.push_back({i, 0, UnitPhase::F});
      for (int j = 0; j < m - w; ++j) {
        out.push_back({w + j, 0, UnitPhase::F});
        out.push_back({j, 0, UnitPhase::B});
      }
      for (int j = m - w; j < m; ++j) out.push_back({j, 0, UnitPhase::B});
      break;
    }
    case Schedule::interleaved: {
      const int total = m * s.vpp, w = warmup_units(s, stage);
      for (int k = 0; k < w; ++k) out.push_back(interleaved_unit(s, k, true));
      for (int j = 0; j < total - w; ++j) {
        out.push_back(interleaved_unit(s, w + j, true));
        out.push_back(interleaved_unit(s, j, false));
      }
      for (int j = total - w; j < total; ++j) out.push_back(interleaved_unit(s, j, false));
      break;
    }
    case Schedule::zb_h1: return zb_h1_orders(s)[std::size_t(stage)];
  }
  return out;
}

std::vector<std::vector<ScheduleUnit>> all_stage_orders(const ScheduleSpec& s) {
  check_spec(s);
  if (s.kind == Schedule::zb_h1) return zb_h1_orders(s);
  std::vector<std::vector<ScheduleUnit>> out;
  out.reserve(std::size_t(s.stages));
  for (int st = 0; st < s.stages; ++st) out.push_back(stage_order(s, st));
  return out;
}

int peak_in_flight_chunks(const std::vector<ScheduleUnit>& order) {
  int cur = 0, peak = 0;
  for (const auto& u : order) {
    if (u.phase == UnitPhase::F) peak = std::max(peak, ++cur);
    else if (u.phase == UnitPhase::B) --cur;
  }
  return peak;
}

double peak_in_flight_microbatches(const std::vector<ScheduleUnit>& order, int vpp) {
  return double(peak_in_flight_chunks(order)) / double(vpp);
}

double peak_in_flight_weighted(const std::vector<ScheduleUnit>& order, const std::vector<double>& w) {
  double cur = 0, peak = 0;
  for (const auto& u : order) {
    double x = w.at(std::size_t(u.chunk));
    if (u.phase == UnitPhase::F) peak = std::max(peak, cur += x);
    else if (u.phase == UnitPhase::B) cur -= x;
  }
  return peak;
}

double unit_time_makespan(const ScheduleSpec& s, const std::vector<std::vector<ScheduleUnit>>& orders, double t_f,
                          double t_b, double t_w) {
  const int p = s.stages, v = s.vpp, m = s.microbatches, V = p * v;
  const double kUnset = -1;
  // finish[phase][micro-batch][virtual stage]
  std::vector<double> fin(static_cast<std::size_t>(3 * m * V), kUnset);
  auto at = [&](UnitPhase ph, int mb, int vs) -> double& {
    return fin[(std::size_t(ph) * std::size_t(m) + std::size_t(mb)) * std::size_t(V) + std::size_t(vs)];
  };
  const bool split = splits_backward(s.kind);
  std::vector<std::size_t> pos(std::size_t(p), 0);
  std::vector<double> free_at(std::size_t(p), 0);
  double makespan = 0;
  bool progress = true;
  while (progress) {
    progress = false;
    for (int st = 0; st < p; ++st) {
      auto S = std::size_t(st);
      while (pos[S] < orders[S].size()) {
        const ScheduleUnit& u = orders[S][pos[S]];
        const int vs = u.chunk * p + st;
        double ready = 0;
        if (u.phase == UnitPhase::F) {
          if (vs > 0) ready = at(UnitPhase::F, u.microbatch, vs - 1);
        } else if (u.phase == UnitPhase::B) {
          ready = vs == V - 1 ? at(UnitPhase::F, u.microbatch, vs) : at(UnitPhase::B, u.microbatch, vs + 1);
        } else {
          ready = at(UnitPhase::B, u.microbatch, vs);
        }
        if (ready < 0) break;
        double dur = u.phase == UnitPhase::F ? t_f : u.phase == UnitPhase::B ? (split ? t_b : t_b + t_w) : t_w;
        double start = std::max(ready, free_at[S]);
        at(u.phase, u.microbatch, vs) = start + dur;
        free_at[S] = start + dur;
        makespan = std::max(makespan, start + dur);
        ++pos[S];
        progress = true;
      }
    }
  }
  for (int st = 0; st < p; ++st)
    if (pos[std::size_t(st)] != orders[std::size_t(st)].size()) throw std::logic_error("schedule deadlocks");
  return makespan;
}

}  // namespace strata
