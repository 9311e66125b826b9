#include "operator/agentapi/target_secrets.hpp"

#include <optional>

#include "common/core/base64.hpp"

namespace kprof::agentapi {
namespace {

std::string stringField(const nlohmann::json& object, const char* name) {
  if (!object.is_object()) {
    return "";
  }
  const auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

// Reads each Secret once per resolve, however many targets name it.
class SecretCache {
 public:
  SecretCache(SecretReader& reader, std::string namespace_name)
      : reader_(reader), namespace_(std::move(namespace_name)) {}

  const Result<SecretData>& get(const std::string& name) {
    auto it = secrets_.find(name);
    if (it == secrets_.end()) {
      it = secrets_.emplace(name, reader_.read(namespace_, name)).first;
    }
    return it->second;
  }

 private:
  SecretReader& reader_;
  std::string namespace_;
  std::map<std::string, Result<SecretData>> secrets_;
};

// Why a target cannot be sent, or the error that stops the whole resolve.
struct TargetOutcome {
  std::optional<nlohmann::json> target;  // resolved
  std::string dropped_reason;
  std::optional<Error> fatal;
};

TargetOutcome resolvePyroscope(const nlohmann::json& target,
                               const std::string& namespace_name,
                               SecretCache& secrets) {
  nlohmann::json out = target;
  const auto ref_it = target.find("authSecretRef");
  if (ref_it == target.end()) {
    return {out, "", std::nullopt};
  }
  const nlohmann::json& ref = *ref_it;
  const std::string name = stringField(ref, "name");
  const std::string key = stringField(ref, "key");
  std::string type = stringField(ref, "type");
  if (type.empty()) {
    type = "bearer";
  }
  if (name.empty() || key.empty()) {
    return {std::nullopt, "authSecretRef needs a name and a key", std::nullopt};
  }
  if (type != "bearer" && type != "basic") {
    return {std::nullopt, "authSecretRef.type '" + type + "' is not bearer or basic",
            std::nullopt};
  }
  const std::string where = "secret " + namespace_name + "/" + name;
  const Result<SecretData>& data = secrets.get(name);
  if (!data) {
    if (data.error().code == ErrorCode::NotFound) {
      return {std::nullopt, where + ": not found", std::nullopt};
    }
    // Anything else (API down, RBAC) may pass: do not publish a config without the target.
    return {std::nullopt, "", data.error().wrap("reading " + where)};
  }
  auto value = [&](const std::string& k) -> const std::string* {
    const auto it = data->find(k);
    return it == data->end() ? nullptr : &it->second;
  };
  out.erase("authSecretRef");
  if (type == "bearer") {
    const std::string* token = value(key);
    if (token == nullptr) {
      return {std::nullopt, where + ": no key '" + key + "'", std::nullopt};
    }
    out["auth"] = {{"type", "bearer"}, {"token", *token}};
  } else {
    std::string username_key = stringField(ref, "usernameKey");
    if (username_key.empty()) {
      username_key = "username";
    }
    const std::string* username = value(username_key);
    const std::string* password = value(key);
    if (username == nullptr) {
      return {std::nullopt, where + ": no key '" + username_key + "'", std::nullopt};
    }
    if (password == nullptr) {
      return {std::nullopt, where + ": no key '" + key + "'", std::nullopt};
    }
    out["auth"] = {{"type", "basic"}, {"username", *username}, {"password", *password}};
  }
  return {out, "", std::nullopt};
}

TargetOutcome resolveTarget(const nlohmann::json& target,
                            const std::string& namespace_name,
                            SecretCache& secrets,
                            const ResolveOptions& options) {
  if (!target.is_object() || target.size() != 1) {
    return {std::nullopt, "a target names exactly one of pyroscope, store, file", std::nullopt};
  }
  // Copied out of the iterator: items()' proxies do not outlive the statement.
  const std::string kind = target.begin().key();
  const nlohmann::json& settings = target.begin().value();
  if (!settings.is_object()) {
    return {std::nullopt, kind + ": expected an object", std::nullopt};
  }
  if (kind == "pyroscope") {
    if (stringField(settings, "url").empty()) {
      return {std::nullopt, "pyroscope: no url", std::nullopt};
    }
    TargetOutcome outcome = resolvePyroscope(settings, namespace_name, secrets);
    if (outcome.target) {
      outcome.target = nlohmann::json{{"pyroscope", *outcome.target}};
    }
    return outcome;
  }
  if (kind == "store") {
    nlohmann::json out = settings;
    if (stringField(settings, "url").empty()) {
      if (options.embedded_store_url.empty()) {
        return {std::nullopt, "store: no URL and no embedded kprof-store configured",
                std::nullopt};
      }
      out["url"] = options.embedded_store_url;
    }
    return {nlohmann::json{{"store", out}}, "", std::nullopt};
  }
  if (kind == "file") {
    if (stringField(settings, "directory").empty()) {
      return {std::nullopt, "file: no directory", std::nullopt};
    }
    return {target, "", std::nullopt};
  }
  return {std::nullopt, "unknown target kind '" + kind + "'", std::nullopt};
}

}  // namespace

Result<SecretData> decodeSecretData(const nlohmann::json& secret) {
  SecretData out;
  if (!secret.is_object()) {
    return fail(ErrorCode::Parse, "Secret: not an object");
  }
  const auto data = secret.find("data");
  if (data == secret.end() || data->is_null()) {
    return out;
  }
  if (!data->is_object()) {
    return fail(ErrorCode::Parse, "Secret: data is not an object");
  }
  for (const auto& [key, value] : data->items()) {
    if (!value.is_string()) {
      return fail(ErrorCode::Parse, "Secret: data." + key + " is not a string");
    }
    auto decoded = base64Decode(value.get<std::string>());
    if (!decoded) {
      return fail(ErrorCode::Parse, "Secret: data." + key + ": " + decoded.error().message);
    }
    out[key] = std::move(*decoded);
  }
  return out;
}

Result<SecretData> KubeSecretReader::read(std::string_view namespace_name, std::string_view name) {
  auto secret = api_.get(kube::resources::kSecrets, namespace_name, name);
  if (!secret) {
    return secret.error();
  }
  return decodeSecretData(*secret);
}

Result<ResolvedConfig> resolveTargetSecrets(const nlohmann::json& config,
                                            SecretReader& secrets,
                                            const ResolveOptions& options) {
  if (!config.is_object()) {
    return fail(ErrorCode::InvalidArgument, "agent config: not an object");
  }
  const auto targets = config.find("targets");
  if (targets == config.end() || !targets->is_array()) {
    return fail(ErrorCode::InvalidArgument, "agent config: no targets array");
  }
  const std::string namespace_name = stringField(config.value("pod", nlohmann::json()), "namespace");
  if (namespace_name.empty()) {
    return fail(ErrorCode::InvalidArgument, "agent config: no pod.namespace");
  }
  SecretCache cache(secrets, namespace_name);
  ResolvedConfig resolved;
  resolved.config = config;
  nlohmann::json kept = nlohmann::json::array();
  for (size_t i = 0; i < targets->size(); ++i) {
    const nlohmann::json& target = (*targets)[i];
    TargetOutcome outcome = resolveTarget(target, namespace_name, cache, options);
    if (outcome.fatal) {
      return Unexpected{*outcome.fatal};
    }
    if (outcome.target) {
      kept.push_back(std::move(*outcome.target));
    } else {
      resolved.dropped.push_back(DroppedTarget{i, target, outcome.dropped_reason});
    }
  }
  resolved.config["targets"] = std::move(kept);
  resolved.config.erase("droppedTargets");
  if (!resolved.dropped.empty()) {
    nlohmann::json dropped = nlohmann::json::array();
    for (const DroppedTarget& d : resolved.dropped) {
      dropped.push_back({{"index", d.index}, {"target", d.target}, {"reason", d.reason}});
    }
    resolved.config["droppedTargets"] = std::move(dropped);
  }
  return resolved;
}

}  // namespace kprof::agentapi
