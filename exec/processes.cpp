#include "processes.hpp"

#include <cstdlib>

#include "backend.hpp"

namespace strata::exec {

bool launched_by_mpirun() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"})
    if (std::getenv(v)) return true;
  return false;
}

int mpirun_size() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"})
    if (const char* x = std::getenv(v)) return std::atoi(x);
  return 0;
}

#ifndef STRATA_HAVE_MPI
bool mpi_built() { return false; }
std::unique_ptr<ProcessGroup> join_mpirun() {
  throw ExecError("this strata was built without MPI (install libopenmpi-dev and rebuild, STRATA_WITH_MPI=AUTO|ON): "
                  "run it without mpirun, one process driving all local GPUs");
}
#endif

}  // namespace strata::exec
