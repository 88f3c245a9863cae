#pragma once
// The small interface every execution backend implements (issue 5: executor). One Backend object
// drives one rank; the Executor (executor.hpp) maps the graph's streams to backend streams and
// cross-stream dependencies to recorded/waited events, and times every task with a pair of
// events. A World owns what the ranks of one run share (NCCL communicators, the shared-memory
// fabric of the cpu backend) and is built once per run from the graph, so that collective
// setup (ncclCommSplit, rendezvous tables) happens before any rank starts.
//
// The model is CUDA's: every call below *enqueues* work on a stream and returns; streams run
// their work in order; record_event/wait_event order work across streams; synchronize() waits
// for everything and reports the first error. The cpu backend implements the same semantics
// with one worker thread per (rank, stream).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "graph/partition_graph.hpp"
#include "io/json_reader.hpp"

namespace strata::exec {

const char* backend_list();  // "cpu" or "cpu, cuda" depending on the build
bool backend_built(const std::string& name);

// A failure while running (out of memory, a library error, a timeout). The CLI maps it to exit 1.
class ExecError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};
// Thrown by waits that were cut short because another rank failed first (World::abort); the
// executor reports the first real error, not these.
class ExecAborted : public ExecError {
public:
  using ExecError::ExecError;
};

// ---- What one task asks the backend to do (built by the executor from the graph) ----
struct GemmOp {
  std::int64_t m = 0, n = 0, k = 0;
  std::int32_t batch = 1;  // independent GEMMs of this shape (grouped expert GEMMs)
  DType dtype = DType::bf16;
};

// Attention as per-head GEMMs + softmax (see attention_plan.hpp for how FLOPs are matched).
struct AttnOp {
  AttnShape shape;
  double claimed_flops = 0;   // what the graph says the task costs
  std::int64_t q_block = 0;   // causal: rows per block; kv columns beyond the diagonal skipped
  int full_passes = 1;        // passes (QK^T, softmax, PV) over all batch*heads
  int extra_heads = 0;        // one more pass over this many (batch*head) slices
  double executed_flops = 0;  // what the plan really runs
};

// Memory-bound work: element-wise/norm kernels, the optimizer step, copies.
struct MemOp {
  enum class Kind : std::uint8_t { elementwise, optimizer, memcpy } kind = Kind::elementwise;
  double bytes = 0;           // bytes moved (read + written), as the graph counts them
  DType dtype = DType::bf16;
};

struct CollOp {
  CollKind kind = CollKind::all_reduce;
  GroupKind group = GroupKind::tp;
  int group_index = 0;         // which group of that kind (Layout::group_of)
  int size = 1;                // members
  int position = 0;            // this rank's position in the group
  std::vector<int> members;    // global ranks, in group order
  double bytes = 0;            // nccl-tests size convention (partition_graph.hpp, CollInfo)
  std::vector<double> send_bytes, recv_bytes;  // all-to-all-v: per position in the group
  std::uint64_t seq = 0;       // index among this rank's collectives on (group kind, stream)
};

struct P2POp {
  GroupKind group = GroupKind::pp;
  int src = 0, dst = 0;        // global ranks
  std::uint32_t send_task = 0; // task id of the send in the sender's class (the message key)
  double bytes = 0;
};

struct Op {
  int rank = 0;
  std::uint32_t task = 0;
  std::uint32_t iteration = 0; // which repetition of the step (warm-up runs come first)
  std::string name;            // the graph's op name
  TaskKind kind = TaskKind::compute;
  OpKind op = OpKind::elementwise;
  Stream stream = Stream::compute;
  std::variant<std::monostate, GemmOp, AttnOp, MemOp, CollOp, P2POp> detail;
  double flops = 0;            // FLOPs this op really executes (after any scaling)
  double bytes = 0;            // bytes it really moves / communicates

  // "rank 3 task 41 'fc1' (gemm 4096x11008x8192 x1 bf16)": used in every error message.
  std::string describe() const;
  // describe(), made once when the executor plans the rank: issuing a task must not format
  // strings (on a GPU, the host's time per task bounds how fast small kernels run).
  std::string context;
};

// Device memory an op needs while it runs: inputs (read only, random, never written) and
// outputs (written). The executor sizes one input and one output arena per stream as the
// maximum over the stream's ops, so that ops on different streams never share memory.
struct WorkspaceNeed {
  std::size_t in_bytes = 0, out_bytes = 0;
};
struct Buffer {
  void* ptr = nullptr;
  std::size_t bytes = 0;
};
struct Workspace {
  Buffer in, out;
};

