#pragma once
// The sortable, single-row-selection table every panel of strata-gui lists rows in (statistics,
// compare, explorer), set up once.
#include <QTableView>

class QAbstractItemModel;

namespace strata::gui {

QTableView* make_list_table(QWidget* parent, QAbstractItemModel* model);

}  // namespace strata::gui
