// kprof-operator's behaviour as a cluster user sees it, against the fake API server over HTTP:
// policies label pods and get a status, spec edits move observedGeneration, deletion takes the
// labels back; dropped watches, 410 Gone and 409 Conflicts do not keep it from converging; two
// replicas elect one leader and fail over; agents' long polls see a policy edit within 2 s.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "common/http/client.hpp"
#include "controllers/policy/rfc3339.hpp"
#include "operator/kube/kube_client.hpp"
#include "operator/manager/operator.hpp"
#include "tests/fake_apiserver/fake_apiserver.hpp"

namespace kprof {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using nlohmann::json;
namespace resources = kube::resources;

// Polls `done` every 50 ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& done, milliseconds timeout = seconds(15)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) {
      return true;
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  return done();
}

json pod(const std::string& name, const std::string& app) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"name", name},
            {"namespace", "shop"},
            {"labels", {{"app", app}}},
            {"annotations", {{"kprof.dev/injected", "true"}}}}},
          {"spec",
           {{"nodeName", "node-a"},
            {"containers", {{{"name", "app"}, {"image", "registry.local/" + app + ":3.2"}}}}}},
          {"status", {{"phase", "Running"}}}};
}

json checkoutPolicy() {
  return {{"apiVersion", "kprof.dev/v1alpha1"},
          {"kind", "ProfilingPolicy"},
          {"metadata", {{"name", "checkout"}, {"namespace", "shop"}}},
          {"spec", {{"selector", {{"matchLabels", {{"app", "checkout"}}}}},
                    {"environment", "prod"}}}};
}

class OperatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::FakeApiServerOptions options;
    options.crd_files = testing::kprofCrdFiles(KPROF_SOURCE_DIR);
    options.bookmark_interval = milliseconds(200);
    auto fake = testing::FakeApiServer::make(std::move(options));
    ASSERT_TRUE(fake) << fake.error().toString();
    fake_ = std::move(*fake);
    ASSERT_TRUE(fake_->start());
    ASSERT_TRUE(fake_->createNamespace("shop"));
    ASSERT_TRUE(fake_->createNamespace("kprof-system"));
    for (const auto& [name, app] : {std::pair{"checkout-1", "checkout"},
                                    std::pair{"checkout-2", "checkout"},
                                    std::pair{"cart-1", "cart"}}) {
      ASSERT_TRUE(fake_->createObject(resources::kPods, pod(name, app)));
    }
    client_ = newClient();
  }

  std::unique_ptr<kube::KubeClient> newClient() {
    kube::ClusterConfig config;
    config.server = fake_->url();
    auto client = kube::KubeClient::create(config);
    EXPECT_TRUE(client) << client.error().toString();
    return client ? std::move(*client) : nullptr;
  }

  std::unique_ptr<manager::Operator> startOperator(
      const std::string& identity,
      kube::Api& api,
      bool release_on_stop = true,
      const std::function<void(manager::OperatorOptions&)>& adjust = {}) {
    manager::OperatorOptions options;
    options.identity = identity;
    options.listen_host = "127.0.0.1";
    options.health_port = 0;
    options.agent_api_port = 0;
    options.poll_timeout = seconds(20);
    options.release_on_stop = release_on_stop;
    if (adjust) adjust(options);
    auto op = std::make_unique<manager::Operator>(api, clock_, options);
    auto started = op->start();
    EXPECT_TRUE(started) << started.error().toString();
    return op;
  }

  json labelsOf(const std::string& name) {
    auto object = fake_->getObject(resources::kPods, "shop", name);
    return object ? object->at("metadata").value("labels", json::object()) : json::object();
  }
  json policyStatus() {
    auto object = fake_->getObject(resources::kProfilingPolicies, "shop", "checkout");
    return object ? object->value("status", json::object()) : json::object();
  }
  bool labeledBy(const std::string& pod_name, const std::string& policy) {
    return labelsOf(pod_name).value("kprof.dev/policy", "") == policy;
  }
  bool statusShows(int64_t generation, int matched) {
    const json status = policyStatus();
    return status.value("observedGeneration", int64_t{-1}) == generation &&
           status.value("matchedPods", -1) == matched;
  }

  SystemClock clock_;
  std::unique_ptr<testing::FakeApiServer> fake_;
  std::unique_ptr<kube::KubeClient> client_;
};

