// Reading timelines: read_timeline() on a synthetic Chrome trace of the form timeline_to_string
// writes (64 GPUs, every stream, pipeline flows, memory counters), 1M and 100k events;
// items_per_second is trace events read per second. Also the reader on text already in memory
// and timeline_from_json on a DOM (the path of callers that already hold one).
//   cmake --build build --target strata_bench && build/bench/strata_bench --benchmark_filter=Timeline
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>

#include "report/timeline_json.hpp"
#include "report/timeline_reader.hpp"

using namespace strata;

namespace {

// About `n` events: 64 ranks, each a run of compute / tp / dp / pp events back to back.
Timeline synthetic(std::size_t n) {
  Timeline t;
  t.source = "synthetic";
  t.capacity_bytes = 80e9;
  const int ranks = 64;
  for (int r = 0; r < ranks; ++r) t.ranks.push_back({r, r / 8, r % 8, r % 4, r / 8});
  const char* ops[] = {"attn_qkv", "attn_core", "attn_out", "mlp_up", "mlp_down", "layernorm", "tp_allreduce", "dp_reduce_scatter",
                       "pp_send_act", "pp_recv_act"};
  std::uint32_t ids[10];
  for (int i = 0; i < 10; ++i) ids[i] = t.intern(ops[i]);
  t.events.reserve(n);
  std::size_t per_rank = n / ranks;
  for (int r = 0; r < ranks; ++r) {
    double clock = 0;
    for (std::size_t i = 0; i < per_rank; ++i) {
      TimelineEvent e;
      e.rank = r;
      int k = int(i % 10);
      e.name = ids[k];
      e.task = int(i);
      e.layer = int(i / 10) % 80;
      e.microbatch = int(i / 800) % 16;
      e.start_s = clock;
      e.dur_s = 1e-6 * double(37 + (i * 7919) % 400) / 3.0;
      clock += e.dur_s + 1.25e-7;
      if (k < 6) {
        e.category = Category::compute;
        e.flops = 1.2345e12 * double(1 + k);
      } else if (k == 6) {
        e.category = Category::tp, e.stream = Stream::tp, e.bytes = 33554432, e.exposed = i % 3 == 0;
      } else if (k == 7) {
        e.category = Category::dp, e.stream = Stream::dp, e.bytes = 1.5e8;
      } else {
        e.category = Category::pp, e.stream = k == 8 ? Stream::pp_send : Stream::pp_recv_fwd, e.bytes = 16777216;
        e.flow = std::int64_t(r) * 1000000 + std::int64_t(i / 10), e.flow_out = k == 8;
      }
      t.events.push_back(e);
      if (i % 50 == 0) t.memory.push_back({r, clock, 4e10 + 1e6 * double(i % 977)});
    }
  }
  t.report = {{"step_time_s", 1.0}, {"source", "synthetic"}};
  return t;
}

struct TraceFile {
  std::string path;
  std::size_t events = 0, bytes = 0;
  explicit TraceFile(std::size_t n) {
    Timeline t = synthetic(n);
    std::string text = timeline_to_string(t);
    events = t.events.size() + t.memory.size();
    bytes = text.size();
    path = (std::filesystem::temp_directory_path() / ("strata_bench_timeline_" + std::to_string(n) + ".json")).string();
    std::ofstream(path, std::ios::binary) << text;
  }
  ~TraceFile() { std::filesystem::remove(path); }
};

const TraceFile& trace(std::size_t n) {
  static TraceFile big(1000000), small(100000);
  return n == 1000000 ? big : small;
}

void BM_TimelineRead(benchmark::State& state) {
  const TraceFile& f = trace(std::size_t(state.range(0)));
  for (auto _ : state) {
    Timeline t = read_timeline(f.path);
    benchmark::DoNotOptimize(t.events.data());
  }
  state.SetItemsProcessed(std::int64_t(state.iterations() * f.events));
  state.SetBytesProcessed(std::int64_t(state.iterations() * f.bytes));
}
BENCHMARK(BM_TimelineRead)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_TimelineReadWithArgSpans(benchmark::State& state) {
  const TraceFile& f = trace(std::size_t(state.range(0)));
  for (auto _ : state) {
    TimelineFile t = read_timeline_file(f.path, {.arg_spans = true});
    benchmark::DoNotOptimize(t.args.data());
  }
  state.SetItemsProcessed(std::int64_t(state.iterations() * f.events));
  state.SetBytesProcessed(std::int64_t(state.iterations() * f.bytes));
}
BENCHMARK(BM_TimelineReadWithArgSpans)->Arg(1000000)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_TimelineFromDom(benchmark::State& state) {
  const TraceFile& f = trace(std::size_t(state.range(0)));
  Json j = read_json_file(f.path);
  for (auto _ : state) {
    Timeline t = timeline_from_json(j, f.path);
    benchmark::DoNotOptimize(t.events.data());
  }
  state.SetItemsProcessed(std::int64_t(state.iterations() * f.events));
}
BENCHMARK(BM_TimelineFromDom)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
