// The fake API server's wire semantics over real HTTP with kprof::http::Client: what a Kubernetes
// client sees on the wire. Every wait is bounded.
#include "tests/fake_apiserver/fake_apiserver.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <stop_token>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "common/http/certificates.hpp"
#include "common/http/client.hpp"

namespace kprof::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using Query = std::map<std::string, std::string>;

constexpr auto kTimeout = 10s;

json podManifest(const std::string& name, json labels = json::object()) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"labels", std::move(labels)}}},
          {"spec", {{"containers", {{{"name", "app"}, {"image", "app:1"}}}}}}};
}

json policyManifest(const std::string& name) {
  return {{"apiVersion", "kprof.dev/v1alpha1"},
          {"kind", "ProfilingPolicy"},
          {"metadata", {{"name", name}}},
          {"spec", {{"selector", {{"matchLabels", {{"app", name}}}}}}}};
}

std::string rvOf(const json& object) {
  return object.at("metadata").value("resourceVersion", "");
}

int64_t rvNumber(const json& object) {
  return std::stoll(rvOf(object));
}

// Records the events of one watch stream on its own thread and client.
class WatchRecorder {
 public:
  WatchRecorder(const std::string& base_url, std::string path, Query query) {
    auto client = http::Client::create({.base_url = base_url});
    if (!client) {
      ADD_FAILURE() << client.error().toString();
      return;
    }
    client_ = std::move(*client);
    http::Request request;
    request.path = std::move(path);
    request.query = std::move(query);
    request.query["watch"] = "true";
    thread_ = std::thread([this, request] {
      auto result = client_->streamLines(request,
                                         [this](std::string_view line) {
                                           std::lock_guard lock(mutex_);
                                           events_.push_back(json::parse(line, nullptr, false));
                                           changed_.notify_all();
                                           return true;
                                         },
                                         {.timeout = 60s, .stop = stop_.get_token()});
      std::lock_guard lock(mutex_);
      if (result) {
        status_ = result->status;
        body_ = result->body;
      } else {
        error_ = result.error().toString();
      }
      ended_ = true;
      changed_.notify_all();
    });
  }

  ~WatchRecorder() {
    stop_.request_stop();
    if (thread_.joinable()) {
      thread_.join();
    }
  }

  // The events so far once at least `count` arrived, or whatever arrived within the bound.
  std::vector<json> waitFor(size_t count, std::chrono::milliseconds within = kTimeout) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, within, [&] { return events_.size() >= count || ended_; });
    return events_;
  }

  // True once the first event satisfying `predicate` arrived.
  bool waitUntil(const std::function<bool(const json&)>& predicate,
                 std::chrono::milliseconds within = kTimeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(
        lock, within, [&] { return std::any_of(events_.begin(), events_.end(), predicate); });
  }

  bool waitForEnd(std::chrono::milliseconds within = kTimeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, within, [&] { return ended_; });
  }

  std::vector<json> events() {
    std::lock_guard lock(mutex_);
    return events_;
  }
  int status() {
    std::lock_guard lock(mutex_);
    return status_;
  }

 private:
  std::unique_ptr<http::Client> client_;
  std::stop_source stop_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<json> events_;
  bool ended_ = false;
  int status_ = 0;
  std::string body_;
  std::string error_;
  std::thread thread_;
};

std::vector<std::string> eventSummary(const std::vector<json>& events) {
  std::vector<std::string> out;
  for (const json& event : events) {
    out.push_back(event.value("type", "?") + " " +
                  event["object"]["metadata"].value("name", std::string("<bookmark>")));
  }
  return out;
}

class FakeApiServerTest : public ::testing::Test {
 protected:
  virtual void configure(FakeApiServerOptions& options) { (void)options; }

  void SetUp() override {
    FakeApiServerOptions options;
    options.crd_files = kprofCrdFiles(KPROF_SOURCE_DIR);
    options.bookmark_interval = 50ms;
    configure(options);
    auto made = FakeApiServer::make(std::move(options));
    ASSERT_TRUE(made) << made.error().toString();
    server_ = std::move(*made);
    ASSERT_TRUE(server_->createNamespace("shop"));
    ASSERT_TRUE(server_->start());
    auto client = http::Client::create({.base_url = server_->url()});
    ASSERT_TRUE(client) << client.error().toString();
    client_ = std::move(*client);
  }

  void TearDown() override {
    if (server_) {
      server_->stop();
    }
  }

  http::Response call(const std::string& method,
                      const std::string& path,
                      const json& body = nullptr,
                      Query query = {},
                      const std::string& content_type = "application/json",
                      http::Headers headers = {}) {
    http::Request request;
    request.method = method;
    request.path = path;
    request.query = std::move(query);
    request.headers = std::move(headers);
    if (!body.is_null()) {
      request.body = body.is_string() ? body.get<std::string>() : body.dump();
      request.headers.set("Content-Type", content_type);
    }
    auto response = client_->send(request, kTimeout);
    if (!response) {
      ADD_FAILURE() << method << " " << path << ": " << response.error().toString();
      return http::Response{};
    }
    return *response;
  }

  static json parsed(const http::Response& response) {
    return json::parse(response.body, nullptr, false);
  }

  json created(const std::string& path, const json& object) {
    http::Response response = call("POST", path, object);
    EXPECT_EQ(response.status, 201) << response.body;
    return parsed(response);
  }

  std::unique_ptr<WatchRecorder> watch(const std::string& path, Query query = {}) {
    return std::make_unique<WatchRecorder>(server_->url(), path, std::move(query));
  }

  static void expectStatus(const http::Response& response, int code, const std::string& reason) {
    EXPECT_EQ(response.status, code) << response.body;
    json status = json::parse(response.body, nullptr, false);
    EXPECT_EQ(status.value("kind", ""), "Status") << response.body;
    EXPECT_EQ(status.value("status", ""), "Failure") << response.body;
    EXPECT_EQ(status.value("reason", ""), reason) << response.body;
    EXPECT_EQ(status.value("code", 0), code) << response.body;
  }

  std::unique_ptr<FakeApiServer> server_;
  std::unique_ptr<http::Client> client_;
};

const std::string kPods = "/api/v1/namespaces/shop/pods";
const std::string kPolicies = "/apis/kprof.dev/v1alpha1/namespaces/shop/profilingpolicies";

// ---------------------------------------------------------------- create, get, update

TEST_F(FakeApiServerTest, CreateFillsServerMetadataAndResourceVersionsIncrease) {
  json first = created(kPods, podManifest("web-0"));
  json second = created(kPods, podManifest("web-1"));
  EXPECT_EQ(first["metadata"]["namespace"], "shop");
  EXPECT_EQ(first["metadata"]["generation"], 1);
  EXPECT_EQ(first["metadata"]["uid"].get<std::string>().size(), 36u);
  EXPECT_NE(first["metadata"]["uid"], second["metadata"]["uid"]);
  EXPECT_TRUE(first["metadata"]["creationTimestamp"].get<std::string>().ends_with("Z"));
  EXPECT_EQ(first["status"]["phase"], "Pending");
  EXPECT_GT(rvNumber(second), rvNumber(first));
  EXPECT_EQ(server_->resourceVersion(), rvNumber(second));

  http::Response got = call("GET", kPods + "/web-0");
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(parsed(got), first);
}

TEST_F(FakeApiServerTest, GenerateNameGivesAUniqueName) {
  json pod = podManifest("");
  pod["metadata"].erase("name");
  pod["metadata"]["generateName"] = "web-";
  json a = created(kPods, pod);
  json b = created(kPods, pod);
  EXPECT_TRUE(a["metadata"]["name"].get<std::string>().starts_with("web-"));
  EXPECT_EQ(a["metadata"]["name"].get<std::string>().size(), 9u);
  EXPECT_NE(a["metadata"]["name"], b["metadata"]["name"]);
}

