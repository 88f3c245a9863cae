// Inference (reference §8): the batch as given (per data-parallel replica) runs the prefill of the
// prompt, then gen_len decode steps of one token per sequence, each attending over the KV cache
// grown so far (prompt + k tokens at step k). Tasks carry the step as their micro-batch: 0 is the
// prefill, k = 1..gen_len the decode steps (FORMAT.md). With pipeline parallelism each step
// crosses the stages in order, and the token sampled on the last stage is sent to the first stage
// before the next step can embed it. Tensor parallelism all-reduces (no sequence parallelism in
// inference); context parallelism runs the prefill as ring attention and, in decode, attends
// over each rank's share of the cache and merges the partial results; expert parallelism
// dispatches the step's tokens.
#include <cmath>

#include "plan/plan_internal.hpp"

namespace strata::plan {

void build_inference_class(ClassCtx& C) {
  const PlanDims& d = C.d;
  Emitter& E = C.E;
  const int V = d.p * d.v;
  std::uint32_t prev_sample = kNone;  // pp = 1: the next step embeds the token sampled here
  for (std::int64_t k = 0; k <= d.gen; ++k) {
    Pass ps;
    ps.b = d.b;
    ps.sp = false;
    ps.mb = std::int32_t(k);
    if (k == 0) {
      ps.q = d.prompt / d.c;
      ps.kv = ps.q;
      ps.causal = true;
    } else {
      ps.q = 1;
      ps.kv = std::int64_t(std::ceil(double(d.prompt + k) / d.c));
      ps.causal = false;
      ps.decode = true;
    }
    for (int c = 0; c < d.v; ++c) {
      ps.chunk = c;
      const int vs = c * d.p + C.stage;
      Deps in;
      if (vs == 0 && k > 0) {
        if (d.p > 1) {
          E.mb = ps.mb;
          E.chunk = c;
          P2PInfo pi;
          pi.group = GroupKind::pp;
          pi.offset = -1;
          pi.bytes = double(d.b) * 8.0;  // token ids
          auto r = E.recv(Op::pp_recv_token, Category::pp, Stream::pp_recv_fwd, Phase::forward, -1, pi, {});
          C.book->recvs[P2PKey::make(2, int(k), 0)] = r;
          in = r;
        } else {
          in = prev_sample;
        }
      }
      auto last = emit_forward_unit(C, ps, false, in);
      if (vs == V - 1) {
        prev_sample = last;
        if (d.p > 1 && k < d.gen) {
          P2PInfo pi;
          pi.group = GroupKind::pp;
          pi.offset = 1;
          pi.bytes = double(d.b) * 8.0;
          auto s = E.send(Op::pp_send_token, Category::pp, Stream::pp_send, Phase::forward, -1, pi, last);
          C.book->sends[P2PKey::make(2, int(k + 1), 0)] = s;
        }
      }
    }
  }
}

}  // namespace strata::plan
