// Micro-benchmarks of the cuda backend: the executor's own cuBLASLt GEMMs, attention and
// kernels timed with CUDA events; NCCL collectives over the visible GPUs (one thread driving all
// of them inside ncclGroupStart/End, as nccl-tests' single-process mode does).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include "bench.hpp"
#include "cluster/gpu.hpp"
#include "cuda/cuda_ops.hpp"
#include "ops.hpp"

namespace strata::exec {

namespace {

using namespace strata::exec::cuda;
using Clock = std::chrono::steady_clock;

std::string table_name(const std::string& device) {
  auto has = [&](const char* s) { return device.find(s) != std::string::npos; };
  if (has("GB200")) return "GB200";
  if (has("B200")) return "B200";
  if (has("H200")) return "H200-SXM";
  if (has("H100")) return "H100-SXM";  // the table holds the SXM figures; PCIe cards differ (noted)
  if (has("A100") && (has("80G") || has("80 G"))) return "A100-80-SXM";
  if (has("A100")) return "A100-40-SXM";
  return "";
}

struct Arena {
  void* p = nullptr;
  std::size_t bytes = 0;
};

class CudaBench final : public MicroBench {
public:
  CudaBench() {
    const cudaError_t e = cudaGetDeviceCount(&devices_);
    if (e != cudaSuccess || devices_ < 1)
      throw ExecError(std::string("cuda calibrate: no usable GPU on this machine (") +
                      (e != cudaSuccess ? cudaGetErrorString(e) : "cudaGetDeviceCount found none") + ")");
    STRATA_CUDA(cudaSetDevice(0), "GPU 0");
    STRATA_CUDA(cudaGetDeviceProperties(&prop_, 0), "GPU 0 properties");
    STRATA_CUDA(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking), "stream");
    STRATA_CUDA(cudaStreamCreateWithFlags(&s2_, cudaStreamNonBlocking), "stream");
    STRATA_CUDA(cudaEventCreate(&a_), "event");
    STRATA_CUDA(cudaEventCreate(&b_), "event");
    STRATA_CUDA(cudaMalloc(&lt_ws_, kLtWorkspaceBytes), "cuBLASLt workspace");
    lt_ = std::make_unique<LtGemm>();
    gpu_ = table_name(prop_.name);
  }
  ~CudaBench() override {
    for (auto& [n, v] : comms_)
      for (auto c : v) ncclCommDestroy(c);
    for (auto& [d, v] : dev_bufs_)
      for (auto& a : v)
        if (a.p) {
          cudaSetDevice(d);
          cudaFree(a.p);
        }
    cudaSetDevice(0);
    for (auto& a : arena_)
      if (a.p) cudaFree(a.p);
    cudaFree(lt_ws_);
    for (auto e : events_) cudaEventDestroy(e);
  }

  std::string backend() const override { return "cuda"; }
  Json device_info() const override {
    Json j;
    j["device"] = prop_.name;
    j["gpu"] = gpu_;
    int drv = 0, rt = 0, nccl = 0;
    cudaDriverGetVersion(&drv);
    cudaRuntimeGetVersion(&rt);
    ncclGetVersion(&nccl);
    j["driver"] = "CUDA driver API " + std::to_string(drv / 1000) + "." + std::to_string((drv % 1000) / 10);
    j["libraries"] = {{"cuda_runtime", std::to_string(rt / 1000) + "." + std::to_string((rt % 1000) / 10)},
                      {"cublasLt", std::to_string(cublasLtGetVersion())},
                      {"nccl", std::to_string(nccl)},
                      {"compute_capability", std::to_string(prop_.major) + "." + std::to_string(prop_.minor)},
                      {"sms", prop_.multiProcessorCount},
                      {"gpus_visible", devices_}};
    return j;
  }
  std::string link_class() const override {
    if (devices_ < 2) return "none";
    int ok = 0;
    cudaDeviceCanAccessPeer(&ok, 0, 1);
    return ok ? "intra_node_p2p" : "intra_node_host";
  }
  double peak_tflops(DType t) const override {
    const GpuSpec* g = gpu_.empty() ? nullptr : find_gpu(gpu_);
    return g ? g->peak_tflops(t) : 0.0;
  }
  std::vector<DType> gemm_dtypes() const override {
    std::vector<DType> v{DType::bf16};
    if (prop_.major > 8 || (prop_.major == 8 && prop_.minor >= 9)) v.push_back(DType::fp8);
    return v;
  }

