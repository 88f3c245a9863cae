// strata-gui [SCENARIO.json|TIMELINE.json ...] [--screenshot OUT.png [--view timeline|explorer|compare] [--size WxH] [--search TEXT]]
#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "app/main_window.hpp"
#include "compare/compare_view.hpp"
#include "explorer/explorer_view.hpp"
#include "timeline/timeline_view.hpp"

using strata::gui::MainWindow;

int main(int argc, char** argv) {
  // Screenshots render offscreen, the same on every machine, with or without a display.
  bool screenshot = false;
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--screenshot") == 0 || std::strncmp(argv[i], "--screenshot=", 13) == 0) screenshot = true;
  if (screenshot && !std::getenv("QT_QPA_PLATFORM")) setenv("QT_QPA_PLATFORM", "offscreen", 1);

  QApplication app(argc, argv);
  QApplication::setApplicationName("strata-gui");
  QApplication::setOrganizationName("strata");
  QCommandLineParser cli;
  cli.setApplicationDescription("Strata: timelines, strategy explorer and predicted-vs-measured comparison.");
  cli.addHelpOption();
  cli.addPositionalArgument("files", "Scenario files (simulated) and timelines (Chrome trace JSON); two timelines open in Compare.",
                            "[SCENARIO.json|TIMELINE.json ...]");
  QCommandLineOption shot("screenshot", "Render to a PNG offscreen and exit.", "OUT.png");
  QCommandLineOption view("view", "Page for --screenshot: timeline, explorer or compare.", "page", "timeline");
  QCommandLineOption size("size", "Window size for --screenshot.", "WxH", "1600x1000");
  QCommandLineOption search("search", "Select the first task whose name contains TEXT (details shown).", "TEXT");
  cli.addOptions({shot, view, size, search});
  cli.process(app);

  MainWindow w;
  const QStringList files = cli.positionalArguments();
  if (!cli.isSet(shot)) {
    w.resize(1600, 1000);
    w.show();
    QTimer::singleShot(0, &w, [&w, files] { w.openPaths(files, false); });
    if (cli.isSet(search)) std::fprintf(stderr, "strata-gui: --search applies to --screenshot; use the search box\n");
    return app.exec();
  }

  const QString page = cli.value(view);
  if (page != "timeline" && page != "explorer" && page != "compare") {
    std::fprintf(stderr, "strata-gui: --view must be timeline, explorer or compare (got \"%s\")\n", qPrintable(page));
    return 2;
  }
  QStringList wh = cli.value(size).split('x');
  int width = wh.size() == 2 ? wh[0].toInt() : 0, height = wh.size() == 2 ? wh[1].toInt() : 0;
  if (width < 200 || height < 150 || width > 8000 || height > 8000) {
    std::fprintf(stderr, "strata-gui: --size must be WxH within 200x150 .. 8000x8000 (got \"%s\")\n", qPrintable(cli.value(size)));
    return 2;
  }
  w.setInteractive(false);
  w.resize(width, height);
  w.show();
  app.processEvents();
  w.openPaths(files, true);
  w.showPage(page);
  for (int i = 0; i < 3; ++i) app.processEvents();  // lay the page out before acting on it
  if (page == "explorer") w.explorer()->explore(true);
  if (cli.isSet(search)) w.timelineView()->search(cli.value(search));
  if (page == "compare" && w.compare()->result() && !w.compare()->result()->tasks.empty()) w.compare()->locate(0);
  for (int i = 0; i < 3; ++i) app.processEvents();
  const QString out = cli.value(shot);
  if (!w.grab().save(out)) {
    std::fprintf(stderr, "strata-gui: cannot write %s\n", qPrintable(out));
    return 1;
  }
  std::printf("%s\n", qPrintable(out));
  return w.errors().isEmpty() ? 0 : 2;
}
