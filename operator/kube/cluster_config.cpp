#include "operator/kube/cluster_config.hpp"

#include <system_error>
#include <vector>

#include "operator/kube/kubeconfig.hpp"
#include "operator/kube/small_file.hpp"

extern char** environ;  // NOLINT: POSIX

namespace kprof::kube {

namespace {

std::string trimmed(std::string_view text) {
  const char* space = " \t\r\n";
  auto first = text.find_first_not_of(space);
  if (first == std::string_view::npos) {
    return {};
  }
  return std::string(text.substr(first, text.find_last_not_of(space) - first + 1));
}

bool exists(const std::string& path) {
  std::error_code error;
  return std::filesystem::exists(path, error);
}

std::string joined(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const std::string& part : parts) {
    if (!out.empty()) {
      out += separator;
    }
    out += part;
  }
  return out;
}

}  // namespace

std::optional<std::string> Environment::get(std::string_view name) const {
  auto found = variables.find(name);
  if (found == variables.end() || found->second.empty()) {
    return std::nullopt;
  }
  return found->second;
}

Environment Environment::fromProcess() {
  Environment env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    auto equals = text.find('=');
    if (equals != std::string_view::npos) {
      env.variables.emplace(std::string(text.substr(0, equals)),
                            std::string(text.substr(equals + 1)));
    }
  }
  return env;
}

std::string inClusterServer(std::string_view host, std::string_view port) {
  std::string server = "https://";
  bool ipv6 = host.find(':') != std::string_view::npos && host.front() != '[';
  server += ipv6 ? "[" + std::string(host) + "]" : std::string(host);
  server += ":";
  server += port;
  return server;
}

Result<ClusterConfig> inClusterConfig(const Environment& env) {
  auto host = env.get("KUBERNETES_SERVICE_HOST");
  auto port = env.get("KUBERNETES_SERVICE_PORT");
  if (!host || !port) {
    return fail(ErrorCode::NotFound,
                "in-cluster configuration needs KUBERNETES_SERVICE_HOST and "
                "KUBERNETES_SERVICE_PORT");
  }
  const std::filesystem::path dir = env.root / kServiceAccountDir;
  ClusterConfig config;
  config.server = inClusterServer(*host, *port);
  config.token_file = (dir / "token").string();
  auto token = readSmallFile(config.token_file);
  if (!token) {
    return token.error().wrap("in-cluster service account token");
  }
  if (trimmed(*token).empty()) {
    return fail(ErrorCode::InvalidArgument,
                "in-cluster service account token " + config.token_file + " is empty");
  }
  config.ca_file = (dir / "ca.crt").string();
  if (!exists(config.ca_file)) {
    return fail(ErrorCode::NotFound, "in-cluster CA bundle " + config.ca_file + " is missing");
  }
  auto ns = readSmallFile((dir / "namespace").string());
  if (ns && !trimmed(*ns).empty()) {
    config.default_namespace = trimmed(*ns);
  }
  config.source = "in-cluster";
  return config;
}

Result<ClusterConfig> resolveClusterConfig(std::string_view kubeconfig_flag,
                                           const Environment& env,
                                           std::string_view context) {
  if (!kubeconfig_flag.empty()) {
    return loadKubeconfig({std::string(kubeconfig_flag)}, context);
  }
  std::vector<std::string> tried;
  if (auto list = env.get("KUBECONFIG")) {
    std::vector<std::string> present;
    for (std::string& path : splitKubeconfigList(*list)) {
      if (exists(path)) {
        present.push_back(std::move(path));
      }
    }
    if (!present.empty()) {
      return loadKubeconfig(present, context);
    }
    tried.push_back("KUBECONFIG=" + *list + " (no such files)");
  } else {
    tried.push_back("KUBECONFIG (not set)");
  }
  if (env.get("KUBERNETES_SERVICE_HOST") && context.empty()) {
    return inClusterConfig(env);
  }
  tried.push_back(context.empty() ? "in-cluster (KUBERNETES_SERVICE_HOST not set)"
                                  : "in-cluster (not used when a context is named)");
  if (auto home = env.get("HOME")) {
    std::string path = (std::filesystem::path(*home) / ".kube" / "config").string();
    if (exists(path)) {
      return loadKubeconfig({path}, context);
    }
    tried.push_back(path + " (no such file)");
  } else {
    tried.push_back("~/.kube/config (HOME not set)");
  }
  return fail(
      ErrorCode::NotFound,
      "no Kubernetes configuration found; tried --kubeconfig (not given), " + joined(tried, ", "));
}

}  // namespace kprof::kube
