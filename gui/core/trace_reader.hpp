#pragma once
// strata-gui's glue over the library's timeline reader (report/timeline_reader.hpp): the one
// reader of Chrome-trace timelines, one pass over the memory-mapped text, asked here to keep
// where each event's `args` object sits in the file so that the details panel can show every
// argument on demand. Plus what the GUI alone needs: telling a timeline from a scenario.
#include <string>
#include <string_view>

#include "report/timeline_reader.hpp"

namespace strata::gui {

using strata::TextSpan;
using LoadedTrace = strata::TimelineFile;  // timeline, args spans, path, skipped_events

// The library reader with args spans (InputError naming file, event, field, line and column).
LoadedTrace parse_trace_text(std::string_view text, const std::string& file);
LoadedTrace read_trace_file(const std::string& path);
// The raw args text of one event (re-read from the file; "" if it changed or vanished).
inline std::string read_args_text(const std::string& path, TextSpan span) { return read_text_span(path, span); }

// What a file holds, decided by content: a Chrome trace has "traceEvents" (or is a JSON array);
// anything else that is a JSON object is taken for a scenario. Throws InputError when the file
// cannot be read or is empty.
enum class FileKind { timeline, scenario };
FileKind detect_file_kind(const std::string& path);

}  // namespace strata::gui
