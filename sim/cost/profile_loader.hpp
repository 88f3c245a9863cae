#pragma once
// Loads the efficiency tables of a fitted hardware profile (`strata calibrate`, format in
// exec/PROFILE.md) for the compute cost model. Returns null when `path` is empty.
#include <memory>
#include <string>

#include "cost/compute_cost.hpp"

namespace strata {

std::shared_ptr<const EfficiencyTable> load_efficiency_profile(const std::string& path);

}  // namespace strata
