// strata_gui_bench: how fast strata-gui opens and draws a big timeline (not part of ctest).
//   strata_gui_bench [--events N] [--frames K] [--lead-reader] [--keep FILE]
//   strata_gui_bench --write-fixtures DIR   (writes the small fixtures of tests/gui)
// Measures, for N synthetic events (default 1,000,000) on 64 GPUs: writing the Chrome trace,
// reading it (the library's reader with args spans; --lead-reader also times read_timeline),
// indexing, statistics and overview, then the time to paint a 1600x1000 timeline at full
// zoom-out (GPUs collapsed and expanded), while panning, and zoomed in.
#include <QApplication>
#include <QImage>
#include <QStringList>
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numeric>
#include <string>
#include <tuple>
#include <vector>

#include "core/bundle.hpp"
#include "core/synthetic.hpp"
#include "core/trace_reader.hpp"
#include "report/timeline_json.hpp"
#include "timeline/timeline_view.hpp"
#include "timeline/timeline_widget.hpp"

using namespace strata;
using namespace strata::gui;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }
// Process CPU time: on a shared machine, wall time also counts waiting for a core.
double cpu_now() { return double(std::clock()) / CLOCKS_PER_SEC; }

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

// A "measured" copy of a timeline: durations scaled per kind with a deterministic jitter, start
// times re-derived per stream, so that the compare view has something to show.
Timeline measured_copy(const Timeline& t) {
  Timeline m = t;
  m.source = "measured";
  std::uint32_t h = 12345;
  for (auto& e : m.events) {
    h = h * 1103515245u + 12345u;
    double jitter = 0.9 + 0.3 * double((h >> 8) & 0xffff) / 65535.0;
    double scale = e.category == Category::compute ? 1.08 : (e.category == Category::tp ? 1.35 : 1.0);
    e.dur_s = std::round(e.dur_s * scale * jitter * 1e9) / 1e9;
  }
  // Re-flow each (rank, stream) so events stay in order without overlapping.
  std::vector<std::size_t> order(m.events.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const auto &x = t.events[a], &y = t.events[b];
    return std::tie(x.rank, x.stream, x.start_s) < std::tie(y.rank, y.stream, y.start_s);
  });
  double cursor = 0;
  int rank = -1, stream = -1;
  for (std::size_t i : order) {
    auto& e = m.events[i];
    if (e.rank != rank || int(e.stream) != stream) rank = e.rank, stream = int(e.stream), cursor = 0;
    double shift = std::round(t.events[i].start_s * 1.1 * 1e9) / 1e9;
    e.start_s = std::max(cursor, shift);
    cursor = e.start_s + e.dur_s;
  }
  return m;
}

struct FrameStats {
  double mean_ms = 0, max_ms = 0, cpu_ms = 0;
};

