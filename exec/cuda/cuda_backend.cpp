// The cuda backend: one process drives all local GPUs, a thread per GPU (the executor's rank
// threads). Communicators: ncclCommInitAll over the ranks, then ncclCommSplit into one
// communicator per (group kind, stream) for collectives, and one per directed pair (and
// receiving stream) for pipeline/ring messages, so that no communicator is ever used from two
// streams at once. With fewer GPUs than ranks, one representative rank per class runs alone on
// GPU 0: its compute is measured for real, its collectives run on one-rank communicators (a
// local copy) and its messages are skipped; all of them are marked measured=false.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "backend.hpp"
#include "cuda/cuda_ops.hpp"
#include "ops.hpp"
#include "processes.hpp"

namespace strata::exec {

namespace {

using Clock = std::chrono::steady_clock;
using namespace strata::exec::cuda;

struct P2PKey {
  int src = 0, dst = 0, group = 0, recv_stream = 0;
  auto operator<=>(const P2PKey&) const = default;
};

class CudaWorld final : public World {
public:
  CudaWorld(const PartitionGraph& g, const WorldOptions& o) : g_(g), opts_(o), epoch_(Clock::now()) {
    const cudaError_t e = cudaGetDeviceCount(&devices_);
    if (e != cudaSuccess || devices_ < 1)
      throw ExecError(std::string("cuda backend: no usable GPU on this machine (") +
                      (e != cudaSuccess ? cudaGetErrorString(e) : "cudaGetDeviceCount found none") + ")");
    const int W = g.layout.world();
    if (o.processes) {
      // mpirun: this process is one rank on its node-local GPU. The clocks of all processes
      // start together (after a barrier), so their event times share an origin to within the
      // barrier's skew (microseconds on one node, more across nodes: see traces/README.md).
      mp_ = o.processes;
      if (mp_->size() != W)
        throw ExecError("mpirun started " + std::to_string(mp_->size()) + " processes for a scenario of " + std::to_string(W) +
                        " ranks: start one process per rank (mpirun -np " + std::to_string(W) + ")");
      my_device_ = mp_->local_rank() % devices_;
      full_ = true;
      ranks_.push_back(mp_->rank());
      mp_->barrier();
      epoch_ = Clock::now();
      setup_full();
      return;
    }
    full_ = devices_ >= W && !o.representative;
    if (full_) {
      for (int r = 0; r < W; ++r) ranks_.push_back(r);
      setup_full();
    } else {
      for (int rep : o.representatives.empty() ? g.class_rep : o.representatives)
        if (rep >= 0 && rep < W) ranks_.push_back(rep);
      if (ranks_.empty()) ranks_.push_back(0);
      setup_solo();
    }
  }
  ~CudaWorld() override {
    for (auto c : owned_) {
      if (!c || dead_.count(c)) continue;
      if (aborted_.load()) ncclCommAbort(c);
      else ncclCommDestroy(c);
    }
  }
  // Aborts a communicator (pending NCCL kernels exit); the world will not touch it again.
  void abort_comm(ncclComm_t c) {
    {
      std::lock_guard<std::mutex> lk(m_);
      if (!c || !dead_.insert(c).second) return;
    }
    ncclCommAbort(c);
  }

