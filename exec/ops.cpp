#include "ops.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace strata::exec {

namespace {

std::int64_t scaled_dim(std::int64_t d, double f) {
  if (f >= 1.0 || d <= 1) return d;
  return std::max<std::int64_t>(1, std::llround(double(d) * f));
}

std::string fmt_bytes(double b) {
  char buf[64];
  if (b >= 1024.0 * 1024 * 1024) std::snprintf(buf, sizeof buf, "%.2f GiB", b / (1024.0 * 1024 * 1024));
  else if (b >= 1024.0 * 1024) std::snprintf(buf, sizeof buf, "%.2f MiB", b / (1024.0 * 1024));
  else if (b >= 1024.0) std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024.0);
  else std::snprintf(buf, sizeof buf, "%.0f B", b);
  return buf;
}

}  // namespace

std::string Op::describe() const {
  char buf[256];
  std::string what;
  if (auto* gm = std::get_if<GemmOp>(&detail)) {
    std::snprintf(buf, sizeof buf, "gemm %lldx%lldx%lld x%d %s", (long long)gm->m, (long long)gm->n, (long long)gm->k,
                  gm->batch, dtype_name(gm->dtype));
    what = buf;
  } else if (auto* at = std::get_if<AttnOp>(&detail)) {
    std::snprintf(buf, sizeof buf, "attention b%d h%d q%lld kv%lld d%d%s%s %s", at->shape.batch, at->shape.heads,
                  (long long)at->shape.q_len, (long long)at->shape.kv_len, at->shape.head_dim,
                  at->shape.causal ? " causal" : "", at->shape.backward ? " backward" : "", dtype_name(at->shape.dtype));
    what = buf;
  } else if (auto* mo = std::get_if<MemOp>(&detail)) {
    const char* k = mo->kind == MemOp::Kind::optimizer ? "optimizer" : mo->kind == MemOp::Kind::memcpy ? "memcpy" : "elementwise";
    what = std::string(k) + " " + fmt_bytes(mo->bytes);
  } else if (auto* co = std::get_if<CollOp>(&detail)) {
    what = std::string(coll_kind_name(co->kind)) + " " + fmt_bytes(co->bytes) + " over " + group_kind_name(co->group) +
           " group of " + std::to_string(co->size);
  } else if (auto* pp = std::get_if<P2POp>(&detail)) {
    what = std::string(kind == TaskKind::send ? "send " : "recv ") + fmt_bytes(pp->bytes) + " rank " + std::to_string(pp->src) +
           " -> " + std::to_string(pp->dst);
  } else {
    what = task_kind_name(kind);
  }
  return "rank " + std::to_string(rank) + " task " + std::to_string(task) + " '" + name + "' (" + what + ")";
}

std::vector<AttnBlock> attention_blocks(const AttnShape& s, std::int64_t q_block) {
  std::vector<AttnBlock> out;
  if (s.q_len <= 0 || s.kv_len <= 0) return out;
  if (!s.causal || q_block <= 0 || q_block >= s.q_len) {
    out.push_back({0, s.q_len, s.kv_len});
    return out;
  }
  // Causal: query row i (0-based) sees kv columns [0, kv_len - q_len + i].
  const std::int64_t offset = std::max<std::int64_t>(0, s.kv_len - s.q_len);
  for (std::int64_t b0 = 0; b0 < s.q_len; b0 += q_block) {
    std::int64_t rows = std::min(q_block, s.q_len - b0);
    std::int64_t cols = std::min(s.kv_len, offset + b0 + rows);
    out.push_back({b0, rows, cols});
  }
  return out;
}

double attention_slice_flops(const AttnShape& s, std::int64_t q_block) {
  double sum = 0;
  for (const auto& b : attention_blocks(s, q_block)) sum += double(b.rows) * double(b.cols);
  return 4.0 * double(s.head_dim) * sum;
}

AttnOp plan_attention(const AttnShape& s, double claimed_flops) {
  AttnOp a;
  a.shape = s;
  a.claimed_flops = claimed_flops;
  // At most 16 blocks: the work skipped beyond the diagonal is then within ~3% of exact.
  a.q_block = s.causal ? std::max<std::int64_t>(std::min<std::int64_t>(64, s.q_len), (s.q_len + 15) / 16) : s.q_len;
  const double slice = attention_slice_flops(s, a.q_block);
  const double slices = double(s.batch) * double(s.heads);
  if (slice <= 0 || slices <= 0) {
    a.full_passes = 0;
    a.extra_heads = 0;
    return a;
  }
  double passes = claimed_flops > 0 ? claimed_flops / (slice * slices) : (s.backward ? 2.5 : 1.0);
  a.full_passes = int(std::floor(passes));
  a.extra_heads = int(std::llround((passes - a.full_passes) * slices));
  if (a.extra_heads >= int(slices)) {
    a.full_passes += 1;
    a.extra_heads = 0;
  }
  if (a.full_passes == 0 && a.extra_heads == 0) a.extra_heads = 1;
  a.executed_flops = (a.full_passes * slices + a.extra_heads) * slice;
  return a;
}

GemmShape scale_gemm(const GemmShape& g, double s) {
  if (s >= 1.0) return g;
  GemmShape r = g;
  const double f = std::cbrt(s);
  r.m = scaled_dim(g.m, f);
  r.n = scaled_dim(g.n, f);
  r.k = scaled_dim(g.k, f);
  return r;
}

AttnShape scale_attention(const AttnShape& a, double s) {
  if (s >= 1.0) return a;
  AttnShape r = a;
  const double f = std::sqrt(s);
  r.q_len = scaled_dim(a.q_len, f);
  r.kv_len = scaled_dim(a.kv_len, f);
  if (a.kv_len >= a.q_len) r.kv_len = std::max(r.kv_len, r.q_len);
  return r;
}

