#include "controllers/snapshot_reconciler/command_book.hpp"

#include <gtest/gtest.h>

namespace kprof::controllers {
namespace {

class RecordingAgents final : public AgentConfigSink {
 public:
  void publish(const std::string& pod_key, const nlohmann::json& config) override {
    configs[pod_key] = config;
    ++publishes;
  }
  void retract(const std::string& pod_key) override { configs.erase(pod_key); }
  std::optional<WallTime> lastReport(const std::string&) const override { return std::nullopt; }
  std::map<std::string, nlohmann::json> configs;
  int publishes = 0;
};

snapshot::SnapshotCommand command(const std::string& id) {
  snapshot::SnapshotCommand c;
  c.id = id;
  c.snapshot = id;
  return c;
}

std::vector<std::string> idsIn(const nlohmann::json& config) {
  std::vector<std::string> ids;
  for (const auto& entry : config.value("snapshots", nlohmann::json::array())) {
    ids.push_back(entry["id"].get<std::string>());
  }
  return ids;
}

TEST(CommandBook, ACommandReachesTheTargetedPodsConfigsAtOnceAndLeavesWhenCleared) {
  RecordingAgents agents;
  CommandBook book(agents);
  book.publish("shop/a", {{"policy", {{"name", "checkout"}}}});
  book.publish("shop/b", {{"policy", {{"name", "checkout"}}}});
  book.setCommand("shop/s1", command("shop.s1"), {"shop/a"});
  EXPECT_EQ(idsIn(agents.configs["shop/a"]), std::vector<std::string>{"shop.s1"});
  EXPECT_FALSE(agents.configs["shop/b"].contains("snapshots"));
  EXPECT_EQ(agents.configs["shop/a"]["policy"]["name"], "checkout");  // the rest untouched

  // The policy reconciler publishes a new config: the command stays in it.
  book.publish("shop/a", {{"policy", {{"name", "checkout"}, {"generation", 2}}}});
  EXPECT_EQ(idsIn(agents.configs["shop/a"]), std::vector<std::string>{"shop.s1"});
  EXPECT_FALSE(book.baseConfig("shop/a")->contains("snapshots"));

  book.clear("shop/s1");
  EXPECT_FALSE(agents.configs["shop/a"].contains("snapshots"));
  EXPECT_TRUE(book.commandIds("shop/a").empty());
}

TEST(CommandBook, MovingACommandRepublishesOnlyWhatChanged) {
  RecordingAgents agents;
  CommandBook book(agents);
  book.publish("shop/a", {{"v", 1}});
  book.publish("shop/b", {{"v", 1}});
  book.setCommand("shop/s1", command("shop.s1"), {"shop/a", "shop/b"});
  book.setCommand("shop/s2", command("shop.s2"), {"shop/b"});
  EXPECT_EQ(idsIn(agents.configs["shop/b"]), (std::vector<std::string>{"shop.s1", "shop.s2"}));
  const int before = agents.publishes;
  book.setCommand("shop/s1", command("shop.s1"), {"shop/a", "shop/b"});  // nothing new
  EXPECT_EQ(agents.publishes, before);
  book.setCommand("shop/s1", command("shop.s1"), {"shop/a"});  // b finished
  EXPECT_EQ(idsIn(agents.configs["shop/b"]), std::vector<std::string>{"shop.s2"});
  EXPECT_EQ(idsIn(agents.configs["shop/a"]), std::vector<std::string>{"shop.s1"});
}

TEST(CommandBook, APodWithoutAConfigGetsNothingUntilItIsEnrolled) {
  RecordingAgents agents;
  CommandBook book(agents);
  book.setCommand("shop/s1", command("shop.s1"), {"shop/late"});
  EXPECT_FALSE(agents.configs.contains("shop/late"));
  book.publish("shop/late", {{"v", 1}});
  EXPECT_EQ(idsIn(agents.configs["shop/late"]), std::vector<std::string>{"shop.s1"});
  book.retract("shop/late");
  EXPECT_FALSE(agents.configs.contains("shop/late"));
}

}  // namespace
}  // namespace kprof::controllers
