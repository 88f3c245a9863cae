#include "network/flow_network.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace strata {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

template <class T>
bool level_less(const T& a, const T& b) {
  return a.level != b.level ? a.level < b.level : a.link < b.link;
}

constexpr std::uint32_t kNoPos = ~std::uint32_t(0);

}  // namespace

// The link-level heap of solve(): a 4-ary min-heap of (level, link) (half the depth of a binary
// heap, a node's children in one or two cache lines) that knows where each link sits
// (LinkState::hpos), so that a link's level is updated in place when a flow freezes. Most links
// sit near the bottom, where a rise moves them little; the former lazy heap popped every risen
// link from the root and pushed it back, which dominated the solve of 10^5-flow components.
void FlowNetwork::lh_place(std::size_t i, const LevelEntry& e) const {
  level_heap_[i] = e;
  lk_[e.link].hpos = std::uint32_t(i);
}

void FlowNetwork::lh_sift_up(std::size_t i) const {
  const LevelEntry x = level_heap_[i];
  while (i > 0) {
    const std::size_t p = (i - 1) / 4;
    if (!level_less(x, level_heap_[p])) break;
    lh_place(i, level_heap_[p]);
    i = p;
  }
  lh_place(i, x);
}

void FlowNetwork::lh_sift_down(std::size_t i) const {
  const std::size_t n = level_heap_.size();
  const LevelEntry x = level_heap_[i];
  for (;;) {
    const std::size_t c = 4 * i + 1;
    if (c >= n) break;
    std::size_t m = c;
    const std::size_t end = std::min(c + 4, n);
    for (std::size_t k = c + 1; k < end; ++k)
      if (level_less(level_heap_[k], level_heap_[m])) m = k;
    if (!level_less(level_heap_[m], x)) break;
    lh_place(i, level_heap_[m]);
    i = m;
  }
  lh_place(i, x);
}

void FlowNetwork::lh_update(std::size_t i, double level) const {
  const LevelEntry old = level_heap_[i];
  level_heap_[i].level = level;
  if (level_less(level_heap_[i], old)) lh_sift_up(i);
  else lh_sift_down(i);
}

void FlowNetwork::lh_remove(std::size_t i) const {
  lk_[level_heap_[i].link].hpos = kNoPos;
  const LevelEntry last = level_heap_.back();
  level_heap_.pop_back();
  if (i == level_heap_.size()) return;
  const LevelEntry gone = level_heap_[i];
  lh_place(i, last);
  if (level_less(last, gone)) lh_sift_up(i);
  else lh_sift_down(i);
}

FlowNetwork::FlowNetwork(std::vector<double> capacity_Bps) {
  // One pass, no value-initialisation before it: the arrays are O(links), built per simulation.
  lk_.reserve(capacity_Bps.size());
  LinkState proto;
  proto.hpos = kNoPos;
  for (double cap : capacity_Bps) {
    proto.cap = cap;
    lk_.push_back(proto);
  }
  link_flows_.resize(capacity_Bps.size());
}

