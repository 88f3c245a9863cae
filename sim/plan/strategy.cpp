#include "plan/strategy.hpp"

namespace strata {

const char* schedule_name(Schedule s) {
  switch (s) {
    case Schedule::gpipe: return "gpipe";
    case Schedule::one_f_one_b: return "1f1b";
    case Schedule::interleaved: return "interleaved";
    case Schedule::zb_h1: return "zb-h1";
  }
  return "1f1b";
}
const char* cp_kind_name(CpKind k) { return k == CpKind::ring ? "ring" : "ulysses"; }
const char* recompute_name(Recompute r) {
  switch (r) {
    case Recompute::none: return "none";
    case Recompute::selective: return "selective";
    case Recompute::full: return "full";
  }
  return "none";
}
const char* attention_kind_name(AttentionKind a) {
  switch (a) {
    case AttentionKind::flash: return "flash";
    case AttentionKind::flash2: return "flash2";
    case AttentionKind::triton: return "triton";
    case AttentionKind::unfused: break;
  }
  return "unfused";
}
const char* norm_kernel_name(NormKernel k) { return k == NormKernel::apex_2020 ? "apex_2020" : "current"; }
const char* coll_algo_name(CollAlgo a) {
  switch (a) {
    case CollAlgo::automatic: return "auto";
    case CollAlgo::ring: return "ring";
    case CollAlgo::tree: return "tree";
    case CollAlgo::hierarchical: return "hierarchical";
    case CollAlgo::nvls: return "nvls";
    case CollAlgo::direct: return "direct";
  }
  return "auto";
}

}  // namespace strata