TEST_F(FakeApiServerTest, ErrorsAreStatusObjectsWithReasonAndDetails) {
  created(kPods, podManifest("web"));
  http::Response duplicate = call("POST", kPods, podManifest("web"));
  expectStatus(duplicate, 409, "AlreadyExists");
  EXPECT_EQ(parsed(duplicate)["details"]["name"], "web");
  EXPECT_EQ(parsed(duplicate)["details"]["kind"], "pods");

  http::Response missing = call("GET", kPods + "/nope");
  expectStatus(missing, 404, "NotFound");
  EXPECT_EQ(parsed(missing)["message"], "pods \"nope\" not found");

  json unnamed = podManifest("x");
  unnamed["metadata"].erase("name");
  http::Response invalid = call("POST", kPods, unnamed);
  expectStatus(invalid, 422, "Invalid");
  EXPECT_EQ(parsed(invalid)["details"]["causes"][0]["field"], "metadata.name");

  http::Response bad_name = call("POST", kPods, podManifest("Not_A_Name"));
  expectStatus(bad_name, 422, "Invalid");

  http::Response no_namespace = call("POST", "/api/v1/namespaces/nowhere/pods", podManifest("web"));
  expectStatus(no_namespace, 404, "NotFound");
  EXPECT_EQ(parsed(no_namespace)["message"], "namespaces \"nowhere\" not found");

  http::Response policy_missing = call("GET", kPolicies + "/nope");
  expectStatus(policy_missing, 404, "NotFound");
  EXPECT_EQ(parsed(policy_missing)["details"]["group"], "kprof.dev");

  expectStatus(call("GET", "/api/v1/namespaces/shop/widgets"), 404, "NotFound");
  expectStatus(call("POST", kPods, "{not json"), 400, "BadRequest");
}

TEST_F(FakeApiServerTest, UpdateWithAStaleResourceVersionConflicts) {
  json pod = created(kPods, podManifest("web"));
  json changed = pod;
  changed["metadata"]["labels"]["env"] = "prod";
  http::Response first = call("PUT", kPods + "/web", changed);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_GT(rvNumber(parsed(first)), rvNumber(pod));

  changed["metadata"]["labels"]["env"] = "staging";  // still carries the old resourceVersion
  http::Response stale = call("PUT", kPods + "/web", changed);
  expectStatus(stale, 409, "Conflict");
  EXPECT_NE(parsed(stale)["message"].get<std::string>().find("the object has been modified"),
            std::string::npos);

  http::Response renamed = call("PUT", kPods + "/other", parsed(first));
  expectStatus(renamed, 400, "BadRequest");
}

TEST_F(FakeApiServerTest, AnUpdateThatChangesNothingKeepsTheResourceVersion) {
  json pod = created(kPods, podManifest("web"));
  http::Response same = call("PUT", kPods + "/web", pod);
  ASSERT_EQ(same.status, 200);
  EXPECT_EQ(rvOf(parsed(same)), rvOf(pod));
  EXPECT_EQ(server_->resourceVersion(), rvNumber(pod));
}

TEST_F(FakeApiServerTest, CustomResourceUpdatesMustNameAResourceVersion) {
  json policy = created(kPolicies, policyManifest("checkout"));
  policy["metadata"].erase("resourceVersion");
  expectStatus(call("PUT", kPolicies + "/checkout", policy), 422, "Invalid");
}

TEST_F(FakeApiServerTest, GenerationMovesOnlyWhenTheSpecChanges) {
  json policy = created(kPolicies, policyManifest("checkout"));
  auto patch = [&](const json& body, const std::string& path) {
    http::Response response = call("PATCH", path, body, {}, "application/merge-patch+json");
    EXPECT_EQ(response.status, 200) << response.body;
    return parsed(response);
  };
  json labeled = patch({{"metadata", {{"labels", {{"team", "a"}}}}}}, kPolicies + "/checkout");
  EXPECT_EQ(labeled["metadata"]["generation"], 1);
  json status = patch({{"status", {{"matchedPods", 3}}}}, kPolicies + "/checkout/status");
  EXPECT_EQ(status["metadata"]["generation"], 1);
  json spec = patch({{"spec", {{"mode", "ebpf"}}}}, kPolicies + "/checkout");
  EXPECT_EQ(spec["metadata"]["generation"], 2);
  EXPECT_EQ(spec["status"]["matchedPods"], 3);
}

TEST_F(FakeApiServerTest, StatusSubresourceSplitsStatusFromEverythingElse) {
  json policy = policyManifest("checkout");
  policy["status"] = {{"matchedPods", 9}};
  json stored = created(kPolicies, policy);
  EXPECT_FALSE(stored.contains("status")) << "create through the API drops .status";

  // The main endpoint ignores .status.
  json update = stored;
  update["status"] = {{"matchedPods", 5}};
  update["spec"]["mode"] = "ebpf";
  http::Response main = call("PUT", kPolicies + "/checkout", update);
  ASSERT_EQ(main.status, 200) << main.body;
  EXPECT_FALSE(parsed(main).contains("status"));
  EXPECT_EQ(parsed(main)["spec"]["mode"], "ebpf");

  // /status takes only .status.
  json status_update = parsed(main);
  status_update["status"] = {{"matchedPods", 5}};
  status_update["spec"]["mode"] = "preload";
  status_update["metadata"]["labels"] = {{"ignored", "yes"}};
  http::Response status = call("PUT", kPolicies + "/checkout/status", status_update);
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_EQ(parsed(status)["status"]["matchedPods"], 5);
  EXPECT_EQ(parsed(status)["spec"]["mode"], "ebpf");
  EXPECT_FALSE(parsed(status)["metadata"].contains("labels"));

  // Pods too: phase changes only through /status.
  created(kPods, podManifest("web"));
  http::Response running = call("PATCH",
                                kPods + "/web/status",
                                {{"status", {{"phase", "Running"}}}},
                                {},
                                "application/merge-patch+json");
  ASSERT_EQ(running.status, 200) << running.body;
  EXPECT_EQ(parsed(running)["status"]["phase"], "Running");
  http::Response ignored = call("PATCH",
                                kPods + "/web",
                                {{"status", {{"phase", "Failed"}}}},
                                {},
                                "application/merge-patch+json");
  EXPECT_EQ(parsed(ignored)["status"]["phase"], "Running");
}

TEST_F(FakeApiServerTest, PodSpecIsImmutableExceptImages) {
  created(kPods, podManifest("web"));
  http::Response image = call("PATCH",
                              kPods + "/web",
                              {{"spec", {{"containers", {{{"name", "app"}, {"image", "app:2"}}}}}}},
                              {},
                              "application/strategic-merge-patch+json");
  EXPECT_EQ(image.status, 200) << image.body;
  http::Response node = call("PATCH",
                             kPods + "/web",
                             {{"spec", {{"nodeName", "node-1"}}}},
                             {},
                             "application/merge-patch+json");
  expectStatus(node, 422, "Invalid");
}

TEST_F(FakeApiServerTest, SecretStringDataIsStoredAsBase64Data) {
  json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", {{"name", "token"}}},
                 {"stringData", {{"password", "hunter2"}}}};
  json stored = created("/api/v1/namespaces/shop/secrets", secret);
  EXPECT_EQ(stored["data"]["password"], "aHVudGVyMg==");
  EXPECT_EQ(stored["type"], "Opaque");
  EXPECT_FALSE(stored.contains("stringData"));
}

TEST_F(FakeApiServerTest, DryRunChangesNothing) {
  int64_t before = server_->resourceVersion();
  http::Response response = call("POST", kPods, podManifest("web"), {{"dryRun", "All"}});
  EXPECT_EQ(response.status, 201);
  EXPECT_EQ(server_->resourceVersion(), before);
  expectStatus(call("GET", kPods + "/web"), 404, "NotFound");
}

