// The ProfileSnapshot resource (kprof.dev/v1alpha1) as the snapshot controller, the alert
// receiver and `kprof snapshot create` see it: one capture of high-resolution profiles from named
// pods. Spec and status read into values, a new resource built from values, the status written
// back. Field reference: crds/profilesnapshots.kprof.dev.yaml; lifecycle: docs/snapshots.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/result.hpp"
#include "common/snapshot/snapshot_wire.hpp"
#include "controllers/policy/object_meta.hpp"
#include "controllers/policy/pod_labels.hpp"

namespace kprof::controllers {

// The alert that fired, as the receiver recorded it.
struct SnapshotAlert {
  std::string name;  // the alertname label
  std::string fingerprint;
  std::string starts_at;  // RFC 3339, as Alertmanager sent it
  Labels labels;

  bool operator==(const SnapshotAlert&) const = default;
};

struct SnapshotSpec {
  std::string policy;   // the ProfilingPolicy (same namespace) whose pods it captures
  std::string trigger;  // the policy's snapshot trigger; empty for a manual snapshot
  std::optional<SnapshotAlert> alert;
  std::string target_namespace;  // the pods' namespace: the snapshot's own when unset
  std::vector<std::string> pods;
  int duration_seconds = 30;
  std::vector<std::string> types{"cpu"};
  int rate_hz = 1000;

  bool operator==(const SnapshotSpec&) const = default;
};

struct PodSnapshotResult {
  std::string name;
  snapshot::Phase phase = snapshot::Phase::Pending;
  std::string message;
  int64_t started_at_ms = 0;  // when this pod's agent began sampling at the snapshot rate
  std::vector<snapshot::ProfileOutcome> profiles;

  bool operator==(const PodSnapshotResult&) const = default;
};

struct SnapshotStatus {
  std::optional<snapshot::Phase> phase;  // unset: Pending, nothing observed yet
  std::optional<WallTime> started_at;
  std::optional<WallTime> completed_at;
  std::string snapshot_id;
  std::string query_url;
  std::vector<PodSnapshotResult> pods;

  bool operator==(const SnapshotStatus&) const = default;
};

struct ProfileSnapshot {
  ObjectMeta metadata;
  SnapshotSpec spec;
  SnapshotStatus status;

  // The namespace of the pods it captures.
  const std::string& podNamespace() const {
    return spec.target_namespace.empty() ? metadata.namespace_name : spec.target_namespace;
  }
  bool terminal() const {
    return status.phase == snapshot::Phase::Completed || status.phase == snapshot::Phase::Failed;
  }
};

// Annotations kprof reads and writes on a ProfileSnapshot.
inline constexpr std::string_view kStopRequestedAnnotation = "kprof.dev/stop-requested";
// When the alert receiver took the alert in (RFC 3339 with milliseconds): the start of the
// alert-to-capture latency.
inline constexpr std::string_view kAlertReceivedAnnotation = "kprof.dev/alert-received-at";
// The fingerprints of every alert the snapshot captures for, comma-separated.
inline constexpr std::string_view kAlertFingerprintsAnnotation = "kprof.dev/alert-fingerprints";
// Labels on every snapshot a policy's trigger created (with kPolicyLabel), for listing.
inline constexpr std::string_view kTriggerLabel = "kprof.dev/trigger";

// Reads a ProfileSnapshot. The spec must be usable (pods, duration, types, rate within the CRD's
// limits); the error names the field. Status fields that are malformed are dropped.
Result<ProfileSnapshot> readProfileSnapshot(const nlohmann::json& resource);

// The snapshot_id label value of the snapshot's profiles and the id of its agent commands:
// "<namespace>.<name>".
std::string snapshotId(std::string_view ns, std::string_view name);

// A new ProfileSnapshot, as the receiver or the command line creates it.
struct NewSnapshot {
  std::string namespace_name;
  std::string name;
  std::string policy_uid;  // with spec.policy set: the owner reference to the policy
  SnapshotSpec spec;
  Labels annotations;
};
nlohmann::json buildSnapshotResource(const NewSnapshot& snapshot);

// `status` as the CRD spells it.
nlohmann::json snapshotStatusJson(const SnapshotStatus& status);

// RFC 3339 in UTC with milliseconds: "2026-11-22T12:00:00.125Z".
std::string formatRfc3339Millis(int64_t unix_ms);

// 10 lowercase hex digits of SHA-256 over `text`: short, stable names from alert identities.
std::string shortHash(std::string_view text);

}  // namespace kprof::controllers