  double gemm_s(const GemmShape& g) override {
    const GemmOp op{g.m, g.n, g.k, std::max(1, g.batch), g.dtype};
    const WorkspaceNeed w = gemm_need(op);
    void* in = buf(0, w.in_bytes);
    void* out = buf(1, w.out_bytes);
    const std::string ctx = "calibrate gemm";
    return time_gpu([&] { run_gemm(*lt_, s_, lt_ws_, op, in, out, ctx); });
  }
  double attention_s(const AttnShape& a, double claimed) override { return time_gpu(attention_task(a, claimed)); }
  double attention_host_s(const AttnShape& a, double claimed) override { return time_host(attention_task(a, claimed)); }
  double memcpy_s(double bytes) override {
    const std::size_t b = std::size_t(bytes);
    void* in = buf(0, b);
    void* out = buf(1, b);
    return time_gpu([&] { STRATA_CUDA(cudaMemcpyAsync(out, in, b, cudaMemcpyDeviceToDevice, s_), "calibrate memcpy"); });
  }
  double elementwise_s(double bytes) override { return mem_s(MemOp::Kind::elementwise, bytes); }
  double optimizer_s(double bytes) override { return mem_s(MemOp::Kind::optimizer, bytes); }
  double launch_s() override {
    // What the executor's host spends per task (events + launch), which bounds small tasks;
    // the bare launch of an empty kernel is lower.
    auto world = make_cuda_world(one_rank_graph(), {});
    return dispatch_s(*world);
  }
  int max_ranks() const override { return devices_; }

  double collective_s(CollKind k, int n, double bytes) override {
    CollOp c;
    c.kind = k;
    c.size = n;
    c.bytes = bytes;
    const NcclCounts cnt = nccl_counts(c);
    auto& comms = comms_for(n);
    std::vector<void*> in(static_cast<std::size_t>(n)), out(static_cast<std::size_t>(n));
    for (int d = 0; d < n; ++d) {
      in[std::size_t(d)] = dev_buf(d, 0, 2 * std::max<std::size_t>(1, cnt.in));
      out[std::size_t(d)] = dev_buf(d, 1, 2 * std::max<std::size_t>(1, cnt.out));
    }
    auto once = [&] {
      STRATA_NCCL(ncclGroupStart(), "calibrate collective");
      for (int d = 0; d < n; ++d)
        run_collective(comms[std::size_t(d)], streams_[std::size_t(d)], c, n, in[std::size_t(d)], out[std::size_t(d)], "calibrate collective");
      STRATA_NCCL(ncclGroupEnd(), "calibrate collective");
    };
    return time_multi(n, once);
  }
  double sendrecv_s(double bytes) override {
    auto& comms = comms_for(2);
    const std::size_t cnt = std::max<std::size_t>(1, std::size_t(std::ceil(bytes / 2.0)));
    void* src = dev_buf(0, 0, 2 * cnt);
    void* dst = dev_buf(1, 1, 2 * cnt);
    auto once = [&] {
      STRATA_NCCL(ncclGroupStart(), "calibrate sendrecv");
      STRATA_NCCL(ncclSend(src, cnt, ncclBfloat16, 1, comms[0], streams_[0]), "calibrate sendrecv");
      STRATA_NCCL(ncclRecv(dst, cnt, ncclBfloat16, 0, comms[1], streams_[1]), "calibrate sendrecv");
      STRATA_NCCL(ncclGroupEnd(), "calibrate sendrecv");
    };
    return time_multi(2, once);
  }

