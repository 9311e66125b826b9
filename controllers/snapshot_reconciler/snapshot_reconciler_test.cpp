#include "controllers/snapshot_reconciler/snapshot_reconciler.hpp"

#include <map>

#include <gtest/gtest.h>

#include "operator/fakekube/memory_api.hpp"

namespace kprof::controllers {
namespace {

using nlohmann::json;
using std::chrono::seconds;
namespace resources = kube::resources;

class ReadThroughInputs final : public SnapshotInputs {
 public:
  explicit ReadThroughInputs(kube::Api& api) : api_(api) {}
  CachedObject snapshot(std::string_view ns, std::string_view name) const override {
    auto object = api_.get(resources::kProfileSnapshots, ns, name);
    return object ? std::make_shared<const kube::Object>(*object) : nullptr;
  }
  bool podExists(std::string_view ns, std::string_view name) const override {
    return api_.get(resources::kPods, ns, name).hasValue();
  }
  std::optional<json> agentReport(const std::string& pod_key) const override {
    const auto found = reports.find(pod_key);
    return found == reports.end() ? std::nullopt : std::optional<json>(found->second);
  }
  std::map<std::string, json> reports;

 private:
  kube::Api& api_;
};

class RecordingAgents final : public AgentConfigSink {
 public:
  void publish(const std::string& pod_key, const json& config) override { configs[pod_key] = config; }
  void retract(const std::string& pod_key) override { configs.erase(pod_key); }
  std::optional<WallTime> lastReport(const std::string&) const override { return std::nullopt; }
  std::map<std::string, json> configs;
};

class SnapshotReconcilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"checkout-1", "checkout-2"}) {
      ASSERT_TRUE(api_.create(resources::kPods, "shop",
                              {{"metadata", {{"name", name}, {"namespace", "shop"}}}}));
      book_.publish(std::string("shop/") + name,
                    {{"labels", {{"service_name", "checkout"}}},
                     {"targets", {{{"pyroscope", {{"url", "http://pyroscope:4040"}}}}}}});
    }
    ASSERT_TRUE(api_.create(resources::kProfileSnapshots, "shop",
                            {{"apiVersion", "kprof.dev/v1alpha1"},
                             {"kind", "ProfileSnapshot"},
                             {"metadata", {{"name", "s1"}, {"namespace", "shop"}}},
                             {"spec", {{"targets", {{"pods", {"checkout-1", "checkout-2"}}}},
                                       {"durationSeconds", 10}}}}));
  }
  json status() { return api_.get(resources::kProfileSnapshots, "shop", "s1")->value("status", json()); }
  void agentReports(const std::string& pod, const std::string& phase) {
    inputs_.reports["shop/" + pod] = {
        {"snapshots", {{{"id", "shop.s1"}, {"phase", phase},
                        {"startedAtMs", 1'700'000'001'000}, {"completedAtMs", phase == "Completed" ? 1'700'000'011'000 : 0},
                        {"profiles", json::array()}}}}};
  }

  FakeClock clock_;
  fakekube::MemoryApi api_{clock_};
  ReadThroughInputs inputs_{api_};
  RecordingAgents agents_;
  CommandBook book_{agents_};
  SnapshotReconciler reconciler_{api_, inputs_, book_, clock_, {}};
};

TEST_F(SnapshotReconcilerTest, PublishesTheCommandThenWritesPhasesFromReportsUntilCompleted) {
  auto first = reconciler_.reconcile("shop/s1");
  ASSERT_TRUE(first) << first.error().toString();
  EXPECT_EQ(*first, seconds(1));
  EXPECT_EQ(agents_.configs["shop/checkout-1"]["snapshots"][0]["id"], "shop.s1");
  EXPECT_EQ(agents_.configs["shop/checkout-2"]["snapshots"][0]["rateHz"], 1000);
  EXPECT_EQ(status()["phase"], "Pending");
  EXPECT_EQ(status()["queryURL"],
            "http://pyroscope:4040/?query=checkout.cpu%7Bsnapshot_id%3D%22shop.s1%22%7D");

  agentReports("checkout-1", "Capturing");
  ASSERT_TRUE(reconciler_.reconcile("shop/s1"));
  EXPECT_EQ(status()["phase"], "Capturing");
  EXPECT_EQ(status()["pods"][0]["startedAt"], "2023-11-14T22:13:21.000Z");

  agentReports("checkout-1", "Completed");
  agentReports("checkout-2", "Completed");
  auto done = reconciler_.reconcile("shop/s1");
  ASSERT_TRUE(done);
  EXPECT_EQ(status()["phase"], "Completed");
  EXPECT_FALSE(agents_.configs["shop/checkout-1"].contains("snapshots"));
  EXPECT_FALSE(*done);

  // Later looks keep it as it is, until the TTL deletes it.
  clock_.advance(seconds(3600));
  auto later = reconciler_.reconcile("shop/s1");
  ASSERT_TRUE(later);
  EXPECT_EQ(status()["phase"], "Completed");
  clock_.advance(std::chrono::hours(24));
  ASSERT_TRUE(reconciler_.reconcile("shop/s1"));
  EXPECT_FALSE(api_.get(resources::kProfileSnapshots, "shop", "s1"));
}

TEST_F(SnapshotReconcilerTest, AReplicaThatDoesNotLeadPublishesCommandsButWritesNothing) {
  reconciler_.setWriting(false);
  ASSERT_TRUE(reconciler_.reconcile("shop/s1"));
  EXPECT_TRUE(agents_.configs["shop/checkout-1"].contains("snapshots"));
  EXPECT_TRUE(status().is_null());
}

TEST_F(SnapshotReconcilerTest, ADeletedSnapshotTakesItsCommandOut) {
  ASSERT_TRUE(reconciler_.reconcile("shop/s1"));
  ASSERT_TRUE(api_.remove(resources::kProfileSnapshots, "shop", "s1"));
  ASSERT_TRUE(reconciler_.reconcile("shop/s1"));
  EXPECT_FALSE(agents_.configs["shop/checkout-1"].contains("snapshots"));
}

TEST_F(SnapshotReconcilerTest, AfterARestartARunningSnapshotIsPickedUpFromItsStatus) {
  agentReports("checkout-1", "Completed");
  ASSERT_TRUE(reconciler_.reconcile("shop/s1"));
  // A new operator: empty book and no reports yet; the status in the resource carries on.
  RecordingAgents agents;
  CommandBook book(agents);
  book.publish("shop/checkout-1", json::object());
  book.publish("shop/checkout-2", json::object());
  ReadThroughInputs inputs(api_);
  SnapshotReconciler restarted(api_, inputs, book, clock_, {});
  ASSERT_TRUE(restarted.reconcile("shop/s1"));
  EXPECT_EQ(status()["pods"][0]["phase"], "Completed");
  EXPECT_EQ(status()["phase"], "Capturing");
  EXPECT_FALSE(agents.configs["shop/checkout-1"].contains("snapshots"));
  EXPECT_EQ(agents.configs["shop/checkout-2"]["snapshots"][0]["id"], "shop.s1");
}

}  // namespace
}  // namespace kprof::controllers