  std::string backend() const override { return "cuda"; }
  std::vector<int> ranks_to_run() const override { return ranks_; }
  bool ranks_concurrent() const override { return full_; }
  WorkspaceNeed workspace_need(const Op& op) const override {
    if (auto* gm = std::get_if<GemmOp>(&op.detail)) return gemm_need(*gm);
    if (auto* a = std::get_if<AttnOp>(&op.detail)) return attention_need(*a);
    if (auto* m = std::get_if<MemOp>(&op.detail)) return mem_need(*m);
    if (auto* c = std::get_if<CollOp>(&op.detail)) {
      auto k = nccl_counts(*c);
      return {2 * k.in, 2 * k.out};
    }
    if (auto* p = std::get_if<P2POp>(&op.detail)) {
      const std::size_t e = 2 * std::size_t(std::ceil(std::max(0.0, p->bytes) / 2.0));
      return op.kind == TaskKind::send ? WorkspaceNeed{e, 0} : WorkspaceNeed{0, e};
    }
    return {};
  }
  std::unique_ptr<Backend> make_backend(int rank) override;
  Json describe() const override {
    Json j;
    j["backend"] = "cuda";
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess) {
      j["device"] = prop.name;
      j["sms"] = prop.multiProcessorCount;
      j["memory_bytes"] = double(prop.totalGlobalMem);
      j["compute_capability"] = std::to_string(prop.major) + "." + std::to_string(prop.minor);
    }
    j["gpus_visible"] = devices_;
    j["versions"] = cuda_versions_text();
    j["mode"] = mp_     ? "mpirun: one process per GPU (" + std::to_string(mp_->size()) + "), ncclCommInitRank + ncclCommSplit"
                : full_ ? "one process, a thread per GPU, ncclCommInitAll + ncclCommSplit"
                        : "fewer GPUs than ranks: one representative rank per class on GPU 0";
    return j;
  }
  std::vector<std::string> notes() const override {
    if (full_) return {};
    return {"one GPU (" + std::to_string(devices_) + " visible for " + std::to_string(g_.layout.world()) +
            " ranks): NCCL collectives of one rank; compute measured for real, communication marked measured=false"};
  }
  void abort(const std::string& why) override {
    std::lock_guard<std::mutex> lk(m_);
    if (!aborted_.load()) reason_ = why;
    aborted_.store(true);
  }
  bool aborted() const { return aborted_.load(); }
  std::string reason() const {
    std::lock_guard<std::mutex> lk(m_);
    return reason_;
  }
  double now() const { return std::chrono::duration<double>(Clock::now() - epoch_).count(); }
  bool full() const { return full_; }
  int device_of(int rank) const { return mp_ ? my_device_ : full_ ? rank : 0; }
  void processes_barrier() override {
    if (mp_) mp_->barrier();
  }
  double earliest_over_processes(double t) override { return mp_ ? mp_->min(t) : t; }
  const WorldOptions& options() const { return opts_; }

