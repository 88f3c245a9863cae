#include "core/timeline_index.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <tuple>
#include <unordered_set>

namespace strata::gui {

bool is_comm(Category c) {
  return c == Category::tp || c == Category::cp || c == Category::ep || c == Category::pp || c == Category::dp;
}

namespace {

// Two events of one stream touch when one ends where the next starts; microsecond text loses
// the last bits (writers round to the nanosecond), so allow a nanosecond.
constexpr double kTouch = 1e-9;

void merge_into(std::vector<Interval>& out, double s, double e) {
  if (!out.empty() && s <= out.back().t1 + kTouch) out.back().t1 = std::max(out.back().t1, e);
  else out.push_back({s, e});
}

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::shared_ptr<TimelineIndex> TimelineIndex::build(LoadedTrace trace, std::shared_ptr<const PartitionGraph> graph) {
  auto x = std::make_shared<TimelineIndex>();
  x->trace_ = std::move(trace);
  x->graph_ = std::move(graph);
  const Timeline& t = x->trace_.timeline;
  const auto& ev = t.events;
  const std::size_t n = ev.size();

  x->title = x->trace_.path.empty() ? t.source : std::filesystem::path(x->trace_.path).filename().string();

  // GPUs: the listed ranks plus any rank that only events or counters name.
  std::vector<TimelineRank> ranks = t.ranks;
  std::unordered_set<int> known;
  for (const auto& r : ranks) known.insert(r.rank);
  int last = -1;
  auto note = [&](int rank) {
    if (rank == last) return;
    last = rank;
    if (known.insert(rank).second) ranks.push_back({rank, 0, rank, 0, 0});
  };
  for (const auto& e : ev) note(e.rank);
  for (const auto& m : t.memory) note(m.rank);
  std::sort(ranks.begin(), ranks.end(), [](const TimelineRank& a, const TimelineRank& b) {
    return std::tie(a.node, a.local_gpu, a.rank) < std::tie(b.node, b.local_gpu, b.rank);
  });
  for (std::size_t g = 0; g < ranks.size(); ++g) {
    GpuInfo gi;
    gi.rank = ranks[g];
    x->gpus_.push_back(std::move(gi));
    x->rank_gpu_.emplace_back(ranks[g].rank, int(g));
    if (x->nodes_.empty() || x->nodes_.back().node != ranks[g].node) x->nodes_.push_back({ranks[g].node, {}});
    x->nodes_.back().gpus.push_back(int(g));
  }
  std::sort(x->rank_gpu_.begin(), x->rank_gpu_.end());

  // Time bounds.
  x->t_begin = 0;
  x->t_end = 0;
  if (n) {
    x->t_begin = ev[0].start_s;
    x->t_end = ev[0].start_s + ev[0].dur_s;
    for (const auto& e : ev) {
      x->t_begin = std::min(x->t_begin, e.start_s);
      x->t_end = std::max(x->t_end, e.start_s + e.dur_s);
    }
  } else if (!t.memory.empty()) {
    x->t_begin = x->t_end = t.memory[0].t_s;
    for (const auto& m : t.memory) x->t_begin = std::min(x->t_begin, m.t_s), x->t_end = std::max(x->t_end, m.t_s);
  }
  if (!(x->t_end > x->t_begin)) x->t_end = x->t_begin + 1e-6;

  // Tracks: bucket the events by (gpu, stream) with a counting sort.
  const std::size_t slots = x->gpus_.size() * std::size_t(kStreams);
  std::vector<std::uint32_t> slot_of(n);
  std::vector<std::uint32_t> count(slots + 1, 0);
  int last_rank = -1, last_gpu = -1;
  for (std::size_t i = 0; i < n; ++i) {
    if (ev[i].rank != last_rank) last_rank = ev[i].rank, last_gpu = x->gpu_of_rank(last_rank);
    slot_of[i] = std::uint32_t(std::size_t(last_gpu) * kStreams + std::size_t(ev[i].stream));
    ++count[slot_of[i] + 1];
  }
  std::vector<int> slot_track(slots, -1);
  for (std::size_t s = 0; s < slots; ++s) {
    if (count[s + 1] == 0) continue;
    Track tr;
    tr.gpu = int(s / kStreams);
    tr.stream = Stream(s % kStreams);
    slot_track[s] = int(x->tracks_.size());
    x->gpus_[std::size_t(tr.gpu)].tracks.push_back(int(x->tracks_.size()));
    if (tr.stream == Stream::compute) x->gpus_[std::size_t(tr.gpu)].compute_track = int(x->tracks_.size());
    x->tracks_.push_back(std::move(tr));
  }
  for (std::size_t s = 0; s < slots; ++s) count[s + 1] += count[s];
  std::vector<std::uint32_t> order(n);
  {
    std::vector<std::uint32_t> fill(count.begin(), count.end() - 1);
    for (std::size_t i = 0; i < n; ++i) order[fill[slot_of[i]]++] = std::uint32_t(i);
  }
  std::vector<std::vector<Interval>> occupied(x->gpus_.size());
  x->ev_track_.assign(n, -1);
  x->ev_lane_.assign(n, 0);
  for (std::size_t s = 0; s < slots; ++s) {
    if (slot_track[s] < 0) continue;
    Track& tr = x->tracks_[std::size_t(slot_track[s])];
    auto b = order.begin() + count[s], e = order.begin() + count[s + 1];
    std::sort(b, e, [&](std::uint32_t a, std::uint32_t c) {
      if (ev[a].start_s != ev[c].start_s) return ev[a].start_s < ev[c].start_s;
      if (ev[a].dur_s != ev[c].dur_s) return ev[a].dur_s > ev[c].dur_s;
      return a < c;
    });
    double lane_end[kMaxLanes];
    int used = 0;
    for (auto it = b; it != e; ++it) {
      const TimelineEvent& te = ev[*it];
      double s0 = te.start_s, s1 = te.start_s + te.dur_s;
      int lane = -1;
      for (int l = 0; l < used; ++l)
        if (lane_end[l] <= s0 + kTouch) {
          lane = l;
          break;
        }
      if (lane < 0 && used < kMaxLanes) {
        lane = used++;
        tr.lanes.emplace_back();
        if (lane == 0) tr.lanes[0].reserve(std::size_t(e - b));
        lane_end[lane] = s1;
      } else {
        if (lane < 0) lane = kMaxLanes - 1;  // overflow: the last lane takes the rest
        lane_end[lane] = std::max(lane_end[lane], s1);
      }
      tr.lanes[std::size_t(lane)].push(*it, s0, s1, std::uint8_t(te.category), te.exposed);
      x->ev_track_[*it] = slot_track[s];
      x->ev_lane_[*it] = std::uint8_t(lane);
      tr.busy_s += te.dur_s;
      ++tr.events;
    }
    for (auto& l : tr.lanes) l.finish();
    // What keeps the GPU occupied: its compute stream (bubble events included: they are drawn
    // as such) and collectives it waits for. Pipeline receives do not count: a posted receive
    // is the pipeline bubble itself.
    GpuInfo& g = x->gpus_[std::size_t(tr.gpu)];
    for (auto it = b; it != e; ++it) {
      const TimelineEvent& te = ev[*it];
      if (tr.stream == Stream::compute) {
        occupied[std::size_t(tr.gpu)].push_back({te.start_s, te.start_s + te.dur_s});
        if (te.category != Category::bubble) merge_into(g.busy, te.start_s, te.start_s + te.dur_s);
      } else if (is_comm(te.category) && te.category != Category::pp) {
        occupied[std::size_t(tr.gpu)].push_back({te.start_s, te.start_s + te.dur_s});
      }
    }
  }
  // Idle gaps: where a GPU with a compute stream is occupied by nothing at all.
  for (std::size_t gi = 0; gi < x->gpus_.size(); ++gi) {
    GpuInfo& g = x->gpus_[gi];
    if (g.compute_track < 0) continue;
    auto& occ = occupied[gi];
    std::sort(occ.begin(), occ.end(), [](const Interval& a, const Interval& b) { return a.t0 < b.t0; });
    double cur = x->t_begin;
    for (const auto& iv : occ) {
      if (iv.t0 > cur + kTouch) g.idle.push_back({cur, iv.t0});
      cur = std::max(cur, iv.t1);
    }
    if (x->t_end > cur + kTouch) g.idle.push_back({cur, x->t_end});
    std::vector<Interval>().swap(occ);
  }

  // Flows: pair every send (flow_out) with the receives of the same id.
  std::vector<std::pair<std::int64_t, std::uint32_t>> fl;
  for (std::size_t i = 0; i < n; ++i)
    if (ev[i].flow >= 0) fl.emplace_back(ev[i].flow * 2 + (ev[i].flow_out ? 0 : 1), std::uint32_t(i));
  std::sort(fl.begin(), fl.end());
  if (!fl.empty()) x->flow_peer_.assign(n, kNoEvent);
  for (std::size_t a = 0; a < fl.size();) {
    std::size_t b = a;
    std::int64_t id = fl[a].first / 2;
    while (b < fl.size() && fl[b].first / 2 == id) ++b;
    for (std::size_t o = a; o < b && fl[o].first % 2 == 0; ++o)
      for (std::size_t r = a; r < b; ++r)
        if (fl[r].first % 2 == 1) {
          x->flows_.push_back({fl[o].second, fl[r].second});
          x->flow_peer_[fl[o].second] = fl[r].second;
          x->flow_peer_[fl[r].second] = fl[o].second;
        }
    a = b;
  }
  std::sort(x->flows_.begin(), x->flows_.end(), [&](const FlowLink& a, const FlowLink& b) { return ev[a.from].start_s < ev[b.from].start_s; });

  // (rank, task) -> event; the first event of a task wins.
  x->task_index_.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    if (ev[i].task >= 0)
      x->task_index_.emplace_back((std::uint64_t(std::uint32_t(ev[i].rank)) << 32) | std::uint32_t(ev[i].task), std::uint32_t(i));
  std::sort(x->task_index_.begin(), x->task_index_.end());
  x->task_index_.erase(std::unique(x->task_index_.begin(), x->task_index_.end(),
                                   [](const auto& a, const auto& b) { return a.first == b.first; }),
                       x->task_index_.end());

  // Memory samples per GPU, by time.
  std::vector<std::uint32_t> mem_order(t.memory.size());
  for (std::size_t i = 0; i < mem_order.size(); ++i) mem_order[i] = std::uint32_t(i);
  std::stable_sort(mem_order.begin(), mem_order.end(), [&](std::uint32_t a, std::uint32_t b) { return t.memory[a].t_s < t.memory[b].t_s; });
  for (std::uint32_t i : mem_order) {
    const CounterSample& c = t.memory[i];
    int g = x->gpu_of_rank(c.rank);
    if (g < 0) continue;
    GpuInfo& gi = x->gpus_[std::size_t(g)];
    gi.mem_t.push_back(c.t_s);
    gi.mem_bytes.push_back(c.bytes);
    gi.mem_peak = std::max(gi.mem_peak, c.bytes);
  }
  return x;
}

int TimelineIndex::gpu_of_rank(int rank) const {
  auto it = std::lower_bound(rank_gpu_.begin(), rank_gpu_.end(), std::make_pair(rank, -1));
  return (it != rank_gpu_.end() && it->first == rank) ? it->second : -1;
}

int TimelineIndex::track_for(int gpu, Stream s) const {
  if (gpu < 0 || gpu >= int(gpus_.size())) return -1;
  for (int t : gpus_[std::size_t(gpu)].tracks)
    if (tracks_[std::size_t(t)].stream == s) return t;
  return -1;
}

std::uint32_t TimelineIndex::find_task(int rank, int task) const {
  if (task < 0) return kNoEvent;
  std::uint64_t k = (std::uint64_t(std::uint32_t(rank)) << 32) | std::uint32_t(task);
  auto it = std::lower_bound(task_index_.begin(), task_index_.end(), std::make_pair(k, std::uint32_t(0)));
  return (it != task_index_.end() && it->first == k) ? it->second : kNoEvent;
}

std::vector<std::uint32_t> TimelineIndex::deps_of(std::uint32_t e) const {
  std::vector<std::uint32_t> out;
  if (e >= event_count()) return out;
  const TimelineEvent& te = event(e);
  if (graph_ && te.task >= 0 && te.rank >= 0 && std::size_t(te.rank) < graph_->rank_class.size()) {
    const ClassTasks& ct = graph_->tasks_of_rank(te.rank);
    if (std::size_t(te.task) < ct.size())
      for (std::uint32_t d : ct.deps_of(std::uint32_t(te.task))) {
        std::uint32_t de = find_task(te.rank, int(d));
        if (de != kNoEvent) out.push_back(de);
      }
  }
  if (te.flow >= 0 && !te.flow_out && flow_peer(e) != kNoEvent) out.push_back(flow_peer(e));
  return out;
}

std::vector<std::uint32_t> TimelineIndex::search(const std::string& needle) const {
  std::vector<std::uint32_t> hits;
  if (needle.empty()) return hits;
  std::string nl = lower(needle);
  const auto& names = trace_.timeline.names;
  std::vector<char> match(names.size(), 0);
  bool any = false;
  for (std::size_t i = 0; i < names.size(); ++i)
    if (lower(names[i]).find(nl) != std::string::npos) match[i] = 1, any = true;
  if (!any) return hits;
  const auto& ev = trace_.timeline.events;
  for (std::size_t i = 0; i < ev.size(); ++i)
    if (ev[i].name < match.size() && match[ev[i].name]) hits.push_back(std::uint32_t(i));
  std::stable_sort(hits.begin(), hits.end(), [&](std::uint32_t a, std::uint32_t b) { return ev[a].start_s < ev[b].start_s; });
  return hits;
}

double TimelineIndex::exposed_part(std::uint32_t e) const {
  const TimelineEvent& te = event(e);
  if (!is_comm(te.category) || te.dur_s <= 0) return 0;
  int g = gpu_of_rank(te.rank);
  if (g < 0) return te.dur_s;
  const auto& busy = gpus_[std::size_t(g)].busy;
  double s = te.start_s, f = te.start_s + te.dur_s, hidden = 0;
  auto it = std::upper_bound(busy.begin(), busy.end(), s, [](double v, const Interval& iv) { return v < iv.t1; });
  for (; it != busy.end() && it->t0 < f; ++it) hidden += std::min(f, it->t1) - std::max(s, it->t0);
  return std::max(0.0, te.dur_s - hidden);
}

}  // namespace strata::gui
