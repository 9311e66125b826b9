// ConfigPoller against the operator's real agent config API (registry, TokenReview checks, HTTP
// server on 127.0.0.1), with a kube::Api double answering the TokenReviews. Every wait is bounded.
#include "agent/configpoll/config_poller.hpp"

#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "controllers/policy/agent_config.hpp"
#include "operator/agentapi/agent_config_api.hpp"
#include "operator/agentapi/target_secrets.hpp"
#include "operator/agentapi/test_kube_api.hpp"

namespace kprof::agent {
namespace {

using namespace std::chrono_literals;
using agentapi::testing::boundTokenStatus;
using agentapi::testing::TestKubeApi;
using SteadyClock = std::chrono::steady_clock;

template <typename Predicate>
bool eventually(Predicate done, std::chrono::milliseconds within = 10s) {
  const auto deadline = SteadyClock::now() + within;
  while (!done()) {
    if (SteadyClock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// The controller's config for the test pod, with `rate` and a Pyroscope target whose token is in
// a Secret.
nlohmann::json controllerConfig(int rate) {
  controllers::AgentConfig config;
  config.pod_namespace = "shop";
  config.pod_name = "web-1";
  config.pod_uid = "uid-1";
  config.policy = "web";
  config.profiles.cpu.rate_hz = rate;
  config.labels = {{"service_name", "web"}, {"pod", "web-1"}};
  config.targets = {controllers::PyroscopeTarget{
      "https://pyroscope.example", "", controllers::AuthSecretRef{"pyro", "token", "", {}}}};
  return controllers::toJson(config);
}

// One operator: registry, token checks and the API on a server.
struct Operator {
  Operator(TestKubeApi& api, Clock& clock, uint16_t port, std::chrono::milliseconds poll_timeout)
      : registry(clock), reviewer(api, clock), secrets(api) {
    registry.startTimer();
    http::ServerOptions options;
    options.port = port;
    server = std::make_unique<http::Server>(options);
    agentapi::registerAgentConfigApi(*server, registry, reviewer, {.poll_timeout = poll_timeout});
  }
  ~Operator() { server->stop(1s); }

  // Publishes as the controller's shell would: credentials resolved first.
  int64_t publish(const nlohmann::json& config) {
    auto resolved = agentapi::resolveTargetSecrets(config, secrets);
    EXPECT_TRUE(resolved) << resolved.error().toString();
    return registry.publish("shop/web-1", resolved->config);
  }

  agentapi::ConfigRegistry registry;
  agentapi::KubeTokenReviewer reviewer;
  agentapi::KubeSecretReader secrets;
  std::unique_ptr<http::Server> server;
};

class ConfigPollerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    api_.addToken("tok-web-1", boundTokenStatus("shop", "web-1", "uid-1"));
    api_.addSecret("shop", "pyro", {{"token", "pyro-s3cret"}});
    dir_ = std::filesystem::temp_directory_path() /
           ("kprof-configpoll-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    writeToken("tok-web-1");
  }

  void TearDown() override {
    poller_thread_ = {};  // requests stop and joins before the operator goes away
    operator_.reset();
    std::filesystem::remove_all(dir_);
  }

  void writeToken(const std::string& token) {
    // Replaced by rename, as kubelet does with projected tokens.
    const auto temp = dir_ / "token.tmp";
    std::ofstream(temp) << token << "\n";
    std::filesystem::rename(temp, dir_ / "token");
  }

  void startOperator(uint16_t port = 0, std::chrono::milliseconds poll_timeout = 1s) {
    operator_ = std::make_unique<Operator>(api_, clock_, port, poll_timeout);
    ASSERT_TRUE(operator_->server->start());
  }

  ConfigPollerOptions pollerOptions() const {
    ConfigPollerOptions options;
    options.operator_url = operator_->server->url();
    options.token_file = (dir_ / "token").string();
    options.request_timeout = 10s;
    options.report_interval = 200ms;
    options.min_poll_interval = 50ms;
    options.backoff = {50ms, 300ms, 2.0, 0.2};
    return options;
  }

  // Starts a poller whose handler maps each config onto the agent's own and keeps it.
  void startPoller(ConfigPollerOptions options, Status verdict = ok()) {
    poller_ = std::make_unique<ConfigPoller>(
        options,
        clock_,
        [this, verdict](const ConfigUpdate& update) -> Status {
          std::lock_guard lock(mutex_);
          updates_.push_back(update);
          auto mapped = applyRemoteConfig(AgentConfig{}, update.config);
          if (mapped) {
            applied_.push_back(*mapped);
          }
          return verdict;
        },
        [] { return nlohmann::json{{"engine", "perf_event"}, {"samples", 42}}; });
    poller_thread_ = std::jthread([this](std::stop_token stop) { poller_->run(stop); });
  }

  size_t updates() {
    std::lock_guard lock(mutex_);
    return updates_.size();
  }

  TestKubeApi api_;
  SystemClock clock_;
  std::filesystem::path dir_;
  std::unique_ptr<Operator> operator_;
  std::unique_ptr<ConfigPoller> poller_;
  std::jthread poller_thread_;
  std::mutex mutex_;
  std::vector<ConfigUpdate> updates_;
  std::vector<RemoteAgentConfig> applied_;
};

TEST_F(ConfigPollerTest, ReceivesEachChangedConfigAndReports) {
  startOperator();
  const int64_t v1 = operator_->publish(controllerConfig(100));
  startPoller(pollerOptions());
  ASSERT_TRUE(eventually([&] { return updates() == 1; }));

  const int64_t v2 = operator_->publish(controllerConfig(400));
  ASSERT_TRUE(eventually([&] { return updates() == 2; }));
  {
    std::lock_guard lock(mutex_);
    EXPECT_EQ(updates_[0].version, v1);
    EXPECT_EQ(updates_[1].version, v2);
    ASSERT_EQ(applied_.size(), 2u);
    EXPECT_EQ(applied_[1].config.frequency_hz, 400u);
    // The Secret's token arrived resolved, in memory.
    ASSERT_EQ(applied_[1].credentials.size(), 1u);
    EXPECT_EQ(applied_[1].credentials[0].bearer_token, "pyro-s3cret");
  }
  // The agent reported, with the version it runs.
  ASSERT_TRUE(eventually([&] {
    auto report = operator_->registry.report("shop/web-1");
    return report && (*report)["config"]["version"] == v2;
  }));
  const auto report = *operator_->registry.report("shop/web-1");
  EXPECT_EQ(report["engine"], "perf_event");
  EXPECT_EQ(report["samples"], 42);
  EXPECT_TRUE(operator_->registry.lastSeen("shop/web-1"));

  // Unchanged polls hand nothing more to the handler.
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(updates(), 2u);
  EXPECT_GE(poller_->stats().polls, 3u);
}

TEST_F(ConfigPollerTest, RecoversAfterTheOperatorRestarts) {
  startOperator();
  const uint16_t port = operator_->server->port();
  operator_->publish(controllerConfig(100));
  startPoller(pollerOptions());
  ASSERT_TRUE(eventually([&] { return updates() == 1; }));

  operator_.reset();  // the operator goes away, and its memory with it
  ASSERT_TRUE(eventually([&] { return poller_->stats().failures >= 2; }));

  startOperator(port);
  operator_->publish(controllerConfig(300));
  ASSERT_TRUE(eventually([&] { return updates() == 2; }, 15s))
      << "last error: " << poller_->stats().last_error;
  std::lock_guard lock(mutex_);
  EXPECT_EQ(applied_.back().config.frequency_hz, 300u);
}

TEST_F(ConfigPollerTest, ReReadsTheTokenFileAfterRotation) {
  startOperator();
  writeToken("expired-token");
  operator_->publish(controllerConfig(100));
  startPoller(pollerOptions());
  ASSERT_TRUE(eventually([&] { return poller_->stats().failures >= 2; }));
  EXPECT_EQ(updates(), 0u);
  EXPECT_NE(poller_->stats().last_error.find("401"), std::string::npos)
      << poller_->stats().last_error;

  writeToken("tok-web-1");
  ASSERT_TRUE(eventually([&] { return updates() == 1; }, 15s));
}

TEST_F(ConfigPollerTest, ARejectedConfigIsReportedAndNotFetchedAgain) {
  startOperator();
  const int64_t v1 = operator_->publish(controllerConfig(100));
  startPoller(pollerOptions(), fail(ErrorCode::InvalidArgument, "engine cannot run at 100 Hz"));
  ASSERT_TRUE(eventually([&] {
    auto report = operator_->registry.report("shop/web-1");
    return report && report->contains("config") && (*report)["config"].contains("error");
  }));
  const auto report = *operator_->registry.report("shop/web-1");
  EXPECT_EQ(report["config"]["version"], v1);
  EXPECT_EQ(report["config"]["error"], "engine cannot run at 100 Hz");
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(updates(), 1u);
  EXPECT_EQ(poller_->stats().rejected, 1u);
}

TEST_F(ConfigPollerTest, StopsPromptlyWhileAPollWaits) {
  startOperator(0, 20s);
  operator_->publish(controllerConfig(100));
  startPoller(pollerOptions());
  ASSERT_TRUE(eventually([&] { return updates() == 1 && operator_->registry.waiting() == 1; }));
  const auto stopping = SteadyClock::now();
  poller_thread_.request_stop();
  poller_thread_.join();
  EXPECT_LT(SteadyClock::now() - stopping, 3s);
}

TEST_F(ConfigPollerTest, PendingLeavesTheRunningConfigAlone) {
  startOperator();
  startPoller(pollerOptions());
  // Nothing published: polls answer "pending" at the timeout and nothing is handed over.
  ASSERT_TRUE(eventually([&] { return poller_->stats().polls >= 2; }));
  EXPECT_EQ(updates(), 0u);
  EXPECT_EQ(poller_->stats().failures, 0u);
  operator_->publish(controllerConfig(100));
  ASSERT_TRUE(eventually([&] { return updates() == 1; }));
}

}  // namespace
}  // namespace kprof::agent
