#include "app/main_window.hpp"

#include <QApplication>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QStatusBar>
#include <QTabWidget>
#include <QTimer>
#include <QtConcurrent/QtConcurrentRun>
#include <cstdio>

#include "compare/compare_view.hpp"
#include "core/sim_runner.hpp"
#include "explorer/explorer_view.hpp"
#include "timeline/timeline_view.hpp"

namespace strata::gui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setWindowTitle(tr("Strata"));
  setAcceptDrops(true);
  tabs_ = new QTabWidget(this);
  timeline_ = new TimelineView(tabs_);
  explorer_ = new ExplorerView(tabs_);
  compare_ = new CompareView(tabs_);
  tabs_->addTab(timeline_, tr("Timeline"));
  tabs_->addTab(explorer_, tr("Strategy explorer"));
  tabs_->addTab(compare_, tr("Compare"));
  setCentralWidget(tabs_);

  busy_label_ = new QLabel(this);
  busy_bar_ = new QProgressBar(this);
  busy_bar_->setRange(0, 0);  // busy indicator: reading and simulating report no fraction
  busy_bar_->setMaximumWidth(160);
  busy_bar_->setVisible(false);
  statusBar()->addPermanentWidget(busy_label_);
  statusBar()->addPermanentWidget(busy_bar_);
  busy_timer_ = new QTimer(this);
  busy_timer_->setInterval(200);
  busy_clock_ = new QElapsedTimer;
  connect(busy_timer_, &QTimer::timeout, this, &MainWindow::updateBusy);

  QMenu* file = menuBar()->addMenu(tr("&File"));
  file->addAction(tr("&Open timeline or scenario…"), QKeySequence::Open, this, [this] { openDialog(Target::timeline); });
  file->addAction(tr("Open compare &A…"), this, [this] { openDialog(Target::compare_a); });
  file->addAction(tr("Open compare &B…"), this, [this] { openDialog(Target::compare_b); });
  file->addSeparator();
  file->addAction(tr("Save &screenshot…"), this, &MainWindow::saveScreenshot);
  file->addSeparator();
  file->addAction(tr("&Quit"), QKeySequence::Quit, qApp, &QApplication::quit);
  QMenu* view = menuBar()->addMenu(tr("&View"));
  view->addAction(tr("&Timeline"), QKeySequence(Qt::CTRL | Qt::Key_1), this, [this] { tabs_->setCurrentIndex(0); });
  view->addAction(tr("Strategy &explorer"), QKeySequence(Qt::CTRL | Qt::Key_2), this, [this] { tabs_->setCurrentIndex(1); });
  view->addAction(tr("&Compare"), QKeySequence(Qt::CTRL | Qt::Key_3), this, [this] { tabs_->setCurrentIndex(2); });
  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("&Keys and mouse"), this, [this] {
    QMessageBox::information(this, tr("Keys and mouse"),
                             tr("Wheel: zoom around the cursor (Ctrl: finer) · Shift+wheel: scroll\n"
                                "Drag: pan · Shift+drag: zoom to the range · Double-click: zoom to a task\n"
                                "W/S or +/-: zoom · A/D or arrows: pan · F: fit selection · 0: fit all\n"
                                "Backspace: zoom back · . and ,: next/previous task on the track · Esc: clear\n"
                                "Click a node or GPU header to collapse or expand it."));
  });

  connect(explorer_, &ExplorerView::errorOccurred, this, [this](const QString& m) { reportError(tr("Strategy explorer"), m); });
  connect(compare_, &CompareView::openRequested, this, [this](int side) { openDialog(side == 0 ? Target::compare_a : Target::compare_b); });
  if (!simulation_available())
    statusBar()->showMessage(tr("Simulation engine not in this build: scenarios cannot be run yet; timelines open."), 10000);
}

MainWindow::~MainWindow() { delete busy_clock_; }

void MainWindow::showPage(const QString& name) {
  if (name == "explorer") tabs_->setCurrentWidget(explorer_);
  else if (name == "compare") tabs_->setCurrentWidget(compare_);
  else tabs_->setCurrentWidget(timeline_);
}

