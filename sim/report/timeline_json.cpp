#include "report/timeline_json.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "io/atomic_file.hpp"
#include "report/timeline_reader.hpp"

namespace strata {
namespace {

// Chrome trace timestamps are microseconds; keep sub-nanosecond resolution in print.
constexpr double kUsPerS = 1e6;

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

// Both readers are the one-pass text reader of timeline_reader.cpp. A DOM goes back to text first
// (a fraction of the cost of building it); its messages then carry no line and column.
Timeline timeline_from_json(const Json& j, const std::string& file) {
  TimelineReadOptions o;
  o.positions = false;
  return parse_timeline(j.dump(), file, o).timeline;
}

Timeline read_timeline(const std::string& path) { return read_timeline_file(path).timeline; }

}  // namespace strata
