// Privileged: which engine selectEngine picks on this machine, and the reason it gives.
#include "agent/sampler/engine_selection.hpp"

#include <gtest/gtest.h>

#include "agent/sampler/sampler_test_support.hpp"

namespace kprof::agent {
namespace {

bool mentionsMissingPrivilege(const std::string& reason) {
  return reason.find("Operation not permitted") != std::string::npos ||
         reason.find("Permission denied") != std::string::npos;
}

TEST(SelectEngineTest, PrefersEbpfAndSaysWhy) {
  SamplerConfig defaults;
  EngineSelection selection = selectEngine(defaults);
  if ((!selection.engine || selection.engine->name() != "ebpf") &&
      mentionsMissingPrivilege(selection.reason)) {
    GTEST_SKIP() << "needs CAP_BPF/CAP_PERFMON (run as root): " << selection.reason;
  }
  ASSERT_NE(selection.engine, nullptr) << selection.reason;
  EXPECT_EQ(selection.engine->name(), "ebpf");
  EXPECT_TRUE(selection.reason.starts_with("ebpf: loaded; cpu-clock at 100 Hz on "))
      << selection.reason;
  EXPECT_NE(selection.reason.find("targets: all processes"), std::string::npos);
  std::cout << selection.reason << "\n";
}

TEST(SelectEngineTest, FallsBackToPerfEventWhenBpfIsDisabled) {
  SamplerConfig config;
  config.allow_bpf = false;
  config.off_cpu = true;
  EngineSelection selection = selectEngine(config);
  if (!selection.engine && mentionsMissingPrivilege(selection.reason)) {
    GTEST_SKIP() << "needs CAP_PERFMON (run as root): " << selection.reason;
  }
  ASSERT_NE(selection.engine, nullptr) << selection.reason;
  EXPECT_EQ(selection.engine->name(), "perf_event");
  EXPECT_TRUE(selection.reason.starts_with("perf_event fallback: BPF disabled by config; "))
      << selection.reason;
  EXPECT_NE(selection.reason.find("off-CPU (wall) needs BPF"), std::string::npos);
  std::cout << selection.reason << "\n";
}

TEST(SelectEngineTest, NoEngineForAnInvalidConfig) {
  SamplerConfig config;
  config.frequency_hz = 0;
  EngineSelection selection = selectEngine(config);
  EXPECT_EQ(selection.engine, nullptr);
  EXPECT_TRUE(selection.reason.starts_with("no engine: invalid config: ")) << selection.reason;
}

TEST(SelectEngineTest, NoEngineWhenNoTargetExists) {
  SamplerConfig config;
  config.allow_bpf = false;
  config.targets = TargetSelector::processes({0x7ffffff0});  // beyond pid_max
  EngineSelection selection = selectEngine(config);
  EXPECT_EQ(selection.engine, nullptr);
  EXPECT_TRUE(selection.reason.starts_with("no engine: ")) << selection.reason;
  EXPECT_NE(selection.reason.find("BPF disabled by config"), std::string::npos);
}

}  // namespace
}  // namespace kprof::agent
