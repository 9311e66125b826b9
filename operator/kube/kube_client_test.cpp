// KubeClient against a stub API server on 127.0.0.1: the stub records each request (method,
// path, query, headers, body) and answers as the test scripts it, including streamed watches.
#include "operator/kube/kube_client.hpp"

#include <atomic>
#include <future>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "common/core/base64.hpp"
#include "common/http/certificate_store.hpp"
#include "common/http/ports.hpp"
#include "common/http/server.hpp"
#include "common/http/test_support.hpp"
#include "operator/kube/kubeconfig.hpp"
#include "operator/kube/list_all.hpp"
#include "operator/kube/test_files.hpp"
#include "operator/kube/watch_event.hpp"

namespace kprof::kube {
namespace {

using namespace std::chrono_literals;
using http::Request;
using http::Responder;
using http::Response;
using testing::ScratchDir;

struct Recorded {
  std::string method;
  std::string path;
  std::map<std::string, std::string> query;
  std::string content_type;
  std::string authorization;
  std::string user_agent;
  std::string accept;
  std::string body;
  nlohmann::json json() const { return nlohmann::json::parse(body); }
};

std::string status(int code, const std::string& reason, const std::string& message) {
  return nlohmann::json{{"kind", "Status"},
                        {"apiVersion", "v1"},
                        {"status", "Failure"},
                        {"code", code},
                        {"reason", reason},
                        {"message", message}}
      .dump();
}

// Answers every method on every path through one handler the test sets.
class StubApiServer {
 public:
  using AsyncHandler = std::function<void(const Request&, Responder)>;

  explicit StubApiServer(std::shared_ptr<http::CertificateStore> certificates = nullptr)
      : server_(http::ServerOptions{.certificates = std::move(certificates)}) {
    for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
      server_.routeAsync(
          method,
          "/",
          [this](Request request, Responder responder) {
            AsyncHandler handler;
            {
              std::lock_guard lock(mutex_);
              requests_.push_back(Recorded{request.method,
                                           request.path,
                                           request.query,
                                           request.headers.get("Content-Type").value_or(""),
                                           request.headers.get("Authorization").value_or(""),
                                           request.headers.get("User-Agent").value_or(""),
                                           request.headers.get("Accept").value_or(""),
                                           request.body});
              handler = handler_;
            }
            handler(request, std::move(responder));
          },
          http::PathMatch::Prefix);
    }
    respond([](const Request&) { return Response::json(404, status(404, "NotFound", "nothing")); });
  }

  bool start() { return static_cast<bool>(server_.start()); }
  ~StubApiServer() { server_.stop(1s); }

  void respond(std::function<Response(const Request&)> reply) {
    respondAsync([reply = std::move(reply)](const Request& request, Responder responder) {
      responder.send(reply(request));
    });
  }
  void respondAsync(AsyncHandler handler) {
    std::lock_guard lock(mutex_);
    handler_ = std::move(handler);
  }
  std::vector<Recorded> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  Recorded last() const {
    std::lock_guard lock(mutex_);
    return requests_.empty() ? Recorded{} : requests_.back();
  }
  std::string url() const { return server_.url(); }

 private:
  mutable std::mutex mutex_;
  std::vector<Recorded> requests_;
  AsyncHandler handler_;
  http::Server server_;
};

std::unique_ptr<KubeClient> makeClient(ClusterConfig config, KubeClientOptions options = {}) {
  auto client = KubeClient::create(std::move(config), std::move(options));
  EXPECT_TRUE(client) << client.error().toString();
  return client ? std::move(*client) : nullptr;
}

class KubeClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(api_.start());
    client_ = makeClient({.server = api_.url(), .token = "static-token"});
    ASSERT_NE(client_, nullptr);
  }

  StubApiServer api_;
  std::unique_ptr<KubeClient> client_;
};

// --- each verb on the wire ------------------------------------------------------------------

TEST_F(KubeClientTest, GetSendsPathAndHeaders) {
  api_.respond([](const Request&) {
    return Response::json(200, R"({"kind":"Pod","metadata":{"name":"api-0"}})");
  });
  auto pod = client_->get(resources::kPods, "web", "api-0");
  ASSERT_TRUE(pod) << pod.error().toString();
  EXPECT_EQ((*pod)["metadata"]["name"], "api-0");
  Recorded request = api_.last();
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.path, "/api/v1/namespaces/web/pods/api-0");
  EXPECT_TRUE(request.query.empty());
  EXPECT_EQ(request.authorization, "Bearer static-token");
  EXPECT_EQ(request.user_agent, "kprof-operator/0.1");
  EXPECT_EQ(request.accept, "application/json");
}

