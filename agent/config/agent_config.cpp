#include "agent/config/agent_config.hpp"

#include <charconv>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

extern char** environ;  // NOLINT: POSIX

namespace kprof::agent {
namespace {

Result<uint64_t> parseUnsigned(const std::string& name, const std::string& text, uint64_t max) {
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value > max) {
    return fail(ErrorCode::InvalidArgument,
                name + ": '" + text + "' is not a whole number up to " + std::to_string(max));
  }
  return value;
}

std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream stream(text);
  for (std::string item; std::getline(stream, item, ',');) {
    if (!item.empty()) {
      out.push_back(item);
    }
  }
  return out;
}

// Reads a scalar YAML value as text; sequences and maps are an error.
Result<std::string> scalar(const YAML::Node& node, const std::string& key) {
  if (!node.IsScalar()) {
    return fail(ErrorCode::InvalidArgument, key + ": expected a single value");
  }
  return node.as<std::string>();
}

}  // namespace

Result<AgentConfig> applyYaml(AgentConfig config, const std::string& yaml_text) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return fail(ErrorCode::Parse, std::string("config file: ") + e.what());
  }
  if (root.IsNull()) {
    return config;
  }
  if (!root.IsMap()) {
    return fail(ErrorCode::InvalidArgument, "config file: expected a mapping of settings");
  }
  try {
    for (const auto& entry : root) {
      const std::string key = entry.first.as<std::string>();
      const YAML::Node& value = entry.second;
      auto text = [&]() { return scalar(value, key); };
      auto number = [&](uint64_t max) -> Result<uint64_t> {
        auto t = text();
        if (!t) {
          return t.error();
        }
        return parseUnsigned(key, *t, max);
      };
      std::string* string_field = nullptr;
      if (key == "service_name")
        string_field = &config.service_name;
      else if (key == "env")
        string_field = &config.env;
      else if (key == "version")
        string_field = &config.version;
      else if (key == "namespace")
        string_field = &config.namespace_name;
      else if (key == "pod")
        string_field = &config.pod;
      else if (key == "container")
        string_field = &config.container;
      else if (key == "node")
        string_field = &config.node;
      else if (key == "targets")
        string_field = &config.targets;
      else if (key == "engine")
        string_field = &config.engine;
      else if (key == "file_directory")
        string_field = &config.file_directory;
      else if (key == "listen_address")
        string_field = &config.listen_address;
      else if (key == "log_level")
        string_field = &config.log_level;
      else if (key == "log_format")
        string_field = &config.log_format;
      if (string_field != nullptr) {
        auto t = text();
        if (!t) {
          return t.error();
        }
        *string_field = *t;
      } else if (key == "labels") {
        if (!value.IsMap()) {
          return fail(ErrorCode::InvalidArgument, "labels: expected a mapping");
        }
        for (const auto& label : value) {
          config.extra_labels[label.first.as<std::string>()] = label.second.as<std::string>();
        }
      } else if (key == "profile_types") {
        config.profile_types.clear();
        if (value.IsSequence()) {
          for (const auto& item : value) {
            config.profile_types.push_back(item.as<std::string>());
          }
        } else {
          auto t = text();
          if (!t) {
            return t.error();
          }
          config.profile_types = splitList(*t);
        }
      } else if (key == "frequency_hz") {
        auto n = number(10000);
        if (!n)
          return n.error();
        config.frequency_hz = static_cast<uint32_t>(*n);
      } else if (key == "upload_interval_seconds") {
        auto n = number(3600);
        if (!n)
          return n.error();
        config.upload_interval = std::chrono::seconds(*n);
      } else if (key == "upload_timeout_seconds") {
        auto n = number(600);
        if (!n)
          return n.error();
        config.upload_timeout = std::chrono::seconds(*n);
      } else if (key == "queue_max_items") {
        auto n = number(100000);
        if (!n)
          return n.error();
        config.queue_max_items = *n;
      } else if (key == "queue_max_bytes") {
        auto n = number(uint64_t{1} << 32);
        if (!n)
          return n.error();
        config.queue_max_bytes = *n;
      } else if (key == "listen_port") {
        auto n = number(65535);
        if (!n)
          return n.error();
        config.listen_port = static_cast<uint16_t>(*n);
      } else if (key == "pyroscope") {
        if (!value.IsSequence()) {
          return fail(ErrorCode::InvalidArgument, "pyroscope: expected a list of targets");
        }
        config.pyroscope.clear();
        for (const auto& item : value) {
          static const std::set<std::string> kKnown = {
              "url", "tenant_id", "basic_user", "basic_password_file", "bearer_token_file"};
          for (const auto& field : item) {
            if (!kKnown.contains(field.first.as<std::string>())) {
              return fail(ErrorCode::InvalidArgument,
                          "pyroscope[]." + field.first.as<std::string>() + ": unknown setting");
            }
          }
          PyroscopeTargetConfig target;
          target.url = item["url"].as<std::string>("");
          target.tenant_id = item["tenant_id"].as<std::string>("");
          target.basic_user = item["basic_user"].as<std::string>("");
          target.basic_password_file = item["basic_password_file"].as<std::string>("");
          target.bearer_token_file = item["bearer_token_file"].as<std::string>("");
          config.pyroscope.push_back(target);
        }
      } else {
        return fail(ErrorCode::InvalidArgument, key + ": unknown setting");
      }
    }
  } catch (const YAML::Exception& e) {
    return fail(ErrorCode::Parse, std::string("config file: ") + e.what());
  }
  return config;
}