  // Communicator for a collective of `rank` on (group kind, stream); solo comm per stream.
  ncclComm_t coll_comm(int rank, GroupKind gk, Stream s) const {
    if (!full_) return solo_[std::size_t(s)];
    auto it = coll_.find({int(gk), int(s)});
    if (it == coll_.end()) throw ExecError("cuda backend: no communicator for this collective");
    return it->second[std::size_t(rank)];
  }
  // Communicator of a message; the peer's rank inside it (sender 0, receiver 1).
  ncclComm_t p2p_comm(int rank, bool send, std::uint32_t task) const {
    const auto& m = send ? send_comm_ : recv_comm_;
    auto it = m.find({rank, task});
    if (it == m.end()) throw ExecError("cuda backend: no communicator for this message");
    return it->second;
  }
  std::vector<ncclComm_t> comms_of(int rank) const {
    std::vector<ncclComm_t> v;
    if (!full_) return solo_;
    auto it = by_rank_.find(rank);
    if (it != by_rank_.end()) v = it->second;
    return v;
  }

private:
  void own(ncclComm_t c, int rank) {
    if (!c) return;
    owned_.push_back(c);
    by_rank_[rank].push_back(c);
  }
  void setup_solo() {
    solo_.assign(kStreams, nullptr);
    const int dev = 0;
    for (int s = 0; s < kStreams; ++s) {
      STRATA_NCCL(ncclCommInitAll(&solo_[std::size_t(s)], 1, &dev), "a one-rank communicator on GPU 0");
      owned_.push_back(solo_[std::size_t(s)]);
    }
  }
  void setup_full() {
    const int W = g_.layout.world();
    world_.assign(std::size_t(W), nullptr);
    // The ranks whose communicators live in this process: all (one process, a thread per GPU)
    // or this process's one rank (mpirun), bootstrapped from rank 0's unique id.
    std::vector<int> local;
    if (mp_) {
      const int me = mp_->rank();
      local.push_back(me);
      ncclUniqueId id{};
      if (me == 0) STRATA_NCCL(ncclGetUniqueId(&id), "ncclGetUniqueId");
      mp_->broadcast(&id, sizeof id, 0);
      STRATA_CUDA(cudaSetDevice(my_device_), "rank " + std::to_string(me));
      STRATA_NCCL(ncclCommInitRank(&world_[std::size_t(me)], W, id, me),
                  "ncclCommInitRank of rank " + std::to_string(me) + " of " + std::to_string(W));
    } else {
      std::vector<int> devs(static_cast<std::size_t>(W));
      for (int r = 0; r < W; ++r) devs[std::size_t(r)] = r;
      for (int r = 0; r < W; ++r) local.push_back(r);
      STRATA_NCCL(ncclCommInitAll(world_.data(), W, devs.data()), "ncclCommInitAll over " + std::to_string(W) + " GPUs");
    }
    for (int r : local) own(world_[std::size_t(r)], r);
    // Collectives: one communicator per (group kind, stream) the graph uses.
    std::set<std::pair<int, int>> keys;
    std::set<P2PKey> pairs;
    std::map<P2PKey, std::vector<std::pair<std::uint32_t, std::uint32_t>>> order;  // key -> (send task, recv task)
    for (int r = 0; r < W; ++r) {
      const ClassTasks& c = g_.tasks_of_rank(r);
      for (std::uint32_t t = 0; t < c.size(); ++t) {
        const std::int32_t d = c.detail[t];
        if (c.kind[t] == TaskKind::collective && d >= 0 && std::size_t(d) < c.colls.size())
          keys.insert({int(c.colls[std::size_t(d)].group), int(c.stream[t])});
        if (c.kind[t] == TaskKind::send && d >= 0 && std::size_t(d) < c.p2ps.size()) {
          const P2PInfo& pi = c.p2ps[std::size_t(d)];
          const int dst = g_.layout.peer(pi.group, r, pi.offset);
          const ClassTasks& dc = g_.tasks_of_rank(dst);
          const int rs = pi.match < dc.size() ? int(dc.stream[pi.match]) : 0;
          P2PKey k{r, dst, int(pi.group), rs};
          pairs.insert(k);
          order[k].push_back({t, pi.match});
        }
      }
    }
    for (auto [gk, s] : keys) {
      std::vector<ncclComm_t> out(std::size_t(W), nullptr);
      STRATA_NCCL(ncclGroupStart(), "ncclCommSplit");
      for (int r : local) {
        const GroupKind k = GroupKind(gk);
        STRATA_NCCL(ncclCommSplit(world_[std::size_t(r)], g_.layout.group_of(k, r), g_.layout.position_in_group(k, r),
                                  &out[std::size_t(r)], nullptr),
                    std::string("ncclCommSplit for ") + group_kind_name(k) + " groups");
      }
      STRATA_NCCL(ncclGroupEnd(), "ncclCommSplit");
      for (int r : local) own(out[std::size_t(r)], r);
      coll_[{gk, s}] = out;
    }
    // NCCL matches messages on a communicator in issue order: check the graph keeps them in order.
    for (auto& [k, v] : order) {
      std::sort(v.begin(), v.end());
      for (std::size_t i = 1; i < v.size(); ++i)
        if (v[i].second <= v[i - 1].second)
          throw ExecError("graph: messages from rank " + std::to_string(k.src) + " to rank " + std::to_string(k.dst) +
                          " are received in another order than sent (send task " + std::to_string(v[i].first) +
                          "); NCCL needs them in order");
    }
    // Messages: rounds of disjoint directed pairs, one ncclCommSplit per round.
    std::vector<P2PKey> todo(pairs.begin(), pairs.end());
    while (!todo.empty()) {
      std::vector<int> color(std::size_t(W), NCCL_SPLIT_NOCOLOR), key(std::size_t(W), 0);
      std::vector<P2PKey> round, rest;
      for (const auto& p : todo) {
        if (color[std::size_t(p.src)] != NCCL_SPLIT_NOCOLOR || color[std::size_t(p.dst)] != NCCL_SPLIT_NOCOLOR || p.src == p.dst) {
          rest.push_back(p);
          continue;
        }
        color[std::size_t(p.src)] = color[std::size_t(p.dst)] = int(round.size());
        key[std::size_t(p.src)] = 0;
        key[std::size_t(p.dst)] = 1;
        round.push_back(p);
      }
      if (round.empty()) throw ExecError("graph: a rank sends messages to itself");
      std::vector<ncclComm_t> out(std::size_t(W), nullptr);
      STRATA_NCCL(ncclGroupStart(), "ncclCommSplit");
      for (int r : local)
        STRATA_NCCL(ncclCommSplit(world_[std::size_t(r)], color[std::size_t(r)], key[std::size_t(r)], &out[std::size_t(r)], nullptr),
                    "ncclCommSplit for point-to-point pairs");
      STRATA_NCCL(ncclGroupEnd(), "ncclCommSplit");
      for (const auto& p : round) {
        if (out[std::size_t(p.src)]) own(out[std::size_t(p.src)], p.src);
        if (out[std::size_t(p.dst)]) own(out[std::size_t(p.dst)], p.dst);
        for (const auto& [st, rt] : order[p]) {
          send_comm_[{p.src, st}] = out[std::size_t(p.src)];
          recv_comm_[{p.dst, rt}] = out[std::size_t(p.dst)];
        }
      }
      todo.swap(rest);
    }
  }