TEST_F(KubeClientTest, ClusterScopedGet) {
  api_.respond([](const Request&) { return Response::json(200, R"({"kind":"Namespace"})"); });
  ASSERT_TRUE(client_->get(resources::kNamespaces, "", "team-a"));
  EXPECT_EQ(api_.last().path, "/api/v1/namespaces/team-a");
  ASSERT_TRUE(client_->get(resources::kMutatingWebhookConfigurations, "", "kprof"));
  EXPECT_EQ(api_.last().path,
            "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/kprof");
}

TEST_F(KubeClientTest, ListReturnsOnePageWithItsMetadata) {
  api_.respond([](const Request&) {
    return Response::json(200, R"({"kind":"ProfilingPolicyList","apiVersion":"kprof.dev/v1alpha1",
      "metadata":{"resourceVersion":"812","continue":"next+page/=="},
      "items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]})");
  });
  auto page = client_->list(resources::kProfilingPolicies,
                            "team-a",
                            {.label_selector = "app in (web,api),tier!=db",
                             .field_selector = "metadata.name=a&b",
                             .limit = 2,
                             .continue_token = "abc+/=="});
  ASSERT_TRUE(page) << page.error().toString();
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0]["kind"], "ProfilingPolicy");  // filled in, as the server omits it
  EXPECT_EQ(page->items[1]["apiVersion"], "kprof.dev/v1alpha1");
  EXPECT_EQ(page->resource_version, "812");
  EXPECT_EQ(page->continue_token, "next+page/==");
  Recorded request = api_.last();
  EXPECT_EQ(request.path, "/apis/kprof.dev/v1alpha1/namespaces/team-a/profilingpolicies");
  // Every character survives the round trip through the query string.
  EXPECT_EQ(request.query,
            (std::map<std::string, std::string>{{"labelSelector", "app in (web,api),tier!=db"},
                                                {"fieldSelector", "metadata.name=a&b"},
                                                {"limit", "2"},
                                                {"continue", "abc+/=="}}));
}

TEST_F(KubeClientTest, ListAcrossAllNamespacesAndEmptyLists) {
  api_.respond([](const Request&) {
    return Response::json(200,
                          R"({"kind":"PodList","metadata":{"resourceVersion":"5"},"items":null})");
  });
  auto page = client_->list(resources::kPods, "", {});
  ASSERT_TRUE(page) << page.error().toString();
  EXPECT_TRUE(page->items.empty());
  EXPECT_EQ(api_.last().path, "/api/v1/pods");
}

TEST_F(KubeClientTest, ListAllFollowsContinueTokensAgainstTheServer) {
  api_.respond([](const Request& request) {
    std::string token = request.queryParam("continue").value_or("");
    if (token.empty()) {
      return Response::json(200, R"({"metadata":{"resourceVersion":"9","continue":"p2"},
        "items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]})");
    }
    if (token == "p2") {
      return Response::json(200, R"({"metadata":{"resourceVersion":"9","continue":"p3"},
        "items":[{"metadata":{"name":"c"}},{"metadata":{"name":"d"}}]})");
    }
    return Response::json(200, R"({"metadata":{"resourceVersion":"9"},
                                   "items":[{"metadata":{"name":"e"}}]})");
  });
  auto all = listAll(*client_, resources::kPods, "web", {}, 2);
  ASSERT_TRUE(all) << all.error().toString();
  ASSERT_EQ(all->items.size(), 5u);
  EXPECT_EQ(all->items[4]["metadata"]["name"], "e");
  EXPECT_EQ(all->resource_version, "9");
  auto requests = api_.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].query.at("limit"), "2");
  EXPECT_EQ(requests[1].query.at("continue"), "p2");
  EXPECT_EQ(requests[2].query.at("continue"), "p3");
}

