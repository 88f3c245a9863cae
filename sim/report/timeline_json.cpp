#include "report/timeline_json.hpp"

#include <charconv>
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

namespace {

// Appends a double in the shortest form that round-trips (std::to_chars), JSON-safe.
void put_num(std::string& out, double v) {
  if (!std::isfinite(v)) v = 0;
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}
void put_int(std::string& out, long long v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}
void put_str(std::string& out, const std::string& s) { out += Json(s).dump(); }

}  // namespace

// Written by hand rather than through a Json tree: a timeline of a large job has millions of
// events and this is the hot path of `simulate --trace` (about 10x faster than building a tree).
std::string timeline_to_string(const Timeline& t) {
  std::string out;
  out.reserve(256 + t.events.size() * 200 + t.memory.size() * 80);
  out += "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[";
  bool first = true;
  auto sep = [&] {
    if (!first) out += ',';
    first = false;
  };
  auto meta = [&](int pid, int tid, const char* name, const std::string& key, const std::string& str_value, long long int_value,
                  bool is_int) {
    sep();
    out += "{\"ph\":\"M\",\"pid\":";
    put_int(out, pid);
    out += ",\"tid\":";
    put_int(out, tid);
    out += ",\"name\":\"";
    out += name;
    out += "\",\"args\":{\"" + key + "\":";
    if (is_int) put_int(out, int_value);
    else put_str(out, str_value);
    out += "}}";
  };
  for (const auto& r : t.ranks) {
    char label[96];
    std::snprintf(label, sizeof label, "node %d / gpu %d (rank %d)", r.node, r.local_gpu, r.rank);
    meta(r.rank, 0, "process_name", "name", label, 0, false);
    meta(r.rank, 0, "process_sort_index", "sort_index", "", r.rank, true);
    meta(r.rank, 0, "process_labels", "labels", "stage " + std::to_string(r.stage) + ", class " + std::to_string(r.rank_class), 0, false);
    for (int s = 0; s < kStreams; ++s) {
      meta(r.rank, s, "thread_name", "name", stream_name(Stream(s)), 0, false);
      meta(r.rank, s, "thread_sort_index", "sort_index", "", s, true);
    }
  }
  std::vector<std::string> quoted(t.names.size());
  for (std::size_t i = 0; i < t.names.size(); ++i) quoted[i] = Json(t.names[i]).dump();
  for (const auto& e : t.events) {
    sep();
    out += "{\"ph\":\"X\",\"pid\":";
    put_int(out, e.rank);
    out += ",\"tid\":";
    put_int(out, int(e.stream));
    out += ",\"name\":";
    out += e.name < quoted.size() ? quoted[e.name] : std::string("\"?\"");
    out += ",\"cat\":\"";
    out += category_name(e.category);
    out += "\",\"ts\":";
    put_num(out, e.start_s * kUsPerS);
    out += ",\"dur\":";
    put_num(out, e.dur_s * kUsPerS);
    if (e.flow >= 0) {
      out += ",\"bind_id\":";
      put_int(out, e.flow);
      out += e.flow_out ? ",\"flow_out\":true" : ",\"flow_in\":true";
    }
    out += ",\"args\":{\"task\":";
    put_int(out, e.task);
    out += ",\"microbatch\":";
    put_int(out, e.microbatch);
    out += ",\"layer\":";
    put_int(out, e.layer);
    out += ",\"flops\":";
    put_num(out, e.flops);
    out += ",\"bytes\":";
    put_num(out, e.bytes);
    if (!e.measured) out += ",\"measured\":false";
    if (e.exposed) out += ",\"exposed\":true";
    out += "}}";
  }
  for (const auto& c : t.memory) {
    sep();
    out += "{\"ph\":\"C\",\"pid\":";
    put_int(out, c.rank);
    out += ",\"tid\":0,\"name\":\"memory\",\"ts\":";
    put_num(out, c.t_s * kUsPerS);
    out += ",\"args\":{\"bytes\":";
    put_num(out, c.bytes);
    out += "}}";
  }
  out += "],\"strata\":";
  Json ranks = Json::array();
  for (const auto& r : t.ranks)
    ranks.push_back({{"rank", r.rank}, {"node", r.node}, {"gpu", r.local_gpu}, {"class", r.rank_class}, {"stage", r.stage}});
  Json strata = {{"source", t.source}, {"capacity_bytes", t.capacity_bytes}, {"ranks", std::move(ranks)}};
  if (!t.report.is_null()) strata["report"] = t.report;
  out += strata.dump();
  out += "}";
  return out;
}

Json timeline_to_json(const Timeline& t) { return Json::parse(timeline_to_string(t)); }

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
