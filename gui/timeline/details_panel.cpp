#include "timeline/details_panel.hpp"

#include <QUrl>

#include "core/palette.hpp"
#include "core/time_axis.hpp"

namespace strata::gui {
namespace {

QString q(const std::string& s) { return QString::fromStdString(s).toHtmlEscaped(); }
QString dur(double s) { return QString::fromStdString(format_duration(s)); }
QString row(const QString& k, const QString& v) { return "<tr><td style='color:#60656c;padding-right:10px'>" + k + "</td><td>" + v + "</td></tr>"; }
QString link(const TimelineIndex& idx, std::uint32_t e) {
  return QString("<a href='ev:%1'>%2</a>").arg(e).arg(event_caption(idx, e).toHtmlEscaped());
}

QString shape_html(const TimelineIndex& idx, const TimelineEvent& ev) {
  const PartitionGraph* g = idx.graph();
  if (!g || ev.task < 0 || ev.rank < 0 || std::size_t(ev.rank) >= g->rank_class.size()) return {};
  const ClassTasks& ct = g->tasks_of_rank(ev.rank);
  std::size_t t = std::size_t(ev.task);
  if (t >= ct.size()) return {};
  QString out = row("phase", phase_name(ct.phase[t])) + row("op", QString(task_kind_name(ct.kind[t])) + " / " + op_kind_name(ct.op[t]));
  int d = ct.detail[t];
  if (d < 0) return out;
  std::size_t di = std::size_t(d);
  switch (ct.kind[t]) {
    case TaskKind::compute:
      if ((ct.op[t] == OpKind::gemm || ct.op[t] == OpKind::grouped_gemm) && di < ct.gemms.size()) {
        const GemmShape& s = ct.gemms[di];
        out += row("GEMM", QString("%1 × %2 × %3%4 (%5)").arg(s.m).arg(s.n).arg(s.k).arg(s.batch > 1 ? QString(" × %1").arg(s.batch) : QString()).arg(dtype_name(s.dtype)));
      } else if (ct.op[t] == OpKind::attention && di < ct.attns.size()) {
        const AttnShape& s = ct.attns[di];
        out += row("attention", QString("batch %1, heads %2/%3 kv, q %4 × kv %5, head dim %6%7%8")
                                    .arg(s.batch).arg(s.heads).arg(s.kv_heads).arg(s.q_len).arg(s.kv_len).arg(s.head_dim)
                                    .arg(s.causal ? ", causal" : "").arg(s.backward ? ", backward" : ""));
      }
      break;
    case TaskKind::collective:
      if (di < ct.colls.size()) {
        const CollInfo& c = ct.colls[di];
        out += row("collective", QString("%1 over %2, %3, %4").arg(coll_kind_name(c.kind), group_kind_name(c.group), coll_algo_name(c.algo),
                                                                   QString::fromStdString(format_bytes(c.bytes))));
      }
      break;
    case TaskKind::send:
    case TaskKind::recv:
      if (di < ct.p2ps.size()) {
        const P2PInfo& pi = ct.p2ps[di];
        out += row("p2p", QString("%1 %2%3 along %4, %5").arg(ct.kind[t] == TaskKind::send ? "to" : "from").arg(pi.offset > 0 ? "+" : "")
                              .arg(pi.offset).arg(group_kind_name(pi.group)).arg(QString::fromStdString(format_bytes(pi.bytes))));
      }
      break;
    default: break;
  }
  return out;
}

}  // namespace

QString event_caption(const TimelineIndex& idx, std::uint32_t e) {
  const TimelineEvent& ev = idx.event(e);
  QString s = QString::fromStdString(idx.name_of(e)) + QString(" (rank %1").arg(ev.rank);
  if (ev.microbatch >= 0) s += QString(", mb %1").arg(ev.microbatch);
  if (ev.layer >= 0) s += QString(", layer %1").arg(ev.layer);
  return s + ") @ " + dur(ev.start_s);
}

DetailsPanel::DetailsPanel(QWidget* parent) : QTextBrowser(parent) {
  setOpenLinks(false);
  setOpenExternalLinks(false);
  connect(this, &QTextBrowser::anchorClicked, this, [this](const QUrl& url) {
    QString s = url.toString();
    if (s.startsWith("ev:")) emit jumpTo(s.mid(3).toUInt());
  });
}

void DetailsPanel::setIndex(std::shared_ptr<const TimelineIndex> idx) {
  idx_ = std::move(idx);
  showEvent_(kNoEvent);
}

void DetailsPanel::showEvent_(std::uint32_t e) {
  if (!idx_) {
    setHtml(tr("<p style='color:#808080'>No timeline.</p>"));
    return;
  }
  setHtml(e == kNoEvent || e >= idx_->event_count() ? summaryHtml() : eventHtml(e));
}

QString DetailsPanel::summaryHtml() const {
  const TimelineIndex& x = *idx_;
  QString h = "<h3>" + q(x.title) + "</h3><table>";
  h += row(tr("source"), q(x.timeline().source));
  h += row(tr("step"), dur(x.step_s()));
  h += row(tr("GPUs shown"), QString::number(x.gpus().size()));
  h += row(tr("events"), QString::number(x.event_count()));
  h += row(tr("flows"), QString::number(x.flows().size()));
  if (x.trace().skipped_events) h += row(tr("skipped"), tr("%1 trace events of other kinds").arg(x.trace().skipped_events));
  const Json& r = x.timeline().report;
  if (r.is_object()) {
    auto num = [&](const char* k) { return r.contains(k) && r[k].is_number() ? r[k].get<double>() : -1.0; };
    if (num("tokens_per_s") >= 0) h += row(tr("tokens/s"), QString::fromStdString(format_si(num("tokens_per_s"), "")));
    if (num("mfu") >= 0) h += row(tr("MFU"), QString::number(100 * num("mfu"), 'f', 1) + " %");
    if (num("bubble_fraction") >= 0) h += row(tr("bubble"), QString::number(100 * num("bubble_fraction"), 'f', 1) + " %");
  }
  h += "</table><p style='color:#60656c'>" +
       tr("Click a task for its details. Wheel: zoom · drag: pan · Shift+drag: zoom to range · F: fit · Backspace: zoom back") + "</p>";
  return h;
}

QString DetailsPanel::eventHtml(std::uint32_t e) const {
  const TimelineIndex& x = *idx_;
  const TimelineEvent& ev = x.event(e);
  QColor c = category_color(ev.category);
  QString h = QString("<h3><span style='color:%1'>■</span> %2</h3><table>").arg(c.name(), q(x.name_of(e)));
  int g = x.gpu_of_rank(ev.rank);
  if (g >= 0) {
    const TimelineRank& r = x.gpus()[std::size_t(g)].rank;
    h += row(tr("where"), tr("rank %1 · node %2 / GPU %3 · stage %4").arg(r.rank).arg(r.node).arg(r.local_gpu).arg(r.stage));
  }
  h += row(tr("stream"), stream_name(ev.stream));
  h += row(tr("kind"), category_label(ev.category));
  if (ev.task >= 0) h += row(tr("task id"), QString::number(ev.task));
  if (ev.layer >= 0) h += row(tr("layer"), QString::number(ev.layer));
  if (ev.microbatch >= 0) h += row(tr("micro-batch"), QString::number(ev.microbatch));
  h += shape_html(x, ev);
  h += row(tr("start"), dur(ev.start_s));
  h += row(tr("duration"), "<b>" + dur(ev.dur_s) + "</b>");
  h += row(tr("end"), dur(ev.start_s + ev.dur_s));
  if (ev.flops > 0) h += row(tr("FLOPs"), QString::fromStdString(format_flops(ev.flops)));
  if (ev.bytes > 0) h += row(tr("bytes"), QString::fromStdString(format_bytes(ev.bytes)));
  if (ev.dur_s > 0 && ev.flops > 0) h += row(tr("achieved"), QString::number(ev.flops / ev.dur_s / 1e12, 'f', 1) + " TFLOP/s");
  else if (ev.dur_s > 0 && ev.bytes > 0) h += row(tr("achieved"), QString::number(ev.bytes / ev.dur_s / 1e9, 'f', 1) + " GB/s");
  if (is_comm(ev.category)) {
    double ex = x.exposed_part(e);
    QString s = ex > 0 ? "<span style='color:#d62728'>" + dur(ex) + "</span>" : tr("none (hidden behind compute)");
    if (ev.exposed) s += tr(" · flagged exposed");
    h += row(tr("exposed"), s);
  }
  if (!ev.measured) h += row(tr("measured"), tr("no (the executor could not time it)"));
  h += "</table>";
  std::uint32_t peer = x.flow_peer(e);
  if (peer != kNoEvent) h += "<p><b>" + (ev.flow_out ? tr("Sends to") : tr("Receives from")) + "</b><br>" + link(x, peer) + "</p>";
  std::vector<std::uint32_t> deps = x.deps_of(e);
  if (!deps.empty()) {
    h += "<p><b>" + tr("Depends on") + "</b>";
    std::size_t shown = 0;
    for (std::uint32_t d : deps) {
      if (++shown > 40) {
        h += "<br>" + tr("… and %1 more").arg(deps.size() - 40);
        break;
      }
      h += "<br>" + link(x, d);
    }
    h += "</p>";
  } else if (!x.graph() && ev.task >= 0) {
    h += "<p style='color:#60656c'>" + tr("Dependencies are known when the scenario is simulated here (open the scenario file).") + "</p>";
  }
  if (e < x.trace().args.size()) {
    std::string args = read_args_text(x.path(), x.trace().args[e]);
    if (!args.empty()) {
      if (args.size() > 2000) args = args.substr(0, 2000) + " …";
      h += "<p><b>" + tr("Trace args") + "</b><br><code>" + q(args) + "</code></p>";
    }
  }
  return h;
}

}  // namespace strata::gui
