#include "explorer/explorer_view.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableView>
#include <QThread>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>
#include <filesystem>

#include "common/list_table.hpp"
#include "core/stats_model.hpp"
#include "explorer/scatter_widget.hpp"
#include "model/presets.hpp"
#include "timeline/timeline_view.hpp"
#include "timeline/timeline_widget.hpp"

namespace strata::gui {
namespace {

constexpr const char* kHfEntry = "HF config.json…";

QSpinBox* spin(QWidget* parent, int lo, int hi, int value, int step = 1) {
  auto* s = new QSpinBox(parent);
  s->setRange(lo, hi);
  s->setValue(value);
  s->setSingleStep(step);
  return s;
}

struct JobResult {
  StrategyMetrics metrics;
  QString error;
};

JobResult simulate_job(const Scenario& s) {
  JobResult r;
  try {
    r.metrics = run_simulation(s, false).metrics;
  } catch (const std::exception& e) {
    r.error = QString::fromStdString(e.what());
  }
  return r;
}

}  // namespace

ExplorerView::ExplorerView(QWidget* parent) : QWidget(parent) {
  model_ = new ExplorerModel(this);
  proxy_ = new ExplorerFilter(this);
  proxy_->setSourceModel(model_);

  model_box_ = new QComboBox(this);
  for (const auto& p : model_presets()) model_box_->addItem(QString::fromStdString(p.spec.name));
  model_box_->addItem(kHfEntry);
  model_box_->setCurrentIndex(std::max(0, model_box_->findText(QString::fromStdString(ExplorerInputs().model_preset))));
  topo_box_ = new QComboBox(this);
  for (const auto& t : list_topologies())
    topo_box_->addItem(QString::fromStdString(std::filesystem::path(t).stem().string()), QString::fromStdString(t));
  topo_box_->setCurrentIndex(std::max(0, topo_box_->findText(
                                             QString::fromStdString(std::filesystem::path(ExplorerInputs().topology).stem().string()))));
  nodes_ = spin(this, 1, 65536, 2);
  workload_ = new QComboBox(this);
  workload_->addItems({tr("train"), tr("inference")});
  seq_len_ = spin(this, 128, 1 << 20, 4096, 1024);
  global_batch_ = spin(this, 1, 1 << 20, 64, 8);
  batch_ = spin(this, 1, 1 << 16, 8);
  prompt_ = spin(this, 1, 1 << 20, 1024, 256);
  gen_ = spin(this, 0, 1 << 20, 128, 64);
  run_ = new QPushButton(tr("Explore"), this);
  run_->setDefault(true);
  stop_ = new QPushButton(tr("Stop"), this);
  stop_->setEnabled(false);
  progress_ = new QProgressBar(this);
  progress_->setMaximumWidth(260);
  progress_->setVisible(false);
  status_ = new QLabel(this);
  status_->setWordWrap(true);
  filter_ = new QLineEdit(this);
  filter_->setPlaceholderText(tr("Filter strategies, e.g. \"tp8\" or \"pp4\""));
  filter_->setClearButtonEnabled(true);
  fits_only_ = new QCheckBox(tr("Fits in memory only"), this);
  table_ = make_list_table(this, proxy_);
  scatter_ = new ScatterWidget(this);
  timeline_ = new TimelineView(this, false);

  auto* form = new QHBoxLayout;
  auto add = [&](const QString& label, QWidget* w) {
    auto* l = new QLabel(label, this);
    form->addWidget(l);
    form->addWidget(w);
  };
  add(tr("Model"), model_box_);
  add(tr("Topology"), topo_box_);
  add(tr("Nodes"), nodes_);
  add(tr("Workload"), workload_);
  add(tr("Seq len"), seq_len_);
  add(tr("Global batch"), global_batch_);
  add(tr("Batch"), batch_);
  add(tr("Prompt"), prompt_);
  add(tr("Generate"), gen_);
  form->addWidget(run_);
  form->addWidget(stop_);
  form->addStretch(1);
  auto* status_row = new QHBoxLayout;
  status_row->addWidget(progress_);
  status_row->addWidget(status_, 1);
  status_row->addWidget(filter_);
  status_row->addWidget(fits_only_);

  auto* top = new QSplitter(Qt::Horizontal, this);
  top->addWidget(table_);
  top->addWidget(scatter_);
  top->setStretchFactor(0, 3);
  top->setStretchFactor(1, 2);
  top->setSizes({1000, 480});
  auto* vsplit = new QSplitter(Qt::Vertical, this);
  vsplit->addWidget(top);
  vsplit->addWidget(timeline_);
  vsplit->setStretchFactor(0, 1);
  vsplit->setStretchFactor(1, 1);
  auto* lay = new QVBoxLayout(this);
  lay->addLayout(form);
  lay->addLayout(status_row);
  lay->addWidget(vsplit, 1);

  auto workload_changed = [this] {
    bool inf = workload_->currentIndex() == 1;
    seq_len_->setEnabled(!inf);
    global_batch_->setEnabled(!inf);
    batch_->setEnabled(inf);
    prompt_->setEnabled(inf);
    gen_->setEnabled(inf);
  };
  workload_changed();
  connect(workload_, &QComboBox::currentIndexChanged, this, workload_changed);
  connect(model_box_, &QComboBox::activated, this, [this](int i) {
    if (model_box_->itemText(i) != kHfEntry) return;
    QString f = QFileDialog::getOpenFileName(this, tr("Hugging Face config.json"), {}, tr("JSON (*.json)"));
    if (f.isEmpty()) {
      model_box_->setCurrentIndex(0);
      return;
    }
    hf_config_ = f;
    model_box_->setItemText(i, tr("HF: %1").arg(QFileInfo(f).dir().dirName() + "/" + QFileInfo(f).fileName()));
  });
  connect(run_, &QPushButton::clicked, this, [this] { explore(false); });
  connect(stop_, &QPushButton::clicked, this, [this] {
    queue_.clear();
    ++generation_;
    running_ = 0;
    updateProgress();
  });
  connect(filter_, &QLineEdit::textChanged, proxy_, &QSortFilterProxyModel::setFilterFixedString);
  connect(fits_only_, &QCheckBox::toggled, proxy_, &ExplorerFilter::setFitsOnly);
  connect(table_->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this](const QModelIndex& cur) {
    if (cur.isValid()) selectRow(proxy_->mapToSource(cur).row());
  });
  connect(scatter_, &ScatterWidget::rowClicked, this, [this](int row) {
    QModelIndex pi = proxy_->mapFromSource(model_->index(row, 0));
    if (pi.isValid()) table_->setCurrentIndex(pi);
    else selectRow(row);
  });
  if (!simulation_available())
    status_->setText(tr("The simulation engine is not part of this build yet: strategies are enumerated and validated, "
                        "but not simulated."));
}