// ---------------------------------------------------------------- lists

TEST_F(FakeApiServerTest, ListCarriesKindAndResourceVersion) {
  created(kPods, podManifest("web"));
  created(kPolicies, policyManifest("checkout"));
  json pods = parsed(call("GET", kPods));
  EXPECT_EQ(pods["kind"], "PodList");
  EXPECT_EQ(pods["apiVersion"], "v1");
  EXPECT_EQ(pods["metadata"]["resourceVersion"], std::to_string(server_->resourceVersion()));
  ASSERT_EQ(pods["items"].size(), 1u);
  // Built-in list items carry no kind, as the real server sends them; custom ones do.
  EXPECT_FALSE(pods["items"][0].contains("kind"));
  json policies = parsed(call("GET", kPolicies));
  EXPECT_EQ(policies["kind"], "ProfilingPolicyList");
  EXPECT_EQ(policies["items"][0]["kind"], "ProfilingPolicy");

  json all = parsed(call("GET", "/api/v1/pods"));
  EXPECT_EQ(all["items"].size(), 1u);
}

TEST_F(FakeApiServerTest, ListWithLabelSelectors) {
  created(kPods, podManifest("a", {{"app", "web"}, {"env", "prod"}}));
  created(kPods, podManifest("b", {{"app", "web"}, {"env", "staging"}}));
  created(kPods, podManifest("c", {{"app", "db"}}));
  auto names = [&](const std::string& selector) {
    http::Response response = call("GET", kPods, nullptr, {{"labelSelector", selector}});
    EXPECT_EQ(response.status, 200) << selector << ": " << response.body;
    std::vector<std::string> out;
    const json list = parsed(response);
    for (const json& item : list["items"]) {
      out.push_back(item["metadata"]["name"]);
    }
    return out;
  };
  using Names = std::vector<std::string>;
  EXPECT_EQ(names("app=web"), (Names{"a", "b"}));
  EXPECT_EQ(names("app==web,env=prod"), (Names{"a"}));
  EXPECT_EQ(names("env!=prod"), (Names{"b", "c"}));
  EXPECT_EQ(names("env in (prod,staging)"), (Names{"a", "b"}));
  EXPECT_EQ(names("env notin (prod)"), (Names{"b", "c"}));
  EXPECT_EQ(names("env"), (Names{"a", "b"}));
  EXPECT_EQ(names("!env"), (Names{"c"}));
  expectStatus(call("GET", kPods, nullptr, {{"labelSelector", "app in web"}}), 400, "BadRequest");
}

TEST_F(FakeApiServerTest, ListWithFieldSelectors) {
  json a = podManifest("a");
  a["spec"]["nodeName"] = "node-1";
  ASSERT_TRUE(server_->createObject(kube::resources::kPods, [&] {
    json pod = a;
    pod["metadata"]["namespace"] = "shop";
    pod["status"] = {{"phase", "Running"}};
    return pod;
  }()));
  created(kPods, podManifest("b"));
  created("/api/v1/namespaces/default/pods", podManifest("c"));
  auto names = [&](const std::string& path, const std::string& selector) {
    http::Response response = call("GET", path, nullptr, {{"fieldSelector", selector}});
    EXPECT_EQ(response.status, 200) << selector << ": " << response.body;
    std::vector<std::string> out;
    const json list = parsed(response);
    for (const json& item : list["items"]) {
      out.push_back(item["metadata"]["name"]);
    }
    return out;
  };
  using Names = std::vector<std::string>;
  EXPECT_EQ(names(kPods, "metadata.name=b"), (Names{"b"}));
  EXPECT_EQ(names("/api/v1/pods", "metadata.namespace=default"), (Names{"c"}));
  EXPECT_EQ(names("/api/v1/pods", "metadata.namespace!=default"), (Names{"a", "b"}));
  EXPECT_EQ(names(kPods, "spec.nodeName=node-1"), (Names{"a"}));
  EXPECT_EQ(names(kPods, "spec.nodeName="), (Names{"b"}));
  EXPECT_EQ(names(kPods, "status.phase==Running"), (Names{"a"}));
  EXPECT_EQ(names(kPods, "status.phase!=Running,metadata.name!=x"), (Names{"b"}));
  expectStatus(
      call("GET", kPods, nullptr, {{"fieldSelector", "spec.priority=1"}}), 400, "BadRequest");
  expectStatus(
      call("GET", kPolicies, nullptr, {{"fieldSelector", "spec.mode=ebpf"}}), 400, "BadRequest");
}

TEST_F(FakeApiServerTest, ListPagesWithContinueTokens) {
  for (int i = 0; i < 7; ++i) {
    created(kPods, podManifest("p" + std::to_string(i)));
  }
  std::vector<std::string> seen;
  std::string token;
  std::string first_version;
  int pages = 0;
  do {
    Query query{{"limit", "3"}};
    if (!token.empty()) {
      query["continue"] = token;
    }
    json page = parsed(call("GET", kPods, nullptr, query));
    ASSERT_LE(page["items"].size(), 3u);
    if (pages == 0) {
      first_version = page["metadata"]["resourceVersion"];
    }
    EXPECT_EQ(page["metadata"]["resourceVersion"], first_version);
    for (const json& item : page["items"]) {
      seen.push_back(item["metadata"]["name"]);
    }
    token = page["metadata"].value("continue", "");
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, (std::vector<std::string>{"p0", "p1", "p2", "p3", "p4", "p5", "p6"}));

  // An exact fit has no continue token.
  json exact = parsed(call("GET", kPods, nullptr, {{"limit", "7"}}));
  EXPECT_FALSE(exact["metadata"].contains("continue"));
  expectStatus(call("GET", kPods, nullptr, {{"continue", "garbage"}}), 400, "BadRequest");
}

TEST_F(FakeApiServerTest, ContinueTokenExpiresWhenHistoryIsCompacted) {
  for (int i = 0; i < 3; ++i) {
    created(kPods, podManifest("p" + std::to_string(i)));
  }
  json page = parsed(call("GET", kPods, nullptr, {{"limit", "1"}}));
  std::string token = page["metadata"]["continue"];
  // Still readable while nothing newer was compacted away.
  EXPECT_EQ(call("GET", kPods, nullptr, {{"limit", "1"}, {"continue", token}}).status, 200);
  created(kPods, podManifest("later"));
  server_->compactHistory();
  http::Response expired = call("GET", kPods, nullptr, {{"limit", "1"}, {"continue", token}});
  expectStatus(expired, 410, "Expired");
}

TEST_F(FakeApiServerTest, ListAtAFutureResourceVersionIsTooLarge) {
  http::Response response = call("GET", kPods, nullptr, {{"resourceVersion", "999999"}});
  expectStatus(response, 504, "Timeout");
}

// ---------------------------------------------------------------- watches

TEST_F(FakeApiServerTest, WatchFromNowSendsCurrentObjectsThenChanges) {
  created(kPods, podManifest("existing"));
  auto recorder = watch(kPods);
  ASSERT_EQ(recorder->waitFor(1).size(), 1u);
  created(kPods, podManifest("new"));
  ASSERT_EQ(call("PATCH",
                 kPods + "/new",
                 {{"metadata", {{"labels", {{"x", "y"}}}}}},
                 {},
                 "application/merge-patch+json")
                .status,
            200);
  ASSERT_EQ(call("DELETE", kPods + "/new").status, 200);
  auto events = recorder->waitFor(4);
  EXPECT_EQ(
      eventSummary(events),
      (std::vector<std::string>{"ADDED existing", "ADDED new", "MODIFIED new", "DELETED new"}));
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[1]["object"]["kind"], "Pod");  // watch objects carry their kind
  EXPECT_LT(rvNumber(events[1]["object"]), rvNumber(events[2]["object"]));
  EXPECT_LT(rvNumber(events[2]["object"]), rvNumber(events[3]["object"]));
}

