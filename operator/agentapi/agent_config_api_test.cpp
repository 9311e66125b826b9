// The agent config API on a real HTTP server on 127.0.0.1, agents as real HTTP clients, and a
// kube::Api double answering TokenReviews. Every wait is bounded.
#include "operator/agentapi/agent_config_api.hpp"

#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "common/http/client.hpp"
#include "common/metrics/metrics.hpp"
#include "operator/agentapi/test_kube_api.hpp"

namespace kprof::agentapi {
namespace {

using namespace std::chrono_literals;
using testing::boundTokenStatus;
using testing::TestKubeApi;
using testing::unboundTokenStatus;
using SteadyClock = std::chrono::steady_clock;

template <typename Predicate>
bool eventually(Predicate done, std::chrono::milliseconds within = 10s) {
  const auto deadline = SteadyClock::now() + within;
  while (!done()) {
    if (SteadyClock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

nlohmann::json configFor(const std::string& pod, const std::string& uid, int rate) {
  return {{"pod", {{"namespace", "shop"}, {"name", pod}, {"uid", uid}}},
          {"profiles", {{"cpu", {{"enabled", true}, {"rateHz", rate}}}}},
          {"targets", nlohmann::json::array()}};
}

class AgentConfigApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    api_.addToken("tok-web-1", boundTokenStatus("shop", "web-1", "uid-1"));
    api_.addToken("tok-unbound", unboundTokenStatus("shop", "web"));
  }

  void start(std::chrono::milliseconds poll_timeout) {
    registry_.startTimer();
    server_ = std::make_unique<http::Server>(http::ServerOptions{});
    registerAgentConfigApi(*server_,
                           registry_,
                           reviewer_,
                           {.poll_timeout = poll_timeout, .metrics = &metrics_.registry()});
    ASSERT_TRUE(server_->start());
    auto client = http::Client::create({.base_url = server_->url()});
    ASSERT_TRUE(client) << client.error().toString();
    client_ = std::move(*client);
  }

  void TearDown() override {
    if (server_) {
      server_->stop(1s);
    }
  }

  static http::Request pollRequest(const std::string& token, std::optional<int64_t> version) {
    http::Request request;
    request.path = std::string(kConfigPath);
    if (version) {
      request.query["version"] = std::to_string(*version);
    }
    if (!token.empty()) {
      request.headers.set("Authorization", http::bearerAuthorization(token));
    }
    return request;
  }

  Result<http::Response> poll(const std::string& token,
                              std::optional<int64_t> version,
                              http::Client* client = nullptr) {
    return (client != nullptr ? client : client_.get())->send(pollRequest(token, version), 20s);
  }

  static nlohmann::json body(const http::Response& response) {
    return nlohmann::json::parse(response.body, nullptr, false);
  }

  TestKubeApi api_;
  SystemClock clock_;
  metrics::MetricsRegistry metrics_;
  ConfigRegistry registry_{clock_, {.first_version = 1}};
  KubeTokenReviewer reviewer_{api_, clock_};
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<http::Client> client_;
};

TEST_F(AgentConfigApiTest, ANewerVersionIsAnsweredAtOnce) {
  start(20s);
  const int64_t version = registry_.publish("shop/web-1", configFor("web-1", "uid-1", 100));
  const auto started = SteadyClock::now();
  auto response = poll("tok-web-1", 0);
  ASSERT_TRUE(response) << response.error().toString();
  EXPECT_LT(SteadyClock::now() - started, 5s);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(body(*response),
            nlohmann::json({{"version", version}, {"config", configFor("web-1", "uid-1", 100)}}));
  EXPECT_TRUE(registry_.lastSeen("shop/web-1"));
}

TEST_F(AgentConfigApiTest, AWaitingPollReturnsPromptlyAfterAPublish) {
  start(20s);
  const int64_t v1 = registry_.publish("shop/web-1", configFor("web-1", "uid-1", 100));
  auto waiting = std::async(std::launch::async, [&] { return poll("tok-web-1", v1); });
  ASSERT_TRUE(eventually([&] { return registry_.waiting() == 1; }));
  EXPECT_EQ(waiting.wait_for(300ms), std::future_status::timeout) << "answered without a change";

  const auto published = SteadyClock::now();
  const int64_t v2 = registry_.publish("shop/web-1", configFor("web-1", "uid-1", 250));
  ASSERT_EQ(waiting.wait_for(5s), std::future_status::ready);
  // Well before the 20 s poll timeout: released by the publish.
  EXPECT_LT(SteadyClock::now() - published, 2s);
  auto response = waiting.get();
  ASSERT_TRUE(response) << response.error().toString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(body(*response)["version"], v2);
  EXPECT_EQ(body(*response)["config"]["profiles"]["cpu"]["rateHz"], 250);
}

TEST_F(AgentConfigApiTest, AnUnchangedPollIsAnsweredAtTheTimeoutWithTheSameVersion) {
  start(1s);
  const int64_t v1 = registry_.publish("shop/web-1", configFor("web-1", "uid-1", 100));
  const auto started = SteadyClock::now();
  auto response = poll("tok-web-1", v1);
  const auto elapsed = SteadyClock::now() - started;
  ASSERT_TRUE(response) << response.error().toString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(body(*response),
            nlohmann::json({{"version", v1}, {"config", configFor("web-1", "uid-1", 100)}}));
  EXPECT_GE(elapsed, 900ms);
  EXPECT_LT(elapsed, 5s);
}

TEST_F(AgentConfigApiTest, WithoutAConfigThePollWaitsAndAnswersPending) {
  start(1s);
  const auto started = SteadyClock::now();
  // Also without a version parameter: a fresh agent.
  auto response = poll("tok-web-1", std::nullopt);
  ASSERT_TRUE(response) << response.error().toString();
  EXPECT_GE(SteadyClock::now() - started, 900ms);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(body(*response), nlohmann::json({{"version", 0}, {"config", nullptr}, {"pending", true}}));

  // An agent holding a version from before an operator restart does not spin: it waits too.
  const auto again = SteadyClock::now();
  auto stale = poll("tok-web-1", 12345);
  ASSERT_TRUE(stale);
  EXPECT_GE(SteadyClock::now() - again, 900ms);
  EXPECT_EQ(body(*stale)["pending"], true);
}

TEST_F(AgentConfigApiTest, ABadTokenGets401AndNoConfig) {
  start(1s);
  registry_.publish("shop/web-1", configFor("web-1", "uid-1", 100));
  for (const std::string token : {"forged", ""}) {
    auto response = poll(token, 0);
    ASSERT_TRUE(response) << response.error().toString();
    EXPECT_EQ(response->status, 401) << token;
    EXPECT_EQ(response->headers.get("WWW-Authenticate"), "Bearer");
    const auto error = body(*response);
    EXPECT_EQ(error["status"], 401);
    EXPECT_FALSE(error.contains("config"));
    EXPECT_EQ(response->body.find("rateHz"), std::string::npos);
  }
  // Not counted as any agent having been seen.
  EXPECT_FALSE(registry_.lastSeen("shop/web-1"));
  EXPECT_EQ(registry_.waiting(), 0u);
}

TEST_F(AgentConfigApiTest, ATokenNotBoundToAPodGets403) {
  start(1s);
  auto response = poll("tok-unbound", 0);
  ASSERT_TRUE(response) << response.error().toString();
  EXPECT_EQ(response->status, 403);
  EXPECT_NE(body(*response)["message"].get<std::string>().find("not bound to a pod"),
            std::string::npos);
}

TEST_F(AgentConfigApiTest, AnUnreachableApiServerGets503WithRetryAfter) {
  start(1s);
  api_.setFailure(ErrorCode::Unavailable);
  auto response = poll("tok-web-1", 0);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 503);
  EXPECT_TRUE(response->headers.get("Retry-After"));
}

TEST_F(AgentConfigApiTest, ABadVersionGets400) {
  start(1s);
  http::Request request = pollRequest("tok-web-1", std::nullopt);
  for (const char* version : {"abc", "-1", "1.5"}) {
    request.query["version"] = version;
    auto response = client_->send(request, 5s);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 400) << version;
  }
}

TEST_F(AgentConfigApiTest, AConfigForAPreviousPodWithTheSameNameIsNotHandedOut) {
  start(1s);
  registry_.publish("shop/web-1", configFor("web-1", "uid-of-the-old-pod", 100));
  auto response = poll("tok-web-1", 0);
  ASSERT_TRUE(response);
  EXPECT_EQ(body(*response)["pending"], true);
}

TEST_F(AgentConfigApiTest, ManyWaitingAgentsAreAllReleasedByPublishes) {
  constexpr int kAgents = 200;
  start(30s);
  std::vector<int64_t> versions(kAgents);
  for (int i = 0; i < kAgents; ++i) {
    const std::string pod = "pod-" + std::to_string(i);
    api_.addToken("tok-" + pod, boundTokenStatus("shop", pod, "uid-" + pod));
    versions[i] = registry_.publish("shop/" + pod, configFor(pod, "uid-" + pod, 100));
  }
  std::vector<std::future<Result<http::Response>>> polls;
  for (int i = 0; i < kAgents; ++i) {
    polls.push_back(std::async(std::launch::async, [&, i] {
      return poll("tok-pod-" + std::to_string(i), versions[i]);
    }));
  }
  ASSERT_TRUE(eventually([&] { return registry_.waiting() == kAgents; }, 20s))
      << registry_.waiting() << " of " << kAgents << " polls waiting";

  const auto published = SteadyClock::now();
  for (int i = 0; i < kAgents; ++i) {
    const std::string pod = "pod-" + std::to_string(i);
    registry_.publish("shop/" + pod, configFor(pod, "uid-" + pod, 200 + i));
  }
  for (int i = 0; i < kAgents; ++i) {
    ASSERT_EQ(polls[i].wait_until(published + 10s), std::future_status::ready) << "agent " << i;
    auto response = polls[i].get();
    ASSERT_TRUE(response) << response.error().toString();
    ASSERT_EQ(response->status, 200);
    const auto answer = body(*response);
    EXPECT_NE(answer["version"], versions[i]);
    // Each agent got its own config, not a neighbour's.
    EXPECT_EQ(answer["config"]["pod"]["name"], "pod-" + std::to_string(i));
    EXPECT_EQ(answer["config"]["profiles"]["cpu"]["rateHz"], 200 + i);
  }
  EXPECT_LT(SteadyClock::now() - published, 10s);
  EXPECT_EQ(registry_.waiting(), 0u);
  // One TokenReview per agent: nothing is reviewed twice within the cache TTL.
  EXPECT_EQ(api_.tokenReviews(), kAgents);
}

TEST_F(AgentConfigApiTest, ReportsAreKeptAndMarkTheAgentSeen) {
  start(1s);
  http::Request request;
  request.method = "POST";
  request.path = std::string(kReportPath);
  request.headers.set("Authorization", http::bearerAuthorization("tok-web-1"));
  request.body = R"({"engine":"ebpf","samples":1200,"drops":0,"errors":[]})";
  auto response = client_->send(request, 5s);
  ASSERT_TRUE(response) << response.error().toString();
  EXPECT_EQ(response->status, 204);
  EXPECT_EQ(registry_.report("shop/web-1"),
            nlohmann::json::parse(R"({"engine":"ebpf","samples":1200,"drops":0,"errors":[]})"));
  EXPECT_TRUE(registry_.lastSeen("shop/web-1"));

  request.body = "[1,2]";
  EXPECT_EQ(client_->send(request, 5s)->status, 400);
  request.body = "{not json";
  EXPECT_EQ(client_->send(request, 5s)->status, 400);
  request.body = "{\"x\":\"" + std::string(70 * 1024, 'a') + "\"}";
  EXPECT_EQ(client_->send(request, 5s)->status, 413);
  request.headers.set("Authorization", http::bearerAuthorization("forged"));
  request.body = "{}";
  EXPECT_EQ(client_->send(request, 5s)->status, 401);
  EXPECT_EQ(registry_.report("shop/web-1")->value("engine", ""), "ebpf");

  const std::string text = metrics_.render();
  EXPECT_NE(text.find(R"(kprof_agent_api_requests_total{endpoint="report",outcome="accepted"} 1)"),
            std::string::npos)
      << text;
  EXPECT_NE(
      text.find(R"(kprof_agent_api_requests_total{endpoint="report",outcome="unauthenticated"} 1)"),
      std::string::npos);
}

}  // namespace
}  // namespace kprof::agentapi
