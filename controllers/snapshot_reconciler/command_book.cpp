#include "controllers/snapshot_reconciler/command_book.hpp"

namespace kprof::controllers {

nlohmann::json CommandBook::withCommands(const std::string& pod_key,
                                         const nlohmann::json& config) const {
  nlohmann::json out = config;
  nlohmann::json commands = nlohmann::json::array();
  for (const auto& [snapshot_key, entry] : snapshots_) {  // sorted by key: stable content
    if (entry.pod_keys.contains(pod_key)) commands.push_back(snapshot::toJson(entry.command));
  }
  if (!commands.empty()) out["snapshots"] = std::move(commands);
  return out;
}

void CommandBook::republish(const std::set<std::string>& pod_keys) {
  for (const std::string& pod_key : pod_keys) {
    const auto config = configs_.find(pod_key);
    // A pod without a config is not enrolled: its agent is not polling for one.
    if (config != configs_.end()) inner_.publish(pod_key, withCommands(pod_key, config->second));
  }
}

void CommandBook::publish(const std::string& pod_key, const nlohmann::json& config) {
  std::lock_guard lock(mutex_);
  configs_[pod_key] = config;
  inner_.publish(pod_key, withCommands(pod_key, config));
}

void CommandBook::retract(const std::string& pod_key) {
  std::lock_guard lock(mutex_);
  configs_.erase(pod_key);
  inner_.retract(pod_key);
}

void CommandBook::setCommand(const std::string& snapshot_key,
                             const snapshot::SnapshotCommand& command,
                             const std::vector<std::string>& pod_keys) {
  if (pod_keys.empty()) {
    clear(snapshot_key);
    return;
  }
  std::lock_guard lock(mutex_);
  Entry next{command, {pod_keys.begin(), pod_keys.end()}};
  std::set<std::string> affected = next.pod_keys;
  if (auto found = snapshots_.find(snapshot_key); found != snapshots_.end()) {
    if (found->second.command == command && found->second.pod_keys == next.pod_keys) return;
    affected.insert(found->second.pod_keys.begin(), found->second.pod_keys.end());
  }
  snapshots_[snapshot_key] = std::move(next);
  republish(affected);
}

void CommandBook::clear(const std::string& snapshot_key) {
  std::lock_guard lock(mutex_);
  const auto found = snapshots_.find(snapshot_key);
  if (found == snapshots_.end()) return;
  const std::set<std::string> affected = std::move(found->second.pod_keys);
  snapshots_.erase(found);
  republish(affected);
}

std::optional<nlohmann::json> CommandBook::baseConfig(const std::string& pod_key) const {
  std::lock_guard lock(mutex_);
  const auto found = configs_.find(pod_key);
  return found == configs_.end() ? std::nullopt : std::optional<nlohmann::json>(found->second);
}

std::vector<std::string> CommandBook::commandIds(const std::string& pod_key) const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> ids;
  for (const auto& [key, entry] : snapshots_) {
    if (entry.pod_keys.contains(pod_key)) ids.push_back(entry.command.id);
  }
  return ids;
}

}  // namespace kprof::controllers