  const PartitionGraph& g_;
  WorldOptions opts_;
  Clock::time_point epoch_;
  int devices_ = 0;
  bool full_ = false;
  std::vector<int> ranks_;
  ProcessGroup* mp_ = nullptr;  // mpirun: one rank per process
  int my_device_ = 0;
  std::vector<ncclComm_t> world_, solo_, owned_;
  std::map<std::pair<int, int>, std::vector<ncclComm_t>> coll_;
  std::map<std::pair<int, std::uint32_t>, ncclComm_t> send_comm_, recv_comm_;
  std::map<int, std::vector<ncclComm_t>> by_rank_;
  std::set<ncclComm_t> dead_;
  mutable std::mutex m_;
  std::atomic<bool> aborted_{false};
  std::string reason_;
};

class CudaRank final : public Backend {
public:
  CudaRank(CudaWorld& w, int rank) : w_(w), rank_(rank), dev_(w.device_of(rank)) {
    STRATA_CUDA(cudaSetDevice(dev_), "rank " + std::to_string(rank));
    lt_ = std::make_unique<LtGemm>();
    comms_ = w.comms_of(rank);
  }
  ~CudaRank() override {
    cudaSetDevice(dev_);
    if (failed_) return;  // kernels may still be stuck behind a failed peer: leak rather than hang
    cudaDeviceSynchronize();
    for (auto e : events_) cudaEventDestroy(e);
    if (epoch_) cudaEventDestroy(epoch_);
    for (auto p : buffers_) cudaFree(p);
    for (auto s : streams_) cudaStreamDestroy(s);
  }
  int rank() const override { return rank_; }

  StreamHandle create_stream(Stream kind) override {
    STRATA_CUDA(cudaSetDevice(dev_), ctx("selecting the GPU"));
    cudaStream_t s = nullptr;
    STRATA_CUDA(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), ctx("creating a stream"));
    streams_.push_back(s);
    kinds_.push_back(kind);
    void* ws = nullptr;
    alloc_raw(&ws, kLtWorkspaceBytes, "the cuBLASLt workspace of stream " + std::string(stream_name(kind)));
    lt_ws_.push_back(ws);
    if (!epoch_) {
      // The rank's clock: an event recorded on an idle stream at a known host time.
      STRATA_CUDA(cudaDeviceSynchronize(), ctx("synchronizing"));
      STRATA_CUDA(cudaEventCreate(&epoch_), ctx("creating the epoch event"));
      epoch_host_ = w_.now();
      STRATA_CUDA(cudaEventRecord(epoch_, s), ctx("recording the epoch event"));
      STRATA_CUDA(cudaEventSynchronize(epoch_), ctx("recording the epoch event"));
    }
    return StreamHandle(streams_.size() - 1);
  }

