#pragma once
// Opening a file, on a worker thread: a Chrome-trace timeline is read and indexed; a scenario is
// parsed and, when the engine is built in, simulated. Every failure becomes a message (never an
// exception escaping into Qt, never a crash).
#include <QString>
#include <optional>

#include "core/bundle.hpp"
#include "core/trace_reader.hpp"
#include "io/scenario.hpp"

namespace strata::gui {

struct LoadOutcome {
  QString path;
  FileKind kind = FileKind::timeline;
  TimelineBundle bundle;             // set when a timeline was read or simulated
  std::optional<Scenario> scenario;  // set when the file was a scenario
  QString error;                     // empty on success
  double seconds = 0;
  bool ok() const { return error.isEmpty(); }
};

LoadOutcome load_file(const QString& path);

}  // namespace strata::gui