Result<AgentConfig> applyEnvironment(AgentConfig config,
                                     const std::map<std::string, std::string>& environment) {
  auto get = [&](const char* name) -> const std::string* {
    const auto it = environment.find(name);
    return it == environment.end() || it->second.empty() ? nullptr : &it->second;
  };
  const std::pair<const char*, std::string*> strings[] = {
      {"KPROF_SERVICE_NAME", &config.service_name},
      {"KPROF_ENV", &config.env},
      {"KPROF_VERSION", &config.version},
      {"KPROF_NAMESPACE", &config.namespace_name},
      {"KPROF_POD_NAME", &config.pod},
      {"KPROF_CONTAINER_NAME", &config.container},
      {"KPROF_NODE_NAME", &config.node},
      {"KPROF_TARGETS", &config.targets},
      {"KPROF_ENGINE", &config.engine},
      {"KPROF_FILE_DIRECTORY", &config.file_directory},
      {"KPROF_LOG_LEVEL", &config.log_level},
      {"KPROF_LOG_FORMAT", &config.log_format},
  };
  for (const auto& [name, field] : strings) {
    if (const std::string* value = get(name)) {
      *field = *value;
    }
  }
  if (const std::string* value = get("KPROF_PROFILE_TYPES")) {
    config.profile_types = splitList(*value);
  }
  if (const std::string* value = get("KPROF_FREQUENCY_HZ")) {
    auto n = parseUnsigned("KPROF_FREQUENCY_HZ", *value, 10000);
    if (!n)
      return n.error();
    config.frequency_hz = static_cast<uint32_t>(*n);
  }
  if (const std::string* value = get("KPROF_UPLOAD_INTERVAL_SECONDS")) {
    auto n = parseUnsigned("KPROF_UPLOAD_INTERVAL_SECONDS", *value, 3600);
    if (!n)
      return n.error();
    config.upload_interval = std::chrono::seconds(*n);
  }
  if (const std::string* value = get("KPROF_LISTEN_PORT")) {
    auto n = parseUnsigned("KPROF_LISTEN_PORT", *value, 65535);
    if (!n)
      return n.error();
    config.listen_port = static_cast<uint16_t>(*n);
  }
  if (const std::string* url = get("KPROF_PYROSCOPE_URL")) {
    PyroscopeTargetConfig target;
    target.url = *url;
    if (const auto* v = get("KPROF_PYROSCOPE_TENANT_ID"))
      target.tenant_id = *v;
    if (const auto* v = get("KPROF_PYROSCOPE_BASIC_USER"))
      target.basic_user = *v;
    if (const auto* v = get("KPROF_PYROSCOPE_BASIC_PASSWORD_FILE"))
      target.basic_password_file = *v;
    if (const auto* v = get("KPROF_PYROSCOPE_BEARER_TOKEN_FILE"))
      target.bearer_token_file = *v;
    config.pyroscope = {target};
  }
  return config;
}

Status validate(const AgentConfig& config) {
  if (config.frequency_hz < 1 || config.frequency_hz > 10000) {
    return fail(ErrorCode::InvalidArgument, "frequency_hz: must be between 1 and 10000");
  }
  if (config.upload_interval < std::chrono::seconds(1)) {
    return fail(ErrorCode::InvalidArgument, "upload_interval_seconds: must be at least 1");
  }
  if (config.profile_types.empty()) {
    return fail(ErrorCode::InvalidArgument, "profile_types: at least one of cpu, wall");
  }
  for (const auto& type : config.profile_types) {
    if (type != "cpu" && type != "wall") {
      return fail(ErrorCode::InvalidArgument,
                  "profile_types: '" + type + "' is not sampled by the sidecar (cpu, wall)");
    }
  }
  if (config.engine != "auto" && config.engine != "ebpf" && config.engine != "perf") {
    return fail(ErrorCode::InvalidArgument, "engine: must be auto, ebpf or perf");
  }
  if (config.targets != "all" && config.targets != "pidns:self" &&
      config.targets.rfind("pids:", 0) != 0) {
    return fail(ErrorCode::InvalidArgument,
                "targets: must be 'pidns:self', 'all' or 'pids:PID,PID...'");
  }
  for (const auto& target : config.pyroscope) {
    if (target.url.rfind("http://", 0) != 0 && target.url.rfind("https://", 0) != 0) {
      return fail(ErrorCode::InvalidArgument,
                  "pyroscope[].url: '" + target.url + "' must start with http:// or https://");
    }
    if (!target.basic_user.empty() && !target.bearer_token_file.empty()) {
      return fail(ErrorCode::InvalidArgument,
                  "pyroscope[]: basic_user and bearer_token_file are exclusive");
    }
  }
  if (config.pyroscope.empty() && config.file_directory.empty()) {
    return fail(ErrorCode::InvalidArgument,
                "no destination: set pyroscope (KPROF_PYROSCOPE_URL) or file_directory");
  }
  return ok();
}

std::map<std::string, std::string> seriesLabels(const AgentConfig& config) {
  std::map<std::string, std::string> labels = config.extra_labels;
  const std::pair<const char*, const std::string*> known[] = {
      {"service_name", &config.service_name},
      {"env", &config.env},
      {"version", &config.version},
      {"namespace", &config.namespace_name},
      {"pod", &config.pod},
      {"container", &config.container},
  };
  for (const auto& [key, value] : known) {
    if (!value->empty()) {
      labels[key] = *value;
    }
  }
  return labels;
}

std::map<std::string, std::string> processEnvironment() {
  std::map<std::string, std::string> out;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string text(*entry);
    const size_t eq = text.find('=');
    if (eq != std::string::npos && text.rfind("KPROF_", 0) == 0) {
      out[text.substr(0, eq)] = text.substr(eq + 1);
    }
  }
  return out;
}

}  // namespace kprof::agent