TEST_F(OperatorTest, APolicyLabelsItsPodsAndReportsThemThenTakesTheLabelsBackWhenDeleted) {
  auto op = startOperator("op-a", *client_);
  ASSERT_TRUE(eventually([&] { return op->ready() && op->leading(); }));
  ASSERT_TRUE(client_->create(resources::kProfilingPolicies, "shop", checkoutPolicy()));

  ASSERT_TRUE(eventually([&] {
    return labeledBy("checkout-1", "checkout") && labeledBy("checkout-2", "checkout") &&
           statusShows(1, 2);
  })) << policyStatus().dump();
  EXPECT_EQ(labelsOf("checkout-1").value("kprof.dev/env", ""), "prod");
  EXPECT_EQ(labelsOf("checkout-1").value("kprof.dev/version", ""), "3.2");
  EXPECT_FALSE(labelsOf("cart-1").contains("kprof.dev/policy"));
  bool ready = false;
  for (const json& condition : policyStatus().value("conditions", json::array())) {
    if (condition.value("type", "") == "Ready") {
      ready = condition.value("status", "") == "True";
    }
  }
  EXPECT_TRUE(ready) << policyStatus().dump();

  // A spec edit: generation 2, new labels, observedGeneration follows.
  ASSERT_TRUE(client_->patch(resources::kProfilingPolicies, "shop", "checkout",
                             kube::PatchType::Merge, {{"spec", {{"environment", "staging"}}}},
                             {}));
  EXPECT_TRUE(eventually([&] {
    return statusShows(2, 2) && labelsOf("checkout-2").value("kprof.dev/env", "") == "staging";
  })) << policyStatus().dump();

  // A pod created later is picked up.
  ASSERT_TRUE(fake_->createObject(resources::kPods, pod("checkout-3", "checkout")));
  EXPECT_TRUE(eventually([&] { return labeledBy("checkout-3", "checkout") && statusShows(2, 3); }));

  ASSERT_TRUE(client_->remove(resources::kProfilingPolicies, "shop", "checkout"));
  EXPECT_TRUE(eventually([&] {
    for (const char* name : {"checkout-1", "checkout-2", "checkout-3"}) {
      const json labels = labelsOf(name);
      if (labels.contains("kprof.dev/policy") || labels.contains("kprof.dev/env") ||
          labels.value("app", "") != "checkout") {
        return false;
      }
    }
    return true;
  })) << labelsOf("checkout-1").dump();
  op->stop();
}

TEST_F(OperatorTest, ConvergesThroughDroppedWatchStreamsAndGoneResourceVersions) {
  auto op = startOperator("op-a", *client_);
  ASSERT_TRUE(eventually([&] { return op->ready() && op->leading(); }));
  ASSERT_TRUE(client_->create(resources::kProfilingPolicies, "shop", checkoutPolicy()));
  ASSERT_TRUE(eventually([&] { return statusShows(1, 2); }));

  // Streams dropped, then history forgotten while changes happen: the informers must re-watch,
  // hit 410, re-list, and still see every change.
  fake_->dropWatches();
  ASSERT_TRUE(fake_->createObject(resources::kPods, pod("checkout-3", "checkout")));
  fake_->compactHistory();
  fake_->dropWatches();
  ASSERT_TRUE(fake_->removeObject(resources::kPods, "shop", "checkout-1"));
  ASSERT_TRUE(fake_->createObject(resources::kPods, pod("checkout-4", "checkout")));
  fake_->compactHistory();
  fake_->dropWatches();

  EXPECT_TRUE(eventually([&] {
    return statusShows(1, 3) && labeledBy("checkout-3", "checkout") &&
           labeledBy("checkout-4", "checkout");
  }, seconds(30))) << policyStatus().dump();
  EXPECT_GT(fake_->requestCount("list", "pods"), 1) << "a 410 should have forced a re-list";
  op->stop();
}