TEST_F(KubeClientTest, CreatePostsToTheCollection) {
  api_.respond([](const Request& request) {
    auto body = nlohmann::json::parse(request.body);
    body["metadata"]["uid"] = "u-1";
    return Response::json(201, body.dump());
  });
  auto created = client_->create(resources::kEvents, "web", {{"metadata", {{"name", "e1"}}}});
  ASSERT_TRUE(created) << created.error().toString();
  EXPECT_EQ((*created)["metadata"]["uid"], "u-1");
  Recorded request = api_.last();
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.path, "/api/v1/namespaces/web/events");
  EXPECT_EQ(request.query.at("fieldManager"), "kprof-operator");
  EXPECT_EQ(request.content_type, "application/json");
  EXPECT_EQ(request.json()["kind"], "Event");
  EXPECT_EQ(request.json()["apiVersion"], "v1");
}

TEST_F(KubeClientTest, UpdateAndUpdateStatusPutTheWholeObject) {
  api_.respond([](const Request& request) { return Response::json(200, request.body); });
  nlohmann::json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                          {"kind", "Lease"},
                          {"metadata", {{"name", "kprof-leader"}, {"resourceVersion", "77"}}},
                          {"spec", {{"holderIdentity", "pod-a"}}}};
  auto updated = client_->update(resources::kLeases, "kprof", lease);
  ASSERT_TRUE(updated) << updated.error().toString();
  Recorded request = api_.last();
  EXPECT_EQ(request.method, "PUT");
  EXPECT_EQ(request.path, "/apis/coordination.k8s.io/v1/namespaces/kprof/leases/kprof-leader");
  EXPECT_EQ(request.json(), lease);

  nlohmann::json policy = {{"metadata", {{"name", "cpu"}}}, {"status", {{"matchedPods", 3}}}};
  ASSERT_TRUE(client_->updateStatus(resources::kProfilingPolicies, "team-a", policy));
  request = api_.last();
  EXPECT_EQ(request.path,
            "/apis/kprof.dev/v1alpha1/namespaces/team-a/profilingpolicies/cpu/status");
  EXPECT_EQ(request.json()["status"]["matchedPods"], 3);

  auto nameless = client_->update(resources::kLeases, "kprof", {{"spec", {}}});
  ASSERT_FALSE(nameless);
  EXPECT_EQ(nameless.error().code, ErrorCode::InvalidArgument);
}

TEST_F(KubeClientTest, PatchContentTypesAndQuery) {
  api_.respond([](const Request&) { return Response::json(200, R"({"kind":"Pod"})"); });
  nlohmann::json merge = {{"metadata", {{"labels", {{"kprof.dev/env", "prod"}}}}}};
  ASSERT_TRUE(client_->patch(resources::kPods, "web", "api-0", PatchType::Merge, merge, {}));
  Recorded request = api_.last();
  EXPECT_EQ(request.method, "PATCH");
  EXPECT_EQ(request.path, "/api/v1/namespaces/web/pods/api-0");
  EXPECT_EQ(request.content_type, "application/merge-patch+json");
  EXPECT_EQ(request.query,
            (std::map<std::string, std::string>{{"fieldManager", "kprof-operator"}}));
  EXPECT_EQ(request.json(), merge);

  nlohmann::json ops =
      nlohmann::json::parse(R"([{"op":"add","path":"/metadata/labels/a","value":"b"}])");
  ASSERT_TRUE(client_->patch(resources::kPods, "web", "api-0", PatchType::Json, ops, {}));
  EXPECT_EQ(api_.last().content_type, "application/json-patch+json");
  EXPECT_EQ(api_.last().json(), ops);

  ASSERT_TRUE(client_->patch(resources::kPods,
                             "web",
                             "api-0",
                             PatchType::StrategicMerge,
                             merge,
                             {.subresource = "status"}));
  EXPECT_EQ(api_.last().content_type, "application/strategic-merge-patch+json");
  EXPECT_EQ(api_.last().path, "/api/v1/namespaces/web/pods/api-0/status");

  ASSERT_TRUE(
      client_->patch(resources::kProfilingPolicies,
                     "team-a",
                     "cpu",
                     PatchType::Apply,
                     {{"status", {{"phase", "Ready"}}}},
                     {.field_manager = "kprof-policy", .force = true, .subresource = "status"}));
  request = api_.last();
  EXPECT_EQ(request.content_type, "application/apply-patch+yaml");
  EXPECT_EQ(
      request.query,
      (std::map<std::string, std::string>{{"fieldManager", "kprof-policy"}, {"force", "true"}}));
  EXPECT_EQ(request.json(),
            (nlohmann::json{{"apiVersion", "kprof.dev/v1alpha1"},
                            {"kind", "ProfilingPolicy"},
                            {"metadata", {{"name", "cpu"}}},
                            {"status", {{"phase", "Ready"}}}}));
}

