#pragma once
// The one reader of Chrome-trace timelines (CONTRACT §4) into a Timeline: read_timeline(),
// timeline_from_json(), `strata compare` and strata-gui all come here.
//
// One pass over the text (memory-mapped when read from a file), no JSON DOM: a million-event
// trace (190 MB) reads in about 0.5 s into little more than the Timeline itself (through an
// nlohmann DOM it took ~10 s and ~1.9 GB; bench/bench_timeline_reader.cpp). Only the small
// top-level "strata" block (the report) goes through nlohmann.
//
// It reads what timeline_to_string writes (pid = rank, tid = stream, args task/microbatch/layer/
// flops/bytes/measured/exposed, bind_id flows, "memory" counters, the "strata" block) and any
// other Chrome trace: the bare array form, string pids/tids, comma-separated categories,
// "process_name"/"thread_name" metadata; events it does not hold (B/E/i/s/f/..., counters that
// are not memory, events without "ph") are counted in skipped_events. Arguments it does not
// understand (a string "task", a nested object) are ignored. Errors throw InputError naming the
// file, the event and field (e.g. "traceEvents[12].ts"), what was expected and what was found,
// and the line and column; no input can crash it (nesting is limited, ids range-checked; other numbers are taken as written, non-finite ones ignored).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "report/timeline.hpp"

namespace strata {

// Where a piece of the text sits (byte offset and length).
struct TextSpan {
  std::uint64_t offset = 0;
  std::uint32_t length = 0;
};

struct TimelineReadOptions {
  bool arg_spans = false;  // fill TimelineFile::args (for a details view that shows every argument)
  bool positions = true;   // append "(line L, column C)" to error messages
};

struct TimelineFile {
  Timeline timeline;
  std::vector<TextSpan> args;      // with arg_spans: per timeline event, its "args" object (an empty span if it has none: it reads back as "")
  std::string path;                // the file name given
  std::size_t skipped_events = 0;  // trace events of kinds the timeline does not hold
};

TimelineFile parse_timeline(std::string_view text, const std::string& file, const TimelineReadOptions& options = {});
// Reads a file (memory-mapped); a missing, unreadable or empty file is an InputError.
TimelineFile read_timeline_file(const std::string& path, const TimelineReadOptions& options = {});
// The text of one span of a file, re-read ("" if the file changed so that it is no longer an
// object there, or vanished).
std::string read_text_span(const std::string& path, TextSpan span);

// A read-only view of a whole regular file (mmap). Throws InputError when it cannot be opened.
class MappedFile {
public:
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  std::string_view text() const { return {data_ ? data_ : "", size_}; }

private:
  int fd_ = -1;
  const char* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace strata
