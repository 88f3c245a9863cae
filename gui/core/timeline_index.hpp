#pragma once
// A loaded timeline, indexed for drawing and lookup: GPUs grouped by node, one track per
// (GPU, stream) split into non-overlapping lanes of sorted arrays (the LOD input), idle gaps of
// the compute stream, merged compute-busy intervals (for exposed communication), send->recv
// flows, memory samples per GPU, and (rank, task) -> event. Built once, read-only afterwards,
// so that widgets on the UI thread can share it with workers.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/lod.hpp"
#include "core/trace_reader.hpp"
#include "graph/partition_graph.hpp"
#include "report/timeline.hpp"

namespace strata::gui {

constexpr int kMaxLanes = 8;
constexpr std::uint32_t kNoEvent = 0xffffffffu;

struct Interval {
  double t0 = 0, t1 = 0;
};

struct Track {
  int gpu = 0;  // index into TimelineIndex::gpus
  Stream stream = Stream::compute;
  std::vector<Lane> lanes;
  std::size_t events = 0;
  double busy_s = 0;
};

struct GpuInfo {
  TimelineRank rank;
  std::vector<int> tracks;   // by stream order
  int compute_track = -1;
  std::vector<Interval> idle;  // nothing on the compute stream (bubble events included) nor a collective
  std::vector<Interval> busy;  // merged compute-stream work (not bubbles): what hides communication
  std::vector<double> mem_t, mem_bytes;
  double mem_peak = 0;
};

struct NodeInfo {
  int node = 0;
  std::vector<int> gpus;
};

struct FlowLink {
  std::uint32_t from = 0, to = 0;  // send event -> recv event
};

class TimelineIndex {
public:
  // `graph` (optional) supplies dependencies and shapes for the details panel.
  static std::shared_ptr<TimelineIndex> build(LoadedTrace trace, std::shared_ptr<const PartitionGraph> graph = {});

  const Timeline& timeline() const { return trace_.timeline; }
  const TimelineEvent& event(std::uint32_t e) const { return trace_.timeline.events[e]; }
  const std::string& name_of(std::uint32_t e) const { return trace_.timeline.names[event(e).name]; }
  std::size_t event_count() const { return trace_.timeline.events.size(); }
  const std::string& path() const { return trace_.path; }
  const LoadedTrace& trace() const { return trace_; }
  const PartitionGraph* graph() const { return graph_.get(); }

  std::string title;  // shown in tabs and headers
  double t_begin = 0, t_end = 0;
  double step_s() const { return t_end - t_begin; }

  const std::vector<NodeInfo>& nodes() const { return nodes_; }
  const std::vector<GpuInfo>& gpus() const { return gpus_; }
  const std::vector<Track>& tracks() const { return tracks_; }
  const std::vector<FlowLink>& flows() const { return flows_; }

  int gpu_of_rank(int rank) const;               // -1 when absent
  int track_of(std::uint32_t e) const { return ev_track_[e]; }
  int lane_of(std::uint32_t e) const { return ev_lane_[e]; }
  int track_for(int gpu, Stream s) const;        // -1 when the GPU has no such track
  std::uint32_t flow_peer(std::uint32_t e) const { return flow_peer_.empty() ? kNoEvent : flow_peer_[e]; }
  std::uint32_t find_task(int rank, int task) const;  // kNoEvent when absent
  // Events this one waits for: partition-graph dependencies on the same rank (when the graph is
  // known) and the matching send of a receive.
  std::vector<std::uint32_t> deps_of(std::uint32_t e) const;
  // Events whose name contains `needle` (case-insensitive), by start time.
  std::vector<std::uint32_t> search(const std::string& needle) const;
  // Part of an event not hidden behind compute on its rank (seconds); 0 for compute events.
  double exposed_part(std::uint32_t e) const;

private:
  LoadedTrace trace_;
  std::shared_ptr<const PartitionGraph> graph_;
  std::vector<NodeInfo> nodes_;
  std::vector<GpuInfo> gpus_;
  std::vector<Track> tracks_;
  std::vector<FlowLink> flows_;
  std::vector<std::int32_t> ev_track_;
  std::vector<std::uint8_t> ev_lane_;
  std::vector<std::uint32_t> flow_peer_;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> task_index_;  // sorted (rank, task) -> event
  std::vector<std::pair<int, int>> rank_gpu_;                         // sorted rank -> gpu
};

bool is_comm(Category c);

}  // namespace strata::gui