TEST_F(KubeClientTest, BadPatchesAreRefusedBeforeSending) {
  auto count = api_.requests().size();
  EXPECT_FALSE(client_->patch(resources::kPods, "web", "a", PatchType::Json, {{"op", "add"}}, {}));
  EXPECT_FALSE(
      client_->patch(resources::kPods, "web", "a", PatchType::Merge, nlohmann::json::array(), {}));
  auto apply = client_->patch(resources::kPods,
                              "web",
                              "a",
                              PatchType::Apply,
                              nlohmann::json::object(),
                              {.field_manager = ""});
  ASSERT_FALSE(apply);
  EXPECT_EQ(apply.error().code, ErrorCode::InvalidArgument);
  EXPECT_FALSE(client_->get(resources::kPods, "", "no-namespace"));
  EXPECT_FALSE(client_->create(resources::kPods, "", {{"metadata", {{"name", "x"}}}}));
  EXPECT_EQ(api_.requests().size(), count);
}

TEST_F(KubeClientTest, RemoveSendsDelete) {
  api_.respond([](const Request&) {
    return Response::json(200, R"({"kind":"Status","status":"Success"})");
  });
  ASSERT_TRUE(client_->remove(resources::kSecrets, "kprof", "webhook-tls"));
  EXPECT_EQ(api_.last().method, "DELETE");
  EXPECT_EQ(api_.last().path, "/api/v1/namespaces/kprof/secrets/webhook-tls");
}

// --- errors ---------------------------------------------------------------------------------

TEST_F(KubeClientTest, NotFoundKeepsTheServerMessage) {
  api_.respond([](const Request&) {
    return Response::json(404, status(404, "NotFound", "pods \"x\" not found"));
  });
  auto pod = client_->get(resources::kPods, "web", "x");
  ASSERT_FALSE(pod);
  EXPECT_EQ(pod.error().code, ErrorCode::NotFound);
  EXPECT_EQ(pod.error().message, "pods \"x\" not found (NotFound)");
  auto removed = client_->remove(resources::kPods, "web", "x");
  ASSERT_FALSE(removed);
  EXPECT_EQ(removed.error().code, ErrorCode::NotFound);
}

TEST_F(KubeClientTest, ConflictAndAlreadyExists) {
  api_.respond([](const Request& request) {
    if (request.method == "POST") {
      return Response::json(409, status(409, "AlreadyExists", "leases \"l\" already exists"));
    }
    return Response::json(
        409,
        status(409,
               "Conflict",
               "Operation cannot be fulfilled on leases \"l\": the object has been modified"));
  });
  nlohmann::json lease = {{"metadata", {{"name", "l"}, {"resourceVersion", "1"}}}};
  auto created = client_->create(resources::kLeases, "kprof", lease);
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, ErrorCode::AlreadyExists);
  auto updated = client_->update(resources::kLeases, "kprof", lease);
  ASSERT_FALSE(updated);
  EXPECT_EQ(updated.error().code, ErrorCode::Conflict);
  EXPECT_NE(updated.error().message.find("the object has been modified"), std::string::npos);
}

TEST_F(KubeClientTest, TooManyRequestsCarriesRetryAfter) {
  api_.respond([](const Request&) {
    Response response = Response::json(429, status(429, "TooManyRequests", "slow down"));
    response.headers.set("Retry-After", "3");
    return response;
  });
  auto pods = client_->list(resources::kPods, "web", {});
  ASSERT_FALSE(pods);
  EXPECT_EQ(pods.error().code, ErrorCode::ResourceExhausted);
  EXPECT_EQ(pods.error().retry_after, 3s);
}

