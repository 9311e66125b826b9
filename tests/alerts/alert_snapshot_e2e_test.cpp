// Alert-triggered snapshots end to end: the real Debian Prometheus fires a rule on a metric this
// test serves, the real Alertmanager calls kprof's receiver with a bearer token, the operator
// (running against the fake API server) creates a ProfileSnapshot for the pod the alert names,
// the real `kprof agent` of that pod captures at the raised rate and uploads profiles labeled
// snapshot_id, and the snapshot reaches Completed. Alertmanager's re-sends start nothing new.
// With KPROF_SNAPSHOT_BENCH_ROUNDS=N, a second test measures alert-received → capture-started over
// N alerts that each capture both pods (bench/snapshots/run.sh).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "agent/testing/child_process.hpp"
#include "common/http/client.hpp"
#include "common/http/ports.hpp"
#include "common/http/server.hpp"
#include "controllers/policy/rfc3339.hpp"
#include "operator/kube/kube_client.hpp"
#include "operator/manager/operator.hpp"
#include "tests/alertstack/alert_stack.hpp"
#include "tests/fake_apiserver/fake_apiserver.hpp"

namespace kprof {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;
namespace resources = kube::resources;
using kprof::testing::eventuallyWithin;

std::string readFile(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

// The series names a Pyroscope-compatible ingest received.
class Ingest {
 public:
  Ingest() : server_(options()) {
    server_.route("POST", "/ingest", [this](const http::Request& request) {
      std::lock_guard lock(mutex_);
      names_.push_back(request.queryParam("name").value_or(""));
      return http::Response::text(200, "");
    });
  }
  Status start() { return server_.start(); }
  void stop() { server_.stop(1s); }
  std::string url() const { return server_.url(); }
  // Uploads whose series name contains every one of `parts`.
  size_t count(const std::vector<std::string>& parts) {
    std::lock_guard lock(mutex_);
    return std::count_if(names_.begin(), names_.end(), [&](const std::string& name) {
      return std::all_of(parts.begin(), parts.end(),
                         [&](const std::string& part) { return name.find(part) != std::string::npos; });
    });
  }

 private:
  static http::ServerOptions options() {
    http::ServerOptions out;
    out.max_body_bytes = 8 << 20;
    return out;
  }
  http::Server server_;
  std::mutex mutex_;
  std::vector<std::string> names_;
};

json pod(const std::string& name) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"name", name},
            {"namespace", "shop"},
            {"labels", {{"app", "checkout"}}},
            {"annotations", {{"kprof.dev/injected", "true"}}}}},
          {"spec", {{"nodeName", "node-a"},
                    {"containers", {{{"name", "app"}, {"image", "registry.local/checkout:3.2"}}}}}},
          {"status", {{"phase", "Running"}}}};
}

json policy(const std::string& ingest_url) {
  return {{"apiVersion", "kprof.dev/v1alpha1"},
          {"kind", "ProfilingPolicy"},
          {"metadata", {{"name", "checkout"}, {"namespace", "shop"}}},
          {"spec",
           {{"selector", {{"matchLabels", {{"app", "checkout"}}}}},
            {"environment", "prod"},
            {"mode", "ebpf"},
            {"profiles", {{"cpu", {{"rateHz", 49}}}}},
            {"uploadIntervalSeconds", 5},
            {"targets", {{{"pyroscope", {{"url", ingest_url}}}}}},
            {"snapshotTriggers",
             {{{"name", "latency"},
               {"alertMatchers", {"alertname=\"KprofE2EHighLatency\""}},
               {"durationSeconds", 3},
               {"rateHz", 997},
               {"cooldownSeconds", 600}},
              // For the latency benchmark: every alert captures, one second each.
              {{"name", "bench"},
               {"alertMatchers", {"alertname=\"KprofBench\""}},
               {"durationSeconds", 1},
               {"cooldownSeconds", 0},
               {"maxConcurrent", 4}}}}}}};
}

int64_t unixMillis(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

// The value of one sample in Prometheus text format; -1 when absent.
double metric(const std::string& text, const std::string& series) {
  const auto at = text.find("\n" + series + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + series.size() + 2));
}

