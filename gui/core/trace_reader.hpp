#pragma once
// The GUI's reader for Chrome-trace timelines (CONTRACT §4) into strata::Timeline.
//
// Why not read_timeline(): that builds an nlohmann DOM, about 1 KB of heap per event, so a
// million-event trace costs seconds and a gigabyte. This reader makes one pass over the
// (memory-mapped) text and keeps only what the timeline needs, plus where each event's `args`
// object sits in the file, so that the details panel can show every argument on demand.
//
// It reads what timeline_to_json writes (pid = rank, tid = stream, args task/microbatch/layer/
// flops/bytes/measured/exposed, bind_id flows, "memory" counters, the "strata" block) and any
// other Chrome trace: the bare array form, string pids/tids, events it does not draw (B/E/i/...)
// are counted and skipped. Errors throw InputError naming the file, the line and column, the
// event and what was expected; nothing a file contains can crash it.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "report/timeline.hpp"

namespace strata::gui {

struct TextSpan {
  std::uint64_t offset = 0;
  std::uint32_t length = 0;
};

struct LoadedTrace {
  Timeline timeline;
  std::vector<TextSpan> args;     // per timeline event: its "args" object in the file text
  std::string path;               // "" when parsed from memory
  std::size_t skipped_events = 0; // trace events of kinds the timeline does not hold
  std::vector<std::string> warnings;
};

LoadedTrace parse_trace_text(std::string_view text, const std::string& file);
LoadedTrace read_trace_file(const std::string& path);
// The raw args text of one event (re-read from the file; "" if it changed or vanished).
std::string read_args_text(const std::string& path, TextSpan span);

// What a file holds, decided by content: a Chrome trace has "traceEvents" (or is a JSON array);
// anything else that is a JSON object is taken for a scenario. Throws InputError when the file
// cannot be read or is empty.
enum class FileKind { timeline, scenario };
FileKind detect_file_kind(const std::string& path);

}  // namespace strata::gui
