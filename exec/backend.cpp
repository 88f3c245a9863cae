#include "backend.hpp"

namespace strata::exec {

const char* backend_list() {
#ifdef STRATA_HAVE_CUDA
  return "cpu, cuda";
#else
  return "cpu";
#endif
}

bool backend_built(const std::string& name) {
  if (name == "cpu") return true;
#ifdef STRATA_HAVE_CUDA
  if (name == "cuda") return true;
#endif
  return false;
}

std::unique_ptr<World> make_world(const std::string& backend, const PartitionGraph& graph, const WorldOptions& options) {
  if (backend == "cpu") return make_cpu_world(graph, options);
#ifdef STRATA_HAVE_CUDA
  if (backend == "cuda") return make_cuda_world(graph, options);
#endif
  throw ExecError("backend \"" + backend + "\" is not built into this strata (built: " + backend_list() + ")");
}

}  // namespace strata::exec
