#include "core/row_layout.hpp"

#include <algorithm>

namespace strata::gui {

void CollapseState::reset(const TimelineIndex& idx, bool collapse_nodes, bool collapse_gpus) {
  node.assign(idx.nodes().size(), collapse_nodes ? 1 : 0);
  gpu.assign(idx.gpus().size(), collapse_gpus ? 1 : 0);
}

int RowLayout::row_at(int y) const {
  if (y < 0 || y >= height || rows.empty()) return -1;
  auto it = std::upper_bound(rows.begin(), rows.end(), y, [](int v, const Row& r) { return v < r.y; });
  if (it == rows.begin()) return -1;
  --it;
  return y < it->y + it->h ? int(it - rows.begin()) : -1;
}

int RowLayout::first_row_below(int y) const {
  auto it = std::upper_bound(rows.begin(), rows.end(), y, [](int v, const Row& r) { return v < r.y + r.h; });
  return int(it - rows.begin());
}

RowLayout layout_rows(const TimelineIndex& idx, const CollapseState& c, const RowMetrics& m) {
  RowLayout L;
  L.track_row.assign(idx.tracks().size(), -1);
  int y = 0;
  auto add = [&](Row r, int h) {
    r.y = y;
    r.h = h;
    y += h;
    L.rows.push_back(r);
    return int(L.rows.size() - 1);
  };
  auto summary_track = [&](int g) {
    const GpuInfo& gi = idx.gpus()[std::size_t(g)];
    return gi.compute_track >= 0 ? gi.compute_track : (gi.tracks.empty() ? -1 : gi.tracks.front());
  };
  const bool many_nodes = idx.nodes().size() > 1;
  for (std::size_t n = 0; n < idx.nodes().size(); ++n) {
    const NodeInfo& node = idx.nodes()[n];
    bool node_collapsed = n < c.node.size() && c.node[n];
    if (many_nodes || node_collapsed) {
      Row r;
      r.kind = RowKind::node;
      r.node = int(n);
      r.collapsed = node_collapsed;
      r.track = node_collapsed && !node.gpus.empty() ? summary_track(node.gpus.front()) : -1;
      int row = add(r, node_collapsed ? m.node_h + m.summary_h : m.node_h);
      if (node_collapsed) {
        for (int g : node.gpus)
          for (int t : idx.gpus()[std::size_t(g)].tracks) L.track_row[std::size_t(t)] = row;
        continue;
      }
    }
    for (int g : node.gpus) {
      const GpuInfo& gi = idx.gpus()[std::size_t(g)];
      bool gpu_collapsed = std::size_t(g) < c.gpu.size() && c.gpu[std::size_t(g)];
      Row hr;
      hr.kind = RowKind::gpu;
      hr.node = int(n);
      hr.gpu = g;
      hr.collapsed = gpu_collapsed;
      hr.track = gpu_collapsed ? summary_track(g) : -1;
      int hrow = add(hr, gpu_collapsed ? m.summary_h + 4 : m.gpu_h);
      if (gpu_collapsed) {
        for (int t : gi.tracks) L.track_row[std::size_t(t)] = hrow;
        continue;
      }
      for (int t : gi.tracks) {
        Row tr;
        tr.kind = RowKind::track;
        tr.node = int(n);
        tr.gpu = g;
        tr.track = t;
        int lanes = std::max<int>(1, int(idx.tracks()[std::size_t(t)].lanes.size()));
        L.track_row[std::size_t(t)] = add(tr, lanes * m.lane_h);
      }
      if (c.show_memory && !gi.mem_t.empty()) {
        Row mr;
        mr.kind = RowKind::memory;
        mr.node = int(n);
        mr.gpu = g;
        add(mr, m.memory_h);
      }
    }
  }
  L.height = y;
  return L;
}

}  // namespace strata::gui
