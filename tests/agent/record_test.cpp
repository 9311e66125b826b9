// End to end through the kprof binary: `kprof record` on real processes, checked against what
// the workload does by construction and against `go tool pprof`.
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

struct CommandResult {
  int exit_code = -1;
  std::string output;
};

CommandResult run(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    return result;
  }
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) {
    result.output += buffer.data();
  }
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::filesystem::path scratchDir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("kprof-record-test-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// Records `command` and returns the JSON report, or skips when this machine cannot sample.
nlohmann::json recordJson(const std::filesystem::path& out, const std::string& command) {
  const auto result = run(std::string(KPROF_BIN) + " record -F 199 --format json -o " +
                          out.string() + " -- " + command);
  if (result.exit_code != 0 && result.output.find("cannot sample") != std::string::npos) {
    return nullptr;
  }
  EXPECT_EQ(result.exit_code, 0) << result.output;
  const auto start = result.output.find("{\n");
  if (start == std::string::npos) {
    ADD_FAILURE() << "no JSON report in: " << result.output;
    return nlohmann::json::object();
  }
  return nlohmann::json::parse(result.output.substr(start), nullptr, false);
}

double flatShare(const nlohmann::json& profile, const std::string& name_prefix) {
  double share = 0;
  for (const auto& row : profile["functions"]) {
    if (row["name"].get<std::string>().rfind(name_prefix, 0) == 0) {
      share += row["flat_share"].get<double>();
    }
  }
  return share;
}

TEST(KprofRecord, AttributesTheDemoWorkloadsThreeToOneSplitWithDemangledNames) {
  const auto out = scratchDir("demo");
  const auto report = recordJson(out, std::string(KPROF_DEMO) + " 4");
  if (report.is_null()) {
    GTEST_SKIP() << "no sampling engine here (needs CAP_PERFMON/CAP_BPF or perf_event access)";
  }
  ASSERT_FALSE(report["profiles"].empty());
  const auto& cpu = report["profiles"][0];
  const double parse = flatShare(cpu, "kprof_demo::RecordParser::parseRecords(");
  const double compress = flatShare(cpu, "kprof_demo::compressBlocks(");
  // By construction 75:25 of the workload's CPU time; allow ±5 points.
  EXPECT_NEAR(parse / (parse + compress), 0.75, 0.05) << cpu.dump(2);
  EXPECT_GT(parse + compress, 0.9) << cpu.dump(2);
  EXPECT_GT(report["samples"].get<int>(), 100);
  EXPECT_TRUE(std::filesystem::exists(out / "cpu.html"));
  EXPECT_TRUE(std::filesystem::exists(out / "cpu.svg"));

  // go tool pprof reads the same profile and puts the same two functions on top.
  const auto go = run("HOME=" + out.string() + " GOCACHE=" + out.string() +
                      "/gocache go tool pprof -top -nodecount=2 " + (out / "cpu.pb.gz").string());
  ASSERT_EQ(go.exit_code, 0) << go.output;
  const auto first = go.output.find("kprof_demo::RecordParser::parseRecords");
  const auto second = go.output.find("kprof_demo::compressBlocks");
  EXPECT_NE(first, std::string::npos) << go.output;
  EXPECT_NE(second, std::string::npos) << go.output;
  EXPECT_LT(first, second) << go.output;
  std::filesystem::remove_all(out);
}

TEST(KprofRecord, ShowsJavaScriptFunctionNamesFromNodesPerfMap) {
  if (run("command -v node").exit_code != 0) {
    FAIL() << "node is not installed; scripts/install-deps.sh installs it";
  }
  const auto out = scratchDir("node");
  const auto report = recordJson(
      out, "node --perf-basic-prof " + std::string(KPROF_SOURCE_DIR) + "/tests/agent/hot.js 4");
  if (report.is_null()) {
    GTEST_SKIP() << "no sampling engine here (needs CAP_PERFMON/CAP_BPF or perf_event access)";
  }
  const auto& cpu = report["profiles"][0];
  bool parse_orders = false;
  bool render_invoice = false;
  for (const auto& row : cpu["functions_by_cum"]) {
    const auto name = row["name"].get<std::string>();
    parse_orders = parse_orders || name.find("parseOrders") != std::string::npos;
    render_invoice = render_invoice || name.find("renderInvoice") != std::string::npos;
  }
  EXPECT_TRUE(parse_orders) << cpu.dump(2);
  EXPECT_TRUE(render_invoice) << cpu.dump(2);
  std::filesystem::remove_all(out);
}

TEST(KprofRecord, ReportsAMissingCommandClearly) {
  const auto result = run(std::string(KPROF_BIN) + " record -- /nonexistent/program");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("No such file"), std::string::npos) << result.output;
}

TEST(KprofRecord, BaselineComparisonFailsTheCommandOnRegression) {
  const auto out = scratchDir("baseline");
  const std::string base = std::string(KPROF_BIN) + " record --baseline-dir " +
                           (out / "baselines").string() + " -o " + out.string();
  auto saved = run(base + " --save-baseline quick -- " + std::string(KPROF_DEMO) + " 0.5");
  if (saved.output.find("cannot sample") != std::string::npos) {
    GTEST_SKIP() << "no sampling engine here";
  }
  ASSERT_EQ(saved.exit_code, 0) << saved.output;
  ASSERT_TRUE(std::filesystem::exists(out / "baselines" / "quick.json"));
  // Four times the work: cpu and wall time grow far past the 20% threshold.
  auto slower = run(base + " --compare-baseline quick -- " + std::string(KPROF_DEMO) + " 2");
  EXPECT_EQ(slower.exit_code, 3) << slower.output;
  EXPECT_NE(slower.output.find("REGRESSION"), std::string::npos) << slower.output;
  auto same = run(base + " --compare-baseline quick --threshold 1000 -- " +
                  std::string(KPROF_DEMO) + " 0.5");
  EXPECT_EQ(same.exit_code, 0) << same.output;
  std::filesystem::remove_all(out);
}

}  // namespace