TEST_F(FakeApiServerTest, WatchResumesFromAResourceVersion) {
  json a = created(kPods, podManifest("a"));
  created(kPods, podManifest("b"));
  created(kPolicies, policyManifest("other-resource"));
  created(kPods, podManifest("c"));
  auto recorder = watch(kPods, {{"resourceVersion", rvOf(a)}});
  auto events = recorder->waitFor(2);
  EXPECT_EQ(eventSummary(events), (std::vector<std::string>{"ADDED b", "ADDED c"}));
  created(kPods, podManifest("d"));
  EXPECT_EQ(eventSummary(recorder->waitFor(3)),
            (std::vector<std::string>{"ADDED b", "ADDED c", "ADDED d"}));
}

TEST_F(FakeApiServerTest, WatchFromACompactedResourceVersionGetsAnExpiredErrorEvent) {
  json a = created(kPods, podManifest("a"));
  created(kPods, podManifest("b"));
  server_->compactHistory();
  auto recorder = watch(kPods, {{"resourceVersion", rvOf(a)}});
  ASSERT_TRUE(recorder->waitForEnd());
  auto events = recorder->events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(recorder->status(), 200);
  EXPECT_EQ(events[0]["type"], "ERROR");
  EXPECT_EQ(events[0]["object"]["kind"], "Status");
  EXPECT_EQ(events[0]["object"]["code"], 410);
  EXPECT_EQ(events[0]["object"]["reason"], "Expired");
  EXPECT_NE(events[0]["object"]["message"].get<std::string>().find("too old resource version"),
            std::string::npos);
}

TEST_F(FakeApiServerTest, HistoryBeyondItsLimitIsForgotten) {
  server_->stop();
  FakeApiServerOptions options;
  options.history_limit = 3;
  auto made = FakeApiServer::make(options);
  ASSERT_TRUE(made);
  server_ = std::move(*made);
  ASSERT_TRUE(server_->createNamespace("shop"));
  ASSERT_TRUE(server_->start());
  client_ = std::move(*http::Client::create({.base_url = server_->url()}));
  json first = created(kPods, podManifest("p0"));
  for (int i = 1; i < 6; ++i) {
    created(kPods, podManifest("p" + std::to_string(i)));
  }
  auto old = watch(kPods, {{"resourceVersion", rvOf(first)}});
  ASSERT_TRUE(old->waitForEnd());
  ASSERT_FALSE(old->events().empty());
  EXPECT_EQ(old->events()[0]["type"], "ERROR");
  // The last three events are still there.
  auto recent = watch(kPods, {{"resourceVersion", std::to_string(server_->resourceVersion() - 2)}});
  EXPECT_EQ(eventSummary(recent->waitFor(2)), (std::vector<std::string>{"ADDED p4", "ADDED p5"}));
}

TEST_F(FakeApiServerTest, WatchSendsBookmarksWithOnlyTheResourceVersion) {
  created(kPods, podManifest("a"));
  auto recorder = watch(kPods,
                        {{"resourceVersion", std::to_string(server_->resourceVersion())},
                         {"allowWatchBookmarks", "true"}});
  ASSERT_TRUE(recorder->waitUntil([](const json& event) { return event["type"] == "BOOKMARK"; }));
  for (const json& event : recorder->events()) {
    if (event["type"] == "BOOKMARK") {
      EXPECT_EQ(event["object"]["kind"], "Pod");
      EXPECT_EQ(event["object"]["apiVersion"], "v1");
      EXPECT_EQ(event["object"]["metadata"]["resourceVersion"],
                std::to_string(server_->resourceVersion()));
      EXPECT_FALSE(event["object"].contains("spec"));
    }
  }
  // Without allowWatchBookmarks there are none.
  auto plain = watch(kPods, {{"resourceVersion", std::to_string(server_->resourceVersion())}});
  created(kPods, podManifest("b"));
  ASSERT_EQ(plain->waitFor(1).size(), 1u);
  std::this_thread::sleep_for(200ms);  // several bookmark intervals
  for (const json& event : plain->events()) {
    EXPECT_NE(event["type"], "BOOKMARK");
  }
}

TEST_F(FakeApiServerTest, SendInitialEventsEndsWithAnAnnotatedBookmark) {
  created(kPods, podManifest("a"));
  created(kPods, podManifest("b"));
  auto recorder = watch(kPods,
                        {{"sendInitialEvents", "true"},
                         {"allowWatchBookmarks", "true"},
                         {"resourceVersionMatch", "NotOlderThan"},
                         {"resourceVersion", ""}});
  auto events = recorder->waitFor(3);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events[0]["type"], "ADDED");
  EXPECT_EQ(events[1]["type"], "ADDED");
  EXPECT_EQ(events[2]["type"], "BOOKMARK");
  EXPECT_EQ(events[2]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"], "true");
}

TEST_F(FakeApiServerTest, WatchEndsAtTimeoutSeconds) {
  auto recorder = watch(kPods, {{"timeoutSeconds", "1"}});
  EXPECT_TRUE(recorder->waitForEnd(5s));
  EXPECT_EQ(recorder->status(), 200);
  EXPECT_EQ(server_->openWatches(), 0u);
}

TEST_F(FakeApiServerTest, LabelSelectedWatchSeesObjectsEnterAndLeave) {
  created(kPods, podManifest("web", {{"app", "web"}}));
  auto recorder = watch(kPods,
                        {{"labelSelector", "app=web"},
                         {"resourceVersion", std::to_string(server_->resourceVersion())}});
  auto relabel = [&](const std::string& app) {
    http::Response response = call("PATCH",
                                   kPods + "/web",
                                   {{"metadata", {{"labels", {{"app", app}}}}}},
                                   {},
                                   "application/merge-patch+json");
    EXPECT_EQ(response.status, 200) << response.body;
  };
  relabel("db");
  relabel("cache");  // not seen: it matched neither before nor after
  relabel("web");
  auto events = recorder->waitFor(2);
  EXPECT_EQ(eventSummary(events), (std::vector<std::string>{"DELETED web", "ADDED web"}));
  ASSERT_EQ(events.size(), 2u);
  // The DELETED event carries the last matching content at the new resourceVersion.
  EXPECT_EQ(events[0]["object"]["metadata"]["labels"]["app"], "web");
  EXPECT_LT(rvNumber(events[0]["object"]), rvNumber(events[1]["object"]));
}

TEST_F(FakeApiServerTest, FieldSelectedWatchOfOneObject) {
  created(kPods, podManifest("a"));
  created(kPods, podManifest("b"));
  auto recorder = watch(kPods, {{"fieldSelector", "metadata.name=b"}});
  EXPECT_EQ(eventSummary(recorder->waitFor(1)), (std::vector<std::string>{"ADDED b"}));
}

