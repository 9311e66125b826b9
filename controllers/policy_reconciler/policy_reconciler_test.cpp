#include "controllers/policy_reconciler/policy_reconciler.hpp"

#include <map>
#include <set>

#include <gtest/gtest.h>

#include "operator/fakekube/memory_api.hpp"

namespace kprof::controllers {
namespace {

using kube::Object;
namespace resources = kube::resources;

// Reads straight from the API, standing in for the informers' caches.
class ReadThroughCache final : public PolicyCache {
 public:
  explicit ReadThroughCache(kube::Api& api) : api_(api) {}
  CachedObject policy(std::string_view ns, std::string_view name) const override {
    auto object = api_.get(resources::kProfilingPolicies, ns, name);
    return object ? std::make_shared<const Object>(*object) : nullptr;
  }
  std::vector<CachedObject> policies(std::string_view ns) const override {
    return shared(api_.list(resources::kProfilingPolicies, ns, {})->items);
  }
  std::vector<CachedObject> pods(std::string_view ns) const override {
    return shared(api_.list(resources::kPods, ns, {})->items);
  }
  static std::vector<CachedObject> shared(const std::vector<Object>& items) {
    std::vector<CachedObject> out;
    for (const Object& item : items) {
      out.push_back(std::make_shared<const Object>(item));
    }
    return out;
  }

 private:
  kube::Api& api_;
};

class RecordingAgents final : public AgentConfigSink {
 public:
  void publish(const std::string& pod_key, const nlohmann::json& config) override {
    configs[pod_key] = config;
  }
  void retract(const std::string& pod_key) override { configs.erase(pod_key); }
  std::optional<WallTime> lastReport(const std::string& pod_key) const override {
    const auto found = reports.find(pod_key);
    return found == reports.end() ? std::nullopt : std::optional<WallTime>(found->second);
  }
  std::map<std::string, nlohmann::json> configs;
  std::map<std::string, WallTime> reports;
};

class RecordingEvents final : public EventSink {
 public:
  void record(const Object& involved, const PolicyEvent& event) override {
    reasons.push_back(involved["metadata"]["name"].get<std::string>() + ":" + event.reason);
  }
  std::vector<std::string> reasons;
};

Object pod(const std::string& name, Object labels) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"namespace", "shop"}, {"labels", std::move(labels)}}},
          {"spec", {{"nodeName", "node-a"}, {"containers", {{{"name", "app"}, {"image", "shop/checkout:2.1"}}}}}},
          {"status", {{"phase", "Running"}}}};
}

Object policy(const std::string& name, Object spec) {
  return {{"apiVersion", "kprof.dev/v1alpha1"},
          {"kind", "ProfilingPolicy"},
          {"metadata", {{"name", name}, {"namespace", "shop"}}},
          {"spec", std::move(spec)}};
}

Object checkoutSpec() {
  return {{"selector", {{"matchLabels", {{"app", "checkout"}}}}}, {"environment", "prod"}};
}

class PolicyReconcilerTest : public ::testing::Test {
 protected:
  PolicyReconcilerTest()
      : api_(clock_), cache_(api_), reconciler_(api_, cache_, agents_, events_, clock_) {
    EXPECT_TRUE(api_.create(resources::kPods, "shop", pod("checkout-1", {{"app", "checkout"}})));
    EXPECT_TRUE(api_.create(resources::kPods, "shop", pod("checkout-2", {{"app", "checkout"}})));
    EXPECT_TRUE(api_.create(resources::kPods, "shop", pod("cart-1", {{"app", "cart"}})));
  }

  Object labelsOf(const std::string& name) {
    auto object = api_.get(resources::kPods, "shop", name);
    EXPECT_TRUE(object);
    return object->at("metadata").value("labels", Object::object());
  }
  Object statusOf(const std::string& name) {
    return api_.get(resources::kProfilingPolicies, "shop", name)->value("status", Object());
  }

  FakeClock clock_;
  fakekube::MemoryApi api_;
  ReadThroughCache cache_;
  RecordingAgents agents_;
  RecordingEvents events_;
  PolicyReconciler reconciler_;
};