FrameStats time_frames(TimelineWidget* w, int frames, const std::function<void(int)>& step) {
  QImage img(w->size(), QImage::Format_RGB32);
  std::vector<double> ms;
  double cpu0 = cpu_now();
  for (int i = 0; i < frames; ++i) {
    step(i);
    auto t0 = Clock::now();
    w->render(&img);
    ms.push_back(since(t0) * 1e3);
  }
  FrameStats s;
  s.cpu_ms = (cpu_now() - cpu0) * 1e3 / frames;
  s.mean_ms = std::accumulate(ms.begin(), ms.end(), 0.0) / double(ms.size());
  s.max_ms = *std::max_element(ms.begin(), ms.end());
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (!std::getenv("QT_QPA_PLATFORM")) setenv("QT_QPA_PLATFORM", "offscreen", 1);
  QApplication app(argc, argv);
  std::size_t events = 1000000;
  int frames = 30;
  bool lead = false;
  std::string keep, fixtures;
  QStringList args = app.arguments();
  for (int i = 1; i < args.size(); ++i) {
    if (args[i] == "--events" && i + 1 < args.size()) events = args[++i].toULongLong();
    else if (args[i] == "--frames" && i + 1 < args.size()) frames = args[++i].toInt();
    else if (args[i] == "--lead-reader") lead = true;
    else if (args[i] == "--keep" && i + 1 < args.size()) keep = args[++i].toStdString();
    else if (args[i] == "--write-fixtures" && i + 1 < args.size()) fixtures = args[++i].toStdString();
    else {
      std::fprintf(stderr, "usage: strata_gui_bench [--events N] [--frames K] [--lead-reader] [--keep FILE] | --write-fixtures DIR\n");
      return 2;
    }
  }
  try {
    if (!fixtures.empty()) {
      SyntheticSpec s;  // 2 nodes x 2 GPUs, tp 2 x pp 2, 4 micro-batches
      Timeline t = make_synthetic_timeline(s);
      write_file(fixtures + "/pipeline_4gpu.json", write_chrome_trace(t));
      write_file(fixtures + "/pipeline_4gpu_measured.json", write_chrome_trace(measured_copy(t)));
      std::printf("wrote %s/pipeline_4gpu.json (%zu events) and pipeline_4gpu_measured.json\n", fixtures.c_str(), t.events.size());
      return 0;
    }

    auto t0 = Clock::now();
    Timeline t = make_synthetic_timeline(spec_for_events(events));
    double gen_s = since(t0);
    t0 = Clock::now();
    std::string text = write_chrome_trace(t);
    double write_s = since(t0);
    std::string path = keep.empty() ? (std::filesystem::temp_directory_path() / "strata_gui_bench.json").string() : keep;
    write_file(path, text);
    std::size_t bytes = text.size();
    std::string().swap(text);
    std::printf("synthetic timeline: %zu events, %zu GPUs, %zu memory samples; %.1f MB of JSON (generated %.2f s, written %.2f s)\n",
                t.events.size(), t.ranks.size(), t.memory.size(), double(bytes) / 1e6, gen_s, write_s);
    t = Timeline();  // free it: the reader starts from the file alone

    // Opening, as strata-gui does it on its worker thread.
    double cpu0 = cpu_now();
    t0 = Clock::now();
    LoadedTrace lt = read_trace_file(path);
    double read_s = since(t0);
    t0 = Clock::now();
    auto idx = TimelineIndex::build(std::move(lt));
    double index_s = since(t0);
    t0 = Clock::now();
    TimelineBundle b = make_bundle(idx);
    double derive_s = since(t0);
    double open_cpu = cpu_now() - cpu0;
    std::printf("open: read %.3f s + index %.3f s + statistics/overview %.3f s = %.3f s wall, %.3f s CPU  (%zu tracks, %zu flows)\n",
                read_s, index_s, derive_s, read_s + index_s + derive_s, open_cpu, idx->tracks().size(), idx->flows().size());
    if (lead) {
      t0 = Clock::now();
      Timeline lt2 = read_timeline(path);
      std::printf("for comparison, read_timeline (the same reader, no args spans): %.3f s for %zu events\n", since(t0), lt2.events.size());
    }

    TimelineView view;
    view.resize(1600, 1000);
    view.show();
    t0 = Clock::now();
    view.setBundle(b);
    app.processEvents();
    std::printf("first show (set data, lay out, first paint): %.3f s\n", since(t0));
    TimelineWidget* w = view.timeline();
    std::printf("timeline widget %dx%d, event area %d px wide\n", w->width(), w->height(), w->eventArea().width());

    w->fitAll();
    FrameStats collapsed = time_frames(w, frames, [](int) {});
    std::printf("frame at full zoom-out, GPUs collapsed (64 rows):        mean %.2f ms, max %.2f ms, CPU %.2f ms\n", collapsed.mean_ms, collapsed.max_ms, collapsed.cpu_ms);
    w->collapseAll(false, false);
    w->fitAll();
    FrameStats expanded = time_frames(w, frames, [](int) {});
    std::printf("frame at full zoom-out, all streams expanded:             mean %.2f ms, max %.2f ms, CPU %.2f ms\n", expanded.mean_ms, expanded.max_ms, expanded.cpu_ms);
    w->setShowFlows(false);
    FrameStats noflows = time_frames(w, frames, [](int) {});
    std::printf("  same without flows:                                      mean %.2f ms, max %.2f ms, CPU %.2f ms\n", noflows.mean_ms, noflows.max_ms, noflows.cpu_ms);
    w->setShowMemory(false);
    FrameStats nomem = time_frames(w, frames, [](int) {});
    std::printf("  same without flows and memory rows:                      mean %.2f ms, max %.2f ms, CPU %.2f ms\n", nomem.mean_ms, nomem.max_ms, nomem.cpu_ms);
    w->setShowMemory(true);
    w->setShowFlows(true);
    FrameStats pan = time_frames(w, frames, [w](int i) { w->panPixels(i % 2 ? 37 : -41); });
    std::printf("frame while panning at full zoom-out:                      mean %.2f ms, max %.2f ms, CPU %.2f ms\n", pan.mean_ms, pan.max_ms, pan.cpu_ms);
    w->zoomAt(100, w->eventArea().width() / 2.0);
    FrameStats zoomed = time_frames(w, frames, [w](int i) { w->panPixels(i % 2 ? 53 : -50); });
    std::printf("frame zoomed in 100x (labels, flows) while panning:        mean %.2f ms, max %.2f ms, CPU %.2f ms\n", zoomed.mean_ms, zoomed.max_ms, zoomed.cpu_ms);
    FrameStats wheel = time_frames(w, frames, [w](int i) { w->zoomAt(i % 2 ? 1.25 : 0.8, 400); });
    std::printf("frame while wheel-zooming:                                 mean %.2f ms, max %.2f ms, CPU %.2f ms\n", wheel.mean_ms, wheel.max_ms, wheel.cpu_ms);
    if (keep.empty()) std::filesystem::remove(path);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "strata_gui_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
