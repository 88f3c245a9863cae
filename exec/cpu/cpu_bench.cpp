// Micro-benchmarks of the cpu backend: the same Eigen kernels, shared-memory collectives and
// per-task stream overhead that `strata exec --backend cpu` runs.
#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cmath>
#include <cstring>
#include <thread>

#include "backend.hpp"
#include "bench.hpp"
#include "cpu/cpu_kernels.hpp"
#include "cpu/shm_fabric.hpp"
#include "ops.hpp"

namespace strata::exec {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Counts {
  std::size_t count = 0, in = 0, out = 0;
};
Counts counts_of(CollKind k, int n, double bytes) {
  const std::size_t e = std::max<std::size_t>(std::size_t(n), std::size_t(std::ceil(bytes / 4.0)));
  const std::size_t per = e / std::size_t(n);
  switch (k) {
    case CollKind::all_gather: return {per * std::size_t(n), per, per * std::size_t(n)};
    case CollKind::reduce_scatter: return {per * std::size_t(n), per * std::size_t(n), per};
    case CollKind::all_to_all:
    case CollKind::all_to_all_v: return {per * std::size_t(n), per * std::size_t(n), per * std::size_t(n)};
    default: return {e, e, e};
  }
}

class CpuBench final : public MicroBench {
public:
  std::string backend() const override { return "cpu"; }
  Json device_info() const override {
    Json j;
    j["device"] = cpu::cpu_model();
    j["gpu"] = "";
    j["driver"] = "";
    j["libraries"] = {{"eigen", std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
                                    std::to_string(EIGEN_MINOR_VERSION)},
                      {"compiler", __VERSION__},
                      {"hardware_threads", std::thread::hardware_concurrency()}};
    return j;
  }
  std::string link_class() const override { return "shared_memory"; }
  double peak_tflops(DType) const override { return 0; }
  std::vector<DType> gemm_dtypes() const override { return {DType::fp32}; }

  void set_concurrency(int ranks) override { conc_ = std::max(1, ranks); }

  double gemm_s(const GemmShape& g) override {
    GemmOp op{g.m, g.n, g.k, std::max(1, g.batch), DType::fp32};
    const WorkspaceNeed w = cpu::gemm_need(op);
    return timed(w, [&](const float* in, float* out) { cpu::run_gemm(op, in, out); }, 0.02, 5, 30);
  }
  double attention_s(const AttnShape& a, double claimed) override {
    const AttnOp op = plan_attention(a, claimed);
    const WorkspaceNeed w = cpu::attention_need(op);
    return timed(w, [&](const float* in, float* out) { cpu::run_attention(op, in, out); }, 0.02, 3, 10);
  }
  double memcpy_s(double bytes) override {
    const std::size_t b = std::size_t(bytes);
    float* in = buf(0, b);
    float* out = buf(1, b);
    return median_time([&] { std::memcpy(out, in, b); }, 0.02, 3, 20);
  }
  double elementwise_s(double bytes) override { return mem_s(MemOp::Kind::elementwise, bytes); }
  double optimizer_s(double bytes) override { return mem_s(MemOp::Kind::optimizer, bytes); }
  double mem_s(MemOp::Kind kind, double bytes) {
    const MemOp op{kind, bytes, DType::bf16};
    const WorkspaceNeed w = cpu::mem_need(op);
    return timed(w, [&](const float* in, float* out) { cpu::run_mem(op, in, out); }, 0.01, 3, 20);
  }
  double launch_s() override {
    // The executor's per-task cost on this backend: an empty op between two events, queued
    // back to back on one stream worker.
    auto world = make_cpu_world(one_rank_graph(), {});
    return dispatch_s(*world);
  }
  int max_ranks() const override { return int(std::clamp(std::thread::hardware_concurrency(), 2u, 4u)); }

  double collective_s(CollKind k, int n, double bytes) override {
    const Counts c = counts_of(k, n, bytes);
    std::vector<std::vector<float>> in(static_cast<std::size_t>(n)), out(static_cast<std::size_t>(n));
    for (int r = 0; r < n; ++r) {
      in[std::size_t(r)].resize(std::max<std::size_t>(1, c.in));
      cpu::fill_random(in[std::size_t(r)].data(), in[std::size_t(r)].size(), std::uint64_t(r) + 1);
      out[std::size_t(r)].assign(std::max<std::size_t>(1, c.out), 0.5f);
    }
    // Repetitions: enough for ~50 ms, from a first estimate.
    auto run = [&](int reps, std::vector<double>* times) {
      ShmFabric fabric(120);
      std::barrier sync(n);
      std::vector<std::thread> th;
      const std::vector<std::size_t> none;
      for (int r = 0; r < n; ++r)
        th.emplace_back([&, r] {
          for (int i = 0; i < reps; ++i) {
            sync.arrive_and_wait();
            const auto t0 = Clock::now();
            fabric.collective({0, 0, 0, 0, std::uint64_t(i)}, k, n, r, in[std::size_t(r)].data(), out[std::size_t(r)].data(), c.count,
                              none, "calibrate");
            if (r == 0 && times) times->push_back(since(t0));
          }
        });
      for (auto& t : th) t.join();
    };
    std::vector<double> first;
    run(2, &first);
    const double est = std::max(1e-6, first.back());
    const int reps = int(std::clamp(0.05 / est, 3.0, 50.0));
    std::vector<double> times;
    run(reps, &times);
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
  }

