#include "report/report.hpp"

namespace strata {

Json Report::to_json() const {
  Json j = {
      {"scenario", scenario},
      {"strategy", strategy},
      {"gpus", gpus},
      {"step_time_s", step_time_s},
      {"tokens_per_s", tokens_per_s},
      {"tflops_per_gpu", tflops_per_gpu},
      {"mfu", mfu},
      {"bubble_fraction", bubble_fraction},
      {"exposed_comm_s", {{"tp", exposed_tp_s}, {"cp", exposed_cp_s}, {"ep", exposed_ep_s}, {"pp", exposed_pp_s}, {"dp", exposed_dp_s}}},
      {"memory",
       {{"peak_bytes", memory.peak_bytes},
        {"weights_bytes", memory.weights_bytes},
        {"grads_bytes", memory.grads_bytes},
        {"optimizer_bytes", memory.optimizer_bytes},
        {"activations_bytes", memory.activations_bytes},
        {"kv_cache_bytes", memory.kv_cache_bytes},
        {"capacity_bytes", memory.capacity_bytes},
        {"fits", memory.fits}}},
  };
  Json busy = Json::object();
  for (int c = 0; c < int(Category::count); ++c)
    if (Category(c) != Category::bubble) busy[category_name(Category(c))] = busy_s[std::size_t(c)];
  j["busy_s"] = busy;
  if (inference) j["inference"] = {{"ttft_s", ttft_s}, {"tpot_s", tpot_s}};
  if (extra.is_object())
    for (auto it = extra.begin(); it != extra.end(); ++it) j[it.key()] = it.value();
  return j;
}

}  // namespace strata
