// The ProfileSnapshot reconciler: the thin shell around planSnapshot. For a key
// "namespace/name" it reads the snapshot from the informer cache, the target pods' existence and
// their agents' latest reports, plans, and applies the plan:
//   - the snapshot's command goes into the agent configs of the pods still capturing (CommandBook),
//     on every replica, since every replica serves agent configs;
//   - the status is written with PUT to the status subresource when it changed, and a snapshot
//     past its time to live is deleted — by the leader only (setWriting).
// State lives in the resource, so an operator that restarts picks Pending and Capturing snapshots
// up where they were: their commands are published again and agents dedupe them by id.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/core/clock.hpp"
#include "common/core/result.hpp"
#include "controllers/snapshot/snapshot_plan.hpp"
#include "controllers/snapshot_reconciler/command_book.hpp"
#include "operator/kube/api.hpp"

namespace kprof::controllers {

// What the reconciler reads besides the API: the informer caches and the agents' reports.
class SnapshotInputs {
 public:
  virtual ~SnapshotInputs() = default;
  virtual CachedObject snapshot(std::string_view ns, std::string_view name) const = 0;
  virtual bool podExists(std::string_view ns, std::string_view name) const = 0;
  // The pod's agent's latest report (the agent config API's POST /v1/agents/report body).
  virtual std::optional<nlohmann::json> agentReport(const std::string& pod_key) const = 0;
};

struct SnapshotReconcilerOptions {
  SnapshotPlanOptions plan;
  std::string embedded_store_url;  // for query URLs of store targets without a URL
};

class SnapshotReconciler {
 public:
  SnapshotReconciler(kube::Api& api, const SnapshotInputs& inputs, CommandBook& book,
                     const Clock& clock, SnapshotReconcilerOptions options);

  // When to look again (running snapshots: soon, finished ones: at their TTL); nullopt: only on
  // the next change. Fails with the API error of a status write or delete (the caller retries).
  Result<std::optional<std::chrono::seconds>> reconcile(std::string_view key);

  void setWriting(bool writing) { writing_ = writing; }

 private:
  SnapshotObservation observe(const ProfileSnapshot& snapshot) const;

  kube::Api& api_;
  const SnapshotInputs& inputs_;
  CommandBook& book_;
  const Clock& clock_;
  SnapshotReconcilerOptions options_;
  std::atomic<bool> writing_{true};
};

}  // namespace kprof::controllers
