#include "agent/configpoll/remote_config.hpp"

#include <algorithm>

namespace kprof::agent {
namespace {

const nlohmann::json kNull;

const nlohmann::json& member(const nlohmann::json& object, const char* name) {
  if (!object.is_object()) {
    return kNull;
  }
  const auto it = object.find(name);
  return it == object.end() ? kNull : *it;
}

std::string text(const nlohmann::json& object, const char* name) {
  const nlohmann::json& value = member(object, name);
  return value.is_string() ? value.get<std::string>() : "";
}

Status applyLabels(const nlohmann::json& labels, AgentConfig& config, RemoteAgentConfig& out) {
  if (labels.is_null()) {
    return ok();
  }
  if (!labels.is_object()) {
    return fail(ErrorCode::Parse, "labels: expected an object");
  }
  const std::pair<const char*, std::string*> known[] = {
      {"service_name", &config.service_name},
      {"env", &config.env},
      {"version", &config.version},
      {"namespace", &config.namespace_name},
      {"pod", &config.pod},
      {"container", &config.container},
  };
  config.extra_labels.clear();
  for (const auto& [name, value] : labels.items()) {
    if (!value.is_string()) {
      out.notes.push_back("label " + name + " ignored: not a string");
      continue;
    }
    const auto field = std::find_if(std::begin(known), std::end(known), [&](const auto& k) {
      return name == k.first;
    });
    if (field != std::end(known)) {
      *field->second = value.get<std::string>();
    } else {
      config.extra_labels[name] = value.get<std::string>();
    }
  }
  return ok();
}

Status applyProfiles(const nlohmann::json& profiles, AgentConfig& config, RemoteAgentConfig& out) {
  if (!profiles.is_object()) {
    return fail(ErrorCode::Parse, "profiles: expected an object");
  }
  std::vector<std::string> types;
  const nlohmann::json& cpu = member(profiles, "cpu");
  const nlohmann::json& cpu_enabled = member(cpu, "enabled");
  if (!cpu_enabled.is_boolean() || cpu_enabled.get<bool>()) {
    types.emplace_back("cpu");
  }
  const nlohmann::json& rate = member(cpu, "rateHz");
  if (!rate.is_null()) {
    if (!rate.is_number_integer() || rate.get<int64_t>() < 1 || rate.get<int64_t>() > 10000) {
      return fail(ErrorCode::InvalidArgument, "profiles.cpu.rateHz: expected 1..10000");
    }
    config.frequency_hz = static_cast<uint32_t>(rate.get<int64_t>());
  }
  const nlohmann::json& wall_enabled = member(member(profiles, "wall"), "enabled");
  if (wall_enabled.is_boolean() && wall_enabled.get<bool>()) {
    types.emplace_back("wall");
  }
  for (const char* unsampled : {"alloc", "lock"}) {
    if (!member(profiles, unsampled).is_null()) {
      out.notes.push_back(std::string(unsampled) +
                          " profiles are not sampled by the sidecar; they need the preload agent");
    }
  }
  if (types.empty()) {
    return fail(ErrorCode::InvalidArgument,
                "profiles: no profile type the sidecar samples (cpu, wall) is enabled");
  }
  config.profile_types = std::move(types);
  return ok();
}

Status applyTargets(const nlohmann::json& targets, AgentConfig& config, RemoteAgentConfig& out) {
  if (!targets.is_array()) {
    return fail(ErrorCode::Parse, "targets: expected an array");
  }
  std::vector<PyroscopeTargetConfig> pyroscope;
  std::vector<TargetCredentials> credentials;
  std::string file_directory;
  for (size_t i = 0; i < targets.size(); ++i) {
    const nlohmann::json& target = targets[i];
    const std::string where = "target " + std::to_string(i);
    if (const nlohmann::json& p = member(target, "pyroscope"); p.is_object()) {
      PyroscopeTargetConfig entry;
      TargetCredentials secret;
      entry.url = text(p, "url");
      entry.tenant_id = text(p, "tenantID");
      if (!member(p, "authSecretRef").is_null()) {
        out.notes.push_back(where + " (" + entry.url +
                            ") ignored: its credentials were not resolved by the operator");
        continue;
      }
      const nlohmann::json& auth = member(p, "auth");
      if (!auth.is_null()) {
        const std::string type = text(auth, "type");
        if (type == "basic") {
          entry.basic_user = text(auth, "username");
          secret.password = text(auth, "password");
        } else if (type == "bearer") {
          secret.bearer_token = text(auth, "token");
        } else {
          out.notes.push_back(where + " (" + entry.url + ") ignored: unknown auth type '" + type +
                              "'");
          continue;
        }
      }
      pyroscope.push_back(std::move(entry));
      credentials.push_back(std::move(secret));
    } else if (const nlohmann::json& s = member(target, "store"); s.is_object()) {
      PyroscopeTargetConfig entry;
      entry.url = text(s, "url");
      if (entry.url.empty()) {
        out.notes.push_back(where + " (store) ignored: no URL");
        continue;
      }
      pyroscope.push_back(std::move(entry));
      credentials.emplace_back();
    } else if (const nlohmann::json& f = member(target, "file"); f.is_object()) {
      const std::string directory = text(f, "directory");
      if (directory.empty()) {
        out.notes.push_back(where + " (file) ignored: no directory");
      } else if (!file_directory.empty()) {
        out.notes.push_back(where + " (file " + directory + ") ignored: one file directory only");
      } else {
        file_directory = directory;
      }
    } else {
      out.notes.push_back(where + " ignored: not a pyroscope, store or file target");
    }
  }
  if (pyroscope.empty() && file_directory.empty()) {
    return fail(ErrorCode::InvalidArgument, "targets: no destination the agent can use");
  }
  config.pyroscope = std::move(pyroscope);
  config.file_directory = std::move(file_directory);
  out.credentials = std::move(credentials);
  return ok();
}

Result<RemoteAgentConfig> apply(AgentConfig config, const nlohmann::json& remote) {
  if (!remote.is_object()) {
    return fail(ErrorCode::Parse, "agent config: expected an object");
  }
  RemoteAgentConfig out;
  const nlohmann::json& policy = member(remote, "policy");
  out.policy = text(policy, "name");
  if (const nlohmann::json& generation = member(policy, "generation");
      generation.is_number_integer()) {
    out.policy_generation = generation.get<int64_t>();
  }
  KPROF_TRY(applyLabels(member(remote, "labels"), config, out));
  KPROF_TRY(applyProfiles(member(remote, "profiles"), config, out));
  if (const nlohmann::json& interval = member(remote, "uploadIntervalSeconds"); !interval.is_null()) {
    if (!interval.is_number_integer() || interval.get<int64_t>() < 1 ||
        interval.get<int64_t>() > 3600) {
      return fail(ErrorCode::InvalidArgument, "uploadIntervalSeconds: expected 1..3600");
    }
    config.upload_interval = std::chrono::seconds(interval.get<int64_t>());
  }
  if (const nlohmann::json& dropped = member(remote, "droppedTargets"); dropped.is_array()) {
    for (const auto& entry : dropped) {
      out.notes.push_back("a target was dropped by the operator: " + text(entry, "reason"));
    }
  }
  KPROF_TRY(applyTargets(member(remote, "targets"), config, out));
  KPROF_TRY(validate(config));
  out.config = std::move(config);
  return out;
}

}  // namespace

Result<ConfigAnswer> parseConfigAnswer(std::string_view body) {
  const nlohmann::json answer = nlohmann::json::parse(body, nullptr, false);
  if (answer.is_discarded() || !answer.is_object()) {
    return fail(ErrorCode::Parse, "config answer: not a JSON object");
  }
  ConfigAnswer out;
  const nlohmann::json& version = member(answer, "version");
  if (!version.is_number_integer() || version.get<int64_t>() < 0) {
    return fail(ErrorCode::Parse, "config answer: no version");
  }
  out.version = version.get<int64_t>();
  const nlohmann::json& pending = member(answer, "pending");
  out.pending = pending.is_boolean() && pending.get<bool>();
  out.config = member(answer, "config");
  if (!out.pending && !out.config.is_object()) {
    return fail(ErrorCode::Parse, "config answer: no config");
  }
  if (out.pending) {
    out.config = nullptr;
  }
  return out;
}

Result<RemoteAgentConfig> applyRemoteConfig(AgentConfig base, const nlohmann::json& remote) {
  try {
    return apply(std::move(base), remote);
  } catch (const nlohmann::json::exception& e) {
    // The checks above should make this unreachable; a surprise in the input is still not a crash.
    return fail(ErrorCode::Parse, std::string("agent config: ") + e.what());
  }
}

}  // namespace kprof::agent