FlowId FlowNetwork::start(std::span<const LinkId> links, std::span<const double> weights, double bytes, double now) {
  if (!weights.empty() && weights.size() != links.size())
    throw std::invalid_argument("FlowNetwork::start: weights must be empty or one per link");
  if (!(now >= now_)) throw std::invalid_argument("FlowNetwork::start: time goes backwards");
  if (dirty_ && now > now_) settle();  // starts at an earlier instant take effect then
  now_ = now;

  FlowId f;
  if (!free_.empty()) {
    f = free_.back();
    free_.pop_back();
  } else {
    f = FlowId(hops_.size());
    hops_.emplace_back();
    bytes_rem_.push_back(0);
    t_ref_.push_back(0);
    rate_.push_back(0);
    ub_.push_back(0);
    finish_.push_back(kInf);
    version_.push_back(0);
    alive_.push_back(0);
    flow_mark_.push_back(0);
    frozen_mark_.push_back(0);
    new_rate_.push_back(0);
  }
  std::vector<Hop>& hops = hops_[f];
  hops.clear();
  double ub = kInf;
  for (std::size_t i = 0; i < links.size(); ++i) {
    const double w = weights.empty() ? 1.0 : weights[i];
    if (!(w > 0)) continue;  // crosses without consuming
    const LinkId l = links[i];
    if (l >= lk_.size()) throw std::out_of_range("FlowNetwork::start: link id out of range");
    hops.push_back(Hop{l, 0, w});
    ub = std::min(ub, lk_[l].cap / w);
  }
  for (std::uint32_t h = 0; h < hops.size(); ++h) {
    Hop& hop = hops[h];
    auto& list = link_flows_[hop.link];
    hop.pos = std::uint32_t(list.size());
    list.push_back(LinkEntry{f, h, hop.w});
    lk_[hop.link].ub_sum += hop.w * ub;
    lk_[hop.link].w_total += hop.w;
    ++lk_[hop.link].flows;
  }
  bytes_rem_[f] = std::max(0.0, bytes);
  t_ref_[f] = now;
  rate_[f] = -1;
  ub_[f] = ub;
  finish_[f] = kInf;
  ++version_[f];
  alive_[f] = 1;
  ++active_;
  seed_flows_.push_back(f);
  dirty_ = true;
  return f;
}

void FlowNetwork::remove_flow(FlowId f) {
  const double ub = ub_[f];
  for (const Hop& hop : hops_[f]) {
    const LinkId l = hop.link;
    LinkState& st = lk_[l];
    const bool was_coupling = coupling(st);
    auto& list = link_flows_[l];
    const LinkEntry last = list.back();
    list[hop.pos] = last;
    hops_[last.flow][last.hop].pos = hop.pos;
    list.pop_back();
    --st.flows;
    if (list.empty()) {
      st.ub_sum = 0;  // no drift survives an empty link
      st.w_total = 0;
    } else {
      st.ub_sum -= hop.w * ub;
      st.w_total -= hop.w;
      if (was_coupling && st.seed_mark != seed_epoch_) {
        st.seed_mark = seed_epoch_;
        seed_links_.push_back(l);
        dirty_ = true;
      }
    }
  }
  // Flows solved below the removed flow's rate keep theirs (see solve()).
  if (rate_[f] >= 0) threshold_ = std::min(threshold_, rate_[f]);
  alive_[f] = 0;
  ++version_[f];
  free_.push_back(f);
  --active_;
}

void FlowNetwork::settle() const {
  if (!dirty_) return;
  solve();
  dirty_ = false;
  threshold_ = kInf;
  seed_flows_.clear();
  seed_links_.clear();
  if (++seed_epoch_ == 0) {
    for (LinkState& st : lk_) st.seed_mark = 0;
    seed_epoch_ = 1;
  }
}

void FlowNetwork::freeze(FlowId f, double r) const {
  frozen_mark_[f] = epoch_;
  new_rate_[f] = r;
  for (const Hop& hop : hops_[f]) {
    LinkState& st = lk_[hop.link];
    if (st.mark != epoch_) continue;  // a link that never saturates
    st.rem -= hop.w * r;
    if (--st.unfrozen == 0) {
      st.weight = 0;
      if (st.hpos != kNoPos) lh_remove(st.hpos);
    } else {
      st.weight -= hop.w;
      if (st.hpos != kNoPos) lh_update(st.hpos, st.rem / st.weight);
    }
  }
}