TEST_F(OperatorTest, AConflictOnTheStatusWriteIsRetried) {
  testing::Fault conflict;
  conflict.status = 409;
  conflict.count = 2;
  conflict.method = "PUT";
  conflict.path_prefix = "/apis/kprof.dev/v1alpha1/namespaces/shop/profilingpolicies/checkout/status";
  conflict.message = "Operation cannot be fulfilled: the object has been modified";
  fake_->failNext(conflict);

  auto op = startOperator("op-a", *client_);
  ASSERT_TRUE(client_->create(resources::kProfilingPolicies, "shop", checkoutPolicy()));
  EXPECT_TRUE(eventually([&] { return statusShows(1, 2); })) << policyStatus().dump();
  // Both refusals show in the operator's metrics, as a user would see them.
  auto client = http::Client::create(
      http::ClientOptions{.base_url = "http://127.0.0.1:" + std::to_string(op->healthPort())});
  ASSERT_TRUE(client);
  auto metrics = (*client)->send(http::Request{.path = "/metrics"}, seconds(10));
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find(
                "kprof_reconcile_errors_total{controller=\"profilingpolicy\",error=\"Conflict\"} 2"),
            std::string::npos)
      << metrics->body;
  op->stop();
}

// Two replicas: one leads; when it stops, the other takes over and its writes land.
TEST_F(OperatorTest, TwoReplicasElectOneLeaderAndFailOverWhenItStops) {
  auto client_b = newClient();
  auto a = startOperator("op-a", *client_);
  ASSERT_TRUE(eventually([&] { return a->leading(); }));
  auto b = startOperator("op-b", *client_b);
  ASSERT_TRUE(client_->create(resources::kProfilingPolicies, "shop", checkoutPolicy()));
  ASSERT_TRUE(eventually([&] { return statusShows(1, 2); }));
  EXPECT_TRUE(a->leading());
  EXPECT_FALSE(b->leading());

  const auto stopped_at = std::chrono::steady_clock::now();
  a->stop();  // releases the Lease
  ASSERT_TRUE(eventually([&] { return b->leading(); }, seconds(15)));
  const auto failover = std::chrono::steady_clock::now() - stopped_at;
  EXPECT_LT(failover, seconds(15));
  std::cout << "failover after a graceful stop took "
            << std::chrono::duration_cast<milliseconds>(failover).count() << " ms\n";

  ASSERT_TRUE(client_->patch(resources::kProfilingPolicies, "shop", "checkout",
                             kube::PatchType::Merge, {{"spec", {{"environment", "staging"}}}},
                             {}));
  EXPECT_TRUE(eventually([&] { return statusShows(2, 2); })) << policyStatus().dump();
  b->stop();
}

// A leader that dies without releasing the Lease is replaced once the Lease expires (15 s).
TEST_F(OperatorTest, AReplicaTakesOverFromALeaderThatDiedWithoutReleasing) {
  auto client_b = newClient();
  auto a = startOperator("op-a", *client_, /*release_on_stop=*/false);
  ASSERT_TRUE(eventually([&] { return a->leading(); }));
  auto b = startOperator("op-b", *client_b);
  ASSERT_TRUE(eventually([&] { return b->ready(); }));
  EXPECT_FALSE(b->leading());

  const auto stopped_at = std::chrono::steady_clock::now();
  a->stop();
  ASSERT_TRUE(eventually([&] { return b->leading(); }, seconds(25)));
  const auto failover = std::chrono::steady_clock::now() - stopped_at;
  // The Lease lasts 15 s from the last renewal, which was at most one retry period (2 s) ago.
  EXPECT_LE(failover, seconds(15 + 2 + 1));
  std::cout << "failover after a crash took "
            << std::chrono::duration_cast<milliseconds>(failover).count() << " ms\n";
  b->stop();
}

class AgentApiTest : public OperatorTest {
 protected:
  void registerAgentToken(const std::string& token, const std::string& pod_name) {
    const auto object = fake_->getObject(resources::kPods, "shop", pod_name);
    ASSERT_TRUE(object);
    testing::UserInfo user;
    user.username = "system:serviceaccount:shop:default";
    user.extra["authentication.kubernetes.io/pod-name"] = {pod_name};
    user.extra["authentication.kubernetes.io/pod-uid"] = {
        object->at("metadata").value("uid", "")};
    fake_->addToken(token, user);
  }

  Result<http::Response> poll(const std::string& url, const std::string& token, int64_t version,
                              milliseconds timeout = seconds(30)) {
    auto client = http::Client::create(http::ClientOptions{.base_url = url});
    if (!client) {
      return Unexpected{client.error()};
    }
    http::Request request;
    request.path = "/v1/agents/config";
    request.query["version"] = std::to_string(version);
    request.headers.set("Authorization", "Bearer " + token);
    return (*client)->send(request, timeout);
  }
};