TEST_F(KubeClientTest, NonJsonSuccessIsAParseError) {
  api_.respond([](const Request&) { return Response::text(200, "<html>proxy login</html>"); });
  auto pod = client_->get(resources::kPods, "web", "x");
  ASSERT_FALSE(pod);
  EXPECT_EQ(pod.error().code, ErrorCode::Parse);
  EXPECT_NE(pod.error().message.find("proxy login"), std::string::npos);
  api_.respond([](const Request&) { return Response::json(200, R"({"items":{"not":"a list"}})"); });
  auto list = client_->list(resources::kPods, "web", {});
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error().code, ErrorCode::Parse);
}

TEST_F(KubeClientTest, SlowServerTimesOut) {
  std::mutex mutex;
  std::vector<Responder> parked;
  api_.respondAsync([&](const Request&, Responder responder) {
    std::lock_guard lock(mutex);
    parked.push_back(std::move(responder));
  });
  auto client = makeClient({.server = api_.url()}, {.request_timeout = 200ms});
  auto pod = client->get(resources::kPods, "web", "x");
  ASSERT_FALSE(pod);
  EXPECT_EQ(pod.error().code, ErrorCode::Timeout) << pod.error().toString();
  std::lock_guard lock(mutex);
  for (auto& responder : parked) {
    responder.send(Response::json(200, "{}"));
  }
}

TEST(KubeClientTransportTest, ConnectionRefusedIsUnavailable) {
  auto port = http::pickFreePort();
  ASSERT_TRUE(port);
  auto client = makeClient({.server = "http://127.0.0.1:" + std::to_string(*port)});
  auto pod = client->get(resources::kPods, "web", "x");
  ASSERT_FALSE(pod);
  EXPECT_EQ(pod.error().code, ErrorCode::Unavailable) << pod.error().toString();
  EXPECT_NE(pod.error().message.find("GET /api/v1/namespaces/web/pods/x"), std::string::npos);
}

TEST(KubeClientTransportTest, CreateRefusesUnusableConfigurations) {
  EXPECT_FALSE(KubeClient::create({}));
  EXPECT_FALSE(KubeClient::create({.server = "ftp://x"}));
  EXPECT_FALSE(KubeClient::create({.server = "https://x", .ca_pem = "not a certificate"}));
  ScratchDir dir;
  auto missing_token = KubeClient::create({.server = "http://x", .token_file = dir.file("none")});
  ASSERT_FALSE(missing_token);
  EXPECT_EQ(missing_token.error().code, ErrorCode::NotFound);
}

// --- credentials ----------------------------------------------------------------------------

TEST(KubeClientCredentialsTest, TokenFileRewrittenMidTestIsPickedUp) {
  StubApiServer api;
  ASSERT_TRUE(api.start());
  api.respond([](const Request&) { return Response::json(200, "{}"); });
  ScratchDir dir;
  std::string token_file = dir.write("token", "first-token\n");
  auto client = makeClient({.server = api.url(), .token = "fallback", .token_file = token_file});
  ASSERT_TRUE(client->get(resources::kPods, "web", "a"));
  EXPECT_EQ(api.last().authorization, "Bearer first-token");

  dir.write("token", "second-token-after-rotation\n");
  ASSERT_TRUE(client->get(resources::kPods, "web", "a"));
  EXPECT_EQ(api.last().authorization, "Bearer second-token-after-rotation");
}

TEST(KubeClientCredentialsTest, BasicAuthAndAnonymous) {
  StubApiServer api;
  ASSERT_TRUE(api.start());
  api.respond([](const Request&) { return Response::json(200, "{}"); });
  auto basic = makeClient({.server = api.url(), .username = "admin", .password = "pw"});
  ASSERT_TRUE(basic->get(resources::kPods, "web", "a"));
  EXPECT_EQ(api.last().authorization, http::basicAuthorization("admin", "pw"));
  auto anonymous = makeClient({.server = api.url()});
  ASSERT_TRUE(anonymous->get(resources::kPods, "web", "a"));
  EXPECT_EQ(api.last().authorization, "");
}

// --- watch ----------------------------------------------------------------------------------

std::string eventLine(const std::string& type, const nlohmann::json& object) {
  return nlohmann::json{{"type", type}, {"object", object}}.dump() + "\n";
}

nlohmann::json pod(const std::string& name, const std::string& rv) {
  return {{"kind", "Pod"},
          {"apiVersion", "v1"},
          {"metadata", {{"name", name}, {"resourceVersion", rv}}}};
}

