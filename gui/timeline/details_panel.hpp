#pragma once
// The selected task: name, kind, rank, layer, micro-batch, shape (from the partition graph when
// the timeline was simulated here), FLOPs, bytes, timing, achieved TFLOP/s or GB/s, the exposed
// part of communication, the pipeline peer and the dependencies as links that jump to them,
// and the raw trace arguments.
#include <QTextBrowser>
#include <memory>

#include "core/timeline_index.hpp"

namespace strata::gui {

class DetailsPanel : public QTextBrowser {
  Q_OBJECT
public:
  explicit DetailsPanel(QWidget* parent = nullptr);
  void setIndex(std::shared_ptr<const TimelineIndex> idx);
  void showEvent_(std::uint32_t e);  // kNoEvent shows the timeline summary

signals:
  void jumpTo(quint32 e);

private:
  QString summaryHtml() const;
  QString eventHtml(std::uint32_t e) const;
  std::shared_ptr<const TimelineIndex> idx_;
};

// One line per task for links and lists: "name (rank r, mb m, layer l) @ t".
QString event_caption(const TimelineIndex& idx, std::uint32_t e);

}  // namespace strata::gui
