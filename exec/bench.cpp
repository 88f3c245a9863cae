#include "bench.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

#include "backend.hpp"

namespace strata::exec {

double median_time(const std::function<void()>& fn, double min_s, int min_reps, int max_reps) {
  using Clock = std::chrono::steady_clock;
  fn();  // warm-up
  std::vector<double> t;
  const auto begin = Clock::now();
  while (int(t.size()) < max_reps) {
    const auto a = Clock::now();
    fn();
    t.push_back(std::chrono::duration<double>(Clock::now() - a).count());
    if (int(t.size()) >= min_reps && std::chrono::duration<double>(Clock::now() - begin).count() >= min_s) break;
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

std::unique_ptr<MicroBench> make_bench(const std::string& backend) {
  if (backend == "cpu") return make_cpu_bench();
#ifdef STRATA_HAVE_CUDA
  if (backend == "cuda") return make_cuda_bench();
#endif
  throw ExecError("backend \"" + backend + "\" is not built into this strata (built: " + backend_list() + ")");
}

}  // namespace strata::exec
