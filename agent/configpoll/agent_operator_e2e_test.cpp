// The real `kprof agent` process driven by the operator's agent config API: started without any
// local destination, it writes profiles where the operator's config says, reports back, and
// follows a changed config without a restart.
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include "common/http/ports.hpp"
#include "operator/agentapi/agent_config_api.hpp"
#include "operator/agentapi/test_kube_api.hpp"

namespace kprof::agent {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

pid_t spawn(const std::vector<std::string>& argv, const std::string& log_path) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    FILE* log = std::fopen(log_path.c_str(), "w");
    if (log != nullptr) {
      ::dup2(fileno(log), STDOUT_FILENO);
      ::dup2(fileno(log), STDERR_FILENO);
    }
    std::vector<char*> args;
    for (const auto& arg : argv) {
      args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

// Stops a child this test started: SIGTERM, then SIGKILL if it has not exited within `grace`.
void stopChild(pid_t pid, std::chrono::milliseconds grace = 10s) {
  if (pid <= 0) {
    return;
  }
  ::kill(pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return;
    }
    std::this_thread::sleep_for(20ms);
  }
}

template <typename Predicate>
bool eventually(Predicate done, std::chrono::milliseconds within) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(50ms);
  }
  return true;
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
  const pid_t workload = spawn({KPROF_DEMO, "120"}, "/dev/null");
  const pid_t agent = spawn({KPROF_BIN,
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

}  // namespace
}  // namespace kprof::agent
