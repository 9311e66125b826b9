// RFC 3339 timestamps as Kubernetes writes them (metav1.Time: "2024-05-01T12:00:00Z").
#pragma once

#include <string>
#include <string_view>

#include "common/core/clock.hpp"
#include "common/core/result.hpp"

namespace kprof::controllers {

using WallTime = Clock::WallTime;

// Accepts fractional seconds and numeric offsets ("…T12:00:00.5+02:00"); fails with Parse
// otherwise.
Result<WallTime> parseRfc3339(std::string_view text);

// Whole seconds in UTC, the precision of metav1.Time: "2024-05-01T12:00:00Z".
std::string formatRfc3339(WallTime time);

// Drops sub-second precision, so a time survives a round trip through a resource unchanged.
WallTime truncateToSeconds(WallTime time);

}  // namespace kprof::controllers
