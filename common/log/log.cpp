#include "common/log/log.hpp"

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <mutex>

#include <fmt/format.h>
#include <spdlog/details/log_msg.h>
#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace kprof::log {
namespace {

// Escapes a string for a JSON string literal (RFC 8259): quotes, backslashes, control chars.
void appendJsonString(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

std::string utcTimestamp(spdlog::log_clock::time_point time) {
  const auto since_epoch = time.time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(since_epoch - seconds);
  const std::time_t t = seconds.count();
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
                     tm.tm_year + 1900,
                     tm.tm_mon + 1,
                     tm.tm_mday,
                     tm.tm_hour,
                     tm.tm_min,
                     tm.tm_sec,
                     micros.count());
}

class JsonLineFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto level = spdlog::level::to_string_view(msg.level);
    const std::string line =
        formatJsonLine(utcTimestamp(msg.time),
                       std::string_view(level.data(), level.size()),
                       std::string_view(msg.logger_name.data(), msg.logger_name.size()),
                       std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLineFormatter>();
  }
};

constexpr const char* kTextPattern = "%Y-%m-%dT%H:%M:%S.%fZ %^%-5l%$ [%n] %v";

std::mutex config_mutex;
LogConfig current_config;

void applyTo(spdlog::logger& target, const LogConfig& config) {
  target.set_level(config.level);
  if (config.format == Format::Json) {
    target.set_formatter(std::make_unique<JsonLineFormatter>());
  } else {
    target.set_formatter(
        std::make_unique<spdlog::pattern_formatter>(kTextPattern, spdlog::pattern_time_type::utc));
  }
}

}  // namespace

std::string formatJsonLine(std::string_view timestamp_utc,
                           std::string_view level,
                           std::string_view logger_name,
                           std::string_view message) {
  std::string out;
  out.reserve(64 + message.size());
  out += "{\"ts\":";
  appendJsonString(out, timestamp_utc);
  out += ",\"level\":";
  appendJsonString(out, level);
  out += ",\"logger\":";
  appendJsonString(out, logger_name);
  out += ",\"msg\":";
  appendJsonString(out, message);
  out += '}';
  return out;
}

Result<spdlog::level::level_enum> parseLevel(std::string_view name) {
  if (name == "warning") {
    return spdlog::level::warn;
  }
  for (int i = 0; i < spdlog::level::n_levels; ++i) {
    const auto level = static_cast<spdlog::level::level_enum>(i);
    const auto level_name = spdlog::level::to_string_view(level);
    if (name == std::string_view(level_name.data(), level_name.size())) {
      return level;
    }
  }
  return fail(
      ErrorCode::InvalidArgument,
      fmt::format("unknown log level '{}' (use trace, debug, info, warn, error, critical, off)",
                  name));
}

Result<Format> parseFormat(std::string_view name) {
  if (name == "text") {
    return Format::Text;
  }
  if (name == "json") {
    return Format::Json;
  }
  return fail(ErrorCode::InvalidArgument,
              fmt::format("unknown log format '{}' (use text or json)", name));
}

Result<LogConfig> configFromEnv(LogConfig base) {
  if (const char* level = std::getenv("KPROF_LOG_LEVEL"); level != nullptr && *level != '\0') {
    auto parsed = parseLevel(level);
    if (!parsed) {
      return parsed.error().wrap("KPROF_LOG_LEVEL");
    }
    base.level = *parsed;
  }
  if (const char* format = std::getenv("KPROF_LOG_FORMAT"); format != nullptr && *format != '\0') {
    auto parsed = parseFormat(format);
    if (!parsed) {
      return parsed.error().wrap("KPROF_LOG_FORMAT");
    }
    base.format = *parsed;
  }
  return base;
}

void configure(const LogConfig& config) {
  std::lock_guard lock(config_mutex);
  current_config = config;
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& each) { applyTo(*each, config); });
}

std::shared_ptr<spdlog::logger> logger(const std::string& component) {
  std::lock_guard lock(config_mutex);
  if (auto existing = spdlog::get(component)) {
    return existing;
  }
  // stderr keeps stdout free for a command's own output (reports, JSON).
  auto created = std::make_shared<spdlog::logger>(
      component, std::make_shared<spdlog::sinks::stderr_sink_mt>());
  applyTo(*created, current_config);
  spdlog::register_logger(created);
  return created;
}

}  // namespace kprof::log
