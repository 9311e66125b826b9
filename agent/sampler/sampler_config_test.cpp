#include "agent/sampler/sampler_config.hpp"

#include <cerrno>

#include <gtest/gtest.h>

#include "common/core/os_error.hpp"

namespace kprof::agent {
namespace {

TEST(SamplerConfigTest, DefaultsAreValid) {
  SamplerConfig config;
  EXPECT_TRUE(validateConfig(config));
  EXPECT_EQ(config.frequency_hz, 100u);
  EXPECT_EQ(samplePeriodNs(config), 10'000'000u);
}

TEST(SamplerConfigTest, RejectsWhatNoEngineCanRun) {
  SamplerConfig zero_hz;
  zero_hz.frequency_hz = 0;
  EXPECT_EQ(validateConfig(zero_hz).error().code, ErrorCode::InvalidArgument);

  SamplerConfig nothing;
  nothing.cpu = false;
  EXPECT_FALSE(validateConfig(nothing));

  SamplerConfig no_pids;
  no_pids.targets = TargetSelector::processes({});
  EXPECT_FALSE(validateConfig(no_pids));

  SamplerConfig no_namespace;
  no_namespace.targets = TargetSelector::pidNamespace(0);
  EXPECT_FALSE(validateConfig(no_namespace));

  SamplerConfig odd_ring;
  odd_ring.perf_ring_pages = 6;
  EXPECT_FALSE(validateConfig(odd_ring));
}

TEST(SamplerOsErrorTest, PrivilegeErrorsBecomePermissionDenied) {
  EXPECT_EQ(errnoError(EPERM, "x").code, ErrorCode::PermissionDenied);
  EXPECT_EQ(errnoError(-EACCES, "x").code, ErrorCode::PermissionDenied);  // libbpf style
  Error error = errnoError(-EPERM, "BPF load failed");
  EXPECT_EQ(error.message, "BPF load failed: Operation not permitted");
  EXPECT_EQ(errnoError(ESRCH, "x").code, ErrorCode::NotFound);
}

}  // namespace
}  // namespace kprof::agent
