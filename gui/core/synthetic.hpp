#pragma once
// Synthetic timelines of a 1F1B pipeline with tensor, pipeline and data parallelism: the same
// shape of data the simulator writes (streams, categories, exposed TP collectives, pipeline
// flows, bubbles, memory counters), at any size. Used by the benchmark (a million events) and
// by tests and fixtures, so that the GUI is exercised independently of the engine.
#include <cstdint>
#include <string>

#include "report/timeline.hpp"

namespace strata::gui {

struct SyntheticSpec {
  int gpus_per_node = 2;
  int tp = 2, pp = 2, dp = 1;   // ranks = tp * pp * dp, nodes = ranks / gpus_per_node
  int layers_per_stage = 2;
  int microbatches = 4;
  double layer_fwd_s = 400e-6;  // one layer's forward on one micro-batch
  double p2p_s = 60e-6;
  double capacity_bytes = 80e9;
  bool bubble_events = true;    // emit explicit "bubble" events for pipeline idle time
};

Timeline make_synthetic_timeline(const SyntheticSpec& spec);
// About `events` events on 64 GPUs (8 nodes, tp 4 x dp 2 x pp 8).
SyntheticSpec spec_for_events(std::size_t events);
// A Chrome trace of `t` in the form timeline_to_json writes (streamed, not a DOM).
std::string write_chrome_trace(const Timeline& t);

}  // namespace strata::gui
