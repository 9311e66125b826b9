// The ProfilingPolicy resource (kprof.dev/v1alpha1) as the controller sees it: a validated spec
// with the CRD's defaults applied, or the reason the spec is invalid.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/result.hpp"
#include "controllers/policy/alert_matcher.hpp"
#include "controllers/policy/label_selector.hpp"
#include "controllers/policy/object_meta.hpp"
#include "controllers/policy/policy_status.hpp"

namespace kprof::controllers {

enum class AgentMode { Preload, Ebpf };
enum class ProfileType { Cpu, Alloc, Lock, Wall };

std::string_view agentModeName(AgentMode mode);      // "preload", "ebpf"
std::string_view profileTypeName(ProfileType type);  // "cpu", "alloc", "lock", "wall"

struct CpuProfile {
  bool enabled = true;
  int rate_hz = 100;

  bool operator==(const CpuProfile&) const = default;
};

struct AllocProfile {
  int64_t mean_sample_bytes = 524'288;  // 512 KiB, as Go's runtime.MemProfileRate

  bool operator==(const AllocProfile&) const = default;
};

struct LockProfile {
  int64_t threshold_nanos = 10'000;

  bool operator==(const LockProfile&) const = default;
};

struct WallProfile {
  bool enabled = false;

  bool operator==(const WallProfile&) const = default;
};

// alloc and lock are on when present, as in the resource.
struct ProfileSettings {
  CpuProfile cpu;
  std::optional<AllocProfile> alloc;
  std::optional<LockProfile> lock;
  WallProfile wall;

  bool operator==(const ProfileSettings&) const = default;
};

// Where a pod's version comes from.
struct VersionSource {
  enum class Kind {
    Default,   // the app.kubernetes.io/version label, else the first container's image tag
    PodLabel,  // the value of `pod_label`
    ImageTag,  // the tag of `container`'s image (the first container when empty)
  };
  Kind kind = Kind::Default;
  std::string pod_label;
  std::string container;

  bool operator==(const VersionSource&) const = default;
};

enum class AuthType { Bearer, Basic };

// Credentials in a Secret of the policy's namespace; the controller never reads them, the agent
// config API does.
struct AuthSecretRef {
  std::string name;
  std::string key;           // the bearer token, or the basic-auth password
  std::string username_key;  // basic auth only; defaults to "username"
  AuthType type = AuthType::Bearer;

  bool operator==(const AuthSecretRef&) const = default;
};

struct PyroscopeTarget {
  std::string url;
  std::string tenant_id;  // X-Scope-OrgID; empty for none
  std::optional<AuthSecretRef> auth;

  bool operator==(const PyroscopeTarget&) const = default;
};

struct StoreTarget {
  std::string url;  // empty: the operator's embedded kprof-store

  bool operator==(const StoreTarget&) const = default;
};

struct FileTarget {
  std::string directory;

  bool operator==(const FileTarget&) const = default;
};

using ProfileTarget = std::variant<PyroscopeTarget, StoreTarget, FileTarget>;

struct SnapshotTrigger {
  std::string name;
  // alertMatchers (parsed) followed by alertLabelMatchers; an alert must satisfy all of them.
  std::vector<AlertMatcher> matchers;
  int duration_seconds = 30;
  int rate_hz = 1000;
  std::vector<ProfileType> types{ProfileType::Cpu};
  int cooldown_seconds = 300;
  int max_concurrent = 1;
  bool stop_on_resolve = false;

  bool operator==(const SnapshotTrigger&) const = default;
};

struct PolicySpec {
  LabelSelector selector;
  std::string environment;  // empty: unset
  VersionSource version_from;
  AgentMode mode = AgentMode::Preload;
  ProfileSettings profiles;
  int upload_interval_seconds = 10;
  Labels labels;                       // extra profile labels
  std::vector<ProfileTarget> targets;  // empty: the operator's embedded kprof-store
  std::vector<SnapshotTrigger> snapshot_triggers;
  int rollout_percentage = 100;
  std::optional<double> overhead_cpu_percent;
  int priority = 0;

  bool operator==(const PolicySpec&) const = default;
};

// Reads `spec` and checks every rule of the CRD schema, including its CEL rules and what the schema
// cannot express (map keys), filling in the CRD's defaults. The error names the first bad field:
// "spec.profiles.cpu.rateHz: must be between 1 and 1000".
Result<PolicySpec> readPolicySpec(const nlohmann::json& spec);

struct ProfilingPolicy {
  ObjectMeta metadata;
  PolicySpec spec;                  // meaningful only when spec_error is empty
  std::optional<Error> spec_error;  // why the policy cannot be applied
  PolicyStatus status;              // as last written; planPolicy builds on it

  bool valid() const { return !spec_error.has_value(); }
};

// Reads a ProfilingPolicy resource. An invalid spec does not fail the read: it lands in spec_error
// so the controller can report it on the resource. Fails only when the object has no name.
Result<ProfilingPolicy> readProfilingPolicy(const nlohmann::json& resource);

}  // namespace kprof::controllers