void MainWindow::openPaths(const QStringList& paths, bool blocking) {
  int timelines = 0;
  for (const QString& p : paths) {
    Target t = Target::timeline;
    try {
      if (detect_file_kind(p.toStdString()) == FileKind::timeline) t = timelines++ == 0 ? Target::timeline : Target::compare_b;
    } catch (const std::exception&) {
      // load_file reports the problem with the same message.
    }
    openFile(p, t, blocking);
  }
}

void MainWindow::openFile(const QString& path, Target target, bool blocking) {
  if (blocking) {
    apply(load_file(path), target);
    return;
  }
  ++pending_;
  busy_names_ << QFileInfo(path).fileName();
  if (!busy_timer_->isActive()) {
    busy_clock_->start();
    busy_timer_->start();
  }
  updateBusy();
  auto* w = new QFutureWatcher<LoadOutcome>(this);
  connect(w, &QFutureWatcher<LoadOutcome>::finished, this, [this, w, target] {
    LoadOutcome o = w->result();
    w->deleteLater();
    --pending_;
    busy_names_.removeOne(QFileInfo(o.path).fileName());
    if (pending_ == 0) busy_timer_->stop();
    updateBusy();
    apply(o, target);
  });
  w->setFuture(QtConcurrent::run([path] { return load_file(path); }));
}

void MainWindow::updateBusy() {
  bool busy = pending_ > 0;
  busy_bar_->setVisible(busy);
  busy_label_->setText(busy ? tr("Opening %1… %2 s").arg(busy_names_.join(", ")).arg(busy_clock_->elapsed() / 1000.0, 0, 'f', 1)
                            : QString());
}

void MainWindow::apply(const LoadOutcome& o, Target target) {
  if (o.scenario) explorer_->setFromScenario(*o.scenario);
  if (!o.ok()) {
    reportError(o.scenario ? tr("Cannot run the scenario") : tr("Cannot open the file"), o.error);
    if (o.scenario) showPage("explorer");
    return;
  }
  if (!o.bundle) return;
  statusBar()->showMessage(tr("Opened %1: %2 events in %3 s").arg(QFileInfo(o.path).fileName()).arg(o.bundle.index->event_count())
                               .arg(o.seconds, 0, 'f', 2), 8000);
  switch (target) {
    case Target::timeline:
      timeline_->setBundle(o.bundle);
      compare_->setA(o.bundle);
      setWindowTitle(tr("Strata — %1").arg(QString::fromStdString(o.bundle.index->title)));
      showPage("timeline");
      break;
    case Target::compare_a:
      compare_->setA(o.bundle);
      showPage("compare");
      break;
    case Target::compare_b:
      compare_->setB(o.bundle);
      showPage("compare");
      break;
  }
}

void MainWindow::reportError(const QString& title, const QString& message) {
  errors_ << message;
  std::fprintf(stderr, "strata-gui: %s\n", message.toLocal8Bit().constData());
  if (interactive_) QMessageBox::critical(this, title, message);
}

void MainWindow::openDialog(Target target) {
  QStringList files = QFileDialog::getOpenFileNames(this, tr("Open a timeline or a scenario"), {},
                                                    tr("Strata files (*.json);;All files (*)"));
  if (target == Target::timeline) openPaths(files, false);
  else if (!files.isEmpty()) openFile(files.front(), target, false);
}

void MainWindow::saveScreenshot() {
  QString f = QFileDialog::getSaveFileName(this, tr("Save screenshot"), "strata.png", tr("PNG (*.png)"));
  if (!f.isEmpty() && !grab().save(f)) reportError(tr("Screenshot"), tr("Cannot write %1").arg(f));
}

void MainWindow::dragEnterEvent(QDragEnterEvent* e) {
  if (e->mimeData()->hasUrls()) e->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* e) {
  QStringList paths;
  for (const QUrl& u : e->mimeData()->urls())
    if (u.isLocalFile()) paths << u.toLocalFile();
  openPaths(paths, false);
}

}  // namespace strata::gui