TEST_F(FakeApiServerTest, TablesForServerSidePrinting) {
  created(kPods, podManifest("web"));
  const http::Headers table_accept = {
      {"Accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}};
  json table = parsed(call("GET", kPods, nullptr, {}, "", table_accept));
  EXPECT_EQ(table["kind"], "Table");
  EXPECT_EQ(table["columnDefinitions"][2]["name"], "Status");
  ASSERT_EQ(table["rows"].size(), 1u);
  EXPECT_EQ(table["rows"][0]["cells"][0], "web");
  EXPECT_EQ(table["rows"][0]["object"]["kind"], "PartialObjectMetadata");
  json one =
      parsed(call("GET", kPods + "/web", nullptr, {{"includeObject", "Object"}}, "", table_accept));
  EXPECT_EQ(one["rows"][0]["object"]["spec"]["containers"][0]["name"], "app");
  json partial = parsed(
      call("GET",
           kPods,
           nullptr,
           {},
           "",
           {{"Accept", "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"}}));
  EXPECT_EQ(partial["kind"], "PartialObjectMetadataList");
  EXPECT_EQ(partial["items"][0]["metadata"]["name"], "web");
  EXPECT_FALSE(partial["items"][0].contains("spec"));

  // `kubectl get -w`: every watch event carries a one-row table.
  http::Request request;
  request.path = kPods;
  request.query = {{"watch", "true"}, {"timeoutSeconds", "1"}};
  request.headers = table_accept;
  std::vector<json> events;
  auto streamed = client_->streamLines(request,
                                       [&](std::string_view line) {
                                         events.push_back(json::parse(line, nullptr, false));
                                         return false;  // the first event is enough
                                       },
                                       {.timeout = kTimeout});
  ASSERT_TRUE(streamed) << streamed.error().toString();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["type"], "ADDED");
  EXPECT_EQ(events[0]["object"]["kind"], "Table");
  EXPECT_EQ(events[0]["object"]["rows"][0]["cells"][0], "web");
}

TEST_F(FakeApiServerTest, DroppedWatchesEndAndCanResume) {
  created(kPods, podManifest("a"));
  auto recorder = watch(kPods);
  auto seen = recorder->waitFor(1);
  ASSERT_EQ(seen.size(), 1u);
  server_->dropWatches();
  EXPECT_TRUE(recorder->waitForEnd());
  EXPECT_EQ(server_->openWatches(), 0u);
  // What happens while no one watches is replayed to a watch that resumes.
  created(kPods, podManifest("b"));
  auto resumed = watch(kPods, {{"resourceVersion", rvOf(seen[0]["object"])}});
  EXPECT_EQ(eventSummary(resumed->waitFor(1)), (std::vector<std::string>{"ADDED b"}));
}

// ---------------------------------------------------------------- patches

TEST_F(FakeApiServerTest, MergePatch) {
  created(kPods, podManifest("web", {{"app", "web"}, {"tier", "front"}}));
  http::Response response = call("PATCH",
                                 kPods + "/web",
                                 R"({"metadata":{"labels":{"tier":null,"env":"prod"}}})",
                                 {},
                                 "application/merge-patch+json");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(parsed(response)["metadata"]["labels"], json({{"app", "web"}, {"env", "prod"}}));
  expectStatus(
      call("PATCH", kPods + "/web", "[]", {}, "application/merge-patch+json"), 400, "BadRequest");
  expectStatus(
      call("PATCH", kPods + "/nope", "{}", {}, "application/merge-patch+json"), 404, "NotFound");
}

TEST_F(FakeApiServerTest, JsonPatchWithPointerEscapes) {
  created(kPods, podManifest("web", {{"app", "web"}}));
  http::Response response = call("PATCH",
                                 kPods + "/web",
                                 R"([
    {"op":"test","path":"/metadata/labels/app","value":"web"},
    {"op":"add","path":"/metadata/labels/kprof.dev~1policy","value":"checkout"},
    {"op":"add","path":"/metadata/annotations","value":{"a~b":"1"}},
    {"op":"replace","path":"/metadata/annotations/a~0b","value":"2"}
  ])",
                                 {},
                                 "application/json-patch+json");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(parsed(response)["metadata"]["labels"]["kprof.dev/policy"], "checkout");
  EXPECT_EQ(parsed(response)["metadata"]["annotations"]["a~b"], "2");

  http::Response failed = call("PATCH",
                               kPods + "/web",
                               R"([{"op":"test","path":"/metadata/labels/app","value":"db"}])",
                               {},
                               "application/json-patch+json");
  expectStatus(failed, 422, "Invalid");
  http::Response malformed =
      call("PATCH", kPods + "/web", R"({"op":"add"})", {}, "application/json-patch+json");
  expectStatus(malformed, 400, "BadRequest");
}

TEST_F(FakeApiServerTest, JsonPatchWithAResourceVersionTestIsAPrecondition) {
  json pod = created(kPods, podManifest("web"));
  std::string stale = R"([{"op":"replace","path":"/metadata/resourceVersion","value":"1"},)"
                      R"({"op":"add","path":"/metadata/labels/x","value":"y"}])";
  expectStatus(
      call("PATCH", kPods + "/web", stale, {}, "application/json-patch+json"), 409, "Conflict");
}

TEST_F(FakeApiServerTest, StrategicMergePatchMergesContainersByName) {
  json pod = podManifest("web");
  pod["spec"]["containers"].push_back({{"name", "sidecar"}, {"image", "side:1"}});
  created(kPods, pod);
  http::Response response = call("PATCH",
                                 kPods + "/web",
                                 R"({"metadata":{"labels":{"injected":"true"}},
                                     "spec":{"containers":[{"name":"app","image":"app:2"}]}})",
                                 {},
                                 "application/strategic-merge-patch+json");
  ASSERT_EQ(response.status, 200) << response.body;
  json containers = parsed(response)["spec"]["containers"];
  ASSERT_EQ(containers.size(), 2u);
  EXPECT_EQ(containers[0]["image"], "app:2");
  EXPECT_EQ(containers[1]["name"], "sidecar");
  EXPECT_EQ(parsed(response)["metadata"]["labels"]["injected"], "true");

  // Custom resources do not take strategic merge patches.
  created(kPolicies, policyManifest("checkout"));
  expectStatus(call("PATCH",
                    kPolicies + "/checkout",
                    R"({"spec":{"mode":"ebpf"}})",
                    {},
                    "application/strategic-merge-patch+json"),
               415,
               "UnsupportedMediaType");
  expectStatus(
      call("PATCH", kPolicies + "/checkout", "{}", {}, "text/plain"), 415, "UnsupportedMediaType");
}

TEST_F(FakeApiServerTest, ServerSideApplyCreatesThenMerges) {
  const std::string yaml = R"(apiVersion: kprof.dev/v1alpha1
kind: ProfilingPolicy
metadata:
  name: checkout
  labels:
    team: payments
spec:
  selector:
    matchLabels:
      app: checkout
)";
  expectStatus(call("PATCH", kPolicies + "/checkout", yaml, {}, "application/apply-patch+yaml"),
               400,
               "BadRequest");  // no fieldManager
  http::Response first = call("PATCH",
                              kPolicies + "/checkout",
                              yaml,
                              {{"fieldManager", "test"}},
                              "application/apply-patch+yaml");
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(parsed(first)["metadata"]["labels"]["team"], "payments");

  json applied = {{"apiVersion", "kprof.dev/v1alpha1"},
                  {"kind", "ProfilingPolicy"},
                  {"metadata", {{"name", "checkout"}}},
                  {"spec", {{"mode", "ebpf"}}}};
  http::Response second = call("PATCH",
                               kPolicies + "/checkout",
                               applied,
                               {{"fieldManager", "test"}, {"force", "true"}},
                               "application/apply-patch+yaml");
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(parsed(second)["spec"]["mode"], "ebpf");
  EXPECT_EQ(parsed(second)["spec"]["selector"]["matchLabels"]["app"], "checkout");
  EXPECT_EQ(parsed(second)["metadata"]["generation"], 2);

  json status = {{"apiVersion", "kprof.dev/v1alpha1"},
                 {"kind", "ProfilingPolicy"},
                 {"metadata", {{"name", "checkout"}}},
                 {"status", {{"matchedPods", 2}}}};
  http::Response status_apply = call("PATCH",
                                     kPolicies + "/checkout/status",
                                     status,
                                     {{"fieldManager", "controller"}},
                                     "application/apply-patch+yaml");
  ASSERT_EQ(status_apply.status, 200) << status_apply.body;
  EXPECT_EQ(parsed(status_apply)["status"]["matchedPods"], 2);
  EXPECT_EQ(parsed(status_apply)["metadata"]["generation"], 2);
}