// The cluster (fake API server), the operator with its receiver, two pods with real agents each
// profiling a busy workload, and a Pyroscope-compatible ingest; ready once both agents ship.
class AlertSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "needs root: the agents sample other processes with eBPF/perf";
    }
    // The benchmark skips before the cluster, operator and agents start (11 s saved in the suite).
    if (std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) ==
            "CaptureStartLatencyOverManyAlerts" &&
        std::getenv("KPROF_SNAPSHOT_BENCH_ROUNDS") == nullptr) {
      GTEST_SKIP() << "a benchmark: set KPROF_SNAPSHOT_BENCH_ROUNDS (bench/snapshots/run.sh)";
    }
    dir_ = fs::path(::testing::TempDir()) / ("kprof-alert-e2e-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream(dir_ / "alert-token") << "am-token-7f3a9c\n";

    testing::FakeApiServerOptions fake_options;
    fake_options.crd_files = testing::kprofCrdFiles(KPROF_SOURCE_DIR);
    auto fake = testing::FakeApiServer::make(std::move(fake_options));
    ASSERT_TRUE(fake) << fake.error().toString();
    fake_ = std::move(*fake);
    ASSERT_TRUE(fake_->start());
    ASSERT_TRUE(fake_->createNamespace("shop"));
    ASSERT_TRUE(fake_->createNamespace("kprof-system"));
    for (const std::string name : {"checkout-1", "checkout-2"}) {
      ASSERT_TRUE(fake_->createObject(resources::kPods, pod(name)));
      const auto created = fake_->getObject(resources::kPods, "shop", name);
      testing::UserInfo user;
      user.username = "system:serviceaccount:shop:default";
      user.extra["authentication.kubernetes.io/pod-name"] = {name};
      user.extra["authentication.kubernetes.io/pod-uid"] = {created->at("metadata").value("uid", "")};
      fake_->addToken("tok-" + name, user);
      std::ofstream(dir_ / ("token-" + name)) << "tok-" + name << "\n";
    }
    ASSERT_TRUE(ingest_.start());
    ASSERT_TRUE(fake_->createObject(resources::kProfilingPolicies, policy(ingest_.url())));

    kube::ClusterConfig cluster;
    cluster.server = fake_->url();
    auto client = kube::KubeClient::create(cluster);
    ASSERT_TRUE(client);
    client_ = std::move(*client);
    manager::OperatorOptions options;
    options.identity = "op-a";
    options.leader_elect = false;
    options.listen_host = "127.0.0.1";
    options.health_port = 0;
    options.agent_api_port = 0;
    options.poll_timeout = 20s;
    options.alert_token_file = (dir_ / "alert-token").string();
    op_ = std::make_unique<manager::Operator>(*client_, clock_, options);
    ASSERT_TRUE(op_->start());

    for (const std::string name : {"checkout-1", "checkout-2"}) {
      const pid_t workload = testing::spawnChild({KPROF_DEMO, "300"}, "/dev/null");
      children_.push_back(workload);
      auto metrics_port = http::pickFreePort();
      ASSERT_TRUE(metrics_port);
      children_.push_back(testing::spawnChild(
          {KPROF_BIN, "agent", "--targets", "pids:" + std::to_string(workload), "--operator-url",
           op_->agentApiUrl(), "--token-file", (dir_ / ("token-" + name)).string(),
           "--listen-port", std::to_string(*metrics_port)},
          (dir_ / ("agent-" + name + ".log")).string()));
    }
    const bool profiling = eventuallyWithin(
        [&] { return ingest_.count({"pod=checkout-1"}) > 0 && ingest_.count({"pod=checkout-2"}) > 0; },
        60s);
    ASSERT_TRUE(profiling) << "the agents shipped no regular profile; agent log:\n"
                           << readFile(dir_ / "agent-checkout-1.log");
  }

  void TearDown() override {
    for (auto it = children_.rbegin(); it != children_.rend(); ++it) testing::stopChild(*it);
    if (op_) op_->stop();
    ingest_.stop();
    if (!HasFailure() && !dir_.empty()) fs::remove_all(dir_);
  }

  std::vector<json> snapshots() {
    auto list = client_->list(resources::kProfileSnapshots, "shop", {});
    return list ? list->items : std::vector<json>{};
  }
  std::optional<json> snapshot(const std::string& name) {
    auto object = client_->get(resources::kProfileSnapshots, "shop", name);
    return object ? std::optional<json>(*object) : std::nullopt;
  }
  std::string operatorMetrics() {
    auto health = http::Client::create(
        http::ClientOptions{.base_url = "http://127.0.0.1:" + std::to_string(op_->healthPort())});
    http::Request request;
    request.path = "/metrics";
    auto answer = (*health)->send(request, 5s);
    return answer ? answer->body : std::string();
  }
  Result<http::Response> postAlerts(const std::string& body, const std::string& token) {
    auto receiver = http::Client::create(http::ClientOptions{.base_url = op_->agentApiUrl()});
    if (!receiver) return Unexpected{receiver.error()};
    http::Request request;
    request.method = "POST";
    request.path = "/alerts";
    request.body = body;
    request.headers.set("Authorization", "Bearer " + token);
    return (*receiver)->send(request, 5s);
  }
  std::string agentLog(const std::string& pod) { return readFile(dir_ / ("agent-" + pod + ".log")); }

  fs::path dir_;
  std::unique_ptr<testing::FakeApiServer> fake_;
  Ingest ingest_;
  std::unique_ptr<kube::KubeClient> client_;
  SystemClock clock_;
  std::unique_ptr<manager::Operator> op_;
  std::vector<pid_t> children_;
};

