// The pure parts of the agent config API: header parsing and response bodies.
#include <gtest/gtest.h>

#include "operator/agentapi/agent_config_api.hpp"

namespace kprof::agentapi {
namespace {

TEST(BearerToken, ReadsTheTokenOfABearerHeader) {
  EXPECT_EQ(bearerToken("Bearer abc.def"), "abc.def");
  EXPECT_EQ(bearerToken("bearer   abc  "), "abc");
  EXPECT_EQ(bearerToken("BEARER\tabc"), "abc");
  EXPECT_EQ(bearerToken(""), "");
  EXPECT_EQ(bearerToken("Bearer"), "");
  EXPECT_EQ(bearerToken("Bearer "), "");
  EXPECT_EQ(bearerToken("Bearerabc"), "");
  EXPECT_EQ(bearerToken("Basic YTpi"), "");
}

TEST(ConfigResponseBody, PublishedAndPending) {
  EXPECT_EQ(configResponseBody({true, 7, {{"rate", 1}}}),
            nlohmann::json({{"version", 7}, {"config", {{"rate", 1}}}}));
  EXPECT_EQ(configResponseBody({}),
            nlohmann::json({{"version", 0}, {"config", nullptr}, {"pending", true}}));
}

TEST(ViewForAgent, AConfigForAnotherPodUidIsNotHandedOut) {
  const AgentIdentity identity{"shop", "web-0", "uid-new", "web"};
  const AgentConfigView mine{true, 3, {{"pod", {{"name", "web-0"}, {"uid", "uid-new"}}}}};
  const AgentConfigView old{true, 3, {{"pod", {{"name", "web-0"}, {"uid", "uid-old"}}}}};
  const AgentConfigView no_uid{true, 3, {{"pod", {{"name", "web-0"}}}}};
  EXPECT_EQ(viewForAgent(mine, identity), mine);
  EXPECT_EQ(viewForAgent(old, identity), AgentConfigView{});
  EXPECT_EQ(viewForAgent(no_uid, identity), no_uid);
  EXPECT_EQ(viewForAgent({}, identity), AgentConfigView{});
}

}  // namespace
}  // namespace kprof::agentapi
