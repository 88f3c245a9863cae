#pragma once
// Category colours (one source for the timeline, the legend, the overview and the tables) and
// the few marker colours that make bubbles and exposed communication stand out.
#include <QColor>

#include "graph/partition_graph.hpp"

namespace strata::gui {

constexpr int kCategories = static_cast<int>(Category::count);

QColor category_color(Category c);
QColor category_text_color(Category c);  // black or white, whichever reads on the fill
const char* category_label(Category c);   // "compute", "TP comm", ... for legends and tables

QColor bubble_fill();      // explicit bubble events
QColor bubble_hatch();
QColor idle_fill();        // idle gaps on the compute stream
QColor exposed_color();    // outline and underline of exposed communication
QColor selection_color();
QColor memory_color();
QColor stage_color(int stage);  // a band in the GPU header, by pipeline stage

}  // namespace strata::gui
