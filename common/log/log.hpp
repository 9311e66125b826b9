// Logging: one named spdlog logger per component ("agent", "operator", "webhook", ...), written to
// stderr as text or as JSON lines. The level and format come from flags or KPROF_LOG_LEVEL /
// KPROF_LOG_FORMAT; log an error once, where it is handled, and count (don't log) on hot paths.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <spdlog/logger.h>

#include "common/core/result.hpp"

namespace kprof::log {

enum class Format { Text, Json };

struct LogConfig {
  spdlog::level::level_enum level = spdlog::level::info;
  Format format = Format::Text;
};

// "debug", "info", "warn", "error", ... (as spdlog names them, plus "warning").
Result<spdlog::level::level_enum> parseLevel(std::string_view name);
Result<Format> parseFormat(std::string_view name);

// Reads KPROF_LOG_LEVEL and KPROF_LOG_FORMAT over `base`; flags applied afterwards win.
Result<LogConfig> configFromEnv(LogConfig base = {});

// Applies the level and format to every existing and future component logger.
void configure(const LogConfig& config);

// The component's logger, created on first use with the current configuration.
std::shared_ptr<spdlog::logger> logger(const std::string& component);

// Formats one record as a JSON object on one line: {"ts":…,"level":…,"logger":…,"msg":…}.
std::string formatJsonLine(std::string_view timestamp_utc,
                           std::string_view level,
                           std::string_view logger_name,
                           std::string_view message);

}  // namespace kprof::log
