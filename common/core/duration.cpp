#include "common/core/duration.hpp"

#include <charconv>
#include <cstdint>

namespace kprof {

std::optional<std::chrono::milliseconds> parseDuration(std::string_view text) {
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || !(value > 0)) {
    return std::nullopt;
  }
  const std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  double ms = 0;
  if (unit.empty() || unit == "s") {
    ms = value * 1000;
  } else if (unit == "ms") {
    ms = value;
  } else if (unit == "m") {
    ms = value * 60'000;
  } else if (unit == "h") {
    ms = value * 3'600'000;
  } else {
    return std::nullopt;
  }
  if (ms > 1e15) {
    return std::nullopt;  // beyond any sensible setting, and beyond int64 milliseconds soon
  }
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

}  // namespace kprof
