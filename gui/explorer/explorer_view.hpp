#pragma once
// The strategy explorer: choose a model (preset or HF config.json), a topology and node count
// and a workload; every valid strategy of a built-in enumeration is listed and simulated in the
// background (one worker per job, the UI never waits); the table sorts and filters, the scatter
// shows throughput against memory with the Pareto front, and selecting a row shows its timeline.
#include <QFutureWatcher>
#include <QWidget>
#include <deque>
#include <memory>

#include "core/bundle.hpp"
#include "core/explorer_model.hpp"

class QComboBox;
class QSpinBox;
class QPushButton;
class QProgressBar;
class QLabel;
class QLineEdit;
class QCheckBox;
class QTableView;

namespace strata::gui {

class ScatterWidget;
class TimelineView;

class ExplorerView : public QWidget {
  Q_OBJECT
public:
  explicit ExplorerView(QWidget* parent = nullptr);
  ~ExplorerView() override;

  ExplorerInputs inputs() const;
  void setInputs(const ExplorerInputs& in);
  void setFromScenario(const Scenario& s);

  // Enumerate and simulate in the background; `blocking` runs everything here and now (for
  // --screenshot and tests) and then selects the best strategy that fits.
  bool explore(bool blocking = false);
  void selectRow(int source_row, bool blocking = false);

  ExplorerModel* model() const { return model_; }
  ExplorerFilter* proxy() const { return proxy_; }
  QTableView* table() const { return table_; }
  ScatterWidget* scatter() const { return scatter_; }
  TimelineView* timelineView() const { return timeline_; }
  QString lastError() const { return last_error_; }
  void setMaxStrategies(int n) { max_strategies_ = n; }  // the table's cap (default 240)

signals:
  void errorOccurred(QString message);

private:
  void startNext();
  void jobFinished(int row, const StrategyMetrics& m, const QString& error);
  void refreshScatter();
  void updateProgress();
  int bestRow() const;

  ExplorerModel* model_;
  ExplorerFilter* proxy_;
  QComboBox* model_box_;
  QComboBox* topo_box_;
  QSpinBox* nodes_;
  QComboBox* workload_;
  QSpinBox* seq_len_;
  QSpinBox* global_batch_;
  QSpinBox* batch_;
  QSpinBox* prompt_;
  QSpinBox* gen_;
  QPushButton* run_;
  QPushButton* stop_;
  QProgressBar* progress_;
  QLabel* status_;
  QLineEdit* filter_;
  QCheckBox* fits_only_;
  QTableView* table_;
  ScatterWidget* scatter_;
  TimelineView* timeline_;
  QString hf_config_;
  QString last_error_;

  int generation_ = 0;          // results of an older exploration are dropped
  std::deque<int> queue_;
  int running_ = 0, done_ = 0;
  int timeline_generation_ = 0;
  int max_strategies_ = 240;
};

}  // namespace strata::gui