  double overlap_slowdown(std::string& method) override {
    const GemmShape g{8192, 8192, 8192, 1, DType::bf16};
    const double alone = gemm_s(g);
    // Keep a second stream busy for the whole measurement, then time the GEMM beside it.
    const std::size_t copy = std::size_t(1) << 30;
    void* a = buf(2, copy);
    void* b = buf(3, copy);
    const GemmOp op{g.m, g.n, g.k, 1, g.dtype};
    const WorkspaceNeed w = gemm_need(op);
    void* in = buf(0, w.in_bytes);
    void* out = buf(1, w.out_bytes);
    STRATA_CUDA(cudaDeviceSynchronize(), "calibrate overlap");
    const int gemms = std::max(3, int(0.1 / std::max(alone, 1e-6)));
    for (int i = 0; i < 400; ++i) STRATA_CUDA(cudaMemcpyAsync(b, a, copy, cudaMemcpyDeviceToDevice, s2_), "calibrate overlap");
    run_gemm(*lt_, s_, lt_ws_, op, in, out, "calibrate overlap");
    STRATA_CUDA(cudaEventRecord(a_, s_), "calibrate overlap");
    for (int i = 0; i < gemms; ++i) run_gemm(*lt_, s_, lt_ws_, op, in, out, "calibrate overlap");
    STRATA_CUDA(cudaEventRecord(b_, s_), "calibrate overlap");
    STRATA_CUDA(cudaEventSynchronize(b_), "calibrate overlap");
    const bool copies_still_running = cudaStreamQuery(s2_) == cudaErrorNotReady;
    float ms = 0;
    STRATA_CUDA(cudaEventElapsedTime(&ms, a_, b_), "calibrate overlap");
    STRATA_CUDA(cudaDeviceSynchronize(), "calibrate overlap");
    method = "cuBLASLt 8192^3 bf16 GEMM alone vs beside a stream of 1 GiB device-to-device copies (one GPU: a stand-in "
             "for NCCL traffic, which also takes SMs and HBM bandwidth)";
    if (!copies_still_running) method += "; the copies finished before the GEMMs did, so this is a lower bound";
    return alone > 0 ? (double(ms) * 1e-3 / gemms) / alone : 1.0;
  }

private:
  // One attention task as the executor runs it, its buffers allocated.
  std::function<void()> attention_task(const AttnShape& a, double claimed) {
    const AttnOp op = plan_attention(a, claimed);
    const WorkspaceNeed w = attention_need(op);
    void* in = buf(0, w.in_bytes);
    void* out = buf(1, w.out_bytes);
    return [this, op, in, out] { run_attention(*lt_, s_, lt_ws_, op, in, out, "calibrate attention"); };
  }
  double mem_s(MemOp::Kind kind, double bytes) {
    const MemOp op{kind, bytes, DType::bf16};
    const WorkspaceNeed w = mem_need(op);
    void* in = buf(0, w.in_bytes);
    void* out = buf(1, w.out_bytes);
    return time_gpu([&] { run_mem(s_, op, in, out, "calibrate memory-bound kernel"); });
  }
  // Like the executor times each task: every run between its own pair of events, runs queued
  // back to back on one stream; the median of about 5 ms of runs (3 to 50) after a warm-up run
  // (plan selection, first touch). Short bursts keep a GPU near the clocks a training step
  // sees, rather than in the power limit a long loop of one GEMM drives it into.
  double time_gpu(const std::function<void()>& fn) {
    constexpr int kMaxReps = 50;
    while (events_.size() < 2 * kMaxReps) {
      cudaEvent_t e = nullptr;
      STRATA_CUDA(cudaEventCreate(&e), "timing event");
      events_.push_back(e);
    }
    auto runs = [&](int n) {
      // Hold the stream while the host queues the n runs, so that they run back to back as in a
      // training step and the events time the GPU, not the host's launch rate (which made
      // microsecond GEMMs read as 10x slower on a busy host).
      // 40 us per run: several times the executor's measured host time per task (6 us on an
      // H100 machine, launch_overhead_us), so that the queue is full before the spin ends.
      const cudaError_t sp = spin(0.0005 + 40e-6 * n, s_);
      if (sp != cudaSuccess) fail_cuda(sp, "spin", "timing");
      for (int i = 0; i < n; ++i) {
        STRATA_CUDA(cudaEventRecord(events_[std::size_t(2 * i)], s_), "timing");
        fn();
        STRATA_CUDA(cudaEventRecord(events_[std::size_t(2 * i + 1)], s_), "timing");
      }
      STRATA_CUDA(cudaEventSynchronize(events_[std::size_t(2 * n - 1)]), "timing");
      std::vector<double> t(static_cast<std::size_t>(n));
      for (int i = 0; i < n; ++i) {
        float ms = 0;
        STRATA_CUDA(cudaEventElapsedTime(&ms, events_[std::size_t(2 * i)], events_[std::size_t(2 * i + 1)]), "timing");
        t[std::size_t(i)] = double(ms) * 1e-3;
      }
      std::sort(t.begin(), t.end());
      return t[t.size() / 2];
    };
    const double first = runs(1);  // warm-up
    const int reps = int(std::clamp(std::ceil(0.005 / std::max(1e-7, first)), 3.0, double(kMaxReps)));
    return runs(reps);
  }
  // The host's time to queue fn's kernels: the median of a few calls queued behind a spin kernel
  // (so that queueing never waits for the device), plus the executor's own time per task is
  // launch_s. Few calls: a task of many kernels must not fill the launch queue.
  double time_host(const std::function<void()>& fn) {
    fn();  // warm-up: plan selection, first touch
    STRATA_CUDA(cudaStreamSynchronize(s_), "timing");
    auto t0 = Clock::now();
    fn();
    const double once = std::chrono::duration<double>(Clock::now() - t0).count();
    STRATA_CUDA(cudaStreamSynchronize(s_), "timing");
    constexpr int kCalls = 5;
    const cudaError_t sp = spin(0.001 + 4 * kCalls * once, s_);
    if (sp != cudaSuccess) fail_cuda(sp, "spin", "timing");
    std::vector<double> t;
    for (int i = 0; i < kCalls; ++i) {
      t0 = Clock::now();
      fn();
      t.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    }
    STRATA_CUDA(cudaStreamSynchronize(s_), "timing");
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
  }
  // Host-timed, all devices synchronized: NCCL operations over several GPUs.
  double time_multi(int n, const std::function<void()>& once) {
    auto sync = [&] {
      for (int d = 0; d < n; ++d) {
        STRATA_CUDA(cudaSetDevice(d), "timing");
        STRATA_CUDA(cudaStreamSynchronize(streams_[std::size_t(d)]), "timing");
      }
      STRATA_CUDA(cudaSetDevice(0), "timing");
    };
    once();
    sync();
    auto t0 = Clock::now();
    once();
    sync();
    const double est = std::chrono::duration<double>(Clock::now() - t0).count();
    const int reps = int(std::clamp(std::ceil(0.05 / std::max(1e-7, est)), 3.0, 200.0));
    t0 = Clock::now();
    for (int i = 0; i < reps; ++i) once();
    sync();
    return std::chrono::duration<double>(Clock::now() - t0).count() / reps;
  }
  std::vector<ncclComm_t>& comms_for(int n) {
    if (n > devices_) throw ExecError("cuda calibrate: " + std::to_string(n) + " ranks asked, " + std::to_string(devices_) + " GPUs visible");
    auto it = comms_.find(n);
    if (it != comms_.end()) return it->second;
    std::vector<ncclComm_t> v(std::size_t(n), nullptr);
    std::vector<int> devs(static_cast<std::size_t>(n));
    for (int d = 0; d < n; ++d) devs[std::size_t(d)] = d;
    STRATA_NCCL(ncclCommInitAll(v.data(), n, devs.data()), "calibrate: ncclCommInitAll over " + std::to_string(n) + " GPUs");
    while (int(streams_.size()) < n) {
      STRATA_CUDA(cudaSetDevice(int(streams_.size())), "stream");
      cudaStream_t s = nullptr;
      STRATA_CUDA(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "stream");
      streams_.push_back(s);
    }
    STRATA_CUDA(cudaSetDevice(0), "GPU 0");
    return comms_.emplace(n, std::move(v)).first->second;
  }
  void* grow(Arena& a, int device, std::size_t bytes) {
    if (a.bytes >= bytes && a.p) return a.p;
    STRATA_CUDA(cudaSetDevice(device), "allocating");
    if (a.p) cudaFree(a.p);
    a.p = nullptr;
    a.bytes = 0;
    const cudaError_t e = cudaMalloc(&a.p, std::max<std::size_t>(bytes, 256));
    if (e != cudaSuccess) {
      cudaGetLastError();
      a.p = nullptr;
      throw ExecError("cuda calibrate: cannot allocate " + std::to_string(double(bytes) / (1 << 30)) + " GiB on GPU " +
                      std::to_string(device) + " (" + cudaGetErrorString(e) + ")");
    }
    a.bytes = bytes;
    const cudaError_t f = fill_random_bytes(a.p, bytes, bytes + std::size_t(device), nullptr);
    if (f != cudaSuccess) fail_cuda(f, "fill_random_bytes", "calibrate");
    STRATA_CUDA(cudaDeviceSynchronize(), "allocating");
    STRATA_CUDA(cudaSetDevice(0), "GPU 0");
    return a.p;
  }
  void* buf(int which, std::size_t bytes) { return grow(arena_[which], 0, bytes); }
  void* dev_buf(int device, int which, std::size_t bytes) {
    auto& v = dev_bufs_[device];
    if (v.size() < 2) v.resize(2);
    return grow(v[std::size_t(which)], device, bytes);
  }

  int devices_ = 0;
  cudaDeviceProp prop_{};
  std::string gpu_;
  cudaStream_t s_ = nullptr, s2_ = nullptr;
  cudaEvent_t a_ = nullptr, b_ = nullptr;
  void* lt_ws_ = nullptr;
  std::unique_ptr<LtGemm> lt_;
  Arena arena_[4];
  std::map<int, std::vector<Arena>> dev_bufs_;
  std::map<int, std::vector<ncclComm_t>> comms_;
  std::vector<cudaStream_t> streams_;
  std::vector<cudaEvent_t> events_;
};

}  // namespace

std::unique_ptr<MicroBench> make_cuda_bench() { return std::make_unique<CudaBench>(); }

}  // namespace strata::exec
