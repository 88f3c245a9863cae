// Data parallelism and ZeRO (reference §5.7, §5.8, §7.1):
//  - gradients are reduced in buckets (Megatron DDP: max(40M, 1M·dp) parameters [S7g], or
//    strategy.bucket_bytes); by default only the first pipeline stage's first chunk is bucketed,
//    every other chunk is one bucket, as Megatron does since their reduction is off the critical
//    path [S7g]. With overlap_grad_reduce a bucket's reduction is issued as soon as the last
//    micro-batch's backward has produced all its gradients; otherwise all of them after the
//    backward. Gradients travel in fp32 for bf16 training (Megatron's default [S7h]).
//  - ZeRO-0: all-reduce. ZeRO-1 / distributed optimizer: reduce-scatter, optimizer step on the
//    1/d shard, all-gather of the updated parameters (at the end of the step, or overlapped with
//    the next forward when overlap_param_gather: here issued at the step start, each layer's
//    first forward waiting for its bucket; without ZeRO there is no gather and the flag has no
//    effect). ZeRO-2: as ZeRO-1 but the reduce-scatter runs after
//    every micro-batch (gradients stay sharded, as DeepSpeed does with accumulation).
//  - ZeRO-3 / FSDP (pp = 1): per layer, an all-gather of its parameters before its forward and
//    again before its backward, one layer ahead (prefetch), and a reduce-scatter of its gradients
//    after its backward, every micro-batch.
// Dense parameters are reduced over dp (dp·cp with context parallelism); expert parameters over
// the expert-data-parallel group (edp) [S7b].
#include "plan/plan_internal.hpp"