// Re-solves the flows a batch of starts and completions can affect.
//
// Which flows: those coupled to the changes through links that can saturate, and among them
// only those solved at or above a threshold. Progressive filling freezes flows in order of
// rate, and below level x it runs identically with or without a flow whose rate is x: that
// flow's links do not saturate below x. So removing a flow of rate r leaves every flow below r
// unchanged, and adding a flow g leaves every flow below g's new rate unchanged; that rate is at
// least min over g's links of capacity / (total weight on the link) (max-min gives every flow at
// least its fair share on some link). Flows below the threshold keep their rates, count as fixed
// load on their links, and stop the search (their rates cannot carry a change).
void FlowNetwork::solve() const {
  if (++epoch_ == 0) {
    for (LinkState& st : lk_) st.mark = 0;
    std::fill(flow_mark_.begin(), flow_mark_.end(), 0u);
    std::fill(frozen_mark_.begin(), frozen_mark_.end(), 0u);
    epoch_ = 1;
  }
  ++solves_;
  double threshold = threshold_;
  for (FlowId g : seed_flows_) {
    if (!alive_[g]) continue;
    for (const Hop& hop : hops_[g]) threshold = std::min(threshold, lk_[hop.link].cap / lk_[hop.link].w_total);
  }
  threshold *= 1 - 1e-9;  // err towards re-solving (always exact)
  auto fixed = [&](FlowId h) { return rate_[h] >= 0 && rate_[h] < threshold; };

  comp_flows_.clear();
  comp_links_.clear();
  auto add_flow = [&](FlowId f) {
    if (flow_mark_[f] == epoch_ || fixed(f)) return;
    flow_mark_[f] = epoch_;
    comp_flows_.push_back(f);
  };
  for (FlowId f : seed_flows_)
    if (alive_[f]) add_flow(f);
  for (LinkId l : seed_links_)
    for (const LinkEntry& e : link_flows_[l]) add_flow(e.flow);
  // Closure through links that can saturate.
  for (std::size_t q = 0; q < comp_flows_.size(); ++q) {
    for (const Hop& hop : hops_[comp_flows_[q]]) {
      LinkState& st = lk_[hop.link];
      if (st.mark == epoch_ || !coupling(st)) continue;
      st.mark = epoch_;
      comp_links_.push_back(hop.link);
      for (const LinkEntry& e : link_flows_[hop.link]) add_flow(e.flow);
    }
  }

  // Progressive filling, bottleneck-first: every unfrozen flow sits at the current level; the
  // next event is the lowest link level (residual / unfrozen weight) or flow cap [ref §3.1].
  // The heap holds each link's current level (freeze() updates it in place).
  level_heap_.clear();
  for (LinkId l : comp_links_) {
    LinkState& st = lk_[l];
    double w = 0, rem = st.cap;
    std::uint32_t n = 0;
    for (const LinkEntry& e : link_flows_[l]) {
      if (flow_mark_[e.flow] == epoch_) {
        w += e.w;
        ++n;
      } else {
        rem -= e.w * rate_[e.flow];  // fixed
      }
    }
    st.rem = rem;
    st.weight = w;
    st.unfrozen = n;
    if (n > 0) {
      st.hpos = std::uint32_t(level_heap_.size());
      level_heap_.push_back(LevelEntry{rem / w, l, 0});
    }
  }
  if (level_heap_.size() > 1)
    for (std::size_t i = (level_heap_.size() - 2) / 4 + 1; i-- > 0;) lh_sift_down(i);
  // A flow's own cap matters only where a non-coupling link sets it; a coupling link at
  // capacity / w freezes the flow at or below that anyway. Sorted as (cap, id) pairs: no
  // indirection in the comparisons.
  by_cap_.clear();
  for (FlowId f : comp_flows_) {
    double coupled = kInf;
    for (const Hop& hop : hops_[f])
      if (lk_[hop.link].mark == epoch_) coupled = std::min(coupled, lk_[hop.link].cap / hop.w);
    if (ub_[f] < coupled) by_cap_.emplace_back(ub_[f], f);
  }
  std::sort(by_cap_.begin(), by_cap_.end());

  std::size_t ci = 0;
  double level = 0;
  for (;;) {
    while (ci < by_cap_.size() && frozen_mark_[by_cap_[ci].second] == epoch_) ++ci;
    const double cap_level = ci < by_cap_.size() ? by_cap_[ci].first : kInf;
    if (!level_heap_.empty() && level_heap_.front().level < cap_level) {
      const LevelEntry top = level_heap_.front();
      lh_remove(0);
      level = std::max(level, top.level);  // max: rounding never lowers the level
      for (const LinkEntry& e : link_flows_[top.link])
        if (flow_mark_[e.flow] == epoch_ && frozen_mark_[e.flow] != epoch_) freeze(e.flow, level);
      continue;
    }
    if (cap_level == kInf) break;
    level = std::max(level, cap_level);
    freeze(by_cap_[ci++].second, cap_level);
  }

  // Apply: flows whose rate did not change keep their completion time (exact closed forms).
  for (FlowId f : comp_flows_) {
    ++rate_evals_;
    const double r = frozen_mark_[f] == epoch_ ? new_rate_[f] : kInf;
    const double old = rate_[f];
    if (r == old) continue;
    double rem = bytes_rem_[f];
    if (old > 0) rem = std::isfinite(old) ? std::max(0.0, rem - old * (now_ - t_ref_[f])) : 0.0;
    bytes_rem_[f] = rem;
    t_ref_[f] = now_;
    rate_[f] = r;
    finish_[f] = rem <= 0 ? now_ : (r > 0 ? now_ + rem / r : kInf);
    ++version_[f];
    push_finish(f);
  }
}

