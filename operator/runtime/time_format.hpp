// Kubernetes timestamps: metav1.Time is RFC 3339 in seconds ("2006-01-02T15:04:05Z"),
// metav1.MicroTime (Lease acquireTime/renewTime, Event eventTime) has microseconds
// ("2006-01-02T15:04:05.000000Z"). Always written in UTC; parsing accepts any fraction and a
// "Z" or ±hh:mm offset, and rejects anything else with a Parse error.
#pragma once

#include <string>
#include <string_view>

#include "common/core/clock.hpp"
#include "common/core/result.hpp"

namespace kprof::runtime {

std::string formatTime(Clock::WallTime time);
std::string formatMicroTime(Clock::WallTime time);
Result<Clock::WallTime> parseTime(std::string_view text);

}  // namespace kprof::runtime
