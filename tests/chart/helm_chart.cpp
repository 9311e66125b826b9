#include "tests/chart/helm_chart.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "tests/fake_apiserver/yaml_documents.hpp"

namespace kprof::testing {

namespace fs = std::filesystem;

std::string helmBinary() {
  const fs::path helm = fs::path(KPROF_SOURCE_DIR) / "tests/tools/bin/helm";
  return ::access(helm.c_str(), X_OK) == 0 ? helm.string() : std::string();
}

std::string chartDirectory() {
  return (fs::path(KPROF_SOURCE_DIR) / "helm/kprof").string();
}

ProcessResult runHelm(const std::vector<std::string>& args) {
  const std::string helm = helmBinary();
  if (helm.empty()) {
    return {.exit_code = -1,
            .err = "helm is not installed at tests/tools/bin/helm: run scripts/install-deps.sh"};
  }
  // helm keeps caches and settings under HOME; give it an empty one so nothing leaks in or out.
  const fs::path home = fs::temp_directory_path() / ("kprof-helm-home-" + std::to_string(::getpid()));
  fs::create_directories(home);
  std::vector<std::string> argv = {helm};
  argv.insert(argv.end(), args.begin(), args.end());
  const char* path = std::getenv("PATH");
  ProcessResult result =
      runProcess(argv, {"HOME=" + home.string(), "PATH=" + std::string(path ? path : "/usr/bin:/bin")},
                 std::chrono::seconds(60));
  std::error_code ignored;
  fs::remove_all(home, ignored);
  return result;
}

Result<std::string> renderChartYaml(const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"template", "kprof", chartDirectory(), "--namespace",
                                   kChartNamespace, "--include-crds"};
  args.insert(args.end(), extra.begin(), extra.end());
  ProcessResult rendered = runHelm(args);
  if (rendered.exit_code != 0) {
    return makeError(ErrorCode::InvalidArgument, "helm template failed: " + rendered.err);
  }
  return rendered.out;
}

Result<std::vector<nlohmann::json>> renderChart(const std::vector<std::string>& extra) {
  auto yaml = renderChartYaml(extra);
  if (!yaml) {
    return Unexpected{yaml.error()};
  }
  return parseYamlDocuments(*yaml);
}

nlohmann::json findObject(const std::vector<nlohmann::json>& objects, const std::string& kind,
                          const std::string& name) {
  for (const nlohmann::json& object : objects) {
    if (object.value("kind", "") == kind &&
        object.value("/metadata/name"_json_pointer, std::string()) == name) {
      return object;
    }
  }
  return nullptr;
}

}  // namespace kprof::testing