  double sendrecv_s(double bytes) override {
    const std::size_t n = std::max<std::size_t>(1, std::size_t(std::ceil(bytes / 4.0)));
    std::vector<float> a(n), b(n);
    cpu::fill_random(a.data(), n, 3);
    auto run = [&](int reps, std::vector<double>* times) {
      ShmFabric fabric(120);
      std::thread peer([&] {
        for (int i = 0; i < reps; ++i) {
          fabric.recv({0, 1, std::uint32_t(2 * i), 0}, b.data(), n, "calibrate");
          fabric.send({1, 0, std::uint32_t(2 * i + 1), 0}, b.data(), n);
        }
      });
      for (int i = 0; i < reps; ++i) {
        const auto t0 = Clock::now();
        fabric.send({0, 1, std::uint32_t(2 * i), 0}, a.data(), n);
        fabric.recv({1, 0, std::uint32_t(2 * i + 1), 0}, a.data(), n, "calibrate");
        if (times) times->push_back(since(t0) / 2);  // one way
      }
      peer.join();
    };
    std::vector<double> first;
    run(2, &first);
    const int reps = int(std::clamp(0.05 / std::max(1e-6, first.back()), 3.0, 100.0));
    std::vector<double> times;
    run(reps, &times);
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
  }

  double overlap_slowdown(std::string& method) override {
    const GemmShape g{256, 256, 256, 1, DType::fp32};
    const double alone = gemm_s(g);
    std::atomic<bool> stop{false};
    const int n = 2;
    const std::size_t e = (4u << 20) / 4;
    std::vector<std::vector<float>> in(n, std::vector<float>(e, 1.0f)), out(n, std::vector<float>(e));
    ShmFabric fabric(120);
    std::vector<std::thread> th;
    for (int r = 0; r < n; ++r)
      th.emplace_back([&, r] {
        const std::vector<std::size_t> none;
        for (std::uint64_t i = 0;; ++i) {
          // The stop decision travels inside the reduced data, so both members see it after
          // the same round and leave together.
          in[std::size_t(r)][0] = (r == 0 && stop.load()) ? 1e30f : 1.0f;
          fabric.collective({0, 0, 0, 0, i}, CollKind::all_reduce, n, r, in[std::size_t(r)].data(), out[std::size_t(r)].data(), e, none,
                            "overlap");
          if (out[std::size_t(r)][0] > 1e29f) break;
        }
      });
    const double beside = gemm_s(g);
    stop.store(true);
    for (auto& t : th) t.join();
    method = "Eigen 256^3 fp32 GEMM alone vs beside a 2-thread 4 MiB shared-memory all-reduce loop";
    return alone > 0 ? beside / alone : 1.0;
  }

private:
  // One kernel's time: alone (median_time), or with conc_ copies on their own buffers started
  // together on conc_ threads (the median over every copy's runs): what a rank's kernel takes
  // while the other ranks' threads compete for the same cores.
  double timed(const WorkspaceNeed& w, const std::function<void(const float*, float*)>& fn, double min_s, int min_reps, int max_reps) {
    if (conc_ <= 1) {
      const float* in = buf(0, w.in_bytes);
      float* out = buf(1, w.out_bytes);
      return median_time([&] { fn(in, out); }, min_s, min_reps, max_reps);
    }
    for (int i = 0; i < conc_; ++i) {  // every buffer is sized here, before the threads start
      buf(2 * i, w.in_bytes);
      buf(2 * i + 1, w.out_bytes);
    }
    std::barrier sync(conc_);
    std::vector<std::vector<double>> times(static_cast<std::size_t>(conc_));
    std::vector<std::thread> th;
    for (int i = 0; i < conc_; ++i)
      th.emplace_back([&, i] {
        const float* in = bufs_[std::size_t(2 * i)].data();
        float* out = bufs_[std::size_t(2 * i + 1)].data();
        fn(in, out);  // warm-up
        for (int r = 0; r < min_reps; ++r) {
          sync.arrive_and_wait();
          const auto a = Clock::now();
          fn(in, out);
          times[std::size_t(i)].push_back(since(a));
        }
      });
    for (auto& t : th) t.join();
    std::vector<double> all;
    for (auto& v : times) all.insert(all.end(), v.begin(), v.end());
    std::sort(all.begin(), all.end());
    return all[all.size() / 2];
  }
  float* buf(int which, std::size_t bytes) {
    if (bufs_.size() <= std::size_t(which)) bufs_.resize(std::size_t(which) + 1);
    auto& v = bufs_[std::size_t(which)];
    const std::size_t n = std::max<std::size_t>(1, (bytes + 3) / 4);
    if (v.size() < n) {
      v.resize(n);
      cpu::fill_random(v.data(), n, std::uint64_t(which) + 11);
    }
    return v.data();
  }
  std::vector<std::vector<float>> bufs_;
  int conc_ = 1;
};

}  // namespace

std::unique_ptr<MicroBench> make_cpu_bench() { return std::make_unique<CpuBench>(); }

}  // namespace strata::exec
