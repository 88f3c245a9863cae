#include "report/timeline.hpp"

#include <algorithm>

namespace strata {

std::uint32_t Timeline::intern(const std::string& s) {
  auto it = std::find(names.begin(), names.end(), s);
  if (it != names.end()) return std::uint32_t(it - names.begin());
  names.push_back(s);
  return std::uint32_t(names.size() - 1);
}

}  // namespace strata
