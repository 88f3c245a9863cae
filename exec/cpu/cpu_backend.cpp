// The cpu backend: ranks are threads, each graph stream of a rank is a worker thread running
// its queue in order, events are generation counters with a timestamp, compute is Eigen, and
// collectives/messages move real data through ShmFabric. It exists so that every machine (CI
// too) runs the executor end to end: ordering, dependencies, overlap, timing and trace output.
#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <unistd.h>

#include "backend.hpp"
#include "cpu/cpu_kernels.hpp"
#include "cpu/shm_fabric.hpp"

namespace strata::exec {

namespace {

using Clock = std::chrono::steady_clock;

std::size_t ceil_elems(double bytes) { return bytes > 0 ? std::size_t(std::ceil(bytes / 4.0)) : 0; }

// Element counts of a collective on the cpu (fp32 elements carry the graph's bytes).
struct CollCounts {
  std::size_t count = 0;  // the count ShmFabric::collective takes
  std::size_t in = 0, out = 0;
  std::vector<std::size_t> send, recv;  // all-to-all-v
};

CollCounts coll_counts(const CollOp& c) {
  CollCounts r;
  const std::size_t n = std::size_t(std::max(1, c.size));
  const std::size_t e = ceil_elems(c.bytes);
  switch (c.kind) {
    case CollKind::all_reduce:
    case CollKind::broadcast: r.count = r.in = r.out = e; break;
    case CollKind::all_gather: r.count = (e / n) * n; r.in = e / n; r.out = r.count; break;
    case CollKind::reduce_scatter: r.count = (e / n) * n; r.in = r.count; r.out = e / n; break;
    case CollKind::all_to_all: r.count = (e / n) * n; r.in = r.out = r.count; break;
    case CollKind::all_to_all_v:
      for (double b : c.send_bytes) r.send.push_back(ceil_elems(b));
      for (double b : c.recv_bytes) r.recv.push_back(ceil_elems(b));
      r.send.resize(n, 0);
      r.recv.resize(n, 0);
      for (auto x : r.send) r.in += x;
      for (auto x : r.recv) r.out += x;
      r.count = r.in;
      break;
  }
  return r;
}

inline float pattern(int pos, std::size_t i) { return float(pos + 1) + 0.125f * float(i % 8); }

class CpuWorld;

// One worker thread: a stream.
class Worker {
public:
  explicit Worker(std::function<void(const std::exception_ptr&)> on_error) : on_error_(std::move(on_error)) {
    thread_ = std::thread([this] { loop(); });
  }
  ~Worker() {
    {
      std::lock_guard<std::mutex> lk(m_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void push(std::function<void()> f) {
    {
      std::lock_guard<std::mutex> lk(m_);
      q_.push_back(std::move(f));
    }
    cv_.notify_all();
  }
  void drain() {
    std::unique_lock<std::mutex> lk(m_);
    idle_cv_.wait(lk, [&] { return q_.empty() && !busy_; });
  }
  void set_failed() { failed_.store(true); }

private:
  void loop() {
    for (;;) {
      std::function<void()> f;
      {
        std::unique_lock<std::mutex> lk(m_);
        cv_.wait(lk, [&] { return stop_ || !q_.empty(); });
        if (q_.empty()) return;
        f = std::move(q_.front());
        q_.pop_front();
        busy_ = true;
      }
      if (!failed_.load()) {
        try {
          f();
        } catch (...) {
          failed_.store(true);
          on_error_(std::current_exception());
        }
      }
      {
        std::lock_guard<std::mutex> lk(m_);
        busy_ = false;
        if (q_.empty()) idle_cv_.notify_all();
      }
    }
  }
  std::function<void(const std::exception_ptr&)> on_error_;
  std::mutex m_;
  std::condition_variable cv_, idle_cv_;
  std::deque<std::function<void()>> q_;
  bool busy_ = false, stop_ = false;
  std::atomic<bool> failed_{false};
  std::thread thread_;
};

struct CpuEvent {
  std::uint64_t target = 0;           // generation of the last record enqueued (host side)
  std::atomic<std::uint64_t> done{0}; // generation completed (worker side)
  double t = 0;                       // when it completed, on the world clock
};

class CpuWorld final : public World {
public:
  CpuWorld(const PartitionGraph& g, const WorldOptions& o) : graph_(g), opts_(o), fabric_(o.timeout_s), epoch_(Clock::now()) {
    limit_ = o.memory_limit_bytes;
    if (limit_ <= 0) {
      const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
      limit_ = pages > 0 && page > 0 ? 0.5 * double(pages) * double(page) : 4.0 * 1024 * 1024 * 1024;
    }
  }
  std::string backend() const override { return "cpu"; }
  std::vector<int> ranks_to_run() const override {
    std::vector<int> r(std::size_t(graph_.layout.world()));
    for (std::size_t i = 0; i < r.size(); ++i) r[i] = int(i);
    return r;
  }
  bool ranks_concurrent() const override { return true; }
  WorkspaceNeed workspace_need(const Op& op) const override {
    if (auto* g = std::get_if<GemmOp>(&op.detail)) return cpu::gemm_need(*g);
    if (auto* a = std::get_if<AttnOp>(&op.detail)) return cpu::attention_need(*a);
    if (auto* m = std::get_if<MemOp>(&op.detail)) return cpu::mem_need(*m);
    if (auto* c = std::get_if<CollOp>(&op.detail)) {
      auto cc = coll_counts(*c);
      return {4 * cc.in, 4 * cc.out};
    }
    if (auto* p = std::get_if<P2POp>(&op.detail)) {
      const std::size_t e = 4 * ceil_elems(p->bytes);
      return op.kind == TaskKind::send ? WorkspaceNeed{e, 0} : WorkspaceNeed{0, e};
    }
    return {};
  }
  std::unique_ptr<Backend> make_backend(int rank) override;
  Json describe() const override {
    Json j;
    j["backend"] = "cpu";
    j["device"] = cpu::cpu_model();
    j["hardware_threads"] = std::thread::hardware_concurrency();
    j["eigen"] = std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
                 std::to_string(EIGEN_MINOR_VERSION);
    j["compiler"] = __VERSION__;
    j["precision"] = "fp32 (Eigen) whatever the graph's dtype";
    return j;
  }
  std::vector<std::string> notes() const override {
    return {"cpu backend: every rank is a thread and every stream a worker thread; GEMMs and attention run in fp32 "
            "with Eigen whatever the graph's dtype; collectives and messages move real data through shared memory"};
  }
  Json stats() const override {
    Json j = Json::object();
    j["checked_collectives"] = checked_colls_.load();
    j["checked_messages"] = checked_msgs_.load();
    j["mismatches"] = mismatches_.load();
    std::lock_guard<std::mutex> lk(stats_m_);
    if (!first_mismatch_.empty()) j["first_mismatch"] = first_mismatch_;
    j["allocated_bytes"] = allocated_.load();
    return j;
  }
  void abort(const std::string& why) override { fabric_.abort(why); }

  ShmFabric& fabric() { return fabric_; }
  const WorldOptions& options() const { return opts_; }
  double now() const { return std::chrono::duration<double>(Clock::now() - epoch_).count(); }
  void reserve(double bytes, const std::string& what) {
    const double after = allocated_.fetch_add(bytes) + bytes;
    if (after > limit_) {
      allocated_.fetch_sub(bytes);
      throw ExecError("out of memory: " + std::to_string(bytes / 1048576.0) + " MiB for " + what + " (cpu limit " +
                      std::to_string(limit_ / 1048576.0) + " MiB, " + std::to_string((after - bytes) / 1048576.0) +
                      " MiB in use); use a smaller --scale");
    }
  }
  void release(double bytes) { allocated_.fetch_sub(bytes); }
  void checked(bool coll, std::size_t bad, const std::string& what) {
    (coll ? checked_colls_ : checked_msgs_).fetch_add(1);
    if (bad) {
      mismatches_.fetch_add(bad);
      std::lock_guard<std::mutex> lk(stats_m_);
      if (first_mismatch_.empty()) first_mismatch_ = what;
    }
  }

private:
  const PartitionGraph& graph_;
  WorldOptions opts_;
  ShmFabric fabric_;
  Clock::time_point epoch_;
  double limit_ = 0;
  std::atomic<double> allocated_{0};
  std::atomic<std::uint64_t> checked_colls_{0}, checked_msgs_{0}, mismatches_{0};
  mutable std::mutex stats_m_;
  std::string first_mismatch_;
};

class CpuRank final : public Backend {
public:
  CpuRank(CpuWorld& w, int rank) : world_(w), rank_(rank) {}
  ~CpuRank() override {
    workers_.clear();  // joins
    for (auto& b : buffers_) {
      world_.release(double(b.second));
      std::free(b.first);
    }
  }
  int rank() const override { return rank_; }

  StreamHandle create_stream(Stream) override {
    workers_.push_back(std::make_unique<Worker>([this](const std::exception_ptr& e) { fail(e); }));
    return StreamHandle(workers_.size() - 1);
  }

  Buffer allocate(std::size_t bytes, const std::string& what) override {
    const std::size_t rounded = (bytes + 63) / 64 * 64;
    world_.reserve(double(rounded), what);
    void* p = std::aligned_alloc(64, rounded);
    if (!p) {
      world_.release(double(rounded));
      throw ExecError("out of memory: malloc of " + std::to_string(rounded) + " bytes failed for " + what);
    }
    buffers_.push_back({p, rounded});
    cpu::fill_random(static_cast<float*>(p), rounded / 4, std::uint64_t(rank_) * 1000003u + buffers_.size());
    return {p, bytes};
  }

  void compute(StreamHandle s, const Op& op, const Workspace& ws) override {
    auto in = static_cast<const float*>(ws.in.ptr);
    auto out = static_cast<float*>(ws.out.ptr);
    enqueue(s, [op, in, out] {
      if (auto* g = std::get_if<GemmOp>(&op.detail)) cpu::run_gemm(*g, in, out);
      else if (auto* a = std::get_if<AttnOp>(&op.detail)) cpu::run_attention(*a, in, out);
      else if (auto* m = std::get_if<MemOp>(&op.detail)) cpu::run_mem(*m, in, out);
    });
  }

  void collective(StreamHandle s, const Op& op, const Workspace& ws) override {
    auto in = static_cast<float*>(ws.in.ptr);
    auto out = static_cast<float*>(ws.out.ptr);
    enqueue(s, [this, op, in, out] {
      const CollOp& c = std::get<CollOp>(op.detail);
      const CollCounts cc = coll_counts(c);
      const bool check = world_.options().check_collectives;
      if (check) fill_pattern(c, cc, in);
      ShmFabric::CollKey key{int(c.group), c.group_index, int(op.stream), op.iteration, c.seq};
      world_.fabric().collective(key, c.kind, c.size, c.position, in, out, cc.count, cc.send, op.describe());
      if (check) verify(c, cc, out, op);
    });
  }

  void send(StreamHandle s, const Op& op, const Workspace& ws) override {
    auto in = static_cast<float*>(ws.in.ptr);
    enqueue(s, [this, op, in] {
      const P2POp& p = std::get<P2POp>(op.detail);
      const std::size_t n = ceil_elems(p.bytes);
      if (world_.options().check_collectives)
        for (std::size_t i = 0; i < n; ++i) in[i] = pattern(p.src, i + p.send_task);
      world_.fabric().send({p.src, p.dst, p.send_task, op.iteration}, in, n);
    });
  }

  void recv(StreamHandle s, const Op& op, const Workspace& ws) override {
    auto out = static_cast<float*>(ws.out.ptr);
    enqueue(s, [this, op, out] {
      const P2POp& p = std::get<P2POp>(op.detail);
      const std::size_t n = ceil_elems(p.bytes);
      world_.fabric().recv({p.src, p.dst, p.send_task, op.iteration}, out, n, op.describe());
      if (world_.options().check_collectives) {
        std::size_t bad = 0;
        for (std::size_t i = 0; i < n; ++i) bad += out[i] != pattern(p.src, i + p.send_task);
        world_.checked(false, bad, op.describe() + ": received data differs from what was sent");
      }
    });
  }

  EventHandle create_event() override {
    events_.push_back(std::make_unique<CpuEvent>());
    return EventHandle(events_.size() - 1);
  }
  void record_event(StreamHandle s, EventHandle e) override {
    CpuEvent* ev = events_[std::size_t(e)].get();
    const std::uint64_t gen = ++ev->target;
    enqueue(s, [this, ev, gen] {
      ev->t = world_.now();
      {
        std::lock_guard<std::mutex> lk(ev_m_);
        ev->done.store(gen);
      }
      ev_cv_.notify_all();
    });
  }
  void wait_event(StreamHandle s, EventHandle e) override {
    CpuEvent* ev = events_[std::size_t(e)].get();
    const std::uint64_t gen = ev->target;
    enqueue(s, [this, ev, gen] {
      const auto t0 = Clock::now();
      std::unique_lock<std::mutex> lk(ev_m_);
      while (ev->done.load() < gen) {
        if (world_.fabric().aborted()) throw ExecAborted("rank " + std::to_string(rank_) + ": aborted while waiting for an event");
        ev_cv_.wait_for(lk, std::chrono::milliseconds(50));
        if (std::chrono::duration<double>(Clock::now() - t0).count() > world_.fabric().timeout_s() && ev->done.load() < gen)
          throw ExecError("rank " + std::to_string(rank_) + ": timed out waiting for a task on another stream");
      }
    });
  }
  void synchronize() override {
    for (auto& w : workers_) w->drain();
    std::lock_guard<std::mutex> lk(err_m_);
    if (error_) std::rethrow_exception(error_);
  }
  double event_time_s(EventHandle e) override { return events_[std::size_t(e)]->t; }

private:
  void enqueue(StreamHandle s, std::function<void()> f) {
    if (s < 0 || std::size_t(s) >= workers_.size()) throw ExecError("cpu backend: unknown stream");
    workers_[std::size_t(s)]->push(std::move(f));
  }
  void fail(const std::exception_ptr& e) {
    {
      std::lock_guard<std::mutex> lk(err_m_);
      if (!error_) error_ = e;
    }
    for (auto& w : workers_) w->set_failed();
    try {
      std::rethrow_exception(e);
    } catch (const ExecAborted&) {
    } catch (const std::exception& ex) {
      world_.abort("rank " + std::to_string(rank_) + ": " + ex.what());
    }
    ev_cv_.notify_all();
  }
  void fill_pattern(const CollOp& c, const CollCounts& cc, float* in) {
    if (c.kind == CollKind::all_to_all_v) {
      std::size_t off = 0;
      for (std::size_t k = 0; k < cc.send.size(); ++k)
        for (std::size_t j = 0; j < cc.send[k]; ++j) in[off++] = pattern(c.position, j);
      return;
    }
    for (std::size_t i = 0; i < cc.in; ++i) in[i] = pattern(c.position, i);
  }
  void verify(const CollOp& c, const CollCounts& cc, const float* out, const Op& op) {
    const int n = std::max(1, c.size), p = c.position;
    const float tri = float(n) * float(n + 1) / 2.0f;
    std::size_t bad = 0;
    switch (c.kind) {
      case CollKind::all_reduce:
        for (std::size_t i = 0; i < cc.out; ++i) bad += out[i] != tri + float(n) * 0.125f * float(i % 8);
        break;
      case CollKind::all_gather: {
        const std::size_t per = cc.in;
        for (std::size_t i = 0; i < cc.out; ++i) bad += out[i] != pattern(int(i / std::max<std::size_t>(1, per)), i % std::max<std::size_t>(1, per));
        break;
      }
      case CollKind::reduce_scatter:
        for (std::size_t i = 0; i < cc.out; ++i)
          bad += out[i] != tri + float(n) * 0.125f * float((std::size_t(p) * cc.out + i) % 8);
        break;
      case CollKind::all_to_all: {
        const std::size_t per = cc.count / std::size_t(n);
        for (std::size_t i = 0; i < cc.out; ++i) bad += out[i] != pattern(int(i / std::max<std::size_t>(1, per)), std::size_t(p) * per + i % std::max<std::size_t>(1, per));
        break;
      }
      case CollKind::all_to_all_v: {
        std::size_t off = 0;
        for (std::size_t q = 0; q < cc.recv.size(); ++q)
          for (std::size_t j = 0; j < cc.recv[q]; ++j) bad += out[off++] != pattern(int(q), j);
        break;
      }
      case CollKind::broadcast:
        for (std::size_t i = 0; i < cc.out; ++i) bad += out[i] != pattern(0, i);
        break;
    }
    world_.checked(true, bad, op.describe() + ": " + std::to_string(bad) + " wrong elements after the collective");
  }

  CpuWorld& world_;
  int rank_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::unique_ptr<CpuEvent>> events_;
  std::vector<std::pair<void*, std::size_t>> buffers_;
  std::mutex ev_m_;
  std::condition_variable ev_cv_;
  std::mutex err_m_;
  std::exception_ptr error_;
};

std::unique_ptr<Backend> CpuWorld::make_backend(int rank) { return std::make_unique<CpuRank>(*this, rank); }

}  // namespace

std::unique_ptr<World> make_cpu_world(const PartitionGraph& graph, const WorldOptions& options) {
  return std::make_unique<CpuWorld>(graph, options);
}

}  // namespace strata::exec