using StreamHandle = int;
using EventHandle = int;

class Backend {
public:
  virtual ~Backend() = default;
  virtual int rank() const = 0;

  // Streams and memory (set up before the step runs).
  virtual StreamHandle create_stream(Stream kind) = 0;
  // Device memory filled with random values (never zeros). Throws ExecError naming `what`
  // (the task that needs the most) when it does not fit.
  virtual Buffer allocate(std::size_t bytes, const std::string& what) = 0;

  // Work, enqueued on a stream.
  virtual void compute(StreamHandle s, const Op& op, const Workspace& ws) = 0;  // gemm, attention, memory ops
  virtual void collective(StreamHandle s, const Op& op, const Workspace& ws) = 0;
  virtual void send(StreamHandle s, const Op& op, const Workspace& ws) = 0;
  virtual void recv(StreamHandle s, const Op& op, const Workspace& ws) = 0;

  // Ordering and timing. Events may be recorded again in a later iteration (after synchronize).
  virtual EventHandle create_event() = 0;
  virtual void record_event(StreamHandle s, EventHandle e) = 0;
  virtual void wait_event(StreamHandle waiter, EventHandle e) = 0;
  virtual void synchronize() = 0;  // waits for every stream; throws the first error
  // After synchronize: when the event completed, in seconds on the world's common clock
  // (comparable across the ranks of one world).
  virtual double event_time_s(EventHandle e) = 0;

  // False where this backend cannot measure a kind of task for real (cuda with fewer GPUs
  // than ranks: communication). Such tasks still run a stand-in and appear with measured=false.
  virtual bool measures(TaskKind kind) const {
    (void)kind;
    return true;
  }
};

class ProcessGroup;  // processes.hpp

struct WorldOptions {
  double timeout_s = 300;          // a rank waiting longer than this for a peer aborts the run
  bool check_collectives = false;  // cpu: fill known values and verify every collective/recv
  bool representative = false;     // cuda: force one representative rank per class
  double memory_limit_bytes = 0;   // cpu: refuse allocations above this (0 = backend default)
  // Ranks to run when only one representative per class can run (cuda with fewer GPUs than
  // ranks); empty: the graph's class_rep. `strata exec` passes the representatives of the
  // class-shared graph, so an expanded graph does not run every rank one after another.
  std::vector<int> representatives;
  // cuda under mpirun: this process runs rank processes->rank() alone on its node-local GPU;
  // communicators are bootstrapped across the processes (processes.hpp).
  ProcessGroup* processes = nullptr;
};

class World {
public:
  virtual ~World() = default;
  virtual std::string backend() const = 0;       // "cpu" | "cuda"
  virtual std::vector<int> ranks_to_run() const = 0;
  // Device memory `op` needs while it runs, in this backend's storage formats.
  virtual WorkspaceNeed workspace_need(const Op& op) const = 0;
  virtual bool ranks_concurrent() const = 0;     // run the ranks at once (else one after another)
  // Called on the thread that drives `rank` (cuda binds the rank's GPU to it).
  virtual std::unique_ptr<Backend> make_backend(int rank) = 0;
  virtual Json describe() const = 0;             // device, driver, library versions, mode
  virtual std::vector<std::string> notes() const { return {}; }
  virtual Json stats() const { return Json::object(); }  // e.g. collective checks (cpu)
  // Makes every pending wait of every rank fail promptly (the first error wins).
  virtual void abort(const std::string& why) = 0;
  // One process per rank (mpirun): a barrier between the processes before every step, and the
  // earliest of a time over all processes (the timeline's common origin). No-ops otherwise.
  virtual void processes_barrier() {}
  virtual double earliest_over_processes(double t) { return t; }
};

std::unique_ptr<World> make_world(const std::string& backend, const PartitionGraph& graph, const WorldOptions& options);

// Backend constructors (cpu/cpu_backend.cpp, cuda/cuda_backend.cpp).
std::unique_ptr<World> make_cpu_world(const PartitionGraph& graph, const WorldOptions& options);
#ifdef STRATA_HAVE_CUDA
std::unique_ptr<World> make_cuda_world(const PartitionGraph& graph, const WorldOptions& options);
#endif

}  // namespace strata::exec