// ---------------------------------------------------------------- deletion

TEST_F(FakeApiServerTest, FinalizersHoldAnObjectUntilTheyAreRemoved) {
  json policy = policyManifest("checkout");
  policy["metadata"]["finalizers"] = {"kprof.dev/cleanup"};
  created(kPolicies, policy);
  auto recorder =
      watch(kPolicies, {{"resourceVersion", std::to_string(server_->resourceVersion())}});

  http::Response deleted = call("DELETE", kPolicies + "/checkout");
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_TRUE(parsed(deleted)["metadata"].contains("deletionTimestamp"));
  http::Response still = call("GET", kPolicies + "/checkout");
  ASSERT_EQ(still.status, 200);
  EXPECT_TRUE(parsed(still)["metadata"].contains("deletionTimestamp"));

  // No new finalizers while deleting.
  http::Response added = call("PATCH",
                              kPolicies + "/checkout",
                              R"({"metadata":{"finalizers":["kprof.dev/cleanup","other"]}})",
                              {},
                              "application/merge-patch+json");
  expectStatus(added, 422, "Invalid");

  http::Response released = call("PATCH",
                                 kPolicies + "/checkout",
                                 R"({"metadata":{"finalizers":null}})",
                                 {},
                                 "application/merge-patch+json");
  ASSERT_EQ(released.status, 200) << released.body;
  expectStatus(call("GET", kPolicies + "/checkout"), 404, "NotFound");
  EXPECT_EQ(eventSummary(recorder->waitFor(2)),
            (std::vector<std::string>{"MODIFIED checkout", "DELETED checkout"}));
}

TEST_F(FakeApiServerTest, DeletePreconditions) {
  json pod = created(kPods, podManifest("web"));
  expectStatus(call("DELETE",
                    kPods + "/web",
                    {{"kind", "DeleteOptions"},
                     {"apiVersion", "v1"},
                     {"preconditions", {{"uid", "00000000-0000-0000-0000-000000000000"}}}}),
               409,
               "Conflict");
  http::Response removed =
      call("DELETE",
           kPods + "/web",
           {{"preconditions", {{"resourceVersion", rvOf(pod)}, {"uid", pod["metadata"]["uid"]}}}});
  EXPECT_EQ(removed.status, 200) << removed.body;
  expectStatus(call("DELETE", kPods + "/web"), 404, "NotFound");
}

TEST_F(FakeApiServerTest, DeletingAnOwnerDeletesItsDependents) {
  json owner = created(kPolicies, policyManifest("checkout"));
  json other_owner = created(kPolicies, policyManifest("second"));
  auto reference = [](const json& object) {
    return json{{"apiVersion", "kprof.dev/v1alpha1"},
                {"kind", "ProfilingPolicy"},
                {"name", object["metadata"]["name"]},
                {"uid", object["metadata"]["uid"]}};
  };
  json only = {{"apiVersion", "v1"},
               {"kind", "ConfigMap"},
               {"metadata", {{"name", "only"}, {"ownerReferences", {reference(owner)}}}}};
  json shared = {
      {"apiVersion", "v1"},
      {"kind", "ConfigMap"},
      {"metadata",
       {{"name", "shared"}, {"ownerReferences", {reference(owner), reference(other_owner)}}}}};
  json grandchild_owner = created("/api/v1/namespaces/shop/configmaps", only);
  created("/api/v1/namespaces/shop/configmaps", shared);
  json grandchild = {{"apiVersion", "v1"},
                     {"kind", "Secret"},
                     {"metadata",
                      {{"name", "grandchild"},
                       {"ownerReferences",
                        {{{"apiVersion", "v1"},
                          {"kind", "ConfigMap"},
                          {"name", "only"},
                          {"uid", grandchild_owner["metadata"]["uid"]}}}}}}};
  created("/api/v1/namespaces/shop/secrets", grandchild);

  ASSERT_EQ(call("DELETE", kPolicies + "/checkout").status, 200);
  expectStatus(call("GET", "/api/v1/namespaces/shop/configmaps/only"), 404, "NotFound");
  expectStatus(call("GET", "/api/v1/namespaces/shop/secrets/grandchild"), 404, "NotFound");
  http::Response kept = call("GET", "/api/v1/namespaces/shop/configmaps/shared");
  ASSERT_EQ(kept.status, 200);
  ASSERT_EQ(parsed(kept)["metadata"]["ownerReferences"].size(), 1u);
  EXPECT_EQ(parsed(kept)["metadata"]["ownerReferences"][0]["name"], "second");
}

TEST_F(FakeApiServerTest, OrphanPropagationKeepsDependents) {
  json owner = created(kPolicies, policyManifest("checkout"));
  json dependent = {{"apiVersion", "v1"},
                    {"kind", "ConfigMap"},
                    {"metadata",
                     {{"name", "dep"},
                      {"ownerReferences",
                       {{{"apiVersion", "kprof.dev/v1alpha1"},
                         {"kind", "ProfilingPolicy"},
                         {"name", "checkout"},
                         {"uid", owner["metadata"]["uid"]}}}}}}};
  created("/api/v1/namespaces/shop/configmaps", dependent);
  ASSERT_EQ(
      call("DELETE", kPolicies + "/checkout", nullptr, {{"propagationPolicy", "Orphan"}}).status,
      200);
  http::Response kept = call("GET", "/api/v1/namespaces/shop/configmaps/dep");
  ASSERT_EQ(kept.status, 200);
  EXPECT_FALSE(parsed(kept)["metadata"].contains("ownerReferences"));
}

TEST_F(FakeApiServerTest, ForegroundDeletionRemovesDependentsFirst) {
  json owner = created(kPolicies, policyManifest("checkout"));
  json dependent = {{"apiVersion", "v1"},
                    {"kind", "ConfigMap"},
                    {"metadata",
                     {{"name", "dep"},
                      {"finalizers", {"test/hold"}},
                      {"ownerReferences",
                       {{{"apiVersion", "kprof.dev/v1alpha1"},
                         {"kind", "ProfilingPolicy"},
                         {"name", "checkout"},
                         {"uid", owner["metadata"]["uid"]}}}}}}};
  created("/api/v1/namespaces/shop/configmaps", dependent);
  ASSERT_EQ(call("DELETE", kPolicies + "/checkout", {{"propagationPolicy", "Foreground"}}).status,
            200);
  // The owner waits for its dependent, which waits for its finalizer.
  json waiting = parsed(call("GET", kPolicies + "/checkout"));
  EXPECT_EQ(waiting["metadata"]["finalizers"], json({"foregroundDeletion"}));
  ASSERT_EQ(call("PATCH",
                 "/api/v1/namespaces/shop/configmaps/dep",
                 R"({"metadata":{"finalizers":null}})",
                 {},
                 "application/merge-patch+json")
                .status,
            200);
  expectStatus(call("GET", "/api/v1/namespaces/shop/configmaps/dep"), 404, "NotFound");
  expectStatus(call("GET", kPolicies + "/checkout"), 404, "NotFound");
}

TEST_F(FakeApiServerTest, DeletingANamespaceDeletesItsContentsFirst) {
  json pod = podManifest("held");
  pod["metadata"]["finalizers"] = {"test/hold"};
  created(kPods, pod);
  created(kPolicies, policyManifest("checkout"));
  http::Response deleted = call("DELETE", "/api/v1/namespaces/shop");
  ASSERT_EQ(deleted.status, 200);
  EXPECT_EQ(parsed(deleted)["status"]["phase"], "Terminating");
  expectStatus(call("GET", kPolicies + "/checkout"), 404, "NotFound");
  expectStatus(call("POST", kPods, podManifest("late")), 403, "Forbidden");
  // The namespace goes once the last object in it does.
  ASSERT_EQ(call("PATCH",
                 kPods + "/held",
                 R"({"metadata":{"finalizers":null}})",
                 {},
                 "application/merge-patch+json")
                .status,
            200);
  expectStatus(call("GET", "/api/v1/namespaces/shop"), 404, "NotFound");
  expectStatus(call("DELETE", "/api/v1/namespaces/default"), 403, "Forbidden");
}

