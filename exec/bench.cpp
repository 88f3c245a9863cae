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

PartitionGraph one_rank_graph() {
  PartitionGraph g;
  g.layout = Layout(1, 1, 1, 1, 1, "tp-cp-dp-pp", 1);
  g.classes.emplace_back();
  g.rank_class = {0};
  g.class_rep = {0};
  return g;
}

double dispatch_s(World& world) {
  using Clock = std::chrono::steady_clock;
  auto be = world.make_backend(0);
  const StreamHandle s = be->create_stream(Stream::compute);
  Op op;
  op.detail = MemOp{MemOp::Kind::elementwise, 4096, DType::bf16};  // a few-microsecond kernel
  op.context = "dispatch benchmark";
  Workspace ws;
  ws.in = be->allocate(8192, "the dispatch benchmark");
  ws.out = be->allocate(8192, "the dispatch benchmark");
  const int n = 2000;
  std::vector<EventHandle> ev;
  for (int i = 0; i < 2 * n; ++i) ev.push_back(be->create_event());
  auto run = [&] {
    for (int i = 0; i < n; ++i) {
      be->record_event(s, ev[std::size_t(2 * i)]);
      be->compute(s, op, ws);
      be->record_event(s, ev[std::size_t(2 * i + 1)]);
    }
    be->synchronize();
  };
  run();
  const auto t0 = Clock::now();
  run();
  return std::chrono::duration<double>(Clock::now() - t0).count() / n;
}

std::unique_ptr<MicroBench> make_bench(const std::string& backend) {
  if (backend == "cpu") return make_cpu_bench();
#ifdef STRATA_HAVE_CUDA
  if (backend == "cuda") return make_cuda_bench();
#endif
  throw ExecError("backend \"" + backend + "\" is not built into this strata (built: " + backend_list() + ")");
}

}  // namespace strata::exec