class KubeClientWatchTest : public KubeClientTest {
 protected:
  // Streams `lines` and then closes the body, or keeps it open when `hold_open`.
  void streamLines(std::vector<std::string> lines, bool hold_open = false) {
    api_.respondAsync([this, lines, hold_open](const Request&, Responder responder) {
      auto stream = responder.stream(200, "application/json");
      for (const std::string& line : lines) {
        stream->write(line);
      }
      if (hold_open) {
        std::lock_guard lock(mutex_);
        held_.push_back(stream);
      } else {
        stream->close();
      }
    });
  }

  Status watch(const WatchOptions& options,
               std::vector<WatchEvent>& seen,
               std::function<bool(const WatchEvent&)> decide = nullptr) {
    return client_->watch(resources::kPods, "web", options, [&](const WatchEvent& event) {
      seen.push_back(event);
      return decide ? decide(event) : true;
    });
  }

  void TearDown() override {
    std::lock_guard lock(mutex_);
    for (auto& stream : held_) {
      stream->close();
    }
  }

  std::mutex mutex_;
  std::vector<std::shared_ptr<http::BodyStream>> held_;
};

TEST_F(KubeClientWatchTest, EventsThenExpiredErrorEvent) {
  streamLines(
      {eventLine("ADDED", pod("a", "10")),
       eventLine("MODIFIED", pod("a", "11")),
       eventLine(
           "BOOKMARK",
           {{"kind", "Pod"}, {"apiVersion", "v1"}, {"metadata", {{"resourceVersion", "12"}}}}),
       eventLine("ERROR",
                 nlohmann::json::parse(status(410, "Expired", "too old resource version: 9 (12)"))),
       eventLine("ADDED", pod("never-delivered", "13"))});
  std::vector<WatchEvent> seen;
  WatchOptions options;
  options.resource_version = "9";
  options.label_selector = "kprof.dev/inject=true";
  Status watched = watch(options, seen);
  ASSERT_FALSE(watched);
  EXPECT_EQ(watched.error().code, ErrorCode::Expired) << watched.error().toString();
  EXPECT_NE(watched.error().message.find("too old resource version"), std::string::npos);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].type, WatchEventType::Added);
  EXPECT_EQ(seen[1].type, WatchEventType::Modified);
  EXPECT_EQ(seen[1].object["metadata"]["resourceVersion"], "11");
  EXPECT_EQ(seen[2].type, WatchEventType::Bookmark);
  EXPECT_EQ(seen[2].object["metadata"]["resourceVersion"], "12");

  Recorded request = api_.last();
  EXPECT_EQ(request.path, "/api/v1/namespaces/web/pods");
  EXPECT_EQ(request.query,
            (std::map<std::string, std::string>{{"watch", "true"},
                                                {"allowWatchBookmarks", "true"},
                                                {"timeoutSeconds", "300"},
                                                {"resourceVersion", "9"},
                                                {"labelSelector", "kprof.dev/inject=true"}}));
  EXPECT_EQ(request.authorization, "Bearer static-token");
}

TEST_F(KubeClientWatchTest, GoneAsAResponseIsExpired) {
  api_.respond([](const Request&) {
    return Response::json(410, status(410, "Gone", "too old resource version"));
  });
  std::vector<WatchEvent> seen;
  Status watched = watch({.resource_version = "1"}, seen);
  ASSERT_FALSE(watched);
  EXPECT_EQ(watched.error().code, ErrorCode::Expired);
  EXPECT_TRUE(seen.empty());
}

TEST_F(KubeClientWatchTest, ServerEndingTheStreamIsSuccess) {
  streamLines({eventLine("ADDED", pod("a", "1")), eventLine("DELETED", pod("a", "2"))});
  std::vector<WatchEvent> seen;
  Status watched = watch({}, seen);
  ASSERT_TRUE(watched) << watched.error().toString();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].type, WatchEventType::Deleted);
}

TEST_F(KubeClientWatchTest, MalformedLineEndsTheWatchWithParse) {
  streamLines({eventLine("ADDED", pod("a", "1")),
               "{\"type\":\"ADDED\",\"object\":\n",
               eventLine("ADDED", pod("b", "2"))});
  std::vector<WatchEvent> seen;
  Status watched = watch({}, seen);
  ASSERT_FALSE(watched);
  EXPECT_EQ(watched.error().code, ErrorCode::Parse);
  EXPECT_EQ(seen.size(), 1u);
}