  Buffer allocate(std::size_t bytes, const std::string& what) override {
    void* p = nullptr;
    alloc_raw(&p, bytes, what);
    const cudaError_t e = fill_random_bytes(p, bytes, std::uint64_t(rank_) * 7919u + buffers_.size(), nullptr);
    if (e != cudaSuccess) fail_cuda(e, "fill_random_bytes", what);
    // The buffer is used from non-blocking streams: the fill must be done before any of them runs.
    STRATA_CUDA(cudaDeviceSynchronize(), ctx("filling " + what));
    return {p, bytes};
  }

  void compute(StreamHandle s, const Op& op, const Workspace& ws) override {
    cudaStream_t st = stream(s);
    const std::string& c = op.context;
    if (auto* g = std::get_if<GemmOp>(&op.detail)) run_gemm(*lt_, st, lt_ws_[std::size_t(s)], *g, ws.in.ptr, ws.out.ptr, c);
    else if (auto* a = std::get_if<AttnOp>(&op.detail)) run_attention(*lt_, st, lt_ws_[std::size_t(s)], *a, ws.in.ptr, ws.out.ptr, c);
    else if (auto* m = std::get_if<MemOp>(&op.detail)) run_mem(st, *m, ws.in.ptr, ws.out.ptr, c);
    last_[std::size_t(s)] = c;
  }
  void collective(StreamHandle s, const Op& op, const Workspace& ws) override {
    const CollOp& c = std::get<CollOp>(op.detail);
    ncclComm_t comm = w_.coll_comm(rank_, c.group, op.stream);
    run_collective(comm, stream(s), c, w_.full() ? c.size : 1, ws.in.ptr, ws.out.ptr, op.context);
    last_[std::size_t(s)] = op.context;
  }
  void send(StreamHandle s, const Op& op, const Workspace& ws) override {
    if (!w_.full()) return;  // no peer on this machine: measured=false, nothing to time
    const P2POp& p = std::get<P2POp>(op.detail);
    const std::size_t n = std::size_t(std::ceil(std::max(0.0, p.bytes) / 2.0));
    if (n) STRATA_NCCL(ncclSend(ws.in.ptr, n, ncclBfloat16, 1, w_.p2p_comm(rank_, true, op.task), stream(s)), op.context);
    last_[std::size_t(s)] = op.context;
  }
  void recv(StreamHandle s, const Op& op, const Workspace& ws) override {
    if (!w_.full()) return;
    const P2POp& p = std::get<P2POp>(op.detail);
    const std::size_t n = std::size_t(std::ceil(std::max(0.0, p.bytes) / 2.0));
    if (n) STRATA_NCCL(ncclRecv(ws.out.ptr, n, ncclBfloat16, 0, w_.p2p_comm(rank_, false, op.task), stream(s)), op.context);
    last_[std::size_t(s)] = op.context;
  }

