// The alert chain with the real servers: a metric scraped by Prometheus fires a rule, Alertmanager
// delivers it to our webhook with the bearer token, and repeats it after repeat_interval.
#include "tests/alertstack/alert_stack.hpp"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "agent/testing/child_process.hpp"
#include "common/http/server.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using kprof::testing::eventuallyWithin;

struct Post {
  Clock::time_point at;
  std::string authorization;
  std::string body;
};

// The webhook posts seen so far; handlers run on server threads.
class Recorder {
 public:
  void add(Post post) {
    std::lock_guard lock(mutex_);
    posts_.push_back(std::move(post));
  }
  std::vector<Post> posts() const {
    std::lock_guard lock(mutex_);
    return posts_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Post> posts_;
};

// The first firing alert named `name` in a version-4 webhook body; null if there is none.
nlohmann::json firingAlert(const std::string& body, const std::string& name) {
  auto payload = nlohmann::json::parse(body, nullptr, false);
  if (payload.is_discarded() || !payload.contains("alerts")) {
    return nullptr;
  }
  for (const auto& alert : payload["alerts"]) {
    if (alert.value("status", "") == "firing" &&
        alert["labels"].value("alertname", "") == name) {
      return alert;
    }
  }
  return nullptr;
}

TEST(AlertStack, FiringRuleReachesTheWebhookWithTheTokenAndIsRepeated) {
  std::string why;
  if (!kprof::testing::alertStackAvailable(&why)) {
    GTEST_SKIP() << why;
  }
  const std::string dir = ::testing::TempDir() + "kprof-alert-stack-" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string token = "e2e-token-" + std::to_string(::getpid());
  const std::string token_file = dir + "/token";
  std::ofstream(token_file) << token;  // no newline; Alertmanager trims whitespace anyway

  // One server plays both the scraped workload and the webhook receiver.
  Recorder recorder;
  kprof::http::Server server({});
  server.route("GET", "/metrics", [](const kprof::http::Request&) {
    return kprof::http::Response::text(
        200, "# TYPE kprof_e2e_latency_alarm gauge\nkprof_e2e_latency_alarm 1\n");
  });
  server.route("POST", "/alerts", [&](const kprof::http::Request& request) {
    recorder.add({Clock::now(), request.headers.get("Authorization").value_or(""), request.body});
    return kprof::http::Response::text(200, "");
  });
  ASSERT_TRUE(server.start());
  const std::string target = "127.0.0.1:" + std::to_string(server.port());

  const std::string alert_name = "KprofE2EHighLatency";
  kprof::testing::AlertStackOptions options;
  options.directory = dir;
  options.scrape_target = target;
  options.alert_rule_expr = "kprof_e2e_latency_alarm > 0";
  options.alert_name = alert_name;
  options.alert_labels = {{"namespace", "shop"}, {"pod", "checkout-7d9f"}};
  options.webhook_url = "http://" + target + "/alerts";
  options.bearer_token_file = token_file;

  const auto started = Clock::now();
  auto stack = kprof::testing::AlertStack::start(options);
  ASSERT_TRUE(stack) << stack.error().toString();
  const auto ready = Clock::now();

  // The first delivery of the firing alert.
  auto firingPosts = [&] {
    std::vector<Post> found;
    for (auto& post : recorder.posts()) {
      if (!firingAlert(post.body, alert_name).is_null()) {
        found.push_back(std::move(post));
      }
    }
    return found;
  };
  ASSERT_TRUE(eventuallyWithin([&] { return !firingPosts().empty(); }, 30s))
      << "no firing alert within 30 s; posts: " << recorder.posts().size() << "\n"
      << (*stack)->logs();
  const Post first = firingPosts().front();
  EXPECT_EQ(first.authorization, "Bearer " + token);
  const auto payload = nlohmann::json::parse(first.body);
  EXPECT_EQ(payload.value("version", ""), "4") << first.body;
  EXPECT_EQ(payload.value("status", ""), "firing") << first.body;
  const auto alert = firingAlert(first.body, alert_name);
  EXPECT_EQ(alert["labels"].value("namespace", ""), "shop") << first.body;
  EXPECT_EQ(alert["labels"].value("pod", ""), "checkout-7d9f") << first.body;
  EXPECT_EQ(alert["labels"].value("job", ""), "kprof-e2e") << first.body;

  // repeat_interval 3 s: Alertmanager sends the same, still firing alert again.
  ASSERT_TRUE(eventuallyWithin([&] { return firingPosts().size() >= 2; }, 15s))
      << "no repeat within 15 s\n"
      << (*stack)->logs();
  const Post second = firingPosts()[1];
  const auto repeated = firingAlert(second.body, alert_name);
  EXPECT_EQ(repeated.value("fingerprint", ""), alert.value("fingerprint", "")) << second.body;
  EXPECT_EQ(repeated.value("startsAt", ""), alert.value("startsAt", "")) << second.body;

  using ms = std::chrono::milliseconds;
  std::cout << "[ alerts  ] stack ready after "
            << std::chrono::duration_cast<ms>(ready - started).count()
            << " ms; first alert "
            << std::chrono::duration_cast<ms>(first.at - started).count()
            << " ms after start; repeated after "
            << std::chrono::duration_cast<ms>(second.at - first.at).count() << " ms\n";
  stack->reset();  // stop both servers before ours goes away
  server.stop(1s);
  if (!HasFailure()) {
    std::filesystem::remove_all(dir);  // kept on failure: configs and full logs for a look
  }
}

}  // namespace