TEST_F(PolicyReconcilerTest, APolicyLabelsItsPodsPublishesConfigsAndBecomesReady) {
  ASSERT_TRUE(api_.create(resources::kProfilingPolicies, "shop", policy("checkout", checkoutSpec())));
  auto report = reconciler_.reconcile("shop/checkout");
  ASSERT_TRUE(report) << report.error().toString();
  EXPECT_EQ(report->labels_patched, 2);
  EXPECT_TRUE(report->status_written);

  for (const char* name : {"checkout-1", "checkout-2"}) {
    const Object labels = labelsOf(name);
    EXPECT_EQ(labels.value("kprof.dev/env", ""), "prod") << name;
    EXPECT_EQ(labels.value("kprof.dev/version", ""), "2.1") << name;  // from the image tag
    EXPECT_EQ(labels.value("kprof.dev/policy", ""), "checkout") << name;
    EXPECT_EQ(labels.value("app", ""), "checkout") << name;  // other labels untouched
  }
  EXPECT_FALSE(labelsOf("cart-1").contains("kprof.dev/policy"));

  EXPECT_EQ(agents_.configs.size(), 2u);
  ASSERT_TRUE(agents_.configs.contains("shop/checkout-1"));
  EXPECT_EQ(agents_.configs["shop/checkout-1"]["policy"]["name"], "checkout");

  const Object status = statusOf("checkout");
  EXPECT_EQ(status.value("matchedPods", -1), 2);
  EXPECT_EQ(status.value("observedGeneration", -1), 1);
  ASSERT_TRUE(status.contains("conditions"));
  bool ready_seen = false;
  for (const Object& condition : status["conditions"]) {
    if (condition["type"] == "Ready") {
      ready_seen = true;
      EXPECT_EQ(condition["status"], "True") << condition.dump();
    }
  }
  EXPECT_TRUE(ready_seen) << status.dump();
  EXPECT_FALSE(events_.reasons.empty());

  // Level-based: reconciling again with nothing changed writes nothing.
  auto again = reconciler_.reconcile("shop/checkout");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->labels_patched, 0);
  EXPECT_FALSE(again->status_written);
}

TEST_F(PolicyReconcilerTest, ASpecEditMovesObservedGeneration) {
  ASSERT_TRUE(api_.create(resources::kProfilingPolicies, "shop", policy("checkout", checkoutSpec())));
  ASSERT_TRUE(reconciler_.reconcile("shop/checkout"));
  ASSERT_TRUE(api_.patch(resources::kProfilingPolicies, "shop", "checkout", kube::PatchType::Merge,
                         {{"spec", {{"environment", "staging"}}}}, {}));
  ASSERT_TRUE(reconciler_.reconcile("shop/checkout"));
  EXPECT_EQ(statusOf("checkout").value("observedGeneration", -1), 2);
  EXPECT_EQ(labelsOf("checkout-1").value("kprof.dev/env", ""), "staging");
}

TEST_F(PolicyReconcilerTest, DeletingThePolicyRemovesItsLabelsAndRetractsItsConfigs) {
  ASSERT_TRUE(api_.create(resources::kProfilingPolicies, "shop", policy("checkout", checkoutSpec())));
  ASSERT_TRUE(reconciler_.reconcile("shop/checkout"));
  ASSERT_TRUE(api_.remove(resources::kProfilingPolicies, "shop", "checkout"));

  auto report = reconciler_.reconcile("shop/checkout");
  ASSERT_TRUE(report) << report.error().toString();
  EXPECT_EQ(report->labels_patched, 2);
  EXPECT_EQ(report->configs_retracted, 2);
  for (const char* name : {"checkout-1", "checkout-2"}) {
    const Object labels = labelsOf(name);
    EXPECT_FALSE(labels.contains("kprof.dev/env")) << labels.dump();
    EXPECT_FALSE(labels.contains("kprof.dev/policy")) << labels.dump();
    EXPECT_EQ(labels.value("app", ""), "checkout");
  }
  EXPECT_TRUE(agents_.configs.empty());
}

