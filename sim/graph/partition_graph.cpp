#include "graph/partition_graph.hpp"

#include <algorithm>

namespace strata {

const char* task_kind_name(TaskKind k) {
  switch (k) {
    case TaskKind::compute: return "compute";
    case TaskKind::collective: return "collective";
    case TaskKind::send: return "send";
    case TaskKind::recv: return "recv";
    case TaskKind::optimizer: return "optimizer";
    case TaskKind::memcpy: return "memcpy";
  }
  return "?";
}
const char* phase_name(Phase p) {
  switch (p) {
    case Phase::forward: return "forward";
    case Phase::backward_input: return "backward-input";
    case Phase::backward_weight: return "backward-weight";
    case Phase::recompute: return "recompute";
    case Phase::optimizer: return "optimizer";
    case Phase::none: return "none";
  }
  return "?";
}
const char* category_name(Category c) {
  switch (c) {
    case Category::compute: return "compute";
    case Category::tp: return "tp";
    case Category::cp: return "cp";
    case Category::ep: return "ep";
    case Category::pp: return "pp";
    case Category::dp: return "dp";
    case Category::optimizer: return "optimizer";
    case Category::bubble: return "bubble";
    case Category::count: break;
  }
  return "?";
}
const char* op_kind_name(OpKind k) {
  switch (k) {
    case OpKind::gemm: return "gemm";
    case OpKind::grouped_gemm: return "grouped_gemm";
    case OpKind::attention: return "attention";
    case OpKind::elementwise: return "elementwise";
    case OpKind::comm: return "comm";
    case OpKind::optimizer: return "optimizer";
  }
  return "?";
}
const char* coll_kind_name(CollKind k) {
  switch (k) {
    case CollKind::all_reduce: return "all_reduce";
    case CollKind::all_gather: return "all_gather";
    case CollKind::reduce_scatter: return "reduce_scatter";
    case CollKind::all_to_all: return "all_to_all";
    case CollKind::all_to_all_v: return "all_to_all_v";
    case CollKind::broadcast: return "broadcast";
  }
  return "?";
}
const char* stream_name(Stream s) {
  switch (s) {
    case Stream::compute: return "compute";
    case Stream::tp: return "tp comm";
    case Stream::cp: return "cp comm";
    case Stream::ep: return "ep comm";
    case Stream::dp: return "dp comm";
    case Stream::pp_send: return "pp send";
    case Stream::pp_recv_fwd: return "pp recv (fwd)";
    case Stream::pp_recv_bwd: return "pp recv (bwd)";
    case Stream::cp_recv: return "cp recv";
    case Stream::count: break;
  }
  return "?";
}

std::size_t PartitionGraph::total_tasks() const {
  std::size_t n = 0;
  for (const auto& c : classes) n += c.size();
  return n;
}

std::uint32_t PartitionGraph::intern(const std::string& name) {
  auto it = std::find(names.begin(), names.end(), name);
  if (it != names.end()) return std::uint32_t(it - names.begin());
  names.push_back(name);
  return std::uint32_t(names.size() - 1);
}

}  // namespace strata