  EventHandle create_event() override {
    STRATA_CUDA(cudaSetDevice(dev_), ctx("selecting the GPU"));
    cudaEvent_t e = nullptr;
    STRATA_CUDA(cudaEventCreate(&e), ctx("creating an event"));
    events_.push_back(e);
    return EventHandle(events_.size() - 1);
  }
  void record_event(StreamHandle s, EventHandle e) override {
    STRATA_CUDA(cudaEventRecord(events_[std::size_t(e)], stream(s)), ctx("recording an event"));
  }
  void wait_event(StreamHandle s, EventHandle e) override {
    STRATA_CUDA(cudaStreamWaitEvent(stream(s), events_[std::size_t(e)], 0), ctx("waiting for an event"));
  }
  void synchronize() override {
    STRATA_CUDA(cudaSetDevice(dev_), ctx("selecting the GPU"));
    const auto t0 = Clock::now();
    for (;;) {
      bool done = true;
      for (std::size_t i = 0; i < streams_.size(); ++i) {
        const cudaError_t q = cudaStreamQuery(streams_[i]);
        if (q == cudaErrorNotReady) {
          done = false;
          continue;
        }
        if (q != cudaSuccess) {
          failed_ = true;
          fail_cuda(q, "cudaStreamQuery", ctx("stream " + std::string(stream_name(kinds_[i])) + ", last task issued there: " + last_[i]));
        }
      }
      if (done) return;
      for (auto c : comms_) {
        ncclResult_t async = ncclSuccess;
        if (ncclCommGetAsyncError(c, &async) == ncclSuccess && async != ncclSuccess && async != ncclInProgress) {
          failed_ = true;
          abort_comms();
          throw ExecError(ctx(std::string("NCCL asynchronous error: ") + ncclGetErrorString(async)));
        }
      }
      if (w_.aborted()) {
        failed_ = true;
        abort_comms();
        throw ExecAborted(ctx("aborted because " + w_.reason()));
      }
      const double waited = std::chrono::duration<double>(Clock::now() - t0).count();
      if (waited > w_.options().timeout_s) {
        failed_ = true;
        std::string pending;
        for (std::size_t i = 0; i < streams_.size(); ++i)
          if (cudaStreamQuery(streams_[i]) == cudaErrorNotReady)
            pending += std::string(pending.empty() ? "" : "; ") + stream_name(kinds_[i]) + ": " + last_[i];
        abort_comms();
        throw ExecError(ctx("timed out after " + std::to_string(int(waited)) + " s; streams still busy (last task issued): " + pending));
      }
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
  double event_time_s(EventHandle e) override {
    float ms = 0;
    STRATA_CUDA(cudaEventElapsedTime(&ms, epoch_, events_[std::size_t(e)]), ctx("reading an event time"));
    return epoch_host_ + double(ms) * 1e-3;
  }
  bool measures(TaskKind kind) const override {
    if (w_.full()) return true;
    return kind != TaskKind::collective && kind != TaskKind::send && kind != TaskKind::recv;
  }

private:
  std::string ctx(const std::string& what) const { return "rank " + std::to_string(rank_) + " (GPU " + std::to_string(dev_) + "): " + what; }
  cudaStream_t stream(StreamHandle s) {
    if (s < 0 || std::size_t(s) >= streams_.size()) throw ExecError(ctx("unknown stream"));
    if (last_.size() < streams_.size()) last_.resize(streams_.size());
    return streams_[std::size_t(s)];
  }
  void alloc_raw(void** p, std::size_t bytes, const std::string& what) {
    STRATA_CUDA(cudaSetDevice(dev_), ctx("selecting the GPU"));
    const cudaError_t e = cudaMalloc(p, std::max<std::size_t>(bytes, 256));
    if (e == cudaErrorMemoryAllocation) {
      cudaGetLastError();  // clear the sticky-free allocation error
      std::size_t free_b = 0, total_b = 0;
      cudaMemGetInfo(&free_b, &total_b);
      char buf[160];
      std::snprintf(buf, sizeof buf, " (%.2f GiB free of %.2f GiB)", double(free_b) / (1 << 30), double(total_b) / (1 << 30));
      char need[64];
      std::snprintf(need, sizeof need, "%.3f GiB", double(bytes) / (1 << 30));
      failed_ = true;
      throw ExecError(ctx("out of GPU memory: " + std::string(need) + " for " + what + buf +
                          "; use a smaller scenario or --scale"));
    }
    if (e != cudaSuccess) fail_cuda(e, "cudaMalloc", ctx(what));
    buffers_.push_back(*p);
  }
  void abort_comms() {
    for (auto c : comms_) w_.abort_comm(c);
    comms_.clear();
  }

  CudaWorld& w_;
  int rank_, dev_;
  std::unique_ptr<LtGemm> lt_;
  std::vector<cudaStream_t> streams_;
  std::vector<Stream> kinds_;
  std::vector<void*> lt_ws_, buffers_;
  std::vector<cudaEvent_t> events_;
  std::vector<std::string> last_;
  std::vector<ncclComm_t> comms_;
  cudaEvent_t epoch_ = nullptr;
  double epoch_host_ = 0;
  bool failed_ = false;
};

std::unique_ptr<Backend> CudaWorld::make_backend(int rank) { return std::make_unique<CudaRank>(*this, rank); }

}  // namespace

std::unique_ptr<World> make_cuda_world(const PartitionGraph& graph, const WorldOptions& options) {
  return std::make_unique<CudaWorld>(graph, options);
}

}  // namespace strata::exec