void FlowNetwork::push_finish(FlowId f) const {
  auto cmp = [](const FinishEntry& a, const FinishEntry& b) { return a.t != b.t ? a.t > b.t : a.id > b.id; };
  if (heap_.size() > 2 * active_ + 1024) {
    // Too many stale entries: rebuild from the live flows.
    std::erase_if(heap_, [&](const FinishEntry& e) { return stale(e); });
    std::make_heap(heap_.begin(), heap_.end(), cmp);
  }
  if (finish_[f] == kInf) return;
  heap_.push_back(FinishEntry{finish_[f], f, version_[f]});
  std::push_heap(heap_.begin(), heap_.end(), cmp);
}

double FlowNetwork::next_completion() const {
  settle();
  auto cmp = [](const FinishEntry& a, const FinishEntry& b) { return a.t != b.t ? a.t > b.t : a.id > b.id; };
  while (!heap_.empty() && stale(heap_.front())) {
    std::pop_heap(heap_.begin(), heap_.end(), cmp);
    heap_.pop_back();
  }
  return heap_.empty() ? kInf : heap_.front().t;
}

void FlowNetwork::advance(double now, std::vector<FlowId>& finished) {
  finished.clear();
  settle();
  if (!(now >= now_)) throw std::invalid_argument("FlowNetwork::advance: time goes backwards");
  auto cmp = [](const FinishEntry& a, const FinishEntry& b) { return a.t != b.t ? a.t > b.t : a.id > b.id; };
  const double threshold = now + kRelativeEpsilon * std::abs(now);
  while (!heap_.empty()) {
    const FinishEntry top = heap_.front();
    if (!stale(top) && top.t > threshold) break;
    std::pop_heap(heap_.begin(), heap_.end(), cmp);
    heap_.pop_back();
    if (stale(top)) continue;
    finished.push_back(top.id);
    ++version_[top.id];  // no second entry of this flow can match any more
  }
  for (FlowId f : finished) remove_flow(f);
  now_ = now;
}

double FlowNetwork::rate(FlowId id) const {
  settle();
  return id < rate_.size() && alive_[id] ? rate_[id] : 0.0;
}

double FlowNetwork::remaining(FlowId id) const {
  settle();
  if (id >= rate_.size() || !alive_[id]) return 0.0;
  const double r = rate_[id];
  if (!(r > 0)) return bytes_rem_[id];
  if (!std::isfinite(r)) return 0.0;
  return std::max(0.0, bytes_rem_[id] - r * (now_ - t_ref_[id]));
}

}  // namespace strata
