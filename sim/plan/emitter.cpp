// Appending tasks to a class's struct-of-arrays, and the op-name table.
#include "plan/plan_internal.hpp"

namespace strata::plan {

const char* op_name(Op o) {
  switch (o) {
    case Op::embedding: return "embedding";
    case Op::attn_norm: return "attn_norm";
    case Op::qkv_proj: return "qkv_proj";
    case Op::attn_core: return "attn_core";
    case Op::attn_out_proj: return "attn_out_proj";
    case Op::mlp_norm: return "mlp_norm";
    case Op::mlp_fc1: return "mlp_fc1";
    case Op::mlp_act: return "mlp_act";
    case Op::mlp_fc2: return "mlp_fc2";
    case Op::final_norm: return "final_norm";
    case Op::lm_head: return "lm_head";
    case Op::cross_entropy: return "cross_entropy";
    case Op::sample: return "sample";
    case Op::router: return "router";
    case Op::moe_permute: return "moe_permute";
    case Op::expert_fc1: return "expert_fc1";
    case Op::expert_act: return "expert_act";
    case Op::expert_fc2: return "expert_fc2";
    case Op::moe_unpermute: return "moe_unpermute";
    case Op::shared_fc1: return "shared_fc1";
    case Op::shared_act: return "shared_act";
    case Op::shared_fc2: return "shared_fc2";
    case Op::tp_allreduce: return "tp_allreduce";
    case Op::tp_allgather: return "tp_allgather";
    case Op::tp_reduce_scatter: return "tp_reduce_scatter";
    case Op::ce_allreduce: return "ce_allreduce";
    case Op::cp_send_kv: return "cp_send_kv";
    case Op::cp_recv_kv: return "cp_recv_kv";
    case Op::cp_send_dkv: return "cp_send_dkv";
    case Op::cp_recv_dkv: return "cp_recv_dkv";
    case Op::cp_all_to_all: return "cp_all_to_all";
    case Op::cp_attn_combine: return "cp_attn_combine";
    case Op::ep_dispatch: return "ep_dispatch";
    case Op::ep_combine: return "ep_combine";
    case Op::pp_send_act: return "pp_send_act";
    case Op::pp_recv_act: return "pp_recv_act";
    case Op::pp_send_grad: return "pp_send_grad";
    case Op::pp_recv_grad: return "pp_recv_grad";
    case Op::pp_send_token: return "pp_send_token";
    case Op::pp_recv_token: return "pp_recv_token";
    case Op::dp_allreduce: return "dp_allreduce";
    case Op::dp_reduce_scatter: return "dp_reduce_scatter";
    case Op::dp_allgather: return "dp_allgather";
    case Op::edp_allreduce: return "edp_allreduce";
    case Op::edp_reduce_scatter: return "edp_reduce_scatter";
    case Op::edp_allgather: return "edp_allgather";
    case Op::fsdp_allgather: return "fsdp_allgather";
    case Op::fsdp_reduce_scatter: return "fsdp_reduce_scatter";
    case Op::optimizer_step: return "optimizer_step";
    case Op::attn_scores: return "attn_scores";
    case Op::attn_softmax: return "attn_softmax";
    case Op::attn_context: return "attn_context";
    case Op::grad_accumulate: return "grad_accumulate";
    case Op::pp_allgather: return "pp_allgather";
    case Op::count: break;
  }
  return "?";
}

double gemm_flops(const GemmShape& s) { return 2.0 * double(s.m) * double(s.n) * double(s.k) * double(s.batch); }

double gemm_bytes(const GemmShape& s) {
  return (double(s.m) * double(s.k) + double(s.k) * double(s.n) + double(s.m) * double(s.n)) * dtype_bytes(s.dtype) *
         double(s.batch);
}

std::uint32_t Emitter::push(TaskKind kind, Stream st, Category cat, Phase ph, OpKind ok, Op op, std::int32_t layer,
                            double flops, double bytes, double mem, std::int32_t detail, const Deps& deps) {
  const auto id = std::uint32_t(ct_.kind.size());
  ct_.kind.push_back(kind);
  ct_.stream.push_back(st);
  ct_.category.push_back(cat);
  ct_.phase.push_back(ph);
  ct_.op.push_back(ok);
  ct_.name.push_back(std::uint32_t(op));
  ct_.layer.push_back(layer);
  ct_.microbatch.push_back(mb);
  ct_.chunk.push_back(chunk);
  ct_.flops.push_back(flops);
  ct_.bytes.push_back(bytes);
  ct_.mem_delta.push_back(mem);
  ct_.detail.push_back(detail);
  for (int i = 0; i < deps.n; ++i) ct_.deps.push_back(deps.id[std::size_t(i)]);
  ct_.dep_begin.push_back(std::uint32_t(ct_.deps.size()));
  if (st == Stream::compute) last_compute_ = id;
  return id;
}

std::uint32_t Emitter::gemm(Op op, Phase ph, std::int32_t layer, const GemmShape& s, double flops, double mem,
                            const Deps& deps, OpKind kind) {
  auto detail = std::int32_t(ct_.gemms.size());
  ct_.gemms.push_back(s);
  return push(TaskKind::compute, Stream::compute, Category::compute, ph, kind, op, layer, flops, gemm_bytes(s), mem, detail,
              deps);
}

std::uint32_t Emitter::attention(Op op, Phase ph, std::int32_t layer, const AttnShape& s, double flops, double bytes,
                                 const Deps& deps) {
  auto detail = std::int32_t(ct_.attns.size());
  ct_.attns.push_back(s);
  return push(TaskKind::compute, Stream::compute, Category::compute, ph, OpKind::attention, op, layer, flops, bytes, 0,
              detail, deps);
}

std::uint32_t Emitter::elementwise(Op op, Phase ph, std::int32_t layer, double bytes, double mem, const Deps& deps,
                                   const KernelRate* rate) {
  std::int32_t detail = -1;
  if (rate && rate->bytes > 0) {
    detail = std::int32_t(ct_.kernel_rates.size());
    ct_.kernel_rates.push_back(*rate);
  }
  return push(TaskKind::compute, Stream::compute, Category::compute, ph, OpKind::elementwise, op, layer, 0, bytes, mem, detail,
              deps);
}

std::uint32_t Emitter::optimizer(Op op, double flops, double bytes, const Deps& deps) {
  return push(TaskKind::optimizer, Stream::compute, Category::optimizer, Phase::optimizer, OpKind::optimizer, op, -1, flops,
              bytes, 0, -1, deps);
}

std::uint32_t Emitter::collective(Op op, Category cat, Stream st, Phase ph, std::int32_t layer, const CollInfo& ci,
                                  const Deps& deps) {
  auto detail = std::int32_t(ct_.colls.size());
  ct_.colls.push_back(ci);
  return push(TaskKind::collective, st, cat, ph, OpKind::comm, op, layer, 0, ci.bytes, 0, detail, deps);
}

std::uint32_t Emitter::send(Op op, Category cat, Stream st, Phase ph, std::int32_t layer, const P2PInfo& pi,
                            const Deps& deps) {
  auto detail = std::int32_t(ct_.p2ps.size());
  ct_.p2ps.push_back(pi);
  return push(TaskKind::send, st, cat, ph, OpKind::comm, op, layer, 0, pi.bytes, 0, detail, deps);
}

std::uint32_t Emitter::recv(Op op, Category cat, Stream st, Phase ph, std::int32_t layer, const P2PInfo& pi,
                            const Deps& deps) {
  auto detail = std::int32_t(ct_.p2ps.size());
  ct_.p2ps.push_back(pi);
  return push(TaskKind::recv, st, cat, ph, OpKind::comm, op, layer, 0, pi.bytes, 0, detail, deps);
}

void Emitter::set_match(std::uint32_t task, std::uint32_t match) {
  ct_.p2ps[std::size_t(ct_.detail[task])].match = match;
}

}  // namespace strata::plan
