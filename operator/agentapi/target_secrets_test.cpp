#include "operator/agentapi/target_secrets.hpp"

#include <gtest/gtest.h>

#include "controllers/policy/agent_config.hpp"
#include "operator/agentapi/test_kube_api.hpp"

namespace kprof::agentapi {
namespace {

using testing::TestKubeApi;

// An agent config as the controller builds it, with the given targets.
nlohmann::json configWith(std::vector<controllers::ProfileTarget> targets) {
  controllers::AgentConfig config;
  config.pod_namespace = "shop";
  config.pod_name = "web-1";
  config.pod_uid = "uid-1";
  config.policy = "web";
  config.labels = {{"service_name", "web"}};
  config.targets = std::move(targets);
  return controllers::toJson(config);
}

controllers::PyroscopeTarget pyroscope(std::string url,
                                       std::optional<controllers::AuthSecretRef> auth = {}) {
  return {std::move(url), "tenant-a", std::move(auth)};
}

class ResolveTargetSecretsTest : public ::testing::Test {
 protected:
  ResolveTargetSecretsTest() {
    api_.addSecret("shop", "pyro-token", {{"token", "s3cret"}});
    api_.addSecret("shop", "pyro-basic", {{"username", "grafana"}, {"password", "pw"}, {"u2", "x"}});
    api_.addSecret("other", "pyro-token", {{"token", "not-yours"}});
  }

