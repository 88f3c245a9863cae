#pragma once
// Pipeline schedules as pure functions (reference/cost-models.md §6): for one pipeline stage,
// the ordered list of work units (micro-batch, virtual chunk, phase) its compute stream runs.
// The planner turns each unit into tasks; bubbles then fall out of the simulation and are never
// hard-coded. The peak number of in-flight micro-batches (activation memory) is derived from
// these orders, not from a separate formula.
#include <cstdint>
#include <vector>

#include "plan/strategy.hpp"

namespace strata {

// F: forward of one chunk for one micro-batch. B: backward; for schedules that do not split the
// backward it is the whole backward (input and weight gradients). W: weight-gradient backward,
// only in split schedules (zb-h1), where B is the input-gradient part alone.
enum class UnitPhase : std::uint8_t { F, B, W };

struct ScheduleUnit {
  std::int32_t microbatch = 0;
  std::int32_t chunk = 0;
  UnitPhase phase = UnitPhase::F;
  bool operator==(const ScheduleUnit&) const = default;
};

struct ScheduleSpec {
  Schedule kind = Schedule::one_f_one_b;
  int stages = 1;        // p
  int microbatches = 1;  // m, per pipeline
  int vpp = 1;           // v, chunks per stage (interleaved only)
};

// Whether the schedule emits separate W units (backward split into B and W).
bool splits_backward(Schedule s);

// The order of one stage (0 = first). Throws std::invalid_argument on an impossible spec
// (interleaved with m not a multiple of p, vpp > 1 with a non-interleaved schedule).
std::vector<ScheduleUnit> stage_order(const ScheduleSpec& spec, int stage);
// All stages at once (zb-h1 derives every stage's order from one list-scheduling pass).
std::vector<std::vector<ScheduleUnit>> all_stage_orders(const ScheduleSpec& spec);

// Warmup forward units before the first backward (Megatron's counts [S7i]): gpipe m·v (all),
// 1f1b and zb-h1 min(p−rank−1, m), interleaved min(2(p−rank−1) + (v−1)p, m·v).
int warmup_units(const ScheduleSpec& spec, int stage);

// Peak number of chunk-forwards whose backward (B) has not yet run, scanning the order.
int peak_in_flight_chunks(const std::vector<ScheduleUnit>& order);
// Same, in micro-batches of a whole stage: peak chunk-forwards / v.
double peak_in_flight_microbatches(const std::vector<ScheduleUnit>& order, int vpp);
// Peak of sum(weight[chunk]) over chunk-forwards in flight (weights: activation bytes per chunk).
double peak_in_flight_weighted(const std::vector<ScheduleUnit>& order, const std::vector<double>& chunk_weight);

// Makespan of the orders when every unit takes the given time and communication is free,
// respecting the cross-stage dependencies (F after F of the previous virtual stage, B after B
// of the next, W after B). For tests of the bubble formulas and for zb-h1's construction.
double unit_time_makespan(const ScheduleSpec& spec, const std::vector<std::vector<ScheduleUnit>>& orders,
                          double t_f, double t_b, double t_w);

}  // namespace strata
