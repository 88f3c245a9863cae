#pragma once
// Outputs are never half-written (CONTRACT §1): write to a temporary file in the same folder,
// then rename over the destination.
#include <string>
#include <string_view>

namespace strata {

void write_file_atomic(const std::string& path, std::string_view content);

}  // namespace strata
