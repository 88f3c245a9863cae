#pragma once
// The application window: Timeline, Explorer and Compare pages, file opening on worker threads
// with a busy indicator, and errors as message boxes (or collected, when not interactive).
#include <QMainWindow>
#include <QStringList>

#include "app/loader.hpp"

class QTabWidget;
class QLabel;
class QProgressBar;
class QTimer;
class QElapsedTimer;

namespace strata::gui {

class TimelineView;
class ExplorerView;
class CompareView;

class MainWindow : public QMainWindow {
  Q_OBJECT
public:
  enum class Target { timeline, compare_a, compare_b };

  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // Interactive: errors in message boxes. Otherwise they are printed and kept in errors().
  void setInteractive(bool on) { interactive_ = on; }
  // Opens each path by content: the first timeline in the Timeline page (and as compare A), a
  // second one as compare B; a scenario is simulated and seeds the explorer.
  void openPaths(const QStringList& paths, bool blocking);
  void openFile(const QString& path, Target target, bool blocking);
  void showPage(const QString& name);  // "timeline", "explorer" or "compare"

  TimelineView* timelineView() const { return timeline_; }
  ExplorerView* explorer() const { return explorer_; }
  CompareView* compare() const { return compare_; }
  const QStringList& errors() const { return errors_; }
  int pendingLoads() const { return pending_; }

protected:
  void dragEnterEvent(QDragEnterEvent*) override;
  void dropEvent(QDropEvent*) override;

private:
  void apply(const LoadOutcome& o, Target target);
  void reportError(const QString& title, const QString& message);
  void updateBusy();
  void openDialog(Target target);
  void saveScreenshot();

  QTabWidget* tabs_;
  TimelineView* timeline_;
  ExplorerView* explorer_;
  CompareView* compare_;
  QLabel* busy_label_;
  QProgressBar* busy_bar_;
  QTimer* busy_timer_;
  QElapsedTimer* busy_clock_;
  QStringList busy_names_;
  bool interactive_ = true;
  int pending_ = 0;
  QStringList errors_;
};

}  // namespace strata::gui
