#include "backend.hpp"

namespace strata::exec {

const char* backend_list() {
#ifdef STRATA_HAVE_CUDA
  return "cpu, cuda";
#else
  return "cpu";
#endif
}

}  // namespace strata::exec
