#include "operator/cmd/operator_config.hpp"

#include <cstdio>
#include <functional>
#include <map>
#include <string>

#include <yaml-cpp/yaml.h>

#include "common/core/duration.hpp"

namespace kprof::manager {
namespace {

using Setter = std::function<Status(const YAML::Node& value)>;

Status badValue(const std::string& key, std::string_view what) {
  return fail(ErrorCode::InvalidArgument, "config " + key + ": " + std::string(what));
}

template <typename T>
Setter scalar(const std::string& key, T& target) {
  return [key, &target](const YAML::Node& value) -> Status {
    if (!value.IsScalar()) {
      return badValue(key, "expected a single value");
    }
    try {
      target = value.as<T>();
    } catch (const YAML::Exception&) {
      return badValue(key, "cannot read '" + value.Scalar() + "'");
    }
    return ok();
  };
}

template <typename Duration>
Setter duration(const std::string& key, Duration& target) {
  return [key, &target](const YAML::Node& value) -> Status {
    const auto parsed = value.IsScalar() ? parseDuration(value.Scalar()) : std::nullopt;
    if (!parsed) {
      return badValue(key, "expected a duration such as 30s, 500ms or 2m");
    }
    target = std::chrono::duration_cast<Duration>(*parsed);
    return ok();
  };
}

Setter clusterVersion(const std::string& key, webhooks::InjectionConfig& injection) {
  return [key, &injection](const YAML::Node& value) -> Status {
    if (!value.IsScalar()) return badValue(key, "expected a version such as 1.29");
    auto applied = applyClusterVersion(value.Scalar(), injection);
    return applied ? ok() : badValue(key, applied.error().message);
  };
}

}  // namespace

Status applyClusterVersion(std::string_view text, webhooks::InjectionConfig& injection) {
  std::string version(text);
  if (!version.empty() && version.front() == 'v') version.erase(0, 1);
  int major = 0;
  int minor = 0;
  if (std::sscanf(version.c_str(), "%d.%d", &major, &minor) != 2 || major < 1 || minor < 0) {
    return fail(ErrorCode::InvalidArgument,
                "cluster version '" + std::string(text) + "': expected MAJOR.MINOR such as 1.29");
  }
  injection.cluster_major = major;
  injection.cluster_minor = minor;
  return ok();
}

Status applyOperatorYaml(std::string_view text, OperatorOptions& options) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& error) {
    return fail(ErrorCode::Parse, std::string("config file: ") + error.what());
  }
  if (root.IsNull()) {
    return ok();
  }
  if (!root.IsMap()) {
    return fail(ErrorCode::InvalidArgument, "config file: expected a map of settings");
  }
  const std::map<std::string, Setter> setters = {
      {"namespace", scalar("namespace", options.namespace_name)},
      {"identity", scalar("identity", options.identity)},
      {"leader-elect", scalar("leader-elect", options.leader_elect)},
      {"lease-name", scalar("lease-name", options.lease_name)},
      {"lease-duration", duration("lease-duration", options.lease_duration)},
      {"renew-deadline", duration("renew-deadline", options.renew_deadline)},
      {"retry-period", duration("retry-period", options.retry_period)},
      {"listen-host", scalar("listen-host", options.listen_host)},
      {"health-port", scalar("health-port", options.health_port)},
      {"agent-api-port", scalar("agent-api-port", options.agent_api_port)},
      {"agent-api-cert", scalar("agent-api-cert", options.agent_api_certificate_file)},
      {"agent-api-key", scalar("agent-api-key", options.agent_api_key_file)},
      {"poll-timeout", duration("poll-timeout", options.poll_timeout)},
      {"workers", scalar("workers", options.workers)},
      {"resync-period", duration("resync-period", options.resync_period)},
      {"store-url", scalar("store-url", options.embedded_store_url)},
      {"webhook", scalar("webhook", options.webhook_enabled)},
      {"webhook-port", scalar("webhook-port", options.webhook_port)},
      {"webhook-service", scalar("webhook-service", options.webhook_service)},
      {"webhook-secret", scalar("webhook-secret", options.webhook_secret)},
      {"webhook-configuration", scalar("webhook-configuration", options.webhook_configuration)},
      {"webhook-cert-dir", scalar("webhook-cert-dir", options.webhook_cert_dir)},
      {"webhook-cert", scalar("webhook-cert", options.webhook_certificate_file)},
      {"webhook-key", scalar("webhook-key", options.webhook_key_file)},
      {"agent-image", scalar("agent-image", options.injection.agent_image)},
      {"preload-image", scalar("preload-image", options.injection.preload_image)},
      {"agent-operator-url", scalar("agent-operator-url", options.injection.operator_url)},
      {"cluster-version", clusterVersion("cluster-version", options.injection)},
      {"alert-token-file", scalar("alert-token-file", options.alert_token_file)},
      {"alert-token-secret", scalar("alert-token-secret", options.alert_token_secret)},
      {"snapshot-ttl", duration("snapshot-ttl", options.snapshot_ttl)},
      {"snapshot-start-deadline", duration("snapshot-start-deadline", options.snapshot_start_deadline)},
  };
  for (const auto& entry : root) {
    const std::string key = entry.first.Scalar();
    const auto setter = setters.find(key);
    if (setter == setters.end()) {
      return fail(ErrorCode::InvalidArgument, "config file: unknown setting '" + key + "'");
    }
    KPROF_TRY(setter->second(entry.second));
  }
  return ok();
}

}  // namespace kprof::manager
