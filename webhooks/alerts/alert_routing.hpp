// Routing (pure): which snapshots the alerts of one Alertmanager notification start or stop.
//
// - A firing alert starts a snapshot for each policy trigger whose matchers it satisfies
//   (Alertmanager's semantics: =, !=, =~, !~; a missing label is "").
// - The alert's own labels narrow the pods when present: `namespace` (else the policy's pods are
//   out), `pod`, `deployment`/`statefulset`/`daemonset`/`workload` (the pod's owning workload),
//   `container` (pods running a container of that name). Only the policy's enrolled pods capture.
// - The firing alerts of one notification that match one trigger make one snapshot of the union
//   of their pods. Its name is `<policy>-<trigger>-<10 hex of SHA-256 over the alerts'
//   fingerprint|startsAt>`: Alertmanager re-sends a group at group_interval and repeat_interval
//   and retries on errors, and each re-send names an existing snapshot (and a second replica's
//   create gets AlreadyExists).
// - A trigger's cooldown counts from its latest snapshot; at most maxConcurrent of its
//   snapshots run at once. What is skipped is said in `notes`.
// - A resolved alert stops the running snapshots it started, if the trigger has stopOnResolve and
//   none of their alerts still fires in the notification.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "controllers/policy/profiling_policy.hpp"
#include "controllers/snapshot/profile_snapshot.hpp"
#include "webhooks/alerts/alert_payload.hpp"

namespace kprof::webhooks {

using controllers::WallTime;

// A pod a policy profiles, with what alerts may name it by.
struct RoutablePod {
  std::string name;
  std::string workload;  // the Deployment (via its ReplicaSet), StatefulSet, DaemonSet, Job, …
  std::vector<std::string> containers;

  bool operator==(const RoutablePod&) const = default;
};

struct RoutablePolicy {
  std::string namespace_name;
  std::string name;
  std::string uid;
  std::vector<controllers::SnapshotTrigger> triggers;
  std::vector<RoutablePod> pods;  // the pods it enrolled (labeled kprof.dev/policy=<name>)
};

// A snapshot that exists (or was just created), as cooldowns and dedupe see it.
struct KnownSnapshot {
  std::string namespace_name;
  std::string name;
  std::string policy;
  std::string trigger;
  WallTime created;
  bool terminal = false;
  bool stop_requested = false;
  std::vector<std::string> fingerprints;
};

struct SnapshotToStop {
  std::string namespace_name;
  std::string name;

  bool operator==(const SnapshotToStop&) const = default;
};

struct AlertRouting {
  std::vector<controllers::NewSnapshot> create;
  std::vector<SnapshotToStop> stop;
  std::vector<std::string> notes;  // "shop/checkout/latency: cooldown, 240s left"
};

AlertRouting routeAlerts(const std::vector<Alert>& alerts,
                         const std::vector<RoutablePolicy>& policies,
                         const std::vector<KnownSnapshot>& known,
                         WallTime now);

// What alerts can name a pod by, from a Pod object. A ReplicaSet owner "web-7d9f8c" gives the
// Deployment "web".
RoutablePod routablePod(const nlohmann::json& pod);

// KnownSnapshot from a ProfileSnapshot resource.
KnownSnapshot knownSnapshot(const controllers::ProfileSnapshot& snapshot);

}  // namespace kprof::webhooks
