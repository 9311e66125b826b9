// The real `kprof agent` process driven by the operator's agent config API: started without any
// local destination, it writes profiles where the operator's config says, reports back, and
// follows a changed config without a restart.
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <mutex>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include "agent/testing/child_process.hpp"
#include "common/http/ports.hpp"
#include "common/snapshot/snapshot_wire.hpp"
#include "operator/agentapi/agent_config_api.hpp"
#include "operator/agentapi/test_kube_api.hpp"

namespace kprof::agent {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

using kprof::testing::spawnChild;
using kprof::testing::stopChild;

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds within) {
  return kprof::testing::eventuallyWithin(done, within);
}

size_t profilesIn(const fs::path& directory) {
  size_t count = 0;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(directory, error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("cpu_", 0) == 0 && name.ends_with(".pb.gz")) {
      ++count;
    }
  }
  return count;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

nlohmann::json configWritingTo(const fs::path& directory, int rate) {
  return {{"pod", {{"namespace", "shop"}, {"name", "web-1"}, {"uid", "uid-1"}}},
          {"policy", {{"name", "web"}, {"generation", 1}}},
          {"mode", "ebpf"},
          {"profiles", {{"cpu", {{"enabled", true}, {"rateHz", rate}}}, {"wall", {{"enabled", false}}}}},
          {"labels", {{"service_name", "operator-e2e"}, {"pod", "web-1"}}},
          {"targets", {{{"file", {{"directory", directory.string()}}}}}},
          {"uploadIntervalSeconds", 1}};
}

TEST(KprofAgentWithOperator, AppliesTheOperatorsConfigAndFollowsChanges) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root for the eBPF/perf engine on another process";
  }
  const fs::path dir = fs::path(::testing::TempDir()) / ("kprof-operator-e2e-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "first");
  fs::create_directories(dir / "second");
  std::ofstream(dir / "token") << "tok-web-1\n";

  agentapi::testing::TestKubeApi api;
  api.addToken("tok-web-1", agentapi::testing::boundTokenStatus("shop", "web-1", "uid-1"));
  SystemClock clock;
  agentapi::ConfigRegistry registry(clock);
  registry.startTimer();
  agentapi::KubeTokenReviewer reviewer(api, clock);
  http::Server server({});
  agentapi::registerAgentConfigApi(server, registry, reviewer, {.poll_timeout = 2s});
  ASSERT_TRUE(server.start());
  const int64_t v1 = registry.publish("shop/web-1", configWritingTo(dir / "first", 99));

  auto metrics_port = http::pickFreePort();
  ASSERT_TRUE(metrics_port);
  const std::string log = (dir / "agent.log").string();
  const pid_t workload = spawnChild({KPROF_DEMO, "120"}, "/dev/null");
  const pid_t agent = spawnChild({KPROF_BIN,
                             "agent",
                             "--targets",
                             "pids:" + std::to_string(workload),
                             "--operator-url",
                             server.url(),
                             "--token-file",
                             (dir / "token").string(),
                             "--listen-port",
                             std::to_string(*metrics_port)},
                            log);

  const bool first = eventually([&] { return profilesIn(dir / "first") >= 2; }, 40s);
  const bool reported = eventually(
      [&] {
        auto report = registry.report("shop/web-1");
        return report && (*report)["config"]["version"] == v1 && report->contains("engine");
      },
      20s);
  registry.publish("shop/web-1", configWritingTo(dir / "second", 49));
  const bool second = eventually([&] { return profilesIn(dir / "second") >= 2; }, 40s);
  const auto report = registry.report("shop/web-1");
  const size_t first_count = profilesIn(dir / "first");

  stopChild(agent);
  stopChild(workload);
  server.stop(1s);

  EXPECT_TRUE(first) << "no profiles where the operator said; agent log:\n" << readFile(log);
  EXPECT_TRUE(reported) << "no report; agent log:\n" << readFile(log);
  EXPECT_TRUE(second) << "the changed config was not followed; agent log:\n" << readFile(log);
  ASSERT_TRUE(report);
  EXPECT_TRUE((*report)["engine"] == "ebpf" || (*report)["engine"] == "perf_event") << *report;
  EXPECT_TRUE(registry.lastSeen("shop/web-1"));
  // The old destination was let go once the new config applied: at most the interval in
  // progress at the switch went there.
  EXPECT_LE(profilesIn(dir / "first"), first_count + 1);
  fs::remove_all(dir);
}

// What a Pyroscope-compatible ingest received: the series name and sampling rate of each upload.
struct IngestLog {
  std::mutex mutex;
  std::vector<std::pair<std::string, std::string>> uploads;  // name, sampleRate

  std::vector<std::pair<std::string, std::string>> copy() {
    std::lock_guard lock(mutex);
    return uploads;
  }
};