ExplorerView::~ExplorerView() { ++generation_; }

ExplorerInputs ExplorerView::inputs() const {
  ExplorerInputs in;
  if (model_box_->currentText().startsWith("HF") && !hf_config_.isEmpty()) in.hf_config = hf_config_.toStdString();
  else in.model_preset = model_box_->currentText().toStdString();
  in.topology = topo_box_->currentData().toString().toStdString();
  in.nodes = nodes_->value();
  in.inference = workload_->currentIndex() == 1;
  in.seq_len = seq_len_->value();
  in.global_batch = global_batch_->value();
  in.batch = batch_->value();
  in.prompt_len = prompt_->value();
  in.gen_len = gen_->value();
  return in;
}

void ExplorerView::setInputs(const ExplorerInputs& in) {
  if (!in.hf_config.empty()) {
    hf_config_ = QString::fromStdString(in.hf_config);
    model_box_->setItemText(model_box_->count() - 1, tr("HF: %1").arg(QFileInfo(hf_config_).fileName()));
    model_box_->setCurrentIndex(model_box_->count() - 1);
  } else {
    int i = model_box_->findText(QString::fromStdString(in.model_preset));
    if (i >= 0) model_box_->setCurrentIndex(i);
  }
  QString topo = QString::fromStdString(resolve_topology(in.topology));
  int ti = -1;
  for (int i = 0; i < topo_box_->count(); ++i)
    if (QFileInfo(topo_box_->itemData(i).toString()).canonicalFilePath() == QFileInfo(topo).canonicalFilePath()) ti = i;
  if (ti < 0) {
    topo_box_->addItem(QFileInfo(topo).completeBaseName(), topo);
    ti = topo_box_->count() - 1;
  }
  topo_box_->setCurrentIndex(ti);
  nodes_->setValue(in.nodes);
  workload_->setCurrentIndex(in.inference ? 1 : 0);
  seq_len_->setValue(int(in.seq_len));
  global_batch_->setValue(in.global_batch);
  batch_->setValue(in.batch);
  prompt_->setValue(int(in.prompt_len));
  gen_->setValue(int(in.gen_len));
}