TEST_F(FakeApiServerTest, DeleteCollectionWithASelector) {
  created(kPods, podManifest("a", {{"app", "web"}}));
  created(kPods, podManifest("b", {{"app", "web"}}));
  created(kPods, podManifest("c", {{"app", "db"}}));
  http::Response response = call("DELETE", kPods, nullptr, {{"labelSelector", "app=web"}});
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(parsed(response)["items"].size(), 2u);
  EXPECT_EQ(parsed(call("GET", kPods))["items"].size(), 1u);
}

// ---------------------------------------------------------------- CRDs and discovery

TEST_F(FakeApiServerTest, DiscoveryDescribesResources) {
  json core = parsed(call("GET", "/api/v1"));
  EXPECT_EQ(core["kind"], "APIResourceList");
  bool pods = false;
  bool pod_status = false;
  for (const json& resource : core["resources"]) {
    if (resource["name"] == "pods") {
      pods = true;
      EXPECT_EQ(resource["kind"], "Pod");
      EXPECT_EQ(resource["singularName"], "pod");
      EXPECT_EQ(resource["namespaced"], true);
      EXPECT_EQ(resource["shortNames"], json({"po"}));
      EXPECT_NE(std::find(resource["verbs"].begin(), resource["verbs"].end(), "watch"),
                resource["verbs"].end());
    }
    pod_status = pod_status || resource["name"] == "pods/status";
  }
  EXPECT_TRUE(pods);
  EXPECT_TRUE(pod_status);

  json kprof = parsed(call("GET", "/apis/kprof.dev/v1alpha1"));
  std::set<std::string> names;
  for (const json& resource : kprof["resources"]) {
    names.insert(resource["name"]);
    if (resource["name"] == "profilingpolicies") {
      EXPECT_EQ(resource["shortNames"], json({"pp", "kpp"}));
      EXPECT_EQ(resource["kind"], "ProfilingPolicy");
    }
  }
  EXPECT_EQ(names,
            (std::set<std::string>{"profilingpolicies",
                                   "profilingpolicies/status",
                                   "profilesnapshots",
                                   "profilesnapshots/status"}));

  json groups = parsed(call("GET", "/apis"));
  EXPECT_EQ(groups["kind"], "APIGroupList");
  EXPECT_EQ(parsed(call("GET", "/apis/kprof.dev"))["preferredVersion"]["version"], "v1alpha1");
  EXPECT_EQ(parsed(call("GET", "/version"))["minor"], "32");

  http::Response aggregated = call(
      "GET",
      "/apis",
      nullptr,
      {},
      "",
      {{"Accept",
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"}});
  EXPECT_NE(aggregated.headers.get("Content-Type").value_or("").find("as=APIGroupDiscoveryList"),
            std::string::npos);
  EXPECT_EQ(parsed(aggregated)["kind"], "APIGroupDiscoveryList");
  EXPECT_EQ(parsed(call("GET", "/openapi/v3"))["paths"].count("apis/kprof.dev/v1alpha1"), 1u);
}

TEST_F(FakeApiServerTest, CustomResourceDefinitionsCanBeAddedAndRemovedAtRuntime) {
  json crd = json::parse(R"({
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
      "group": "example.com",
      "scope": "Cluster",
      "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
      "versions": [{"name": "v1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {"type": "object"}}}]
    }
  })");
  const std::string crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
  json stored = created(crds, crd);
  EXPECT_EQ(stored["status"]["conditions"][1]["type"], "Established");
  EXPECT_EQ(parsed(call("GET", "/apis/example.com/v1"))["resources"][0]["shortNames"],
            json({"wd"}));
  json widget = {{"apiVersion", "example.com/v1"},
                 {"kind", "Widget"},
                 {"metadata", {{"name", "w1"}}},
                 {"spec", {{"size", 3}}}};
  created("/apis/example.com/v1/widgets", widget);
  ASSERT_EQ(call("DELETE", crds + "/widgets.example.com").status, 200);
  expectStatus(call("GET", "/apis/example.com/v1/widgets"), 404, "NotFound");

  json bad = crd;
  bad["metadata"]["name"] = "wrong.example.com";
  expectStatus(call("POST", crds, bad), 422, "Invalid");
}

// ---------------------------------------------------------------- TokenReview and auth

TEST_F(FakeApiServerTest, TokenReviewAuthenticatesRegisteredTokens) {
  UserInfo user;
  user.username = "system:serviceaccount:shop:web";
  user.uid = "sa-uid";
  user.groups = {"system:serviceaccounts", "system:serviceaccounts:shop"};
  user.extra = {{"authentication.kubernetes.io/pod-name", {"web-0"}},
                {"authentication.kubernetes.io/pod-uid", {"pod-uid-1"}}};
  server_->addToken("good-token", user);
  const std::string path = "/apis/authentication.k8s.io/v1/tokenreviews";
  auto review = [&](const std::string& token) {
    http::Response response = call("POST",
                                   path,
                                   {{"apiVersion", "authentication.k8s.io/v1"},
                                    {"kind", "TokenReview"},
                                    {"spec", {{"token", token}}}});
    EXPECT_EQ(response.status, 201) << response.body;
    return parsed(response);
  };
  json good = review("good-token");
  EXPECT_EQ(good["status"]["authenticated"], true);
  EXPECT_EQ(good["status"]["user"]["username"], "system:serviceaccount:shop:web");
  EXPECT_EQ(good["status"]["user"]["uid"], "sa-uid");
  EXPECT_EQ(good["status"]["user"]["groups"].size(), 2u);
  EXPECT_EQ(good["status"]["user"]["extra"]["authentication.kubernetes.io/pod-name"],
            json({"web-0"}));
  json bad = review("unknown");
  EXPECT_FALSE(bad["status"].value("authenticated", false));
  EXPECT_TRUE(bad["status"].contains("error"));
  server_->removeToken("good-token");
  EXPECT_FALSE(review("good-token")["status"].value("authenticated", false));
  expectStatus(call("GET", path), 405, "MethodNotAllowed");
}

class AuthenticatedFakeApiServerTest : public FakeApiServerTest {
 protected:
  void configure(FakeApiServerOptions& options) override { options.require_token = true; }
};

TEST_F(AuthenticatedFakeApiServerTest, RequestsNeedARegisteredBearerToken) {
  expectStatus(call("GET", kPods), 401, "Unauthorized");
  server_->addToken("t0ken", UserInfo{"admin"});
  EXPECT_EQ(call("GET", kPods, nullptr, {}, "", {{"Authorization", "Bearer t0ken"}}).status, 200);
  expectStatus(call("GET", kPods, nullptr, {}, "", {{"Authorization", "Bearer wrong"}}),
               401,
               "Unauthorized");
  EXPECT_EQ(call("GET", "/version").status, 200);
}

TEST(FakeApiServerTlsTest, ServesHttpsWithATokenLikeAnInClusterServer) {
  auto now = std::chrono::system_clock::now();
  auto ca = http::createCertificateAuthority(
      {.common_name = "fake-ca", .not_before = now - 1h, .not_after = now + 24h});
  ASSERT_TRUE(ca) << ca.error().toString();
  auto leaf = http::issueCertificate(*ca,
                                     {.common_name = "kubernetes",
                                      .dns_names = {"kubernetes.default.svc"},
                                      .ip_addresses = {"127.0.0.1"},
                                      .not_before = now - 1h,
                                      .not_after = now + 24h});
  ASSERT_TRUE(leaf) << leaf.error().toString();
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("kprof-fake-tls-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "tls.crt") << leaf->certificate_pem;
  std::ofstream(dir / "tls.key") << leaf->private_key_pem;
  SystemClock clock;
  auto certificates = http::CertificateStore::open(
      {(dir / "tls.crt").string(), (dir / "tls.key").string()}, 1s, clock);
  ASSERT_TRUE(certificates) << certificates.error().toString();

  FakeApiServerOptions options;
  options.certificates = *certificates;
  options.require_token = true;
  auto made = FakeApiServer::make(std::move(options));
  ASSERT_TRUE(made);
  auto& server = *made;
  server->addToken("sa-token", UserInfo{"system:serviceaccount:kprof:operator"});
  ASSERT_TRUE(server->start());
  EXPECT_TRUE(server->url().starts_with("https://"));
  http::ClientOptions client_options{.base_url = server->url()};
  client_options.tls.ca_pem = ca->certificate_pem;
  client_options.default_headers.set("Authorization", http::bearerAuthorization("sa-token"));
  auto client = http::Client::create(client_options);
  ASSERT_TRUE(client) << client.error().toString();
  http::Request request;
  request.path = "/api/v1/namespaces/default/pods";
  auto response = (*client)->send(request, kTimeout);
  ASSERT_TRUE(response) << response.error().toString();
  EXPECT_EQ(response->status, 200) << response->body;
  server->stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

// ---------------------------------------------------------------- faults, hooks, counters

TEST_F(FakeApiServerTest, FailNextMatchingRequests) {
  server_->failNext({.status = 500, .count = 2, .method = "GET", .path_prefix = kPods});
  expectStatus(call("GET", kPods), 500, "InternalError");
  EXPECT_EQ(call("GET", "/api/v1/namespaces/shop/secrets").status, 200);  // does not match
  EXPECT_EQ(call("POST", kPods, podManifest("web")).status, 201);         // neither
  expectStatus(call("GET", kPods), 500, "InternalError");
  EXPECT_EQ(call("GET", kPods).status, 200);

  server_->failNext({.status = 429, .retry_after = 3s});
  http::Response throttled = call("GET", kPods);
  expectStatus(throttled, 429, "TooManyRequests");
  EXPECT_EQ(throttled.headers.get("Retry-After"), "3");
  EXPECT_EQ(parsed(throttled)["details"]["retryAfterSeconds"], 3);

  server_->failNext({.status = 503, .count = 5});
  server_->clearFaults();
  EXPECT_EQ(call("GET", kPods).status, 200);
}

TEST_F(FakeApiServerTest, RequestDelayHoldsEveryRequest) {
  server_->setRequestDelay(200ms);
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(call("GET", kPods).status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 200ms);
  server_->setRequestDelay(0ms);
}

TEST_F(FakeApiServerTest, PodAdmissionHookPatchesCreatedPods) {
  std::atomic<int> calls{0};
  server_->setPodAdmission([&](const json& pod) -> std::optional<json> {
    ++calls;
    EXPECT_EQ(pod["metadata"]["namespace"], "shop");
    if (pod["metadata"]["name"] == "plain") {
      return std::nullopt;
    }
    return json::parse(R"([{"op":"add","path":"/metadata/annotations",
                            "value":{"kprof.dev/injected":"true"}}])");
  });
  json injected = created(kPods, podManifest("web"));
  EXPECT_EQ(injected["metadata"]["annotations"]["kprof.dev/injected"], "true");
  json plain = created(kPods, podManifest("plain"));
  EXPECT_FALSE(plain["metadata"].contains("annotations"));
  created(kPolicies, policyManifest("checkout"));
  EXPECT_EQ(calls.load(), 2);
}

TEST_F(FakeApiServerTest, CountsRequestsByVerbAndResource) {
  server_->resetCounters();
  created(kPods, podManifest("web"));
  call("GET", kPods);
  call("GET", kPods);
  call("GET", kPods + "/web");
  call("PATCH", kPods + "/web/status", R"({"status":{}})", {}, "application/merge-patch+json");
  EXPECT_EQ(server_->requestCount("create", "pods"), 1);
  EXPECT_EQ(server_->requestCount("list", "pods"), 2);
  EXPECT_EQ(server_->requestCount("get", "pods"), 1);
  EXPECT_EQ(server_->requestCount("patch", "pods/status"), 1);
  EXPECT_EQ(server_->requestCount("delete", "pods"), 0);
  EXPECT_EQ(server_->totalRequests(), 5);
}

// ---------------------------------------------------------------- direct API

TEST_F(FakeApiServerTest, DirectApiSeedsAndInspects) {
  json pod = podManifest("seeded", {{"app", "web"}});
  pod["metadata"]["namespace"] = "shop";
  pod["status"] = {{"phase", "Running"}, {"podIP", "10.0.0.9"}};
  auto stored = server_->createObject(kube::resources::kPods, pod);
  ASSERT_TRUE(stored) << stored.error().toString();
  EXPECT_EQ((*stored)["status"]["phase"], "Running") << "seeding keeps .status";
  EXPECT_EQ(rvNumber(*stored), server_->resourceVersion());

  // What the direct API writes, HTTP clients see.
  json over_http = parsed(call("GET", kPods + "/seeded"));
  EXPECT_EQ(over_http["status"]["podIP"], "10.0.0.9");

  auto listed = server_->listObjects(kube::resources::kPods, "shop", "app=web");
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);

  json changed = *stored;
  changed["status"]["phase"] = "Succeeded";
  auto updated = server_->updateObject(kube::resources::kPods, changed);
  ASSERT_TRUE(updated) << updated.error().toString();
  EXPECT_EQ((*updated)["status"]["phase"], "Succeeded");
  auto stale = server_->updateObject(kube::resources::kPods, changed);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, ErrorCode::Conflict);

  ASSERT_TRUE(server_->removeObject(kube::resources::kPods, "shop", "seeded"));
  auto gone = server_->getObject(kube::resources::kPods, "shop", "seeded");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ErrorCode::NotFound);
}

