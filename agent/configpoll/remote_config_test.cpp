#include "agent/configpoll/remote_config.hpp"

#include <gtest/gtest.h>

#include "agent/configpoll/config_poller.hpp"
#include "controllers/policy/agent_config.hpp"

namespace kprof::agent {
namespace {

// The operator's config for a pod, built by the controller's own toJson.
nlohmann::json operatorConfig() {
  controllers::AgentConfig config;
  config.pod_namespace = "shop";
  config.pod_name = "web-1";
  config.pod_uid = "uid-1";
  config.policy = "web-profiling";
  config.policy_generation = 4;
  config.profiles.cpu.rate_hz = 250;
  config.profiles.wall.enabled = true;
  config.labels = {{"service_name", "web"},
                   {"namespace", "shop"},
                   {"pod", "web-1"},
                   {"node", "node-a"},
                   {"env", "prod"},
                   {"version", "1.4.2"},
                   {"team", "payments"}};
  config.targets = {controllers::StoreTarget{"http://kprof-store.kprof:4040"},
                    controllers::FileTarget{"/var/lib/kprof"}};
  config.upload_interval_seconds = 15;
  return controllers::toJson(config);
}

AgentConfig startupConfig() {
  AgentConfig base;
  base.service_name = "from-env";
  base.container = "app";
  base.extra_labels = {{"local", "x"}};
  base.pyroscope = {PyroscopeTargetConfig{.url = "http://local-pyroscope:4040"}};
  base.listen_port = 9999;
  return base;
}

TEST(ApplyRemoteConfig, MapsTheOperatorsSettingsOntoTheAgentConfig) {
  auto applied = applyRemoteConfig(startupConfig(), operatorConfig());
  ASSERT_TRUE(applied) << applied.error().toString();
  const AgentConfig& config = applied->config;
  EXPECT_EQ(config.service_name, "web");
  EXPECT_EQ(config.env, "prod");
  EXPECT_EQ(config.version, "1.4.2");
  EXPECT_EQ(config.namespace_name, "shop");
  EXPECT_EQ(config.pod, "web-1");
  EXPECT_EQ(config.container, "app");  // not in the operator's labels: kept
  // Other labels replace the local extra labels.
  EXPECT_EQ(config.extra_labels,
            (std::map<std::string, std::string>{{"node", "node-a"}, {"team", "payments"}}));
  EXPECT_EQ(config.profile_types, (std::vector<std::string>{"cpu", "wall"}));
  EXPECT_EQ(config.frequency_hz, 250u);
  EXPECT_EQ(config.upload_interval, std::chrono::seconds(15));
  // The operator's targets replace the local destinations.
  ASSERT_EQ(config.pyroscope.size(), 1u);
  EXPECT_EQ(config.pyroscope[0].url, "http://kprof-store.kprof:4040");
  EXPECT_EQ(config.file_directory, "/var/lib/kprof");
  EXPECT_EQ(applied->credentials, std::vector<TargetCredentials>(1));
  // Settings the operator does not manage stay.
  EXPECT_EQ(config.listen_port, 9999);
  EXPECT_EQ(applied->policy, "web-profiling");
  EXPECT_EQ(applied->policy_generation, 4);
  EXPECT_TRUE(applied->notes.empty());
  // The series labels the sidecar attaches follow.
  const auto labels = seriesLabels(config);
  EXPECT_EQ(labels.at("service_name"), "web");
  EXPECT_EQ(labels.at("team"), "payments");
  EXPECT_FALSE(labels.contains("local"));
}

TEST(ApplyRemoteConfig, ResolvedCredentialsStayInMemory) {
  nlohmann::json remote = operatorConfig();
  remote["targets"] = {
      {{"pyroscope",
        {{"url", "https://a.example"},
         {"tenantID", "t1"},
         {"auth", {{"type", "basic"}, {"username", "grafana"}, {"password", "pw"}}}}}},
      {{"pyroscope",
        {{"url", "https://b.example"}, {"auth", {{"type", "bearer"}, {"token", "tok"}}}}}},
  };
  auto applied = applyRemoteConfig(startupConfig(), remote);
  ASSERT_TRUE(applied) << applied.error().toString();
  ASSERT_EQ(applied->config.pyroscope.size(), 2u);
  EXPECT_EQ(applied->config.pyroscope[0].url, "https://a.example");
  EXPECT_EQ(applied->config.pyroscope[0].tenant_id, "t1");
  EXPECT_EQ(applied->config.pyroscope[0].basic_user, "grafana");
  EXPECT_TRUE(applied->config.pyroscope[0].basic_password_file.empty());
  EXPECT_EQ(applied->credentials,
            (std::vector<TargetCredentials>{{"pw", ""}, {"", "tok"}}));
  EXPECT_TRUE(applied->config.file_directory.empty());
}

TEST(ApplyRemoteConfig, UnusableTargetsAreNotedAndTheRestKept) {
  nlohmann::json remote = operatorConfig();
  remote["targets"] = {
      {{"pyroscope", {{"url", "https://a"}, {"authSecretRef", {{"name", "s"}, {"key", "k"}}}}}},
      {{"store", nlohmann::json::object()}},
      {{"file", {{"directory", "/one"}}}},
      {{"file", {{"directory", "/two"}}}},
      {{"ftp", {{"url", "x"}}}},
  };
  remote["droppedTargets"] = {{{"index", 3}, {"reason", "secret shop/x: not found"}}};
  auto applied = applyRemoteConfig(startupConfig(), remote);
  ASSERT_TRUE(applied) << applied.error().toString();
  EXPECT_TRUE(applied->config.pyroscope.empty());
  EXPECT_EQ(applied->config.file_directory, "/one");
  EXPECT_EQ(applied->notes.size(), 5u);
  const std::string all = nlohmann::json(applied->notes).dump();
  EXPECT_NE(all.find("secret shop/x: not found"), std::string::npos) << all;
  EXPECT_NE(all.find("not resolved by the operator"), std::string::npos) << all;
}

TEST(ApplyRemoteConfig, AllocAndLockAreNotedAsNotSampledHere) {
  nlohmann::json remote = operatorConfig();
  remote["profiles"]["alloc"] = {{"meanSampleBytes", 524288}};
  remote["profiles"]["lock"] = {{"thresholdNanos", 10000}};
  auto applied = applyRemoteConfig(startupConfig(), remote);
  ASSERT_TRUE(applied);
  EXPECT_EQ(applied->notes.size(), 2u);
  EXPECT_EQ(applied->config.profile_types, (std::vector<std::string>{"cpu", "wall"}));
}

TEST(ApplyRemoteConfig, ConfigsTheAgentCannotRunAreRefused) {
  nlohmann::json no_types = operatorConfig();
  no_types["profiles"]["cpu"]["enabled"] = false;
  no_types["profiles"]["wall"]["enabled"] = false;
  EXPECT_EQ(applyRemoteConfig(startupConfig(), no_types).error().code, ErrorCode::InvalidArgument);

  nlohmann::json no_targets = operatorConfig();
  no_targets["targets"] = nlohmann::json::array();
  auto refused = applyRemoteConfig(startupConfig(), no_targets);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("no destination"), std::string::npos);

