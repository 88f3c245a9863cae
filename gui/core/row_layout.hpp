#pragma once
// The vertical layout of the timeline: node header -> GPU header -> one row per stream track
// (as tall as its lanes) -> the GPU's memory counter. Collapsed nodes and GPUs keep one summary
// row. Pure data, so that collapsing, hit-testing and "which row shows rank r's tp stream" are
// tested without a window.
#include <vector>

#include "core/timeline_index.hpp"

namespace strata::gui {

enum class RowKind : unsigned char { node, gpu, track, memory };

struct Row {
  RowKind kind = RowKind::track;
  int node = -1;   // index into TimelineIndex::nodes
  int gpu = -1;    // index into TimelineIndex::gpus (-1 for node rows)
  int track = -1;  // index into TimelineIndex::tracks (track rows; summary track of collapsed rows)
  int y = 0, h = 0;
  bool collapsed = false;
};

struct RowMetrics {
  int node_h = 22;
  int gpu_h = 20;
  int lane_h = 18;
  int memory_h = 40;
  int summary_h = 16;  // the activity strip of a collapsed GPU or node
};

struct CollapseState {
  std::vector<char> node, gpu;  // 1 = collapsed
  bool show_memory = true;
  void reset(const TimelineIndex& idx, bool collapse_nodes, bool collapse_gpus);
};

struct RowLayout {
  std::vector<Row> rows;
  std::vector<int> track_row;  // track -> row that shows it (its own, or a collapsed parent's)
  int height = 0;

  int row_at(int y) const;  // -1 outside
  int first_row_below(int y) const;
};

RowLayout layout_rows(const TimelineIndex& idx, const CollapseState& c, const RowMetrics& m = {});

}  // namespace strata::gui