TEST_F(PolicyReconcilerTest, AConflictOnTheStatusWriteFailsTheReconcileAndTheRetrySucceeds) {
  ASSERT_TRUE(api_.create(resources::kProfilingPolicies, "shop", policy("checkout", checkoutSpec())));
  api_.failNext(fakekube::Verb::UpdateStatus, 1,
                Error{ErrorCode::Conflict, "the object has been modified", {}});
  auto first = reconciler_.reconcile("shop/checkout");
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().code, ErrorCode::Conflict);
  auto retry = reconciler_.reconcile("shop/checkout");
  ASSERT_TRUE(retry) << retry.error().toString();
  EXPECT_TRUE(retry->status_written);
  EXPECT_EQ(statusOf("checkout").value("matchedPods", -1), 2);
}

TEST_F(PolicyReconcilerTest, AnInvalidSpecIsReportedAndLabelsStay) {
  ASSERT_TRUE(api_.create(resources::kProfilingPolicies, "shop", policy("checkout", checkoutSpec())));
  ASSERT_TRUE(reconciler_.reconcile("shop/checkout"));
  ASSERT_TRUE(api_.patch(resources::kProfilingPolicies, "shop", "checkout", kube::PatchType::Merge,
                         {{"spec", {{"rollout", {{"percentage", 400}}}}}}, {}));
  ASSERT_TRUE(reconciler_.reconcile("shop/checkout"));
  const Object status = statusOf("checkout");
  bool invalid = false;
  for (const Object& condition : status["conditions"]) {
    if (condition["type"] == "Ready") {
      EXPECT_EQ(condition["status"], "False");
      invalid = condition["reason"] == "InvalidSpec";
      EXPECT_NE(condition.value("message", "").find("rollout"), std::string::npos)
          << condition.dump();
    }
  }
  EXPECT_TRUE(invalid) << status.dump();
  EXPECT_EQ(labelsOf("checkout-1").value("kprof.dev/policy", ""), "checkout");
  EXPECT_EQ(agents_.configs.size(), 2u);  // agents keep their last config until the spec is fixed
}

TEST_F(PolicyReconcilerTest, AReplicaWithoutTheLeasePublishesConfigsButWritesNothing) {
  ASSERT_TRUE(api_.create(resources::kProfilingPolicies, "shop", policy("checkout", checkoutSpec())));
  reconciler_.setWriting(false);
  const size_t patches_before = api_.calls(fakekube::Verb::Patch);
  auto report = reconciler_.reconcile("shop/checkout");
  ASSERT_TRUE(report);
  EXPECT_EQ(agents_.configs.size(), 2u);
  EXPECT_EQ(api_.calls(fakekube::Verb::Patch), patches_before);
  EXPECT_EQ(api_.calls(fakekube::Verb::UpdateStatus), 0u);
  EXPECT_FALSE(labelsOf("checkout-1").contains("kprof.dev/policy"));
}

TEST(PolicyKeysForPod, ThePoliciesSelectingThePodAndTheOneItsLabelNames) {
  const Object labeled = pod("checkout-1", {{"app", "checkout"}, {"kprof.dev/policy", "gone"}});
  const Object cartSpec = {{"selector", {{"matchLabels", {{"app", "cart"}}}}}};
  const std::vector<CachedObject> policies = {
      std::make_shared<const Object>(policy("a", checkoutSpec())),
      std::make_shared<const Object>(policy("b", checkoutSpec())),
      std::make_shared<const Object>(policy("cart", cartSpec))};
  EXPECT_EQ(policyKeysForPod(labeled, policies),
            (std::vector<std::string>{"shop/a", "shop/b", "shop/gone"}));
  EXPECT_EQ(policyKeysForPod(pod("cart-1", {{"app", "cart"}}), policies),
            (std::vector<std::string>{"shop/cart"}));
  EXPECT_TRUE(policyKeysForPod(Object{{"kind", "Pod"}}, policies).empty());
}

}  // namespace
}  // namespace kprof::controllers
