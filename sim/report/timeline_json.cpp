#include "report/timeline_json.hpp"

#include <cmath>
#include <cstdio>
#include <map>
#include <unordered_map>

#include "io/atomic_file.hpp"

namespace strata {
namespace {

// Chrome trace timestamps are microseconds; keep sub-nanosecond resolution in print.
constexpr double kUsPerS = 1e6;

Category parse_category(const std::string& c) {
  for (int i = 0; i < int(Category::count); ++i)
    if (c == category_name(Category(i))) return Category(i);
  return Category::compute;
}

Stream stream_from_tid(int tid) {
  return (tid >= 0 && tid < kStreams) ? Stream(tid) : Stream::compute;
}

}  // namespace

Json timeline_to_json(const Timeline& t) {
  Json events = Json::array();
  // Metadata: process (rank) and thread (stream) names, sorted so Perfetto orders tracks.
  for (const auto& r : t.ranks) {
    char label[96];
    std::snprintf(label, sizeof label, "node %d / gpu %d (rank %d)", r.node, r.local_gpu, r.rank);
    events.push_back({{"ph", "M"}, {"pid", r.rank}, {"tid", 0}, {"name", "process_name"}, {"args", {{"name", label}}}});
    events.push_back({{"ph", "M"}, {"pid", r.rank}, {"tid", 0}, {"name", "process_sort_index"}, {"args", {{"sort_index", r.rank}}}});
    events.push_back({{"ph", "M"}, {"pid", r.rank}, {"tid", 0}, {"name", "process_labels"},
                      {"args", {{"labels", "stage " + std::to_string(r.stage) + ", class " + std::to_string(r.rank_class)}}}});
    for (int s = 0; s < kStreams; ++s) {
      events.push_back({{"ph", "M"}, {"pid", r.rank}, {"tid", s}, {"name", "thread_name"}, {"args", {{"name", stream_name(Stream(s))}}}});
      events.push_back({{"ph", "M"}, {"pid", r.rank}, {"tid", s}, {"name", "thread_sort_index"}, {"args", {{"sort_index", s}}}});
    }
  }
  for (const auto& e : t.events) {
    Json args = {{"task", e.task}, {"microbatch", e.microbatch}, {"layer", e.layer}, {"flops", e.flops}, {"bytes", e.bytes}};
    if (!e.measured) args["measured"] = false;
    if (e.exposed) args["exposed"] = true;
    Json ev = {{"ph", "X"},
               {"pid", e.rank},
               {"tid", int(e.stream)},
               {"name", e.name < t.names.size() ? t.names[e.name] : std::string("?")},
               {"cat", category_name(e.category)},
               {"ts", e.start_s * kUsPerS},
               {"dur", e.dur_s * kUsPerS},
               {"args", std::move(args)}};
    if (e.flow >= 0) {
      ev["bind_id"] = e.flow;
      ev[e.flow_out ? "flow_out" : "flow_in"] = true;
    }
    events.push_back(std::move(ev));
  }
  for (const auto& c : t.memory)
    events.push_back({{"ph", "C"}, {"pid", c.rank}, {"tid", 0}, {"name", "memory"}, {"ts", c.t_s * kUsPerS},
                      {"args", {{"bytes", c.bytes}}}});
  Json ranks = Json::array();
  for (const auto& r : t.ranks)
    ranks.push_back({{"rank", r.rank}, {"node", r.node}, {"gpu", r.local_gpu}, {"class", r.rank_class}, {"stage", r.stage}});
  Json root = {{"traceEvents", std::move(events)},
               {"displayTimeUnit", "ms"},
               {"strata", {{"source", t.source}, {"capacity_bytes", t.capacity_bytes}, {"ranks", std::move(ranks)}}}};
  if (!t.report.is_null()) root["strata"]["report"] = t.report;
  return root;
}

std::string timeline_to_string(const Timeline& t) { return timeline_to_json(t).dump(); }

void write_timeline(const Timeline& t, const std::string& path) { write_file_atomic(path, timeline_to_string(t)); }

Timeline timeline_from_json(const Json& j, const std::string& file) {
  JsonReader root(j, file);
  Timeline t;
  const Json* events_json = nullptr;
  if (j.is_array()) events_json = &j;  // bare Chrome trace array form
  else {
    root.expect_object();
    events_json = &root.child("traceEvents").json();
    if (!events_json->is_array()) root.fail_at("traceEvents", "expected an array of trace events");
  }
  std::map<int, TimelineRank> ranks;
  if (j.is_object() && j.contains("strata") && j["strata"].is_object()) {
    JsonReader s = root.child("strata");
    t.source = s.get_string("source", "simulated");
    t.capacity_bytes = s.get_number("capacity_bytes", 0, 1e18, 0);
    if (s.has("report")) t.report = j["strata"]["report"];
    if (s.has("ranks")) {
      JsonReader rs = s.child("ranks");
      for (std::size_t i = 0; i < rs.array_size(); ++i) {
        JsonReader r = rs.element(i);
        TimelineRank tr;
        tr.rank = int(r.get_int("rank", 0, 1 << 30));
        tr.node = int(r.get_int("node", 0, 1 << 30, 0));
        tr.local_gpu = int(r.get_int("gpu", 0, 1 << 30, 0));
        tr.rank_class = int(r.get_int("class", 0, 1 << 30, 0));
        tr.stage = int(r.get_int("stage", 0, 1 << 30, 0));
        ranks[tr.rank] = tr;
      }
    }
  }
  std::unordered_map<std::string, std::uint32_t> name_ids;
  auto intern = [&](const std::string& s) {
    auto it = name_ids.find(s);
    if (it != name_ids.end()) return it->second;
    t.names.push_back(s);
    name_ids.emplace(s, std::uint32_t(t.names.size() - 1));
    return std::uint32_t(t.names.size() - 1);
  };
  const Json& evs = *events_json;
  t.events.reserve(evs.size());
  for (std::size_t i = 0; i < evs.size(); ++i) {
    const Json& e = evs[i];
    JsonReader er(e, file, "traceEvents[" + std::to_string(i) + "]");
    if (!e.is_object()) er.fail("expected a trace event object");
    std::string ph = er.get_string("ph", "");
    if (ph == "X") {
      TimelineEvent ev;
      ev.rank = int(er.get_int("pid", 0, 1 << 30, 0));
      ev.stream = stream_from_tid(int(er.get_int("tid", -(1 << 30), 1 << 30, 0)));
      ev.name = intern(er.get_string("name", "?"));
      ev.category = parse_category(er.get_string("cat", "compute"));
      ev.start_s = er.get_number("ts", -1e18, 1e18) / kUsPerS;
      ev.dur_s = er.get_number("dur", 0, 1e18, 0) / kUsPerS;
      if (er.has("args") && e["args"].is_object()) {
        JsonReader a = er.child("args");
        ev.task = int(a.get_int("task", -1, 1 << 30, -1));
        ev.microbatch = int(a.get_int("microbatch", -1, 1 << 30, -1));
        ev.layer = int(a.get_int("layer", -1, 1 << 30, -1));
        ev.flops = a.get_number("flops", 0, 1e30, 0);
        ev.bytes = a.get_number("bytes", 0, 1e30, 0);
        ev.measured = a.get_bool("measured", true);
        ev.exposed = a.get_bool("exposed", false);
      }
      if (er.has("bind_id")) {
        ev.flow = er.get_int("bind_id", 0, INT64_MAX / 2);
        ev.flow_out = er.get_bool("flow_out", false);
      }
      if (!ranks.count(ev.rank)) ranks[ev.rank] = TimelineRank{ev.rank, 0, ev.rank, 0, 0};
      t.events.push_back(ev);
    } else if (ph == "C") {
      CounterSample c;
      c.rank = int(er.get_int("pid", 0, 1 << 30, 0));
      c.t_s = er.get_number("ts", -1e18, 1e18) / kUsPerS;
      if (er.has("args") && e["args"].is_object()) c.bytes = er.child("args").get_number("bytes", -1e30, 1e30, 0);
      t.memory.push_back(c);
    } else if (ph == "M" && er.get_string("name", "") == "process_name" && !ranks.count(int(er.get_int("pid", 0, 1 << 30, 0)))) {
      // Parse "node N / gpu G (rank R)" when the strata block is absent.
      int pid = int(er.get_int("pid", 0, 1 << 30, 0));
      TimelineRank tr{pid, 0, pid, 0, 0};
      if (e.contains("args") && e["args"].is_object() && e["args"].contains("name") && e["args"]["name"].is_string()) {
        int n = 0, g = 0, r = 0;
        if (std::sscanf(e["args"]["name"].get<std::string>().c_str(), "node %d / gpu %d (rank %d)", &n, &g, &r) == 3) {
          tr.node = n;
          tr.local_gpu = g;
        }
      }
      ranks[pid] = tr;
    }
  }
  for (auto& [id, r] : ranks) t.ranks.push_back(r);
  return t;
}

Timeline read_timeline(const std::string& path) { return timeline_from_json(read_json_file(path), path); }

}  // namespace strata
