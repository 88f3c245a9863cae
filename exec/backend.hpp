#pragma once
// The small interface every execution backend implements (issue: executor). One Backend object
// drives one rank; the Executor maps the graph's streams to backend streams and cross-stream
// dependencies to recorded/waited events.
#include <cstdint>
#include <memory>
#include <string>

namespace strata::exec {

const char* backend_list();  // "cpu" or "cpu, cuda" depending on the build

}  // namespace strata::exec
