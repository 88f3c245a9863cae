#include "core/palette.hpp"

#include <array>

namespace strata::gui {
namespace {

// Tableau-10 hues: distinct in print and for most colour-blind readers; red is kept free for
// bubbles and exposed communication, which must be seen at a glance.
constexpr std::array<QRgb, kCategories> kFill = {
    0x4e79a7,  // compute: blue
    0xf28e2b,  // tp: orange
    0xb07aa1,  // cp: purple
    0x59a14f,  // ep: green
    0xedc948,  // pp: yellow
    0x76b7b2,  // dp: teal
    0x9c755f,  // optimizer: brown
    0xf4a6a6,  // bubble: light red (hatched when drawn)
};

}  // namespace

QColor category_color(Category c) {
  int i = static_cast<int>(c);
  return (i >= 0 && i < kCategories) ? QColor(kFill[std::size_t(i)]) : QColor(0x999999);
}

QColor category_text_color(Category c) {
  QColor f = category_color(c);
  return f.lightnessF() > 0.6 ? QColor(0x202020) : QColor(0xffffff);
}

const char* category_label(Category c) {
  switch (c) {
    case Category::compute: return "compute";
    case Category::tp: return "TP comm";
    case Category::cp: return "CP comm";
    case Category::ep: return "EP comm";
    case Category::pp: return "PP send/recv";
    case Category::dp: return "DP comm";
    case Category::optimizer: return "optimizer";
    case Category::bubble: return "bubble";
    case Category::count: break;
  }
  return "?";
}

QColor bubble_fill() { return QColor(0xf8c9c9); }
QColor bubble_hatch() { return QColor(0xc0392b); }
QColor idle_fill() { return QColor(0xfbe3e3); }
QColor exposed_color() { return QColor(0xd62728); }
QColor selection_color() { return QColor(0x111111); }
QColor memory_color() { return QColor(0x5b8fd0); }

QColor stage_color(int stage) {
  static constexpr std::array<QRgb, 6> kStage = {0x8cd17d, 0x86bcb6, 0xf1ce63, 0xa0cbe8, 0xd4a6c8, 0xffbe7d};
  return QColor(kStage[std::size_t(stage < 0 ? 0 : stage) % kStage.size()]);
}

}  // namespace strata::gui
