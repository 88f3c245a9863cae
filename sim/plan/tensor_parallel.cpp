// Tensor parallelism (Megatron [S12c]; reference §4.4, §5.1, §5.2): the collectives around the
// column-parallel (QKV, FC1, LM head) and row-parallel (attention output, FC2) GEMMs.
//  - without sequence parallelism: an all-reduce of [T, h] after each row-parallel GEMM in forward
//    (g) and one on the input gradient of each column-parallel GEMM in backward (f): 2 + 2 per layer;
//  - with sequence parallelism (Korthikanti [S12b]): all-gather before the column-parallel GEMM and
//    reduce-scatter after the row-parallel one, conjugated in backward, plus the all-gather of the
//    column-parallel input again for its weight gradient (Megatron does not keep it) [S7d].
// Sizes follow nccl-tests (§2.4): all-reduce = per-rank [T, h]; all-gather / reduce-scatter =
// the total (gathered) [T, h] buffer.
#include "plan/plan_internal.hpp"

namespace strata::plan {

namespace {

CollInfo tp_coll(const PlanDims& d, CollKind k, double bytes) {
  CollInfo ci;
  ci.kind = k;
  ci.group = GroupKind::tp;
  ci.algo = d.algo;
  ci.bytes = bytes;
  return ci;
}

std::uint32_t emit(ClassCtx& C, Op op, CollKind k, Phase ph, int layer, double bytes, const Deps& in) {
  return C.E.collective(op, Category::tp, Stream::tp, ph, layer, tp_coll(C.d, k, bytes), in);
}

}  // namespace

double tp_tensor_bytes(const PlanDims& d, const Pass& ps) { return ps.tokens() * double(d.h) * d.act_B; }

Deps tp_gather_input(ClassCtx& C, const Pass& ps, int layer, Phase ph, const Deps& in) {
  if (C.d.t == 1 || !ps.sp) return in;
  return emit(C, Op::tp_allgather, CollKind::all_gather, ph, layer, tp_tensor_bytes(C.d, ps), in);
}

Deps tp_reduce_output(ClassCtx& C, const Pass& ps, int layer, Phase ph, const Deps& in) {
  if (C.d.t == 1) return in;
  if (ps.sp) return emit(C, Op::tp_reduce_scatter, CollKind::reduce_scatter, ph, layer, tp_tensor_bytes(C.d, ps), in);
  return emit(C, Op::tp_allreduce, CollKind::all_reduce, ph, layer, tp_tensor_bytes(C.d, ps), in);
}

Deps tp_grad_output(ClassCtx& C, const Pass& ps, int layer, const Deps& in) {
  if (C.d.t == 1 || !ps.sp) return in;
  return emit(C, Op::tp_allgather, CollKind::all_gather, Phase::backward_input, layer, tp_tensor_bytes(C.d, ps), in);
}

Deps tp_grad_input(ClassCtx& C, const Pass& ps, int layer, const Deps& in) {
  if (C.d.t == 1) return in;
  if (ps.sp)
    return emit(C, Op::tp_reduce_scatter, CollKind::reduce_scatter, Phase::backward_input, layer, tp_tensor_bytes(C.d, ps), in);
  return emit(C, Op::tp_allreduce, CollKind::all_reduce, Phase::backward_input, layer, tp_tensor_bytes(C.d, ps), in);
}

Deps tp_regather_for_wgrad(ClassCtx& C, const Pass& ps, int layer, const Deps& in) {
  if (C.d.t == 1 || !ps.sp) return {};
  return emit(C, Op::tp_allgather, CollKind::all_gather, Phase::backward_input, layer, tp_tensor_bytes(C.d, ps), in);
}

Deps tp_vocab_reductions(ClassCtx& C, const Pass& ps, Phase ph, const Deps& in) {
  // Vocabulary-parallel cross-entropy: all-reduces of the per-token max logit, sum of exponentials
  // and target logit, fp32 [T] each (Megatron's _VocabParallelCrossEntropy).
  if (C.d.t == 1) return in;
  Deps cur = in;
  for (int i = 0; i < 3; ++i) cur = emit(C, Op::ce_allreduce, CollKind::all_reduce, ph, -1, ps.tokens() * 4.0, cur);
  return cur;
}

}  // namespace strata::plan