TEST_F(AgentApiTest, AnAgentsLongPollReturnsWithinTwoSecondsOfAPolicyEdit) {
  registerAgentToken("token-checkout-1", "checkout-1");
  auto op = startOperator("op-a", *client_);
  ASSERT_TRUE(client_->create(resources::kProfilingPolicies, "shop", checkoutPolicy()));
  ASSERT_TRUE(eventually([&] { return statusShows(1, 2); }));

  auto first = poll(op->agentApiUrl(), "token-checkout-1", 0);
  ASSERT_TRUE(first) << first.error().toString();
  ASSERT_EQ(first->status, 200) << first->body;
  const json initial = json::parse(first->body);
  ASSERT_FALSE(initial.value("pending", false)) << first->body;
  EXPECT_EQ(initial["config"]["policy"]["name"], "checkout");
  const int64_t version = initial.value("version", int64_t{0});

  std::optional<Result<http::Response>> answer;
  std::chrono::steady_clock::time_point answered_at;
  std::thread waiter([&] {
    answer = poll(op->agentApiUrl(), "token-checkout-1", version);
    answered_at = std::chrono::steady_clock::now();
  });
  std::this_thread::sleep_for(milliseconds(500));  // the poll is waiting by now
  const auto edited_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(client_->patch(resources::kProfilingPolicies, "shop", "checkout",
                             kube::PatchType::Merge,
                             {{"spec", {{"labels", {{"team", "payments"}}}}}}, {}));
  waiter.join();
  ASSERT_TRUE(answer && *answer) << (answer ? answer->error().toString() : "no answer");
  ASSERT_EQ((*answer)->status, 200);
  const json changed = json::parse((*answer)->body);
  EXPECT_NE(changed.value("version", int64_t{0}), version);
  EXPECT_EQ(changed["config"]["labels"].value("team", ""), "payments") << changed.dump();
  const auto latency = answered_at - edited_at;
  EXPECT_LT(latency, seconds(2));
  std::cout << "policy edit to agent answer: "
            << std::chrono::duration_cast<milliseconds>(latency).count() << " ms\n";
  op->stop();
}

TEST_F(AgentApiTest, ASnapshotCommandReachesItsAgentAndTheSnapshotSurvivesAnOperatorRestart) {
  registerAgentToken("token-checkout-1", "checkout-1");
  auto op = startOperator("op-a", *client_);
  ASSERT_TRUE(client_->create(resources::kProfilingPolicies, "shop", checkoutPolicy()));
  ASSERT_TRUE(eventually([&] { return statusShows(1, 2); }));
  ASSERT_TRUE(client_->create(
      resources::kProfileSnapshots, "shop",
      {{"apiVersion", "kprof.dev/v1alpha1"},
       {"kind", "ProfileSnapshot"},
       {"metadata", {{"name", "manual-1"}, {"namespace", "shop"}}},
       {"spec", {{"targets", {{"pods", {"checkout-1"}}}}, {"durationSeconds", 5}, {"rateHz", 997}}}}));

  // What the agent of checkout-1 sees and tells: the command, then its progress.
  auto commandIds = [&](const std::string& url) {
    std::vector<std::string> ids;
    auto answer = poll(url, "token-checkout-1", 0, seconds(5));
    if (!answer || answer->status != 200) return ids;
    const json body = json::parse(answer->body, nullptr, false);
    for (const json& command : body.value("/config/snapshots"_json_pointer, json::array())) {
      ids.push_back(command.value("id", ""));
    }
    return ids;
  };
  auto report = [&](const std::string& url, const std::string& phase) {
    auto client = http::Client::create(http::ClientOptions{.base_url = url});
    http::Request request;
    request.method = "POST";
    request.path = "/v1/agents/report";
    request.headers.set("Authorization", "Bearer token-checkout-1");
    const int64_t now_ms = std::chrono::duration_cast<milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    request.body = json{{"snapshots",
                         {{{"id", "shop.manual-1"},
                           {"phase", phase},
                           {"startedAtMs", now_ms - 100},
                           {"completedAtMs", phase == "Completed" ? now_ms : 0},
                           {"profiles", phase == "Completed" ? json{{{"type", "cpu"}, {"samples", 4000}, {"bytes", 9000}}}
                                                             : json::array()}}}}}
                       .dump();
    auto answer = (*client)->send(request, seconds(5));
    return answer && answer->status < 300;
  };
  auto phase = [&] {
    auto object = fake_->getObject(resources::kProfileSnapshots, "shop", "manual-1");
    return object ? object->value("/status/phase"_json_pointer, std::string()) : std::string();
  };
  using Ids = std::vector<std::string>;
  EXPECT_TRUE(eventually([&] { return commandIds(op->agentApiUrl()) == Ids{"shop.manual-1"}; }));
  ASSERT_TRUE(report(op->agentApiUrl(), "Capturing"));
  EXPECT_TRUE(eventually([&] { return phase() == "Capturing"; }));

  // A new operator (no memory of reports) picks the snapshot up from its status.
  op->stop();
  auto restarted = startOperator("op-b", *client_);
  EXPECT_TRUE(eventually([&] { return commandIds(restarted->agentApiUrl()) == Ids{"shop.manual-1"}; }));
  EXPECT_EQ(phase(), "Capturing");
  ASSERT_TRUE(report(restarted->agentApiUrl(), "Completed"));
  EXPECT_TRUE(eventually([&] { return phase() == "Completed"; }));
  EXPECT_TRUE(eventually([&] { return commandIds(restarted->agentApiUrl()).empty(); }));
  const auto done = fake_->getObject(resources::kProfileSnapshots, "shop", "manual-1");
  ASSERT_TRUE(done);
  EXPECT_EQ((*done)["status"]["pods"][0]["profiles"][0]["samples"], 4000) << done->dump();
  EXPECT_EQ((*done)["status"]["snapshotID"], "shop.manual-1");
  restarted->stop();
}