TEST(KprofAgentWithOperator, RunsASnapshotCommandAndReportsIt) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root for the eBPF/perf engine on another process";
  }
  const fs::path dir =
      fs::path(::testing::TempDir()) / ("kprof-snapshot-e2e-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "token") << "tok-web-1\n";

  IngestLog ingested;
  http::ServerOptions ingest_options;
  ingest_options.max_body_bytes = 8 << 20;
  http::Server ingest(ingest_options);
  ingest.route("POST", "/ingest", [&](const http::Request& request) {
    std::lock_guard lock(ingested.mutex);
    ingested.uploads.emplace_back(request.queryParam("name").value_or(""),
                                  request.queryParam("sampleRate").value_or(""));
    return http::Response::text(200, "");
  });
  ASSERT_TRUE(ingest.start());

  agentapi::testing::TestKubeApi api;
  api.addToken("tok-web-1", agentapi::testing::boundTokenStatus("shop", "web-1", "uid-1"));
  SystemClock clock;
  agentapi::ConfigRegistry registry(clock);
  registry.startTimer();
  agentapi::KubeTokenReviewer reviewer(api, clock);
  http::Server server({});
  agentapi::registerAgentConfigApi(server, registry, reviewer, {.poll_timeout = 20s});
  ASSERT_TRUE(server.start());
  nlohmann::json config = configWritingTo(dir, 49);
  config["targets"] = {{{"pyroscope", {{"url", ingest.url()}}}}};
  config["uploadIntervalSeconds"] = 5;
  registry.publish("shop/web-1", config);

  auto metrics_port = http::pickFreePort();
  ASSERT_TRUE(metrics_port);
  const std::string log = (dir / "agent.log").string();
  const pid_t workload = spawnChild({KPROF_DEMO, "120"}, "/dev/null");
  const pid_t agent = spawnChild({KPROF_BIN, "agent", "--targets",
                                  "pids:" + std::to_string(workload), "--operator-url",
                                  server.url(), "--token-file", (dir / "token").string(),
                                  "--listen-port", std::to_string(*metrics_port)},
                                 log);
  auto regular = [&] {
    for (const auto& [name, rate] : ingested.copy()) {
      if (name.find("snapshot_id") == std::string::npos) return true;
    }
    return false;
  };
  // The agent runs the config (and its flight recorder fills) before the alert.
  const bool running = eventually(regular, 40s);

  snapshot::SnapshotCommand command;
  command.id = "shop.api-latency-1";
  command.snapshot = "shop/api-latency-1";
  command.rate_hz = 997;
  command.duration_seconds = 3;
  command.flight_recorder_seconds = 5;
  command.not_after_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count() +
                         60'000;
  config["snapshots"] = {snapshot::toJson(command)};
  const auto published_at = std::chrono::system_clock::now();
  registry.publish("shop/web-1", config);

  auto snapshotReport = [&]() -> std::optional<snapshot::SnapshotReport> {
    auto report = registry.report("shop/web-1");
    if (!report) return std::nullopt;
    auto reports = snapshot::readSnapshotReports(*report);
    if (!reports) return std::nullopt;
    for (const auto& entry : *reports) {
      if (entry.id == command.id) return entry;
    }
    return std::nullopt;
  };
  std::optional<int64_t> started_at_ms;
  const bool completed = eventually(
      [&] {
        auto report = snapshotReport();
        if (report && report->started_at_ms > 0) started_at_ms = report->started_at_ms;
        return report && report->phase == snapshot::Phase::Completed;
      },
      40s);
  const bool uploaded = eventually(
      [&] {
        for (const auto& [name, rate] : ingested.copy()) {
          if (name.find("snapshot_id=" + command.id) != std::string::npos) return true;
        }
        return false;
      },
      20s);
  const auto final_report = snapshotReport();
  const auto uploads = ingested.copy();

  stopChild(agent);
  stopChild(workload);
  server.stop(1s);
  ingest.stop(1s);

  ASSERT_TRUE(running) << "no regular profile; agent log:\n" << readFile(log);
  ASSERT_TRUE(completed) << "no Completed snapshot report; agent log:\n" << readFile(log);
  ASSERT_TRUE(uploaded) << "no profile labeled snapshot_id; agent log:\n" << readFile(log);
  ASSERT_TRUE(started_at_ms);
  const int64_t published_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   published_at.time_since_epoch())
                                   .count();
  const int64_t latency_ms = *started_at_ms - published_ms;
  std::cout << "[ snapshot ] published → capture started: " << latency_ms << " ms\n";
  EXPECT_LT(latency_ms, 10'000);

  // The capture ran at the raised rate, the regular series and the before part at the regular.
  bool capture_at_raised_rate = false, before_part = false, regular_at_49 = false;
  for (const auto& [name, rate] : uploads) {
    const bool of_snapshot = name.find("snapshot_id=" + command.id) != std::string::npos;
    if (of_snapshot && name.find("snapshot_part=before") != std::string::npos) {
      before_part = rate == "49";
    } else if (of_snapshot) {
      capture_at_raised_rate = rate == "997";
    } else if (rate == "49") {
      regular_at_49 = true;
    }
  }
  EXPECT_TRUE(capture_at_raised_rate);
  EXPECT_TRUE(before_part);
  EXPECT_TRUE(regular_at_49);
  // More samples a second than the regular 49 Hz: the demo workload keeps one CPU busy.
  ASSERT_TRUE(final_report);
  ASSERT_FALSE(final_report->profiles.empty());
  const double seconds =
      std::max<int64_t>(final_report->completed_at_ms - final_report->started_at_ms, 1) / 1000.0;
  const double per_second = static_cast<double>(final_report->profiles[0].samples) / seconds;
  std::cout << "[ snapshot ] " << final_report->profiles[0].samples << " samples in " << seconds
            << " s (" << per_second << "/s; regular rate 49 Hz)\n";
  EXPECT_GT(per_second, 2 * 49.0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace kprof::agent
