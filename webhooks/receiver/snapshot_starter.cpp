#include "webhooks/receiver/snapshot_starter.hpp"

#include <algorithm>

#include "common/log/log.hpp"

namespace kprof::webhooks {

SnapshotStarter::SnapshotStarter(kube::Api& api, const RoutingInputs& inputs,
                                 prometheus::Registry& registry)
    : api_(api),
      inputs_(inputs),
      actions_(prometheus::BuildCounter()
                   .Name("kprof_alert_snapshots_total")
                   .Help("What alerts did to ProfileSnapshots: created, existed (a re-sent "
                         "alert), skipped (cooldown, maxConcurrent, no pod), stopped, failed")
                   .Register(registry)) {
  for (const char* action : {"created", "existed", "skipped", "stopped", "failed"}) {
    actions_.Add({{"action", action}});
  }
}

std::vector<KnownSnapshot> SnapshotStarter::known(WallTime now) {
  std::vector<KnownSnapshot> all = inputs_.snapshots();
  std::lock_guard lock(mutex_);
  std::erase_if(created_, [now](const KnownSnapshot& s) { return now - s.created > std::chrono::hours(1); });
  for (const KnownSnapshot& mine : created_) {
    const bool seen = std::any_of(all.begin(), all.end(), [&](const KnownSnapshot& s) {
      return s.namespace_name == mine.namespace_name && s.name == mine.name;
    });
    if (!seen) all.push_back(mine);
  }
  return all;
}

void SnapshotStarter::handle(const ReceivedAlerts& received) {
  auto log = log::logger("alerts");
  const AlertRouting routing =
      routeAlerts(received.payload.alerts, inputs_.policies(), known(received.received_at),
                  received.received_at);
  for (const std::string& note : routing.notes) {
    const bool existed = note.find("already captured") != std::string::npos;
    actions_.Add({{"action", existed ? "existed" : "skipped"}}).Increment();
    log->info("alert {}: {}", received.payload.group_key, note);
  }
  for (const controllers::NewSnapshot& snapshot : routing.create) {
    const std::string key = snapshot.namespace_name + "/" + snapshot.name;
    auto created = api_.create(kube::resources::kProfileSnapshots, snapshot.namespace_name,
                               controllers::buildSnapshotResource(snapshot));
    if (created || created.error().code == ErrorCode::AlreadyExists) {
      std::lock_guard lock(mutex_);
      created_.push_back({snapshot.namespace_name, snapshot.name, snapshot.spec.policy,
                          snapshot.spec.trigger, received.received_at, false, false, {}});
    }
    if (created) {
      actions_.Add({{"action", "created"}}).Increment();
      log->info("ProfileSnapshot {} created for alert {} ({} pods)", key,
                snapshot.spec.alert ? snapshot.spec.alert->name : "", snapshot.spec.pods.size());
    } else if (created.error().code == ErrorCode::AlreadyExists) {
      actions_.Add({{"action", "existed"}}).Increment();
    } else {
      actions_.Add({{"action", "failed"}}).Increment();
      log->error("ProfileSnapshot {}: {}", key, created.error().toString());
    }
  }
  for (const SnapshotToStop& stop : routing.stop) {
    const nlohmann::json patch = {
        {"metadata",
         {{"annotations", {{std::string(controllers::kStopRequestedAnnotation), "alert resolved"}}}}}};
    auto patched = api_.patch(kube::resources::kProfileSnapshots, stop.namespace_name, stop.name,
                              kube::PatchType::Merge, patch, {});
    if (patched) {
      actions_.Add({{"action", "stopped"}}).Increment();
      log->info("ProfileSnapshot {}/{}: stop requested, its alert resolved", stop.namespace_name,
                stop.name);
    } else if (patched.error().code != ErrorCode::NotFound) {
      actions_.Add({{"action", "failed"}}).Increment();
      log->error("ProfileSnapshot {}/{}: stop: {}", stop.namespace_name, stop.name,
                 patched.error().toString());
    }
  }
}

}  // namespace kprof::webhooks
