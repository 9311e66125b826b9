// Turns queued Alertmanager notifications into ProfileSnapshot resources: routes them against the
// policies, pods and snapshots the operator's caches hold (routeAlerts), creates the planned
// snapshots and marks the ones to stop. Runs on the receiver's worker thread.
//
// Any replica may run it (Alertmanager reaches whichever the Service picks): snapshot names are
// deterministic, so a second replica's create of the same snapshot gets AlreadyExists. Snapshots
// this starter created are remembered for an hour so a re-send that arrives before the informer
// saw the first create still counts against dedupe, cooldown and maxConcurrent.
#pragma once

#include <mutex>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "operator/kube/api.hpp"
#include "webhooks/alerts/alert_routing.hpp"
#include "webhooks/receiver/alert_receiver.hpp"

namespace kprof::webhooks {

// What routing reads: the operator's informer caches.
class RoutingInputs {
 public:
  virtual ~RoutingInputs() = default;
  // Valid policies with snapshot triggers, each with the pods it enrolled.
  virtual std::vector<RoutablePolicy> policies() const = 0;
  virtual std::vector<KnownSnapshot> snapshots() const = 0;
};

class SnapshotStarter {
 public:
  SnapshotStarter(kube::Api& api, const RoutingInputs& inputs, prometheus::Registry& registry);

  void handle(const ReceivedAlerts& alerts);

 private:
  std::vector<KnownSnapshot> known(WallTime now);

  kube::Api& api_;
  const RoutingInputs& inputs_;
  prometheus::Family<prometheus::Counter>& actions_;
  std::mutex mutex_;
  std::vector<KnownSnapshot> created_;  // by this starter, the last hour
};

}  // namespace kprof::webhooks
