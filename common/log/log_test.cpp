#include "common/log/log.hpp"

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>

namespace kprof::log {
namespace {

TEST(JsonLine, EscapesMessagesSoEveryLineParses) {
  const std::string line =
      formatJsonLine("2026-11-22T02:00:00.000000Z", "info", "agent", "bad \"pod\"\n\ttab \x01 end");
  const auto parsed = nlohmann::json::parse(line);
  EXPECT_EQ(parsed["level"], "info");
  EXPECT_EQ(parsed["logger"], "agent");
  EXPECT_EQ(parsed["msg"], "bad \"pod\"\n\ttab \x01 end");
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(LogConfig, ParsesLevelsAndFormats) {
  EXPECT_EQ(*parseLevel("debug"), spdlog::level::debug);
  EXPECT_EQ(*parseLevel("warning"), spdlog::level::warn);
  EXPECT_EQ(*parseFormat("json"), Format::Json);
  auto bad = parseLevel("loud");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("loud"), std::string::npos);
  EXPECT_FALSE(parseFormat("xml"));
}

TEST(LogConfig, EnvironmentOverridesTheBase) {
  setenv("KPROF_LOG_LEVEL", "error", 1);
  setenv("KPROF_LOG_FORMAT", "json", 1);
  auto config = configFromEnv();
  unsetenv("KPROF_LOG_LEVEL");
  unsetenv("KPROF_LOG_FORMAT");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->level, spdlog::level::err);
  EXPECT_EQ(config->format, Format::Json);

  setenv("KPROF_LOG_LEVEL", "chatty", 1);
  auto bad = configFromEnv();
  unsetenv("KPROF_LOG_LEVEL");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("KPROF_LOG_LEVEL"), std::string::npos);
}

TEST(Logger, OneNamedLoggerPerComponentFollowsConfigure) {
  auto agent = logger("test-agent");
  EXPECT_EQ(agent, logger("test-agent"));
  EXPECT_EQ(agent->name(), "test-agent");

  configure(LogConfig{spdlog::level::warn, Format::Json});
  EXPECT_EQ(agent->level(), spdlog::level::warn);
  // A logger made after configure() starts with the configured level too.
  EXPECT_EQ(logger("test-operator")->level(), spdlog::level::warn);

  // Records come out as JSON lines through the configured formatter.
  std::ostringstream captured;
  agent->sinks().push_back(std::make_shared<spdlog::sinks::ostream_sink_mt>(captured));
  configure(LogConfig{spdlog::level::info, Format::Json});
  agent->info("injected {} pods", 3);
  agent->debug("not shown at info");
  agent->sinks().pop_back();
  const std::string output = captured.str();
  ASSERT_EQ(std::count(output.begin(), output.end(), '\n'), 1) << output;
  const auto record = nlohmann::json::parse(output);
  EXPECT_EQ(record["msg"], "injected 3 pods");
  EXPECT_EQ(record["logger"], "test-agent");
  EXPECT_EQ(record["level"], "info");
  configure(LogConfig{});
}

}  // namespace
}  // namespace kprof::log
