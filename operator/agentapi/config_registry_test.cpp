#include "operator/agentapi/config_registry.hpp"

#include <gtest/gtest.h>

namespace kprof::agentapi {
namespace {

using namespace std::chrono_literals;

// Collects what waiters were called with.
struct Calls {
  std::vector<AgentConfigView> views;
  WaitCallback callback() {
    return [this](const AgentConfigView& view) { views.push_back(view); };
  }
};

class ConfigRegistryTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  ConfigRegistry registry_{clock_, {.first_version = 1}};
};

TEST_F(ConfigRegistryTest, VersionsChangeOnlyWhenTheContentChanges) {
  EXPECT_EQ(registry_.current("shop/web-1"), AgentConfigView{});
  const int64_t v1 = registry_.publish("shop/web-1", {{"rate", 100}});
  EXPECT_EQ(v1, 1);
  EXPECT_EQ(registry_.publish("shop/web-1", {{"rate", 100}}), v1);
  const int64_t v2 = registry_.publish("shop/web-1", {{"rate", 200}});
  EXPECT_GT(v2, v1);
  EXPECT_EQ(registry_.current("shop/web-1"), (AgentConfigView{true, v2, {{"rate", 200}}}));
  EXPECT_EQ(registry_.publishedKeys(), std::vector<std::string>{"shop/web-1"});
}

TEST_F(ConfigRegistryTest, AVersionIsNeverReusedAfterRemoval) {
  const int64_t v1 = registry_.publish("shop/web-1", {{"rate", 100}});
  registry_.remove("shop/web-1");
  EXPECT_EQ(registry_.current("shop/web-1"), AgentConfigView{});
  EXPECT_TRUE(registry_.publishedKeys().empty());
  // Re-published with other content: an agent still holding v1 must see a different number.
  EXPECT_NE(registry_.publish("shop/web-1", {{"rate", 5}}), v1);
}

TEST_F(ConfigRegistryTest, VersionsStartFromTheWallClockByDefault) {
  ConfigRegistry registry(clock_);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.wallNow().time_since_epoch());
  EXPECT_EQ(registry.publish("a/b", {{"x", 1}}), ms.count());
}

TEST_F(ConfigRegistryTest, AWaiterIsReleasedByThePublishOfItsKeyOnly) {
  Calls web1;
  Calls web2;
  const int64_t v1 = registry_.publish("shop/web-1", {{"rate", 100}});
  registry_.wait("shop/web-1", v1, clock_.now() + 30s, web1.callback());
  const WaitId web2_wait = registry_.wait("shop/web-2", 0, clock_.now() + 30s, web2.callback());
  EXPECT_EQ(registry_.waiting(), 2u);

  registry_.publish("shop/web-1", {{"rate", 100}});  // same content: nobody is woken
  EXPECT_TRUE(web1.views.empty());

  const int64_t v2 = registry_.publish("shop/web-1", {{"rate", 300}});
  ASSERT_EQ(web1.views.size(), 1u);
  EXPECT_EQ(web1.views[0], (AgentConfigView{true, v2, {{"rate", 300}}}));
  EXPECT_TRUE(web2.views.empty());
  EXPECT_EQ(registry_.waiting(), 1u);

  // Called once only: a later publish does not reach a released waiter.
  registry_.publish("shop/web-1", {{"rate", 400}});
  EXPECT_EQ(web1.views.size(), 1u);
  // web2 still waits; withdraw it before `web2` goes out of scope, ahead of the registry.
  EXPECT_TRUE(registry_.cancel(web2_wait));
}

TEST_F(ConfigRegistryTest, AWaiterWhoseKeyAlreadyMovedIsAnsweredAtOnce) {
  Calls calls;
  const int64_t v1 = registry_.publish("shop/web-1", {{"rate", 100}});
  registry_.publish("shop/web-1", {{"rate", 200}});
  registry_.wait("shop/web-1", v1, clock_.now() + 30s, calls.callback());
  ASSERT_EQ(calls.views.size(), 1u);
  EXPECT_EQ(calls.views[0].config, nlohmann::json({{"rate", 200}}));
  EXPECT_EQ(registry_.waiting(), 0u);
}