void ExplorerView::setFromScenario(const Scenario& s) {
  ExplorerInputs in = inputs();
  const Json& j = s.resolved;
  std::string dir = s.file.empty() ? std::string() : std::filesystem::path(s.file).parent_path().string();
  if (j.contains("model") && j["model"].is_object()) {
    if (j["model"].contains("preset") && j["model"]["preset"].is_string()) in.model_preset = j["model"]["preset"].get<std::string>(), in.hf_config.clear();
    else if (j["model"].contains("hf_config") && j["model"]["hf_config"].is_string())
      in.hf_config = resolve_path(j["model"]["hf_config"].get<std::string>(), dir);
  }
  if (j.contains("cluster") && j["cluster"].is_object() && j["cluster"].contains("topology") && j["cluster"]["topology"].is_string())
    in.topology = resolve_path(j["cluster"]["topology"].get<std::string>(), dir);
  in.nodes = s.cluster.nodes;
  in.inference = s.workload.kind == WorkloadKind::inference;
  in.seq_len = s.workload.seq_len;
  in.global_batch = s.strategy.global_batch;
  in.batch = s.workload.batch;
  in.prompt_len = s.workload.prompt_len;
  in.gen_len = s.workload.gen_len;
  setInputs(in);
}

bool ExplorerView::explore(bool blocking) {
  ++generation_;
  queue_.clear();
  running_ = done_ = 0;
  last_error_.clear();
  Enumeration en;
  try {
    en = enumerate_strategies(inputs(), std::size_t(std::max(1, max_strategies_)));
  } catch (const std::exception& e) {
    last_error_ = QString::fromStdString(e.what());
    status_->setText(tr("Cannot enumerate: %1").arg(last_error_));
    emit errorOccurred(last_error_);
    return false;
  }
  std::vector<ExplorerRow> rows;
  for (auto& c : en.valid) {
    ExplorerRow r;
    r.candidate = std::move(c);
    r.state = simulation_available() ? RowState::pending : RowState::unavailable;
    rows.push_back(std::move(r));
  }
  model_->setRows(std::move(rows));
  QString rejected;
  for (std::size_t i = 0; i < en.rejected.size() && i < 30; ++i)
    rejected += QString::fromStdString(en.rejected[i].label + ": " + en.rejected[i].reason) + "\n";
  status_->setToolTip(rejected);
  QString count = en.available > en.valid.size() ? tr("the first %1 of %2").arg(en.valid.size()).arg(en.available)
                                                   : QString::number(en.valid.size());
  status_->setText(tr("%1 on %2 × %3 = %4 GPUs: %5 valid strategies (%6)%7.")
                       .arg(QString::fromStdString(en.model_name), QString::number(nodes_->value()),
                            QString::fromStdString(en.cluster_name), QString::number(en.gpus))
                       .arg(count)
                       .arg(QString::fromStdString(en.source))
                       .arg(en.rejected.empty() ? QString() : tr(", %1 rejected (hover for why)").arg(en.rejected.size())));
  bool any_ep = false;
  for (int i = 0; i < model_->rows(); ++i) any_ep |= model_->rowAt(i).candidate.scenario.strategy.ep > 1;
  table_->setColumnHidden(ExplorerModel::EP, !any_ep);
  refreshScatter();
  table_->resizeColumnsToContents();
  if (!simulation_available()) return true;
  for (int i = 0; i < model_->rows(); ++i) queue_.push_back(i);
  if (blocking) {
    while (!queue_.empty()) {
      int row = queue_.front();
      queue_.pop_front();
      JobResult r = simulate_job(model_->rowAt(row).candidate.scenario);
      jobFinished(row, r.metrics, r.error);
    }
    int best = bestRow();
    if (best >= 0) {
      table_->sortByColumn(ExplorerModel::TokensPerS, Qt::DescendingOrder);
      selectRow(best, true);
      QModelIndex pi = proxy_->mapFromSource(model_->index(best, 0));
      table_->selectionModel()->blockSignals(true);
      table_->setCurrentIndex(pi);
      table_->selectionModel()->blockSignals(false);
    }
    return true;
  }
  updateProgress();
  int workers = std::max(1, QThread::idealThreadCount() / 2);
  for (int i = 0; i < workers; ++i) startNext();
  return true;
}

