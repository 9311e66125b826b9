// The agent with its ingest target down: sampling goes on, memory stays bounded, drops are
// counted, and uploads resume when the target is back. Runs the real `kprof agent` process.
#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include <sys/wait.h>

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include "agent/testing/child_process.hpp"
#include "common/http/client.hpp"
#include "common/http/ports.hpp"
#include "common/http/server.hpp"

namespace {

using namespace std::chrono_literals;

// Under ASan, freed memory sits in a quarantine and RSS would measure that, not the agent.
const std::map<std::string, std::string> kAgentEnvironment = {
    {"ASAN_OPTIONS", "quarantine_size_mb=0:thread_local_quarantine_size_kb=0:detect_leaks=0"}};

double rssBytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stod(line.substr(6)) * 1024;
    }
  }
  return 0;
}

// The value of an unlabelled or exporter-0 sample in Prometheus text; -1 when absent.
double metric(const std::string& text, const std::string& name) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    for (const std::string& key : {name + " ", name + "{exporter=\"0\"} "}) {
      if (line.rfind(key, 0) == 0) {
        return std::stod(line.substr(key.size()));
      }
    }
  }
  return -1;
}

TEST(AgentIngestOutage, MemoryStaysBoundedWhileTheTargetIsDownAndUploadsResume) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root for the eBPF/perf engine on another process";
  }
  auto ingest_port = kprof::http::pickFreePort();
  auto metrics_port = kprof::http::pickFreePort();
  ASSERT_TRUE(ingest_port && metrics_port);
  const std::string log = ::testing::TempDir() + "kprof-agent-outage.log";
  // A profile a second into a 16-profile queue: the queue is full after 16 s, so the outage
  // exercises dropping, and memory must stay flat after that however long the target is down.
  const std::string config = ::testing::TempDir() + "kprof-agent-outage.yaml";
  std::ofstream(config) << "queue_max_items: 16\nupload_timeout_seconds: 2\n";

  const pid_t workload = kprof::testing::spawnChild({KPROF_DEMO, "240"}, "/dev/null");
  const pid_t agent = kprof::testing::spawnChild({KPROF_BIN,
                             "agent",
                             "--config",
                             config,
                             "--targets",
                             "pids:" + std::to_string(workload),
                             "--upload-interval",
                             "1",
                             "--service-name",
                             "outage-test",
                             "--pyroscope-url",
                             "http://127.0.0.1:" + std::to_string(*ingest_port),
                             "--listen-port",
                             std::to_string(*metrics_port)},
                            log,
                            kAgentEnvironment);
  auto client = kprof::http::Client::create(
      {.base_url = "http://127.0.0.1:" + std::to_string(*metrics_port)});
  ASSERT_TRUE(client);
  auto scrape = [&]() -> std::string {
    kprof::http::Request request;
    request.path = "/metrics";
    auto response = (*client)->send(request, 2s);
    return response ? response->body : "";
  };

  // Warm-up, target already down: the engine loads, symbol caches fill, the queue fills and the
  // HTTP client starts its threads. From here on nothing may grow.
  std::this_thread::sleep_for(30s);
  const double rss_start = rssBytes(agent);
  ASSERT_GT(rss_start, 0) << "agent exited; log: " << log;
  std::this_thread::sleep_for(120s);
  const double rss_end = rssBytes(agent);
  const std::string down = scrape();
  EXPECT_LT(rss_end - rss_start, 2.0 * 1024 * 1024)
      << "RSS grew from " << rss_start << " to " << rss_end;
  EXPECT_GT(metric(down, "kprof_agent_dropped_profiles_total"), 0) << down;
  EXPECT_GT(metric(down, "kprof_agent_upload_errors_total"), 0) << down;
  EXPECT_EQ(metric(down, "kprof_agent_uploads_total"), 0) << down;
  std::cout << "[ outage  ] RSS " << rss_start / 1024 << " KiB -> " << rss_end / 1024
            << " KiB over 120 s; dropped " << metric(down, "kprof_agent_dropped_profiles_total")
            << ", failed attempts " << metric(down, "kprof_agent_upload_errors_total") << "\n";

  // The target comes back: queued and new profiles arrive.
  std::atomic<int> received{0};
  kprof::http::ServerOptions options;
  options.port = *ingest_port;
  options.max_body_bytes = 8 << 20;
  kprof::http::Server ingest(options);
  ingest.route("POST", "/ingest", [&](const kprof::http::Request& request) {
    if (request.queryParam("name").value_or("").rfind("outage-test.cpu{", 0) == 0) {
      ++received;
    }
    return kprof::http::Response::text(200, "");
  });
  ASSERT_TRUE(ingest.start());
  for (int i = 0; i < 60 && received < 3; ++i) {  // backoff is capped at 30 s
    std::this_thread::sleep_for(1s);
  }
  EXPECT_GE(received.load(), 3);
  EXPECT_GT(metric(scrape(), "kprof_agent_uploads_total"), 0);

  ::kill(agent, SIGTERM);
  int status = 0;
  ::waitpid(agent, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "agent exit status " << status;
  ::kill(workload, SIGKILL);
  ::waitpid(workload, &status, 0);
  ingest.stop(1s);
}

}  // namespace