  TestKubeApi api_;
  KubeSecretReader reader_{api_};
};

TEST_F(ResolveTargetSecretsTest, InlinesBearerAndBasicCredentials) {
  const auto config = configWith({
      pyroscope("https://a", controllers::AuthSecretRef{"pyro-token", "token", "", {}}),
      pyroscope("https://b",
                controllers::AuthSecretRef{"pyro-basic", "password", "", controllers::AuthType::Basic}),
  });
  auto resolved = resolveTargetSecrets(config, reader_);
  ASSERT_TRUE(resolved) << resolved.error().toString();
  EXPECT_TRUE(resolved->dropped.empty());
  const nlohmann::json expected_targets = {
      {{"pyroscope",
        {{"url", "https://a"},
         {"tenantID", "tenant-a"},
         {"auth", {{"type", "bearer"}, {"token", "s3cret"}}}}}},
      {{"pyroscope",
        {{"url", "https://b"},
         {"tenantID", "tenant-a"},
         {"auth", {{"type", "basic"}, {"username", "grafana"}, {"password", "pw"}}}}}},
  };
  EXPECT_EQ(resolved->config["targets"], expected_targets);
  EXPECT_FALSE(resolved->config.contains("droppedTargets"));
  // Everything else is passed through untouched.
  nlohmann::json rest = resolved->config;
  rest.erase("targets");
  nlohmann::json original = config;
  original.erase("targets");
  EXPECT_EQ(rest, original);
}

TEST_F(ResolveTargetSecretsTest, UsesTheUsernameKeyWhenGiven) {
  const auto config = configWith({pyroscope(
      "https://b", controllers::AuthSecretRef{"pyro-basic", "password", "u2", controllers::AuthType::Basic})});
  auto resolved = resolveTargetSecrets(config, reader_);
  ASSERT_TRUE(resolved);
  EXPECT_EQ(resolved->config["targets"][0]["pyroscope"]["auth"]["username"], "x");
}

TEST_F(ResolveTargetSecretsTest, AMissingSecretDropsOnlyThatTargetWithTheReason) {
  const auto config = configWith({
      pyroscope("https://a", controllers::AuthSecretRef{"absent", "token", "", {}}),
      pyroscope("https://b", controllers::AuthSecretRef{"pyro-token", "nokey", "", {}}),
      controllers::FileTarget{"/var/lib/kprof"},
  });
  auto resolved = resolveTargetSecrets(config, reader_);
  ASSERT_TRUE(resolved) << resolved.error().toString();
  ASSERT_EQ(resolved->dropped.size(), 2u);
  EXPECT_EQ(resolved->dropped[0].index, 0u);
  EXPECT_EQ(resolved->dropped[0].reason, "secret shop/absent: not found");
  EXPECT_EQ(resolved->dropped[1].index, 1u);
  EXPECT_EQ(resolved->dropped[1].reason, "secret shop/pyro-token: no key 'nokey'");
  EXPECT_EQ(resolved->config["targets"],
            nlohmann::json::array({{{"file", {{"directory", "/var/lib/kprof"}}}}}));
  // The agent hears about it too, without any credential in the message.
  ASSERT_EQ(resolved->config["droppedTargets"].size(), 2u);
  EXPECT_EQ(resolved->config["droppedTargets"][0]["reason"], "secret shop/absent: not found");
  EXPECT_EQ(resolved->config["droppedTargets"][0]["target"], config["targets"][0]);
  EXPECT_EQ(resolved->config.dump().find("s3cret"), std::string::npos);
}

TEST_F(ResolveTargetSecretsTest, SecretsAreReadInThePodsNamespaceOnly) {
  auto config = configWith({pyroscope("https://a", controllers::AuthSecretRef{"pyro-token", "token", "", {}})});
  config["pod"]["namespace"] = "third";
  auto resolved = resolveTargetSecrets(config, reader_);
  ASSERT_TRUE(resolved);
  EXPECT_TRUE(resolved->config["targets"].empty());
  EXPECT_EQ(resolved->dropped.at(0).reason, "secret third/pyro-token: not found");
}

TEST_F(ResolveTargetSecretsTest, StoreTargetsWithoutUrlGetTheEmbeddedStore) {
  const auto config = configWith({controllers::StoreTarget{}, controllers::StoreTarget{"http://s:4040"}});
  auto resolved =
      resolveTargetSecrets(config, reader_, {.embedded_store_url = "http://kprof-store.kprof:4040"});
  ASSERT_TRUE(resolved);
  EXPECT_EQ(resolved->config["targets"],
            nlohmann::json::array({{{"store", {{"url", "http://kprof-store.kprof:4040"}}}},
                                   {{"store", {{"url", "http://s:4040"}}}}}));

  auto without = resolveTargetSecrets(config, reader_);
  ASSERT_TRUE(without);
  ASSERT_EQ(without->dropped.size(), 1u);
  EXPECT_EQ(without->config["targets"].size(), 1u);
}

TEST_F(ResolveTargetSecretsTest, AnApiFailureFailsTheWholeResolve) {
  const auto config = configWith({
      pyroscope("https://a", controllers::AuthSecretRef{"pyro-token", "token", "", {}}),
      controllers::FileTarget{"/x"},
  });
  api_.setFailure(ErrorCode::Unavailable);
  auto resolved = resolveTargetSecrets(config, reader_);
  ASSERT_FALSE(resolved);
  EXPECT_EQ(resolved.error().code, ErrorCode::Unavailable);
}

TEST_F(ResolveTargetSecretsTest, MalformedConfigsAndTargets) {
  EXPECT_EQ(resolveTargetSecrets(nlohmann::json::array(), reader_).error().code,
            ErrorCode::InvalidArgument);
  EXPECT_EQ(resolveTargetSecrets({{"pod", {{"namespace", "shop"}}}}, reader_).error().code,
            ErrorCode::InvalidArgument);
  EXPECT_EQ(resolveTargetSecrets({{"targets", nlohmann::json::array()}}, reader_).error().code,
            ErrorCode::InvalidArgument);
  nlohmann::json config = {{"pod", {{"namespace", "shop"}}},
                           {"targets",
                            {{{"ftp", {{"url", "x"}}}},
                             {{"file", {{"directory", "/a"}}}, {"store", nlohmann::json::object()}},
                             {{"pyroscope", {{"tenantID", "x"}}}}}}};
  auto resolved = resolveTargetSecrets(config, reader_);
  ASSERT_TRUE(resolved);
  EXPECT_EQ(resolved->dropped.size(), 3u);
  EXPECT_EQ(resolved->dropped[0].reason, "unknown target kind 'ftp'");
}

TEST(DecodeSecretData, DecodesBase64Values) {
  auto data = decodeSecretData({{"data", {{"a", "aGVsbG8="}, {"b", ""}}}});
  ASSERT_TRUE(data);
  EXPECT_EQ(*data, (SecretData{{"a", "hello"}, {"b", ""}}));
  EXPECT_TRUE(decodeSecretData({{"kind", "Secret"}})->empty());
  EXPECT_EQ(decodeSecretData({{"data", {{"a", "!!!"}}}}).error().code, ErrorCode::Parse);
  EXPECT_EQ(decodeSecretData({{"data", {{"a", 1}}}}).error().code, ErrorCode::Parse);
}

}  // namespace
}  // namespace kprof::agentapi