TEST_F(KubeClientWatchTest, HandlerReturningFalseEndsTheWatch) {
  streamLines({eventLine("ADDED", pod("a", "1")), eventLine("ADDED", pod("b", "2"))},
              /*hold_open=*/true);
  std::vector<WatchEvent> seen;
  Status watched = watch({}, seen, [](const WatchEvent&) { return false; });
  ASSERT_TRUE(watched) << watched.error().toString();
  EXPECT_EQ(seen.size(), 1u);
}

TEST_F(KubeClientWatchTest, StopRequestEndsAnOpenWatchPromptly) {
  streamLines({eventLine("ADDED", pod("a", "1"))}, /*hold_open=*/true);
  std::stop_source stop;
  std::promise<void> first_event;
  std::atomic<bool> signalled{false};
  std::thread stopper([&] {
    first_event.get_future().wait_for(5s);
    stop.request_stop();
  });
  WatchOptions options;
  options.stop = stop.get_token();
  std::vector<WatchEvent> seen;
  auto started = std::chrono::steady_clock::now();
  Status watched = watch(options, seen, [&](const WatchEvent&) {
    if (!signalled.exchange(true)) {
      first_event.set_value();
    }
    return true;
  });
  stopper.join();
  ASSERT_TRUE(watched) << watched.error().toString();
  EXPECT_EQ(seen.size(), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 4s);  // not the 300 s timeout

  // Already stopped: no request at all.
  auto count = api_.requests().size();
  ASSERT_TRUE(watch(options, seen));
  EXPECT_EQ(api_.requests().size(), count);
}

TEST_F(KubeClientWatchTest, StreamOpenPastTimeoutPlusSlackIsATimeout) {
  streamLines({eventLine("ADDED", pod("a", "1"))}, /*hold_open=*/true);
  auto client = makeClient({.server = api_.url()}, {.watch_slack = 200ms});
  std::vector<WatchEvent> seen;
  WatchOptions options;
  options.timeout = 1s;
  Status watched = client->watch(resources::kPods, "", options, [&](const WatchEvent& event) {
    seen.push_back(event);
    return true;
  });
  ASSERT_FALSE(watched);
  EXPECT_EQ(watched.error().code, ErrorCode::Timeout) << watched.error().toString();
  EXPECT_EQ(seen.size(), 1u);
  EXPECT_EQ(api_.last().query.at("timeoutSeconds"), "1");
  EXPECT_EQ(api_.last().path, "/api/v1/pods");
}

TEST_F(KubeClientWatchTest, NonPositiveTimeoutIsRefused) {
  WatchOptions options;
  options.timeout = 0s;
  std::vector<WatchEvent> seen;
  Status watched = watch(options, seen);
  ASSERT_FALSE(watched);
  EXPECT_EQ(watched.error().code, ErrorCode::InvalidArgument);
}

// --- TLS ------------------------------------------------------------------------------------

class KubeClientTlsTest : public ::testing::Test {
 protected:
  KubeClientTlsTest() : ca_(http::testing::makeCa("kube-test-ca")) {}

  std::unique_ptr<StubApiServer> serveTls(const http::CertificateKeyPair& serving) {
    dir_.write("tls.crt", serving.certificate_pem);
    dir_.write("tls.key", serving.private_key_pem);
    auto store =
        http::CertificateStore::open({dir_.file("tls.crt"), dir_.file("tls.key")}, 1s, clock_);
    EXPECT_TRUE(store) << store.error().toString();
    auto api = std::make_unique<StubApiServer>(*store);
    EXPECT_TRUE(api->start());
    api->respond([](const Request&) { return Response::json(200, R"({"kind":"Pod"})"); });
    return api;
  }

  http::CertificateKeyPair ca_;
  ScratchDir dir_;
  SystemClock clock_;
};

