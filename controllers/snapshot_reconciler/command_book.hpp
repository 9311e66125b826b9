// The snapshot commands in agent configs. The book sits between the ProfilingPolicy reconciler
// and the agent config registry: every config the reconciler publishes for a pod leaves with the
// commands of the snapshots that target that pod (`config.snapshots`), and when a snapshot's
// commands change the book republishes the last config it saw for each affected pod, which wakes
// that agent's long poll at once. Thread-safe; publishing to the inner sink happens under the
// book's lock so a pod's configs reach it in order.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/snapshot/snapshot_wire.hpp"
#include "controllers/policy_reconciler/policy_reconciler.hpp"

namespace kprof::controllers {

class CommandBook final : public AgentConfigSink {
 public:
  explicit CommandBook(AgentConfigSink& inner) : inner_(inner) {}

  void publish(const std::string& pod_key, const nlohmann::json& config) override;
  void retract(const std::string& pod_key) override;
  std::optional<WallTime> lastReport(const std::string& pod_key) const override {
    return inner_.lastReport(pod_key);
  }

  // The snapshot (key "namespace/name") sends `command` to exactly `pod_keys` from now on.
  void setCommand(const std::string& snapshot_key, const snapshot::SnapshotCommand& command,
                  const std::vector<std::string>& pod_keys);
  // The snapshot sends nothing any more (it ended, was stopped or deleted).
  void clear(const std::string& snapshot_key);

  // The last config the policy reconciler published for the pod, without commands.
  std::optional<nlohmann::json> baseConfig(const std::string& pod_key) const;
  // The ids of the commands the pod's config carries now, sorted.
  std::vector<std::string> commandIds(const std::string& pod_key) const;

 private:
  struct Entry {
    snapshot::SnapshotCommand command;
    std::set<std::string> pod_keys;
  };
  nlohmann::json withCommands(const std::string& pod_key, const nlohmann::json& config) const;
  void republish(const std::set<std::string>& pod_keys);

  AgentConfigSink& inner_;
  mutable std::mutex mutex_;
  std::map<std::string, nlohmann::json> configs_;  // pod key → base config
  std::map<std::string, Entry> snapshots_;         // snapshot key → its command
};

}  // namespace kprof::controllers
