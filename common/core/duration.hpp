// Durations as people type them on command lines and in config files: "30s", "500ms", "2m",
// "1h", or a plain number of seconds.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace kprof {

// nullopt for anything else, and for zero or negative values.
std::optional<std::chrono::milliseconds> parseDuration(std::string_view text);

}  // namespace kprof
