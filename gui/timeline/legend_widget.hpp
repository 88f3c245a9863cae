#pragma once
// The legend: a swatch per category, and how bubbles, idle time, exposed communication and
// pipeline flows are drawn.
#include <QWidget>

namespace strata::gui {

class LegendWidget : public QWidget {
  Q_OBJECT
public:
  explicit LegendWidget(QWidget* parent = nullptr);
  QSize sizeHint() const override;

protected:
  void paintEvent(QPaintEvent*) override;
};

}  // namespace strata::gui