namespace strata::plan {

namespace {

// Adam step: about a dozen FLOPs per parameter (moments, bias correction, update) — an estimate;
// the step is memory-bound: it reads the gradient and the optimizer state, writes state and weights.
constexpr double kAdamFlopsPerParam = 12.0;
// Unfused gradient accumulation: grad += new reads two gradient-sized tensors and writes one.
constexpr double kGradAccumulateTensors = 3.0;

}  // namespace

DataParallel::DataParallel(const PlanDims& d, const StageLayout& sl, int stage) : d_(d), stage_(stage) {
  const ModelSpec& m = *d.model;
  const int V = d.p * d.v;
  const double t = d.t;
  groups_.resize(std::size_t(d.v));
  for (int c = 0; c < d.v; ++c) {
    const int vs = c * d.p + stage;
    auto& gl = groups_[std::size_t(c)];
    if (vs == V - 1) {
      // Output layer (vocabulary-parallel). Tied to the embedding: shares its weight when both sit
      // on this rank, else Megatron keeps a copy on the last stage.
      bool shares = m.tie_embeddings && V == 1;
      gl.push_back({-1, shares ? 0.0 : double(d.V) * double(d.h) / t, 0.0});
    }
    ChunkLayers cl = sl.layers[std::size_t(stage)][std::size_t(c)];
    for (int l = cl.first + cl.count - 1; l >= cl.first; --l) {
      ParamGroup g;
      g.layer = l;
      g.dense = attention_params_per_layer(m) / t + norm_params_per_layer(m);
      if (m.is_moe_layer(l)) {
        g.dense += double(d.shared) * strata::expert_params(m) / t + double(d.h) * d.E;  // shared experts; router replicated
        g.expert = double(d.E_local) * strata::expert_params(m) / t;
      } else {
        g.dense += dense_ffn_params_per_layer(m) / t;
      }
      gl.push_back(g);
    }
    if (vs == 0) {
      double pos = m.position == PositionKind::learned ? double(m.max_position) * double(d.h) : 0.0;
      gl.push_back({-2, double(d.V) * double(d.h) / t + pos, 0.0});
    }
    if (vs == V - 1) gl.front().dense += (m.norm == NormKind::layernorm ? 2.0 : 1.0) * double(d.h);  // final norm, with the head
    for (const auto& g : gl) {
      dense_ += g.dense;
      expert_ += g.expert;
    }
  }
  grads_seen_.assign(groups_.size(), {});
  for (std::size_t c = 0; c < groups_.size(); ++c) grads_seen_[c].assign(groups_[c].size(), 0);
  fsdp_ag_.assign(groups_.size(), {});
  for (std::size_t c = 0; c < groups_.size(); ++c) fsdp_ag_[c].assign(2 * groups_[c].size(), kNone);
  if (d.zero == 3) return;
  // Buckets, in backward order.
  for (int c = 0; c < d.v; ++c) {
    const auto& gl = groups_[std::size_t(c)];
    const bool bucketed = d.bucket_explicit || (stage == 0 && c == 0);
    for (int kind = 0; kind < 2; ++kind) {
      Bucket b;
      b.chunk = c;
      b.expert = kind == 1;
      b.first_group = 0;
      for (int gi = 0; gi < int(gl.size()); ++gi) {
        double x = kind == 0 ? gl[std::size_t(gi)].dense : gl[std::size_t(gi)].expert;
        if (x <= 0) continue;
        if (b.params == 0) b.first_group = gi;
        b.params += x;
        b.last_group = gi;
        if (bucketed && b.params >= d.bucket_params) {
          buckets_.push_back(b);
          b.params = 0;
        }
      }
      if (b.params > 0) buckets_.push_back(b);
    }
  }
}

void DataParallel::emit_bucket(Emitter& E, const Bucket& b, std::uint32_t dep) {
  const int size = b.expert ? d_.edp_size : d_.dense_dp_size;
  if (size <= 1) return;
  CollInfo ci;
  ci.group = b.expert ? GroupKind::edp : d_.dense_dp_group;
  ci.algo = d_.algo;
  ci.bytes = b.params * d_.grad_B;
  Op op;
  if (d_.zero == 0) {
    ci.kind = CollKind::all_reduce;
    op = b.expert ? Op::edp_allreduce : Op::dp_allreduce;
  } else {
    ci.kind = CollKind::reduce_scatter;
    op = b.expert ? Op::edp_reduce_scatter : Op::dp_reduce_scatter;
  }
  last_dp_ = E.collective(op, Category::dp, Stream::dp, Phase::backward_weight, -1, ci, dep);
}

static std::uint32_t param_gather(Emitter& E, const PlanDims& d, double params, bool expert, Op dense_op, Op expert_op,
                                  Phase ph, int layer, const Deps& deps) {
  const int size = expert ? d.edp_size : d.dense_dp_size;
  if (size <= 1 || params <= 0) return kNone;
  CollInfo ci;
  ci.kind = CollKind::all_gather;
  ci.group = expert ? GroupKind::edp : d.dense_dp_group;
  ci.algo = d.algo;
  ci.bytes = params * d.param_B;
  return E.collective(expert ? expert_op : dense_op, Category::dp, Stream::dp, ph, layer, ci, deps);
}

void DataParallel::begin_step(Emitter& E) {
  if (!(d_.overlap_param && (d_.zero == 1 || d_.zero == 2))) return;
  E.mb = -1;
  for (int c = 0; c < d_.v; ++c)
    for (std::size_t i = buckets_.size(); i-- > 0;) {
      Bucket& b = buckets_[i];
      if (b.chunk != c) continue;
      E.chunk = c;
      b.prefetch_ag = param_gather(E, d_, b.params, b.expert, Op::dp_allgather, Op::edp_allgather, Phase::forward, -1, {});
    }
}

Deps DataParallel::before_forward(Emitter& E, int chunk, int group, bool first_unit_of_chunk, std::uint32_t prev_task) {
  Deps out;
  if (d_.zero == 3) {
    const auto& gl = groups_[std::size_t(chunk)];
    auto& ag = fsdp_ag_[std::size_t(chunk)];
    const int G = int(gl.size());
    auto gather = [&](int gi, const Deps& deps) {
      const ParamGroup& g = gl[std::size_t(gi)];
      ag[std::size_t(2 * gi)] =
          param_gather(E, d_, g.dense, false, Op::fsdp_allgather, Op::fsdp_allgather, Phase::forward, g.layer, deps);
      ag[std::size_t(2 * gi + 1)] =
          param_gather(E, d_, g.expert, true, Op::fsdp_allgather, Op::fsdp_allgather, Phase::forward, g.layer, deps);
    };
    if (group == G - 1) gather(group, {});               // first group of the forward
    if (group > 0) gather(group - 1, Deps(prev_task));  // prefetch the next one
    out.add(ag[std::size_t(2 * group)]);
    out.add(ag[std::size_t(2 * group + 1)]);
    return out;
  }
  if (first_unit_of_chunk && d_.overlap_param && (d_.zero == 1 || d_.zero == 2)) {
    for (const auto& b : buckets_)
      if (b.chunk == chunk && group >= b.first_group && group <= b.last_group) out.add(b.prefetch_ag);
  }
  return out;
}

Deps DataParallel::before_backward(Emitter& E, int chunk, int group, std::uint32_t prev_task) {
  Deps out;
  if (d_.zero != 3) return out;
  const auto& gl = groups_[std::size_t(chunk)];
  auto& ag = fsdp_ag_[std::size_t(chunk)];
  const int G = int(gl.size());
  auto gather = [&](int gi, const Deps& deps) {
    const ParamGroup& g = gl[std::size_t(gi)];
    ag[std::size_t(2 * gi)] =
        param_gather(E, d_, g.dense, false, Op::fsdp_allgather, Op::fsdp_allgather, Phase::backward_input, g.layer, deps);
    ag[std::size_t(2 * gi + 1)] =
        param_gather(E, d_, g.expert, true, Op::fsdp_allgather, Op::fsdp_allgather, Phase::backward_input, g.layer, deps);
  };
  if (group == 0) gather(0, {});
  if (group + 1 < G) gather(group + 1, Deps(prev_task));
  out.add(ag[std::size_t(2 * group)]);
  out.add(ag[std::size_t(2 * group + 1)]);
  return out;
}

void DataParallel::grads_done(Emitter& E, int chunk, int group, std::uint32_t task, bool last_microbatch) {
  // Unfused accumulation (strategy.grad_accumulation_fusion = false): from the second micro-batch
  // on, the new gradients are added into the full gradient buffer: read both, write one
  // (kGradAccumulateTensors). With ZeRO-2/3 the buffer is the 1/d shard after the reduce-scatter,
  // which is small, so only ZeRO-0/1 pay it.
  int& seen = grads_seen_[std::size_t(chunk)][std::size_t(group)];
  if (!d_.grad_accum_fusion && d_.zero <= 1 && seen++ > 0) {
    const ParamGroup& g = groups_[std::size_t(chunk)][std::size_t(group)];
    const double bytes = kGradAccumulateTensors * (g.dense + g.expert) * d_.grad_B;
    if (bytes > 0) task = E.elementwise(Op::grad_accumulate, Phase::backward_weight, g.layer, bytes, 0, task);
  }
  if (d_.zero == 3) {
    const ParamGroup& g = groups_[std::size_t(chunk)][std::size_t(group)];
    for (int kind = 0; kind < 2; ++kind) {
      const double params = kind == 0 ? g.dense : g.expert;
      const int size = kind == 0 ? d_.dense_dp_size : d_.edp_size;
      if (params <= 0 || size <= 1) continue;
      CollInfo ci;
      ci.kind = CollKind::reduce_scatter;
      ci.group = kind == 0 ? d_.dense_dp_group : GroupKind::edp;
      ci.algo = d_.algo;
      ci.bytes = params * d_.grad_B;
      last_dp_ = E.collective(Op::fsdp_reduce_scatter, Category::dp, Stream::dp, Phase::backward_weight, g.layer, ci, task);
    }
    return;
  }
  const bool now = d_.zero == 2 || (last_microbatch && d_.overlap_grad);
  if (!now) return;
  for (const auto& b : buckets_)
    if (b.chunk == chunk && b.last_group == group) emit_bucket(E, b, task);
}

void DataParallel::end_step(Emitter& E) {
  E.mb = -1;
  E.chunk = 0;
  if (d_.zero <= 1 && !d_.overlap_grad) {
    const std::uint32_t dep = E.last_compute();
    for (const auto& b : buckets_) {
      E.chunk = b.chunk;
      emit_bucket(E, b, dep);
    }
    E.chunk = 0;
  }
  const double shard = d_.zero >= 1 ? dense_ / d_.dense_dp_size + expert_ / d_.edp_size : dense_ + expert_;
  const double bytes = shard * (d_.grad_B + 2.0 * d_.opt_K + d_.param_B);
  auto opt = E.optimizer(Op::optimizer_step, kAdamFlopsPerParam * shard, bytes, {last_dp_, E.last_compute()});
  if ((d_.zero == 1 || d_.zero == 2) && !d_.overlap_param) {
    for (const auto& b : buckets_) {
      E.chunk = b.chunk;
      param_gather(E, d_, b.params, b.expert, Op::dp_allgather, Op::edp_allgather, Phase::optimizer, -1, opt);
    }
    E.chunk = 0;
  }
}

}  // namespace strata::plan
