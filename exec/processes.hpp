#pragma once
// One process per rank: how `strata exec --backend cuda` runs under `mpirun` (issue 5), e.g.
//   mpirun -np 16 --map-by ppr:8:node strata exec job.json --backend cuda --trace m.json
// Each process drives one GPU (its node-local rank), NCCL communicators are bootstrapped from a
// unique id that rank 0 broadcasts, and rank 0 gathers every rank's measured tasks and writes
// the one timeline and report. Without mpirun (or in a build without MPI) one process drives
// all local GPUs, a thread per GPU.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace strata::exec {

// The few collective operations the executor needs between its processes.
class ProcessGroup {
public:
  virtual ~ProcessGroup() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual int local_rank() const = 0;  // among the processes of this node
  virtual void broadcast(void* data, std::size_t bytes, int root) = 0;
  virtual void barrier() = 0;
  virtual double min(double x) = 0;
  // Every process's string at `root` (in rank order); an empty vector elsewhere.
  virtual std::vector<std::string> gather(const std::string& mine, int root) = 0;
  // Ends the whole job (a failed rank must not leave its peers waiting in NCCL).
  [[noreturn]] virtual void abort(int code) = 0;
};

// True when this process was started by mpirun/srun (Open MPI, MPICH/PMI or PMIx variables).
bool launched_by_mpirun();
// The job's size from the launcher's environment (0 when not launched by mpirun).
int mpirun_size();
// Whether this build can join an MPI job (STRATA_WITH_MPI found MPI).
bool mpi_built();
// Joins the MPI job (MPI_Init_thread, serialized); throws ExecError when MPI is not built in.
// The group finalizes MPI when destroyed.
std::unique_ptr<ProcessGroup> join_mpirun();

}  // namespace strata::exec
