// Turns an agent config as the controller builds it (toJson(AgentConfig): targets may name a
// Secret for their credentials, and a store target without a URL means "the operator's embedded
// kprof-store") into the config sent to the agent: credentials inlined, store URL filled in. The
// controller never reads Secrets; only this step does, right before publishing.
//
// A target whose Secret (or key) is missing is dropped from that agent's config and the reason is
// recorded, both in the result (for the controller's events/status) and in the config under
// "droppedTargets" (so the agent can report it); the agent keeps its other targets.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/result.hpp"
#include "operator/kube/api.hpp"

namespace kprof::agentapi {

// A Secret's data, decoded: key → value.
using SecretData = std::map<std::string, std::string>;

class SecretReader {
 public:
  virtual ~SecretReader() = default;
  // NotFound when the Secret does not exist; other errors when it could not be read.
  virtual Result<SecretData> read(std::string_view namespace_name, std::string_view name) = 0;
};

// Reads Secrets through the Kubernetes API and base64-decodes their data.
class KubeSecretReader final : public SecretReader {
 public:
  explicit KubeSecretReader(kube::Api& api) : api_(api) {}
  Result<SecretData> read(std::string_view namespace_name, std::string_view name) override;

 private:
  kube::Api& api_;
};

// A Secret object's data (base64 values) decoded; stringData is not stored by the API server.
Result<SecretData> decodeSecretData(const nlohmann::json& secret);

struct DroppedTarget {
  size_t index = 0;        // position in the input's "targets"
  nlohmann::json target;   // the target as the controller wrote it (no credentials in it)
  std::string reason;      // "secret shop/pyroscope-auth: not found"

  bool operator==(const DroppedTarget&) const = default;
};

struct ResolvedConfig {
  nlohmann::json config;  // what to publish
  std::vector<DroppedTarget> dropped;
};

struct ResolveOptions {
  // The URL store targets without one get: the embedded kprof-store's ingest service. Empty:
  // such targets are dropped ("no embedded kprof-store configured").
  std::string embedded_store_url;
};

// Resolves every target of `config` (the shape of toJson(AgentConfig)); Secrets are read in the
// pod's namespace (config.pod.namespace), which is the policy's. A pyroscope target with
// authSecretRef {name, key, type, usernameKey} becomes one with
//   "auth": {"type": "bearer", "token": "..."} or {"type": "basic", "username": "...",
//   "password": "..."};
// Fails only when `config` itself is malformed (no targets array, no pod namespace) — a bad
// target is dropped, not fatal. When every target is dropped "targets" is empty: the agent keeps
// the destinations it has.
Result<ResolvedConfig> resolveTargetSecrets(const nlohmann::json& config,
                                            SecretReader& secrets,
                                            const ResolveOptions& options = {});

}  // namespace kprof::agentapi
