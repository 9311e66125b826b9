#include "agent/config/agent_config.hpp"

#include <gtest/gtest.h>

namespace kprof::agent {
namespace {

TEST(AgentConfig, LaterSourcesWin) {
  auto from_file = applyYaml(AgentConfig{}, R"(
service_name: shop
env: staging
frequency_hz: 49
profile_types: [cpu, wall]
labels: {team: payments}
pyroscope:
  - url: http://pyroscope:4040
    tenant_id: team-a
)");
  ASSERT_TRUE(from_file) << from_file.error().toString();
  EXPECT_EQ(from_file->frequency_hz, 49u);
  EXPECT_EQ(from_file->profile_types, (std::vector<std::string>{"cpu", "wall"}));
  ASSERT_EQ(from_file->pyroscope.size(), 1u);
  EXPECT_EQ(from_file->pyroscope[0].tenant_id, "team-a");

  auto from_env = applyEnvironment(*from_file,
                                   {{"KPROF_ENV", "prod"},
                                    {"KPROF_POD_NAME", "shop-7d9"},
                                    {"KPROF_FREQUENCY_HZ", "100"},
                                    {"KPROF_VERSION", ""}});
  ASSERT_TRUE(from_env);
  EXPECT_EQ(from_env->env, "prod");
  EXPECT_EQ(from_env->service_name, "shop");  // not in the environment: the file's value stays
  EXPECT_EQ(from_env->frequency_hz, 100u);
  EXPECT_TRUE(validate(*from_env));
  EXPECT_EQ(
      seriesLabels(*from_env),
      (std::map<std::string, std::string>{
          {"env", "prod"}, {"pod", "shop-7d9"}, {"service_name", "shop"}, {"team", "payments"}}));
}

TEST(AgentConfig, ErrorsNameTheSetting) {
  auto typo = applyYaml(AgentConfig{}, "frequncy_hz: 100\n");
  ASSERT_FALSE(typo);
  EXPECT_EQ(typo.error().message, "frequncy_hz: unknown setting");

  auto range = applyYaml(AgentConfig{}, "listen_port: 70000\n");
  ASSERT_FALSE(range);
  EXPECT_NE(range.error().message.find("listen_port"), std::string::npos);

  auto broken = applyYaml(AgentConfig{}, "service_name: [unclosed\n");
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code, ErrorCode::Parse);

  auto env = applyEnvironment(AgentConfig{}, {{"KPROF_FREQUENCY_HZ", "fast"}});
  ASSERT_FALSE(env);
  EXPECT_NE(env.error().message.find("KPROF_FREQUENCY_HZ"), std::string::npos);
}

TEST(AgentConfig, ValidationRejectsWhatCannotRun) {
  AgentConfig config;
  config.file_directory = "/tmp/profiles";
  EXPECT_TRUE(validate(config));
  config.profile_types = {"cpu", "alloc"};
  EXPECT_NE(validate(config).error().message.find("alloc"), std::string::npos);
  config.profile_types = {"cpu"};
  config.file_directory.clear();
  EXPECT_NE(validate(config).error().message.find("no destination"), std::string::npos);
  config.pyroscope = {PyroscopeTargetConfig{.url = "pyroscope:4040"}};
  EXPECT_NE(validate(config).error().message.find("pyroscope[].url"), std::string::npos);
}

}  // namespace
}  // namespace kprof::agent