Op build_op(const PartitionGraph& g, int rank, std::uint32_t task, double scale, std::uint64_t seq,
            std::vector<double> recv_bytes) {
  const ClassTasks& c = g.tasks_of_rank(rank);
  const double s = std::min(1.0, scale);
  Op op;
  op.rank = rank;
  op.task = task;
  op.name = c.name[task] < g.names.size() ? g.names[c.name[task]] : std::string("task");
  op.kind = c.kind[task];
  op.op = c.op[task];
  op.stream = c.stream[task];
  const std::int32_t d = c.detail[task];
  switch (op.kind) {
    case TaskKind::compute:
    case TaskKind::optimizer:
    case TaskKind::memcpy: {
      if ((op.op == OpKind::gemm || op.op == OpKind::grouped_gemm) && op.kind == TaskKind::compute) {
        GemmShape gs;
        if (d >= 0 && std::size_t(d) < c.gemms.size()) {
          gs = c.gemms[std::size_t(d)];
        } else {  // no shape recorded: a square GEMM with the claimed FLOPs
          std::int64_t e = std::max<std::int64_t>(1, std::llround(std::cbrt(std::max(0.0, c.flops[task]) / 2.0)));
          gs.m = gs.n = gs.k = e;
        }
        gs = scale_gemm(gs, s);
        GemmOp gm{gs.m, gs.n, gs.k, std::max(1, gs.batch), gs.dtype};
        op.flops = 2.0 * double(gm.m) * double(gm.n) * double(gm.k) * gm.batch;
        op.bytes = dtype_bytes(gm.dtype) * (double(gm.m) * gm.k + double(gm.k) * gm.n + double(gm.m) * gm.n) * gm.batch;
        op.detail = gm;
      } else if (op.op == OpKind::attention && op.kind == TaskKind::compute && d >= 0 && std::size_t(d) < c.attns.size()) {
        AttnShape a = scale_attention(c.attns[std::size_t(d)], s);
        AttnOp at = plan_attention(a, c.flops[task] * s);
        op.flops = at.executed_flops;
        const double slices = double(a.batch) * a.heads;
        op.bytes = dtype_bytes(a.dtype) * slices * double(a.head_dim) * double(2 * a.q_len + 2 * a.kv_len);
        op.detail = at;
      } else {
        MemOp mo;
        mo.kind = op.kind == TaskKind::optimizer || op.op == OpKind::optimizer ? MemOp::Kind::optimizer
                  : op.kind == TaskKind::memcpy                               ? MemOp::Kind::memcpy
                                                                              : MemOp::Kind::elementwise;
        mo.bytes = std::max(0.0, c.bytes[task]) * s;
        op.flops = std::max(0.0, c.flops[task]) * s;
        op.bytes = mo.bytes;
        op.detail = mo;
      }
      break;
    }
    case TaskKind::collective: {
      if (d < 0 || std::size_t(d) >= c.colls.size())
        throw ExecError("graph: collective task " + std::to_string(task) + " of rank " + std::to_string(rank) + " has no CollInfo");
      const CollInfo& ci = c.colls[std::size_t(d)];
      CollOp co;
      co.kind = ci.kind;
      co.group = ci.group;
      co.group_index = g.layout.group_of(ci.group, rank);
      auto members = g.layout.group_of_rank(ci.group, rank);
      co.members.assign(members.begin(), members.end());
      co.size = int(co.members.size());
      co.position = g.layout.position_in_group(ci.group, rank);
      co.bytes = ci.bytes * s;
      co.seq = seq;
      if (ci.kind == CollKind::all_to_all_v) {
        if (ci.a2av < 0 || std::size_t(ci.a2av) >= c.a2av_bytes.size())
          throw ExecError("graph: all-to-all-v task " + std::to_string(task) + " of rank " + std::to_string(rank) + " has no per-peer bytes");
        co.send_bytes = c.a2av_bytes[std::size_t(ci.a2av)];
        co.send_bytes.resize(std::size_t(co.size), 0.0);
        for (double& b : co.send_bytes) b *= s;
        co.recv_bytes = std::move(recv_bytes);
        co.recv_bytes.resize(std::size_t(co.size), 0.0);
        for (double& b : co.recv_bytes) b *= s;
        double total = 0;
        for (double b : co.send_bytes) total += b;
        co.bytes = total;
      }
      op.bytes = co.bytes;
      op.detail = std::move(co);
      break;
    }
    case TaskKind::send:
    case TaskKind::recv: {
      if (d < 0 || std::size_t(d) >= c.p2ps.size())
        throw ExecError("graph: p2p task " + std::to_string(task) + " of rank " + std::to_string(rank) + " has no P2PInfo");
      const P2PInfo& pi = c.p2ps[std::size_t(d)];
      P2POp pp;
      pp.group = pi.group;
      pp.bytes = pi.bytes * s;
      const int peer = g.layout.peer(pi.group, rank, pi.offset);
      if (op.kind == TaskKind::send) {
        pp.src = rank;
        pp.dst = peer;
        pp.send_task = task;
      } else {
        pp.src = peer;
        pp.dst = rank;
        pp.send_task = pi.match;
      }
      op.bytes = pp.bytes;
      op.detail = pp;
      break;
    }
  }
  return op;
}

double rank_flops(const PartitionGraph& g, int rank) {
  const ClassTasks& c = g.tasks_of_rank(rank);
  double f = 0;
  for (double x : c.flops) f += std::max(0.0, x);
  return f;
}

}  // namespace strata::exec
