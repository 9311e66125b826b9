// Where the Kubernetes API server is and how to authenticate to it, found the way kubectl and
// client-go find it: an explicit --kubeconfig, then $KUBECONFIG, then the pod's service account
// (in-cluster), then ~/.kube/config. Reading the environment and files happens here; parsing a
// kubeconfig is in kubeconfig.hpp.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/core/result.hpp"

namespace kprof::kube {

struct ClusterConfig {
  std::string server;  // "https://10.96.0.1:443"

  // Credentials; all empty means anonymous requests.
  std::string token;       // a static bearer token
  std::string token_file;  // a bearer token file, re-read as it rotates; wins over `token`
  std::string username;    // basic auth (kubeconfig username/password)
  std::string password;

  // TLS. Each PEM part comes as text or as a file, never both.
  std::string ca_pem;
  std::string ca_file;
  std::string client_certificate_pem;
  std::string client_certificate_file;
  std::string client_key_pem;
  std::string client_key_file;
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;  // name to verify and send as SNI when it differs from the host

  std::string default_namespace = "default";
  // Where this came from, for logs and errors: "in-cluster", "kubeconfig /a/config context kind".
  std::string source;
};

// The process environment as a value, so tests can hand in their own. `root` prefixes the
// in-cluster service-account files.
struct Environment {
  std::map<std::string, std::string, std::less<>> variables;
  std::filesystem::path root = "/";

  // The variable's value when it is set and not empty.
  std::optional<std::string> get(std::string_view name) const;
  // This process's variables, root "/".
  static Environment fromProcess();
};

// Relative to Environment::root.
inline constexpr std::string_view kServiceAccountDir =
    "var/run/secrets/kubernetes.io/serviceaccount";

// "https://10.96.0.1:443", "https://[fd00::1]:443": an IPv6 host is bracketed.
std::string inClusterServer(std::string_view host, std::string_view port);

// The pod's service account: KUBERNETES_SERVICE_HOST and _PORT, the token file (checked to be
// readable now, re-read later as it rotates), ca.crt, and the namespace file (else "default").
Result<ClusterConfig> inClusterConfig(const Environment& env);

// Tries, in order: `kubeconfig_flag` (must exist), the files listed in $KUBECONFIG (joined by
// ':'; missing ones are skipped, as kubectl does), the in-cluster service account when
// KUBERNETES_SERVICE_HOST is set (unless a `context` was asked for), and $HOME/.kube/config.
// The first source found decides; its errors are returned, not skipped. Fails with NotFound
// listing what was tried when no source exists.
Result<ClusterConfig> resolveClusterConfig(std::string_view kubeconfig_flag,
                                           const Environment& env,
                                           std::string_view context = "");

}  // namespace kprof::kube