// Milliseconds from the receiver taking the alert in to the pod's agent sampling at the
// snapshot rate, from the snapshot's annotation and per-pod status.
std::optional<int64_t> captureLatencyMs(const json& snapshot, size_t pod_index) {
  const auto received = controllers::parseRfc3339(
      snapshot["metadata"].value("annotations", json::object()).value("kprof.dev/alert-received-at", ""));
  const json pods = snapshot.value("/status/pods"_json_pointer, json::array());
  if (!received || pods.size() <= pod_index) return std::nullopt;
  const auto started = controllers::parseRfc3339(pods[pod_index].value("startedAt", ""));
  if (!started) return std::nullopt;
  return unixMillis(*started) - unixMillis(*received);
}

TEST_F(AlertSnapshotTest, AnAlertCapturesTheNamedPodOnceAndTheSnapshotCompletes) {
  std::string why;
  if (!testing::alertStackAvailable(&why)) {
    GTEST_SKIP() << why;
  }
  // The receiver answers at once; a wrong token gets 401 and changes nothing.
  const std::string unrelated =
      R"({"version":"4","status":"firing","receiver":"kprof","groupKey":"g","alerts":[
          {"status":"firing","labels":{"alertname":"SomethingElse"},"annotations":{},
           "startsAt":"2026-11-22T10:00:00Z","fingerprint":"0badc0ffee"}]})";
  auto refused = postAlerts(unrelated, "wrong");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401) << refused->body;
  std::vector<double> answer_ms;
  for (int i = 0; i < 20; ++i) {
    const auto sent = std::chrono::steady_clock::now();
    auto answer = postAlerts(unrelated, "am-token-7f3a9c");
    answer_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sent).count());
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 200) << answer->body;
  }
  std::sort(answer_ms.begin(), answer_ms.end());
  std::cout << "[ receiver ] POST /alerts answered in median " << answer_ms[10] << " ms, max "
            << answer_ms.back() << " ms (20 requests, new connection each)\n";

  // The alert: a rule on a metric this test serves, naming checkout-1.
  http::Server metrics_server({.host = "127.0.0.1", .port = 0});
  metrics_server.route("GET", "/metrics", [](const http::Request&) {
    return http::Response::text(200, "# TYPE kprof_e2e_latency_alarm gauge\nkprof_e2e_latency_alarm 1\n");
  });
  ASSERT_TRUE(metrics_server.start());
  testing::AlertStackOptions stack_options;
  stack_options.directory = (dir_ / "alertstack").string();
  stack_options.scrape_target = "127.0.0.1:" + std::to_string(metrics_server.port());
  stack_options.alert_rule_expr = "kprof_e2e_latency_alarm > 0";
  stack_options.alert_name = "KprofE2EHighLatency";
  stack_options.alert_labels = {{"namespace", "shop"}, {"pod", "checkout-1"}};
  stack_options.webhook_url = op_->agentApiUrl() + "/alerts";
  stack_options.bearer_token_file = (dir_ / "alert-token").string();
  stack_options.repeat_interval = 3s;
  auto stack = testing::AlertStack::start(stack_options);
  ASSERT_TRUE(stack) << stack.error().toString();

  const bool created = eventuallyWithin([&] { return !snapshots().empty(); }, 60s);
  const bool completed = created && eventuallyWithin(
      [&] { return snapshots().at(0).value("/status/phase"_json_pointer, std::string()) == "Completed"; },
      60s);
  // Alertmanager re-sends the group every repeat_interval (3 s): wait for two re-sends.
  const bool resent = eventuallyWithin(
      [&] { return metric(operatorMetrics(), "kprof_alert_snapshots_total{action=\"existed\"}") >= 2; },
      30s);
  const std::vector<json> final_snapshots = snapshots();
  const std::string metrics_text = operatorMetrics();
  const std::string stack_logs = (*stack)->logs();
  stack->reset();
  metrics_server.stop(1s);

  ASSERT_TRUE(created) << "no ProfileSnapshot; Prometheus/Alertmanager:\n" << stack_logs;
  ASSERT_EQ(final_snapshots.size(), 1u) << "the re-sent alert started another snapshot";
  const json& snapshot = final_snapshots[0];
  EXPECT_TRUE(completed) << snapshot.dump(2) << "\nagent log:\n" << agentLog("checkout-1");
  EXPECT_TRUE(resent) << metrics_text;
  const std::string name = snapshot["metadata"]["name"];
  EXPECT_EQ(name.rfind("checkout-latency-", 0), 0u);
  EXPECT_EQ(snapshot["spec"]["targets"]["pods"], json({"checkout-1"})) << "only the pod the alert names";
  EXPECT_EQ(snapshot["spec"]["alert"]["name"], "KprofE2EHighLatency");
  EXPECT_EQ(snapshot["metadata"]["ownerReferences"][0]["name"], "checkout");
  const json status = snapshot.value("status", json::object());
  EXPECT_EQ(status.value("snapshotID", ""), "shop." + name);
  EXPECT_NE(status.value("queryURL", "").find("snapshot_id%3D%22shop." + name), std::string::npos)
      << status.dump();
  ASSERT_TRUE(status.contains("pods")) << status.dump();
  EXPECT_EQ(status["pods"][0]["phase"], "Completed") << status.dump();

  // The snapshot's profiles are at the ingest target: the capture and the seconds before it,
  // from checkout-1 only.
  const std::string label = "snapshot_id=shop." + name;
  EXPECT_GT(ingest_.count({label, "pod=checkout-1"}), 0u);
  EXPECT_GT(ingest_.count({label, "snapshot_part=before", "pod=checkout-1"}), 0u);
  EXPECT_EQ(ingest_.count({label, "pod=checkout-2"}), 0u);

  const auto latency_ms = captureLatencyMs(snapshot, 0);
  ASSERT_TRUE(latency_ms) << snapshot.dump();
  std::cout << "[ snapshot ] alert received → capture started on checkout-1: " << *latency_ms
            << " ms\n";
  EXPECT_LT(*latency_ms, 10'000);
}

