#include "controllers/snapshot_reconciler/snapshot_reconciler.hpp"

#include <utility>

#include "common/log/log.hpp"
#include "controllers/snapshot/query_url.hpp"

namespace kprof::controllers {

SnapshotReconciler::SnapshotReconciler(kube::Api& api, const SnapshotInputs& inputs,
                                       CommandBook& book, const Clock& clock,
                                       SnapshotReconcilerOptions options)
    : api_(api), inputs_(inputs), book_(book), clock_(clock), options_(std::move(options)) {}

SnapshotObservation SnapshotReconciler::observe(const ProfileSnapshot& snapshot) const {
  SnapshotObservation observed;
  observed.now = clock_.wallNow();
  const std::string id = snapshotId(snapshot.metadata.namespace_name, snapshot.metadata.name);
  for (const std::string& pod : snapshot.spec.pods) {
    const std::string pod_key = objectKey(snapshot.podNamespace(), pod);
    if (inputs_.podExists(snapshot.podNamespace(), pod)) observed.existing_pods.insert(pod);
    if (observed.query_url.empty()) {
      if (auto config = book_.baseConfig(pod_key)) {
        observed.query_url = snapshotQueryUrl(*config, id, options_.embedded_store_url);
      }
    }
    const auto report = inputs_.agentReport(pod_key);
    if (!report) continue;
    auto entries = snapshot::readSnapshotReports(*report);
    if (!entries) continue;  // the agent API already refused malformed reports; be safe anyway
    for (snapshot::SnapshotReport& entry : *entries) {
      if (entry.id == id) observed.reports[pod] = std::move(entry);
    }
  }
  if (observed.query_url.empty()) observed.query_url = snapshot.status.query_url;
  return observed;
}

Result<std::optional<std::chrono::seconds>> SnapshotReconciler::reconcile(std::string_view key) {
  const auto [ns, name] = splitKey(key);
  const std::string snapshot_key(key);
  const CachedObject object = inputs_.snapshot(ns, name);
  if (!object) {
    book_.clear(snapshot_key);
    return std::optional<std::chrono::seconds>();
  }
  auto snapshot = readProfileSnapshot(*object);
  if (!snapshot) {
    // The CRD's schema keeps this from happening; nothing a retry could fix.
    log::logger("snapshots")->warn("ProfileSnapshot {}: {}", key, snapshot.error().toString());
    book_.clear(snapshot_key);
    return std::optional<std::chrono::seconds>();
  }
  const SnapshotPlan plan = planSnapshot(*snapshot, observe(*snapshot), options_.plan);
  std::vector<std::string> pod_keys;
  for (const std::string& pod : plan.command_pods) {
    pod_keys.push_back(objectKey(snapshot->podNamespace(), pod));
  }
  book_.setCommand(snapshot_key, plan.command, pod_keys);

  if (!writing_) return plan.recheck_after;
  if (plan.expired) {
    auto removed = api_.remove(kube::resources::kProfileSnapshots, ns, name);
    if (!removed && removed.error().code != ErrorCode::NotFound) return Unexpected{removed.error()};
    log::logger("snapshots")->info("ProfileSnapshot {} deleted: its time to live ended", key);
    return std::optional<std::chrono::seconds>();
  }
  if (plan.status_changed) {
    kube::Object updated = *object;
    updated["status"] = snapshotStatusJson(plan.status);
    auto written = api_.updateStatus(kube::resources::kProfileSnapshots, ns, updated);
    if (!written) return Unexpected{written.error()};
    if (plan.status.phase != snapshot->status.phase) {
      log::logger("snapshots")->info("ProfileSnapshot {}: {}", key,
                                     snapshot::phaseName(*plan.status.phase));
    }
  }
  return plan.recheck_after;
}

}  // namespace kprof::controllers
