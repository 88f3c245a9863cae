#include "app/loader.hpp"

#include <chrono>
#include <new>

#include "core/sim_runner.hpp"

namespace strata::gui {

LoadOutcome load_file(const QString& path) {
  LoadOutcome out;
  out.path = path;
  auto t0 = std::chrono::steady_clock::now();
  const std::string p = path.toStdString();
  try {
    out.kind = detect_file_kind(p);
    if (out.kind == FileKind::timeline) {
      out.bundle = make_bundle(TimelineIndex::build(read_trace_file(p)));
    } else {
      out.scenario = load_scenario(p);
      SimOutcome sim = run_simulation(*out.scenario, true);
      out.bundle = make_bundle(sim.index);
    }
  } catch (const InputError& e) {
    out.error = QString::fromStdString(e.what());
  } catch (const std::bad_alloc&) {
    out.error = QString("%1: not enough memory to open this file").arg(path);
  } catch (const std::exception& e) {
    out.error = QString("%1: %2").arg(path, QString::fromStdString(e.what()));
  } catch (...) {
    out.error = QString("%1: unexpected error while opening the file").arg(path);
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace strata::gui