  nlohmann::json bad_rate = operatorConfig();
  bad_rate["profiles"]["cpu"]["rateHz"] = 0;
  EXPECT_FALSE(applyRemoteConfig(startupConfig(), bad_rate));
  bad_rate["profiles"]["cpu"]["rateHz"] = "fast";
  EXPECT_FALSE(applyRemoteConfig(startupConfig(), bad_rate));

  nlohmann::json bad_interval = operatorConfig();
  bad_interval["uploadIntervalSeconds"] = 0;
  EXPECT_FALSE(applyRemoteConfig(startupConfig(), bad_interval));

  nlohmann::json bad_url = operatorConfig();
  bad_url["targets"] = {{{"store", {{"url", "kprof-store:4040"}}}}};
  EXPECT_FALSE(applyRemoteConfig(startupConfig(), bad_url));

  for (const nlohmann::json& malformed :
       {nlohmann::json(nullptr), nlohmann::json::array(), nlohmann::json({{"profiles", 3}}),
        nlohmann::json({{"profiles", nlohmann::json::object()}, {"targets", "x"}}),
        nlohmann::json({{"profiles", nlohmann::json::object()}, {"labels", {1, 2}}})}) {
    EXPECT_FALSE(applyRemoteConfig(startupConfig(), malformed)) << malformed.dump();
  }
}

TEST(ApplyRemoteConfig, NonStringLabelsAreNotedNotFatal) {
  nlohmann::json remote = operatorConfig();
  remote["labels"]["weird"] = 3;
  auto applied = applyRemoteConfig(startupConfig(), remote);
  ASSERT_TRUE(applied);
  EXPECT_FALSE(applied->config.extra_labels.contains("weird"));
  EXPECT_EQ(applied->notes.size(), 1u);
}

TEST(ParseConfigAnswer, PublishedPendingAndMalformed) {
  auto published = parseConfigAnswer(R"({"version":7,"config":{"a":1}})");
  ASSERT_TRUE(published);
  EXPECT_EQ(*published, (ConfigAnswer{7, false, {{"a", 1}}}));
  auto pending = parseConfigAnswer(R"({"version":0,"config":null,"pending":true})");
  ASSERT_TRUE(pending);
  EXPECT_EQ(*pending, (ConfigAnswer{0, true, nullptr}));
  for (const char* bad : {"", "[]", "{", R"({"config":{}})", R"({"version":-1,"config":{}})",
                          R"({"version":"7","config":{}})", R"({"version":7})",
                          R"({"version":7,"config":[1]})"}) {
    EXPECT_EQ(parseConfigAnswer(bad).error().code, ErrorCode::Parse) << bad;
  }
}

TEST(OperatorSettings, FlagsOverTheEnvironment) {
  const std::map<std::string, std::string> env = {
      {"KPROF_OPERATOR_URL", "https://kprof-operator.kprof.svc:8443"},
      {"KPROF_OPERATOR_TOKEN_FILE", "/env/token"},
      {"KPROF_OPERATOR_CA_FILE", "/env/ca.crt"}};
  auto from_env = operatorSettings({}, env);
  ASSERT_TRUE(from_env);
  ASSERT_TRUE(*from_env);
  EXPECT_EQ((*from_env)->operator_url, "https://kprof-operator.kprof.svc:8443");
  EXPECT_EQ((*from_env)->token_file, "/env/token");
  EXPECT_EQ((*from_env)->ca_file, "/env/ca.crt");

  auto flagged = operatorSettings({"http://op:8080", "/flag/token", std::nullopt}, env);
  ASSERT_TRUE(flagged && *flagged);
  EXPECT_EQ((*flagged)->operator_url, "http://op:8080");
  EXPECT_EQ((*flagged)->token_file, "/flag/token");
  EXPECT_EQ((*flagged)->ca_file, "/env/ca.crt");

  auto defaults = operatorSettings({"http://op:8080", std::nullopt, std::nullopt}, {});
  ASSERT_TRUE(defaults && *defaults);
  EXPECT_EQ((*defaults)->token_file, kDefaultOperatorTokenFile);

  auto none = operatorSettings({}, {});
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  EXPECT_EQ(operatorSettings({"op:8080", std::nullopt, std::nullopt}, {}).error().code,
            ErrorCode::InvalidArgument);
}

}  // namespace
}  // namespace kprof::agent