void ExplorerView::startNext() {
  if (queue_.empty()) return;
  int row = queue_.front();
  queue_.pop_front();
  ++running_;
  model_->setState(row, RowState::running);
  int gen = generation_;
  Scenario sc = model_->rowAt(row).candidate.scenario;
  auto* w = new QFutureWatcher<JobResult>(this);
  connect(w, &QFutureWatcher<JobResult>::finished, this, [this, w, row, gen] {
    JobResult r = w->result();
    w->deleteLater();
    if (gen != generation_) return;
    --running_;
    jobFinished(row, r.metrics, r.error);
    startNext();
  });
  w->setFuture(QtConcurrent::run([sc] { return simulate_job(sc); }));
}

void ExplorerView::jobFinished(int row, const StrategyMetrics& m, const QString& error) {
  ++done_;
  if (!error.isEmpty()) model_->setState(row, RowState::failed, error.toStdString());
  else model_->setResult(row, m);
  refreshScatter();
  updateProgress();
}

void ExplorerView::updateProgress() {
  int total = model_->rows();
  bool busy = running_ > 0 || !queue_.empty();
  progress_->setVisible(busy);
  progress_->setRange(0, std::max(1, total));
  progress_->setValue(done_);
  progress_->setFormat(tr("simulated %1 of %2").arg(done_).arg(total));
  run_->setEnabled(!busy);
  stop_->setEnabled(busy);
  if (!busy && done_ > 0) table_->resizeColumnsToContents();
}

void ExplorerView::refreshScatter() {
  std::vector<ScatterPoint> pts;
  double cap = 0;
  for (int i = 0; i < model_->rows(); ++i) {
    const ExplorerRow& r = model_->rowAt(i);
    if (r.state != RowState::done || !r.metrics.simulated) continue;
    pts.push_back({r.metrics.memory_bytes, r.metrics.tokens_per_s, r.metrics.fits, QString::fromStdString(r.candidate.label), i});
    cap = std::max(cap, r.metrics.capacity_bytes);
  }
  scatter_->setPoints(std::move(pts), cap);
  std::vector<int> front_rows;
  for (int i : scatter_->front()) front_rows.push_back(scatter_->points()[std::size_t(i)].row);
  model_->setParetoRows(front_rows);
}

int ExplorerView::bestRow() const {
  int best = -1;
  for (int i = 0; i < model_->rows(); ++i) {
    const ExplorerRow& r = model_->rowAt(i);
    if (r.state != RowState::done || !r.metrics.fits) continue;
    if (best < 0 || r.metrics.tokens_per_s > model_->rowAt(best).metrics.tokens_per_s) best = i;
  }
  return best;
}

void ExplorerView::selectRow(int row, bool blocking) {
  if (row < 0 || row >= model_->rows()) return;
  scatter_->setSelectedRow(row);
  const ExplorerRow& r = model_->rowAt(row);
  timeline_->setTitle(QString::fromStdString(r.candidate.label));
  if (!simulation_available()) {
    timeline_->setBundle({});
    return;
  }
  int gen = ++timeline_generation_;
  Scenario sc = r.candidate.scenario;
  auto job = [sc]() -> std::pair<TimelineBundle, QString> {
    try {
      return {make_bundle(run_simulation(sc, true).index), {}};
    } catch (const std::exception& e) {
      return {{}, QString::fromStdString(e.what())};
    }
  };
  auto apply = [this, gen](const std::pair<TimelineBundle, QString>& res) {
    if (gen != timeline_generation_) return;
    if (!res.second.isEmpty()) {
      last_error_ = res.second;
      emit errorOccurred(res.second);
      return;
    }
    timeline_->setBundle(res.first);
  };
  if (blocking) {
    apply(job());
    return;
  }
  timeline_->setTitle(QString::fromStdString(r.candidate.label) + tr(" — simulating the timeline…"));
  auto* w = new QFutureWatcher<std::pair<TimelineBundle, QString>>(this);
  connect(w, &QFutureWatcher<std::pair<TimelineBundle, QString>>::finished, this, [w, apply, this, row] {
    apply(w->result());
    w->deleteLater();
    timeline_->setTitle(QString::fromStdString(model_->rowAt(row).candidate.label));
  });
  w->setFuture(QtConcurrent::run(job));
}

}  // namespace strata::gui
