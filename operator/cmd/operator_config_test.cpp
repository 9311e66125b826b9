#include "operator/cmd/operator_config.hpp"

#include <gtest/gtest.h>

namespace kprof::manager {
namespace {

TEST(OperatorConfig, SettingsUseTheFlagNames) {
  OperatorOptions options;
  ASSERT_TRUE(applyOperatorYaml("namespace: profiling\n"
                                "leader-elect: false\n"
                                "lease-duration: 20s\n"
                                "agent-api-port: 9443\n"
                                "poll-timeout: 1500ms\n"
                                "workers: 8\n",
                                options));
  EXPECT_EQ(options.namespace_name, "profiling");
  EXPECT_FALSE(options.leader_elect);
  EXPECT_EQ(options.lease_duration, std::chrono::seconds(20));
  EXPECT_EQ(options.agent_api_port, 9443);
  EXPECT_EQ(options.poll_timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(options.workers, 8);
  EXPECT_EQ(options.lease_name, "kprof-operator");  // untouched defaults stay
}

TEST(OperatorConfig, MistakesAreNamed) {
  OperatorOptions options;
  auto typo = applyOperatorYaml("worker: 3\n", options);
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.error().message.find("unknown setting 'worker'"), std::string::npos);
  auto bad_duration = applyOperatorYaml("poll-timeout: soon\n", options);
  ASSERT_FALSE(bad_duration);
  EXPECT_NE(bad_duration.error().message.find("poll-timeout"), std::string::npos);
  auto bad_port = applyOperatorYaml("health-port: [1, 2]\n", options);
  ASSERT_FALSE(bad_port);
  EXPECT_NE(bad_port.error().message.find("health-port"), std::string::npos);
  EXPECT_EQ(applyOperatorYaml("- a\n- b\n", options).error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(applyOperatorYaml("a: [\n", options).error().code, ErrorCode::Parse);
  EXPECT_TRUE(applyOperatorYaml("", options));
}

TEST(OperatorConfig, ValidateRefusesInconsistentLeaderElection) {
  OperatorOptions options;
  options.identity = "replica-a";
  EXPECT_TRUE(validate(options));
  options.renew_deadline = std::chrono::seconds(20);  // longer than the lease
  EXPECT_FALSE(validate(options));
  options = OperatorOptions{};
  EXPECT_FALSE(validate(options));  // no identity
  options.leader_elect = false;
  EXPECT_TRUE(validate(options));
  options.agent_api_certificate_file = "/tls.crt";  // without a key
  EXPECT_FALSE(validate(options));
}

}  // namespace
}  // namespace kprof::manager

namespace kprof::manager {
namespace {

TEST(OperatorConfig, WebhookSettings) {
  OperatorOptions options;
  ASSERT_TRUE(applyOperatorYaml("webhook: true\n"
                                "webhook-port: 10250\n"
                                "agent-image: registry.example/kprof-agent:0.1.0\n"
                                "cluster-version: v1.28.3\n",
                                options));
  EXPECT_TRUE(options.webhook_enabled);
  EXPECT_EQ(options.webhook_port, 10250);
  EXPECT_EQ(options.injection.agent_image, "registry.example/kprof-agent:0.1.0");
  EXPECT_EQ(options.injection.cluster_minor, 28);
  auto bad = applyOperatorYaml("cluster-version: latest\n", options);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("MAJOR.MINOR"), std::string::npos);
  options.leader_elect = false;
  options.webhook_key_file = "/tls.key";  // a provided key without its certificate
  EXPECT_FALSE(validate(options));
}

}  // namespace
}  // namespace kprof::manager
