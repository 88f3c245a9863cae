#pragma once
// Micro-benchmarks behind `strata calibrate` (calibrate.hpp): one implementation per backend
// (cpu/cpu_bench.cpp, cuda/cuda_bench.cpp) measuring the same things the executor runs, with the
// same kernels. Every method returns seconds for ONE operation (a mean over back-to-back
// repetitions after warm-up, or a median where noted).
#include <functional>
#include <memory>
#include <string>

#include "graph/partition_graph.hpp"
#include "io/json_reader.hpp"

namespace strata::exec {

class MicroBench {
public:
  virtual ~MicroBench() = default;
  virtual std::string backend() const = 0;
  // {"device", "gpu" (Strata table name or ""), "driver", "libraries": {...}}
  virtual Json device_info() const = 0;
  virtual std::string link_class() const = 0;          // how ranks here are connected
  virtual double peak_tflops(DType t) const = 0;        // reference peak (0 = unknown)
  virtual std::vector<DType> gemm_dtypes() const = 0;   // dtypes worth a GEMM table here

  // How many ranks share this device's compute at once while a step runs (the cpu backend's
  // ranks are threads on the same cores): kernels are then timed with that many copies running
  // together. Backends whose ranks each own a device ignore it.
  virtual void set_concurrency(int ranks) { (void)ranks; }

  virtual double gemm_s(const GemmShape& g) = 0;
  virtual double attention_s(const AttnShape& a, double claimed_flops) = 0;
  // The host's time to queue one attention task (0: not measured; the cpu backend runs it inline).
  virtual double attention_host_s(const AttnShape& a, double claimed_flops) {
    (void)a, (void)claimed_flops;
    return 0;
  }
  virtual double memcpy_s(double bytes) = 0;            // bytes copied
  // The executor's memory-bound kernels (MemOp) on `bytes` as the graph counts them (read +
  // written): the element-wise/norm kernel and the Adam step.
  virtual double elementwise_s(double bytes) = 0;
  virtual double optimizer_s(double bytes) = 0;
  virtual double launch_s() = 0;                        // one empty task/kernel
  virtual int max_ranks() const = 0;                    // ranks collectives can use here
  // One collective of `bytes` (nccl-tests size convention) over `ranks` ranks.
  virtual double collective_s(CollKind k, int ranks, double bytes) = 0;
  virtual double sendrecv_s(double bytes) = 0;          // one message between two ranks
  // Compute time with communication running beside it / alone; `method` says what was run.
  virtual double overlap_slowdown(std::string& method) = 0;
};

std::unique_ptr<MicroBench> make_bench(const std::string& backend);

// A graph of one rank and no tasks: the world a backend's per-task dispatch cost is measured in.
PartitionGraph one_rank_graph();
// Host seconds the executor spends issuing one task on `world`'s rank 0 (record event, a
// minimal element-wise op, record event), queued back to back: where kernels are shorter than
// this, the host, not the device, sets the pace of a step.
double dispatch_s(class World& world);
std::unique_ptr<MicroBench> make_cpu_bench();
#ifdef STRATA_HAVE_CUDA
std::unique_ptr<MicroBench> make_cuda_bench();
#endif

// Runs fn until at least min_s have passed and min_reps repetitions were timed (after one
// warm-up call), at most max_reps; returns the median seconds of one call.
double median_time(const std::function<void()>& fn, double min_s = 0.02, int min_reps = 3, int max_reps = 50);

}  // namespace strata::exec