// ---------------------------------------------------------------- scale

TEST_F(FakeApiServerTest, TenThousandPodsListAndWatch) {
  for (int i = 0; i < 10000; ++i) {
    json pod = podManifest("pod-" + std::to_string(i), {{"app", i % 2 == 0 ? "even" : "odd"}});
    pod["metadata"]["namespace"] = "shop";
    ASSERT_TRUE(server_->createObject(kube::resources::kPods, std::move(pod)));
  }
  for (int i = 0; i < 100; ++i) {
    json policy = policyManifest("policy-" + std::to_string(i));
    policy["metadata"]["namespace"] = "shop";
    ASSERT_TRUE(server_->createObject(kube::resources::kProfilingPolicies, std::move(policy)));
  }
  http::Response all = call("GET", kPods);
  ASSERT_EQ(all.status, 200);
  json list = parsed(all);
  EXPECT_EQ(list["items"].size(), 10000u);

  size_t paged = 0;
  std::string token;
  for (int page = 0; page < 100; ++page) {
    Query query{{"limit", "500"}, {"labelSelector", "app=even"}};
    if (!token.empty()) {
      query["continue"] = token;
    }
    json chunk = parsed(call("GET", kPods, nullptr, query));
    paged += chunk["items"].size();
    token = chunk["metadata"].value("continue", "");
    if (token.empty()) {
      break;
    }
  }
  EXPECT_EQ(paged, 5000u);

  auto recorder = watch(kPods, {{"resourceVersion", "0"}});
  EXPECT_EQ(recorder->waitFor(10000, 60s).size(), 10000u);
  created(kPods, podManifest("one-more"));
  EXPECT_TRUE(recorder->waitUntil(
      [](const json& event) { return event["object"]["metadata"]["name"] == "one-more"; }));
}

}  // namespace
}  // namespace kprof::testing