TEST_F(KubeClientTlsTest, TrustsOnlyTheConfiguredCa) {
  auto api = serveTls(http::testing::makeLeaf(ca_, "apiserver"));
  auto trusted = makeClient({.server = api->url(), .ca_pem = ca_.certificate_pem});
  auto pod = trusted->get(resources::kPods, "web", "a");
  ASSERT_TRUE(pod) << pod.error().toString();

  std::string ca_file = dir_.write("ca.crt", ca_.certificate_pem);
  auto from_file = makeClient({.server = api->url(), .ca_file = ca_file});
  ASSERT_TRUE(from_file->get(resources::kPods, "web", "a"));

  auto other_ca = http::testing::makeCa("someone-else");
  auto untrusted = makeClient({.server = api->url(), .ca_pem = other_ca.certificate_pem});
  auto refused = untrusted->get(resources::kPods, "web", "a");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::Unavailable);

  auto insecure = makeClient({.server = api->url(), .insecure_skip_tls_verify = true});
  ASSERT_TRUE(insecure->get(resources::kPods, "web", "a"));
}

TEST_F(KubeClientTlsTest, TlsServerNameFromAKubeconfig) {
  // The certificate names only the in-cluster DNS name, not 127.0.0.1.
  auto api = serveTls(http::testing::makeLeaf(ca_,
                                              "apiserver",
                                              false,
                                              "kubernetes.default.svc",
                                              /*loopback_sans=*/false));
  std::string kubeconfig =
      "current-context: c\nclusters:\n- name: k\n  cluster:\n    server: " + api->url() +
      "\n    certificate-authority-data: " + base64Encode(ca_.certificate_pem) +
      "\n    tls-server-name: kubernetes.default.svc\n"
      "contexts: [{name: c, context: {cluster: k}}]\n";
  auto config = parseKubeconfig({{dir_.file("config"), kubeconfig}});
  ASSERT_TRUE(config) << config.error().toString();
  auto client = makeClient(*config);
  auto pod = client->get(resources::kPods, "web", "a");
  ASSERT_TRUE(pod) << pod.error().toString();

  config->tls_server_name.clear();
  auto without = makeClient(*config);
  EXPECT_FALSE(without->get(resources::kPods, "web", "a"));
}

// kprof::http::Server cannot ask for client certificates, so this test talks to the raw OpenSSL
// server of the http tests: it requires a certificate from the client CA and answers 200 with the
// certificate's common name as plain text (which the client, expecting JSON, reports in its Parse
// error). The kubeconfig carries the certificate and key as *-data.
TEST_F(KubeClientTlsTest, ClientCertificateFromAKubeconfigIsPresented) {
  auto client_ca = http::testing::makeCa("client-ca");
  auto client_pair =
      http::testing::makeLeaf(client_ca, "system:serviceaccount:kprof:operator", true);
  http::testing::RawTlsServer server({.serving = http::testing::makeLeaf(ca_, "apiserver"),
                                      .client_ca_pem = client_ca.certificate_pem});
  ASSERT_TRUE(server.ready());
  std::string url = "https://127.0.0.1:" + std::to_string(server.port());
  std::string kubeconfig =
      "current-context: c\n"
      "clusters: [{name: k, cluster: {server: \"" +
      url +
      "\", certificate-authority: ca.crt}}]\n"
      "users: [{name: u, user: {client-certificate-data: " +
      base64Encode(client_pair.certificate_pem) +
      ", client-key-data: " + base64Encode(client_pair.private_key_pem) +
      "}}]\n"
      "contexts: [{name: c, context: {cluster: k, user: u}}]\n";
  dir_.write("ca.crt", ca_.certificate_pem);
  dir_.write("kubeconfig", kubeconfig);
  auto config = loadKubeconfig({dir_.file("kubeconfig")});
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->ca_file, dir_.file("ca.crt"));

  auto client = makeClient(*config);
  ASSERT_TRUE(client->remove(resources::kPods, "web", "a"));  // 200: the handshake succeeded
  auto answer = client->get(resources::kPods, "web", "a");
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error().code, ErrorCode::Parse);
  EXPECT_NE(answer.error().message.find("system:serviceaccount:kprof:operator"), std::string::npos)
      << answer.error().toString();

  config->client_certificate_pem.clear();
  config->client_key_pem.clear();
  auto anonymous = makeClient(*config);
  auto refused = anonymous->remove(resources::kPods, "web", "a");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::Unavailable) << refused.error().toString();
}

}  // namespace
}  // namespace kprof::kube