TEST_F(ConfigRegistryTest, DeadlinesReleaseWaitersWithTheCurrentView) {
  Calls early;
  Calls late;
  Calls pending;
  const int64_t v1 = registry_.publish("shop/web-1", {{"rate", 100}});
  registry_.wait("shop/web-1", v1, clock_.now() + 10s, early.callback());
  registry_.wait("shop/web-1", v1, clock_.now() + 30s, late.callback());
  registry_.wait("shop/web-9", 0, clock_.now() + 10s, pending.callback());

  auto next = registry_.expireDue();
  EXPECT_TRUE(early.views.empty());
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, clock_.now() + 10s);

  clock_.advance(10s);
  next = registry_.expireDue();
  ASSERT_EQ(early.views.size(), 1u);
  EXPECT_EQ(early.views[0], (AgentConfigView{true, v1, {{"rate", 100}}}));
  ASSERT_EQ(pending.views.size(), 1u);
  EXPECT_FALSE(pending.views[0].published);
  EXPECT_TRUE(late.views.empty());
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, clock_.now() + 20s);

  clock_.advance(20s);
  EXPECT_FALSE(registry_.expireDue());
  EXPECT_EQ(late.views.size(), 1u);
}

TEST_F(ConfigRegistryTest, RemovalReleasesWaitersAsPending) {
  Calls calls;
  const int64_t v1 = registry_.publish("shop/web-1", {{"rate", 100}});
  registry_.wait("shop/web-1", v1, clock_.now() + 30s, calls.callback());
  registry_.remove("shop/web-1");
  ASSERT_EQ(calls.views.size(), 1u);
  EXPECT_FALSE(calls.views[0].published);
}

TEST_F(ConfigRegistryTest, CancelledWaitersAreNotCalled) {
  Calls calls;
  const WaitId id = registry_.wait("shop/web-1", 0, clock_.now() + 1s, calls.callback());
  EXPECT_TRUE(registry_.cancel(id));
  EXPECT_FALSE(registry_.cancel(id));
  clock_.advance(2s);
  registry_.expireDue();
  registry_.publish("shop/web-1", {{"rate", 1}});
  EXPECT_TRUE(calls.views.empty());
}

TEST_F(ConfigRegistryTest, DestructionAnswersWaitersStillPending) {
  Calls calls;
  {
    ConfigRegistry registry(clock_, {.first_version = 1});
    registry.publish("shop/web-1", {{"rate", 1}});
    registry.wait("shop/web-1", 1, clock_.now() + 30s, calls.callback());
  }
  ASSERT_EQ(calls.views.size(), 1u);
  EXPECT_TRUE(calls.views[0].published);
}

TEST_F(ConfigRegistryTest, AThrowingWaiterDoesNotStopTheOthers) {
  Calls calls;
  registry_.wait("shop/web-1", 0, clock_.now() + 30s, [](const AgentConfigView&) {
    throw std::runtime_error("handler bug");
  });
  registry_.wait("shop/web-1", 0, clock_.now() + 30s, calls.callback());
  registry_.publish("shop/web-1", {{"rate", 1}});
  EXPECT_EQ(calls.views.size(), 1u);
}

TEST_F(ConfigRegistryTest, PollsAndReportsMarkTheAgentSeen) {
  EXPECT_FALSE(registry_.lastSeen("shop/web-1"));
  registry_.recordPoll("shop/web-1");
  EXPECT_EQ(registry_.lastSeen("shop/web-1"), clock_.wallNow());
  clock_.advance(5s);
  registry_.recordReport("shop/web-1", {{"engine", "ebpf"}});
  EXPECT_EQ(registry_.lastSeen("shop/web-1"), clock_.wallNow());
  EXPECT_EQ(registry_.report("shop/web-1"), nlohmann::json({{"engine", "ebpf"}}));
  // Nothing was published for it: polls do not publish anything.
  EXPECT_FALSE(registry_.current("shop/web-1").published);
}

TEST_F(ConfigRegistryTest, IdleRecordsWithoutAConfigAreForgotten) {
  ConfigRegistry registry(clock_, {.first_version = 1, .idle_record_ttl = 600s});
  registry.recordPoll("shop/gone");
  registry.publish("shop/kept", {{"rate", 1}});
  registry.recordPoll("shop/kept");
  clock_.advance(601s);
  registry.expireDue();
  EXPECT_FALSE(registry.lastSeen("shop/gone"));
  // A published config keeps its record, however quiet the agent is.
  EXPECT_TRUE(registry.lastSeen("shop/kept"));
}

}  // namespace
}  // namespace kprof::agentapi
