#pragma once
// A timeline: what every simulated (or measured) rank did and when. One schema for the
// simulator and the executor; the same task ids (CONTRACT §4). Written and read as Chrome
// Trace Event Format JSON (timeline_json.hpp) so that it opens in Perfetto UI.
#include <cstdint>
#include <string>
#include <vector>

#include "graph/partition_graph.hpp"
#include "io/json_reader.hpp"

namespace strata {

struct TimelineRank {
  std::int32_t rank = 0;
  std::int32_t node = 0;
  std::int32_t local_gpu = 0;
  std::int32_t rank_class = 0;
  std::int32_t stage = 0;   // pipeline stage
};

struct TimelineEvent {
  std::int32_t rank = 0;
  Stream stream = Stream::compute;
  Category category = Category::compute;
  std::int32_t task = -1;     // partition-graph task id in the rank's class (-1: bubble)
  std::uint32_t name = 0;     // index into Timeline::names
  double start_s = 0;
  double dur_s = 0;
  std::int32_t layer = -1;
  std::int32_t microbatch = -1;
  double flops = 0;
  double bytes = 0;
  std::int64_t flow = -1;     // pipeline send->recv flow id; -1 none
  bool flow_out = false;      // true on the send, false on the recv
  bool measured = true;       // false: the executor could not measure it (e.g. comm on one GPU)
  bool exposed = false;       // comm not hidden behind compute on the same rank
};

struct CounterSample {
  std::int32_t rank = 0;
  double t_s = 0;
  double bytes = 0;           // memory in use after this instant
};

struct Timeline {
  std::string source = "simulated";  // or "measured"
  std::vector<std::string> names;
  std::vector<TimelineRank> ranks;
  std::vector<TimelineEvent> events;
  std::vector<CounterSample> memory;
  double capacity_bytes = 0;          // GPU memory capacity (for the counter's limit line)
  Json report;                        // the report (CONTRACT §3); null when absent

  std::uint32_t intern(const std::string& s);
};

}  // namespace strata