// The snapshot's state is in the resource: one that finished before this operator started is
// deleted once its TTL has passed since completedAt, and not before; a fresh one stays.
TEST_F(OperatorTest, AFinishedSnapshotIsDeletedWhenItsTtlHasPassedAndNotBefore) {
  const auto now = std::chrono::system_clock::now();
  auto finished = [&](const std::string& name, std::chrono::system_clock::time_point at) {
    return json{{"apiVersion", "kprof.dev/v1alpha1"},
                {"kind", "ProfileSnapshot"},
                {"metadata", {{"name", name}, {"namespace", "shop"}}},
                {"spec", {{"targets", {{"pods", {"checkout-1"}}}}, {"durationSeconds", 5}}},
                {"status", {{"phase", "Completed"}, {"completedAt", controllers::formatRfc3339(at)}}}};
  };
  // completedAt has whole seconds: "old" expires between 4 and 5 s from now.
  const auto old_completed = now - seconds(56);
  ASSERT_TRUE(fake_->createObject(resources::kProfileSnapshots, finished("old", old_completed)));
  ASSERT_TRUE(fake_->createObject(resources::kProfileSnapshots, finished("fresh", now)));
  auto op = startOperator("op-a", *client_, true,
                          [](manager::OperatorOptions& options) { options.snapshot_ttl = seconds(60); });
  ASSERT_TRUE(eventually([&] { return op->ready() && op->leading(); }));

  auto exists = [&](const std::string& name) {
    return static_cast<bool>(fake_->getObject(resources::kProfileSnapshots, "shop", name));
  };
  const auto expires = std::chrono::floor<seconds>(old_completed) + seconds(60);
  // The operator has looked at both by now (ready: caches synced) and must keep "old" until then.
  ASSERT_TRUE(eventually([&] {
    return fake_->requestCount("watch", "profilesnapshots") > 0;
  }));
  std::this_thread::sleep_for(milliseconds(500));
  if (std::chrono::system_clock::now() < expires - milliseconds(500)) {
    EXPECT_TRUE(exists("old")) << "deleted before its TTL";
  }
  ASSERT_TRUE(eventually([&] { return !exists("old"); }, seconds(20)));
  EXPECT_GE(std::chrono::system_clock::now(), expires);
  EXPECT_TRUE(exists("fresh"));
  op->stop();
}

TEST_F(AgentApiTest, AnUnknownTokenGets401) {
  auto op = startOperator("op-a", *client_);
  auto answer = poll(op->agentApiUrl(), "not-a-token", 0, seconds(10));
  ASSERT_TRUE(answer) << answer.error().toString();
  EXPECT_EQ(answer->status, 401) << answer->body;
  auto missing = poll(op->agentApiUrl(), "", 0, seconds(10));
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 401);
  op->stop();
}

}  // namespace
}  // namespace kprof
