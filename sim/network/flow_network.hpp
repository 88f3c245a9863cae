#pragma once
// Flow-level fluid network: every active transfer is a flow on a list of directed links; rates
// are the weighted max-min fair allocation (progressive filling, reference §3.1 [S5c]) and stay
// constant between starts and completions, so the next event is min(remaining / rate).
//
// Weights: a flow with weight w on link l consumes w * rate of l's capacity (used for "k
// symmetric copies of this flow share the link": weight k). All flows fill at the same speed.
//
// Incremental: a start or a completion re-solves only the flows coupled to it through shared
// links, transitively (SimGrid's "selective update" [S5b]). Two refinements, both exact:
//  - A link couples its flows only if it can saturate: two or more flows and the sum over them
//    of w * (the flow's own cap, min over its links of capacity / w) above its capacity. Other
//    links never bind; each flow keeps its cap as a bound (SimGrid-style variable bound [S5c]).
//    This keeps NVLink and PCIe hops of NIC-bound traffic from gluing the cluster together.
//  - Flows whose rate is below a threshold set by the change keep their rates and stop the
//    search (progressive filling below level x runs the same with or without a flow of rate x;
//    see solve()). So a completing fast flow re-solves only the flows at least as fast.
// Cost per update is proportional to the coupled flows above the threshold: small for traffic
// spread over a large fabric, the whole contended set when every flow shares bottlenecks.
//
// Starts are batched: flows started at the same instant are solved together on the next query
// (next_completion, advance, rate, remaining) or on the next start at a later time.
//
// Exactness: a flow whose rate is unchanged by a re-solve keeps its completion time, so a single
// flow of S bytes on capacity B started at t finishes at exactly t + S / B. Flows whose completion
// lies within a relative 1e-12 of the advance time finish in the same batch.
//
// Deterministic: the same call sequence gives identical doubles (no hashing by address, no
// unordered iteration). No allocation in steady state: flow slots, per-link lists and scratch
// arrays are reused (free list of slots).
#include <cstdint>
#include <limits>
#include <span>
#include <utility>
#include <vector>

#include "cluster/topology.hpp"

namespace strata {

using FlowId = std::uint32_t;

class FlowNetwork {
 public:
  explicit FlowNetwork(std::vector<double> capacity_Bps);

  // Starts a flow of `bytes` over `links` at time `now` (>= the last start/advance time).
  // `weights` is empty (all 1) or one weight per link (> 0; a weight of 0 means "crosses but does
  // not consume"). A flow with no consuming link, or of 0 bytes, completes at `now`.
  FlowId start(std::span<const LinkId> links, std::span<const double> weights, double bytes, double now);

  // Absolute time the next flow finishes (+inf if none).
  double next_completion() const;
  // Progresses all flows to `now` (<= next_completion() for exact results), removes the finished
  // ones (completion within a relative 1e-12 of `now`) and reports them in `finished` (cleared
  // first), ordered by (completion time, id).
  void advance(double now, std::vector<FlowId>& finished);

  double rate(FlowId id) const;       // bytes/s (+inf for a flow with no consuming link)
  double remaining(FlowId id) const;  // bytes left at the last start/advance time
  std::size_t active() const { return active_; }
  double now() const { return now_; }
  std::size_t link_count() const { return lk_.size(); }

  std::uint64_t recomputations() const { return solves_; }      // component solves
  std::uint64_t rates_computed() const { return rate_evals_; }  // flows re-solved, summed over solves

  static constexpr double kRelativeEpsilon = 1e-12;

 private:
  struct Hop {
    LinkId link;
    std::uint32_t pos;  // index of this flow's entry in the link's list
    double w;
  };
  struct LinkEntry {
    FlowId flow;
    std::uint32_t hop;
    double w;
  };
  // Everything the solver touches per link, in one place (one cache line) for 10^5-GPU networks.
  struct LinkState {
    double cap = 0;
    double ub_sum = 0;     // sum over its flows of w * (flow cap)
    double w_total = 0;    // sum over its flows of w
    double rem = 0;        // solver: capacity left for unfrozen flows
    double weight = 0;     // solver: unfrozen weight
    std::uint32_t flows = 0;      // entries in its list
    std::uint32_t unfrozen = 0;
    std::uint32_t mark = 0;       // solver epoch: coupling link of the component
    std::uint32_t seed_mark = 0;  // seed epoch
    std::uint32_t hpos = 0;       // solver: position in level_heap_ (~0: not in it)
  };
  struct FinishEntry {
    double t;
    FlowId id;
    std::uint32_t version;
  };
  struct LevelEntry {
    double level;
    LinkId link;
    std::uint32_t pad;
  };

  // Whether a link can tie flows together: two or more flows whose caps can fill it (a link with
  // one flow is already that flow's cap). Erring towards "coupling" is exact, only slower.
  static bool coupling(const LinkState& l) { return l.flows >= 2 && l.ub_sum > l.cap * (1 - 1e-9); }
  bool stale(const FinishEntry& e) const { return !alive_[e.id] || version_[e.id] != e.version; }
  void settle() const;
  void solve() const;
  void freeze(FlowId f, double r) const;
  void push_finish(FlowId f) const;
  void lh_place(std::size_t i, const LevelEntry& e) const;
  void lh_sift_up(std::size_t i) const;
  void lh_sift_down(std::size_t i) const;
  void lh_update(std::size_t i, double level) const;
  void lh_remove(std::size_t i) const;
  void remove_flow(FlowId f);

  mutable std::vector<LinkState> lk_;
  std::vector<std::vector<LinkEntry>> link_flows_;

  // Flow slots. Rates and completion times are brought up to date lazily by const queries, so
  // the flow state is mutable.
  std::vector<std::vector<Hop>> hops_;
  mutable std::vector<double> bytes_rem_;  // at t_ref_
  mutable std::vector<double> t_ref_;
  mutable std::vector<double> rate_;       // -1: not solved yet
  std::vector<double> ub_;                 // own cap: min over consuming links of capacity / w
  mutable std::vector<double> finish_;
  mutable std::vector<std::uint32_t> version_;
  std::vector<std::uint8_t> alive_;
  std::vector<FlowId> free_;
  std::size_t active_ = 0;
  double now_ = 0;

  // Pending work. Flows solved below `threshold_` keep their rates (see solve()).
  mutable std::vector<FlowId> seed_flows_;
  mutable std::vector<LinkId> seed_links_;
  mutable std::uint32_t seed_epoch_ = 1;
  mutable double threshold_ = 0;
  mutable bool dirty_ = false;

  // Completion heap (min by (t, id)); stale entries skipped by version.
  mutable std::vector<FinishEntry> heap_;

  // Solver scratch; epochs avoid clearing.
  mutable std::vector<std::uint32_t> flow_mark_, frozen_mark_;
  mutable std::uint32_t epoch_ = 0;
  mutable std::vector<double> new_rate_;
  mutable std::vector<FlowId> comp_flows_;
  mutable std::vector<std::pair<double, FlowId>> by_cap_;  // (own cap, flow)
  mutable std::vector<LinkId> comp_links_;
  mutable std::vector<LevelEntry> level_heap_;

  mutable std::uint64_t solves_ = 0, rate_evals_ = 0;
};

}  // namespace strata
