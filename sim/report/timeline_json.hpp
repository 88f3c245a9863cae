#pragma once
// Chrome Trace Event Format I/O for Timeline (CONTRACT §4):
//  - one pid per rank with process_name "node N / gpu G (rank R)", one tid per stream;
//  - "X" events (ts/dur in microseconds) with cat and args {task, microbatch, layer, flops, bytes};
//  - pipeline send->recv flows as Perfetto v2 flows (bind_id + flow_out / flow_in);
//  - "C" counter events for memory in use per GPU;
//  - a top-level "strata" object carrying the report.
#include <string>

#include "report/timeline.hpp"

namespace strata {

Json timeline_to_json(const Timeline& t);
std::string timeline_to_string(const Timeline& t);
void write_timeline(const Timeline& t, const std::string& path);  // atomic
// Reads a Strata (or any Chrome-trace) timeline with the one-pass reader of timeline_reader.hpp
// (which also offers the args spans and the count of skipped events); throws InputError naming
// the file, the event and field, what was expected and, from a file, the line and column.
Timeline read_timeline(const std::string& path);
// The same from a DOM already in hand (written back to text and read; no line and column).
Timeline timeline_from_json(const Json& j, const std::string& file);

}  // namespace strata