// bench/snapshots/run.sh: N alerts in a row, each capturing both pods; the distribution of
// alert received → capture started over every (alert, pod).
TEST_F(AlertSnapshotTest, CaptureStartLatencyOverManyAlerts) {
  const char* rounds_env = std::getenv("KPROF_SNAPSHOT_BENCH_ROUNDS");  // SetUp checked it
  const int rounds = std::max(1, std::atoi(rounds_env));
  std::vector<int64_t> latencies;
  for (int round = 0; round < rounds; ++round) {
    const json payload = {
        {"version", "4"}, {"status", "firing"}, {"receiver", "kprof"}, {"groupKey", "bench"},
        {"alerts", {{{"status", "firing"},
                     {"labels", {{"alertname", "KprofBench"}, {"namespace", "shop"}}},
                     {"annotations", json::object()},
                     {"startsAt", controllers::formatRfc3339(clock_.wallNow())},
                     {"fingerprint", "b" + std::to_string(1000 + round)}}}}};
    auto answer = postAlerts(payload.dump(), "am-token-7f3a9c");
    ASSERT_TRUE(answer && answer->status == 200);
    std::optional<json> done;
    const bool finished = eventuallyWithin(
        [&] {
          for (const json& item : snapshots()) {
            const auto annotations = item["metadata"].value("annotations", json::object());
            if (annotations.value("kprof.dev/alert-fingerprints", "") != "b" + std::to_string(1000 + round)) continue;
            if (item.value("/status/phase"_json_pointer, std::string()) == "Completed") done = item;
          }
          return done.has_value();
        },
        30s);
    ASSERT_TRUE(finished) << "round " << round << "; agent log:\n" << agentLog("checkout-1");
    for (size_t pod = 0; pod < 2; ++pod) {
      auto latency = captureLatencyMs(*done, pod);
      ASSERT_TRUE(latency) << done->dump();
      latencies.push_back(*latency);
    }
  }
  std::sort(latencies.begin(), latencies.end());
  auto at = [&](double q) {
    return latencies[std::min(latencies.size() - 1, static_cast<size_t>(q * latencies.size()))];
  };
  std::cout << "[ snapshot bench ] " << rounds << " alerts x 2 pods, alert received -> capture "
            << "started: p50 " << at(0.50) << " ms, p90 " << at(0.90) << " ms, p99 " << at(0.99)
            << " ms, max " << latencies.back() << " ms\n";
}

}  // namespace
}  // namespace kprof
