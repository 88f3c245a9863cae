#pragma once
// Throughput against memory, one point per simulated strategy: strategies that fit in blue,
// out-of-memory ones as grey crosses, the GPU capacity as a dashed line and the Pareto front
// (most tokens/s for the least memory) joined and labelled. Click a point to select its row.
#include <QString>
#include <QWidget>
#include <vector>

namespace strata::gui {

struct ScatterPoint {
  double memory = 0;      // bytes
  double throughput = 0;  // tokens/s
  bool fits = true;
  QString label;
  int row = -1;           // source-model row
};

class ScatterWidget : public QWidget {
  Q_OBJECT
public:
  explicit ScatterWidget(QWidget* parent = nullptr);
  void setPoints(std::vector<ScatterPoint> pts, double capacity_bytes);
  void setSelectedRow(int row);
  QSize sizeHint() const override { return {420, 320}; }
  const std::vector<int>& front() const { return front_; }  // indices into the points
  const std::vector<ScatterPoint>& points() const { return pts_; }

signals:
  void rowClicked(int row);

protected:
  void paintEvent(QPaintEvent*) override;
  void mousePressEvent(QMouseEvent*) override;

private:
  QRectF plotRect() const;
  QPointF toScreen(const ScatterPoint& p) const;

  std::vector<ScatterPoint> pts_;
  std::vector<int> front_;
  double capacity_ = 0;
  double xmax_ = 1, ymax_ = 1;
  int selected_row_ = -1;
};

}  // namespace strata::gui
