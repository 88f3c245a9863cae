#include "common/list_table.hpp"

#include <QHeaderView>

namespace strata::gui {

QTableView* make_list_table(QWidget* parent, QAbstractItemModel* model) {
  auto* v = new QTableView(parent);
  v->setModel(model);
  v->setSortingEnabled(true);
  v->setSelectionBehavior(QAbstractItemView::SelectRows);
  v->setSelectionMode(QAbstractItemView::SingleSelection);
  v->setAlternatingRowColors(true);
  v->verticalHeader()->setVisible(false);
  v->verticalHeader()->setDefaultSectionSize(20);
  v->horizontalHeader()->setStretchLastSection(true);
  return v;
}

}  // namespace strata::gui
