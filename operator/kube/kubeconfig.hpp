// Reading kubeconfig files as kubectl does. Several files merge: for clusters, users and
// contexts (by name) and for current-context, the first file that sets a key wins and later
// files cannot change it. The chosen context (current-context unless one is named) gives the
// cluster (server, certificate-authority[-data], insecure-skip-tls-verify, tls-server-name), the
// user (token, tokenFile, client-certificate[-data], client-key[-data], username/password) and the
// namespace. *-data fields are base64 PEM and win over the file form; relative file paths are
// resolved against the directory of the kubeconfig that defined the entry. A user without
// credentials is anonymous, not an error; one that relies on an exec or auth-provider plugin,
// which kprof cannot run, is.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/core/result.hpp"
#include "operator/kube/cluster_config.hpp"

namespace kprof::kube {

struct KubeconfigFile {
  std::string path;  // for relative paths inside it, and for errors
  std::string text;  // YAML (or JSON)
};

// Pure: parses and merges `files` (earlier ones win) and resolves `context` ("" for the
// current-context). Errors name the missing piece and the files, e.g.
// `context "x" not found in /home/u/.kube/config`.
Result<ClusterConfig> parseKubeconfig(const std::vector<KubeconfigFile>& files,
                                      std::string_view context = "");

// Reads every path (each must exist) and parses them as above.
Result<ClusterConfig> loadKubeconfig(const std::vector<std::string>& paths,
                                     std::string_view context = "");

// Splits a KUBECONFIG value on ':' and drops empty entries and repeats, keeping order.
std::vector<std::string> splitKubeconfigList(std::string_view value);

}  // namespace kprof::kube
