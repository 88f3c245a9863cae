#pragma once
// The human summary `strata simulate` prints: a short table of the report.
#include <string>

#include "report/report.hpp"

namespace strata {

struct Scenario;
std::string format_summary(const Scenario& s, const Report& r);
std::string format_bytes(double bytes);
std::string format_seconds(double s);

}  // namespace strata
