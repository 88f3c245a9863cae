#pragma once
// The hardware profile lives in the simulator library (sim/cost/hardware_profile.hpp) so that the
// cost model can read what `strata calibrate` fits; the executor writes it. Format: PROFILE.md.
#include "cost/hardware_profile.hpp"

namespace strata::exec {

using strata::AttnPoint;
using strata::AttnTable;
using strata::BandwidthPoint;
using strata::busbw_factor;
using strata::CollectiveFit;
using strata::CollectivePoint;
using strata::GemmPoint;
using strata::GemmTable;
using strata::HardwareProfile;
using strata::LinkProfile;
using strata::profile_from_json;
using strata::profile_to_json;
using strata::read_profile;
using strata::write_profile;

}  // namespace strata::exec
