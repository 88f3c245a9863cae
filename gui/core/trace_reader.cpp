#include "core/trace_reader.hpp"

#include "io/input_error.hpp"

namespace strata::gui {

namespace {
TimelineReadOptions with_spans() {
  TimelineReadOptions o;
  o.arg_spans = true;
  return o;
}
}  // namespace

LoadedTrace parse_trace_text(std::string_view text, const std::string& file) { return parse_timeline(text, file, with_spans()); }

LoadedTrace read_trace_file(const std::string& path) { return read_timeline_file(path, with_spans()); }

FileKind detect_file_kind(const std::string& path) {
  MappedFile f(path);
  std::string_view t = f.text();
  std::size_t i = t.find_first_not_of(" \t\r\n");
  if (i == std::string_view::npos) throw InputError(path, "", "the file is empty");
  if (t[i] == '[') return FileKind::timeline;
  if (t[i] != '{') throw InputError(path, "", "not a JSON file (expected a scenario or a Chrome-trace timeline)");
  return t.find("\"traceEvents\"") != std::string_view::npos ? FileKind::timeline : FileKind::scenario;
}

}  // namespace strata::gui
