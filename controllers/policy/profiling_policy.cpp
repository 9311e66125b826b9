#include "controllers/policy/profiling_policy.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "controllers/policy/kube_names.hpp"
#include "controllers/policy/object_reader.hpp"

namespace kprof::controllers {
namespace {

constexpr std::string_view kLabelValueRule =
    "must be a label value (at most 63 of A-Z a-z 0-9 - _ .)";

bool isHttpUrl(std::string_view url) {
  const size_t scheme = url.starts_with("https://") ? 8 : url.starts_with("http://") ? 7 : 0;
  if (scheme == 0 || url.size() == scheme || url.size() > 2048) {
    return false;
  }
  return std::none_of(url.begin(), url.end(), [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  });
}

bool isTenantId(std::string_view id) {
  return !id.empty() && id.size() <= 150 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           std::string_view("!._*()-").find(c) != std::string_view::npos;
  });
}

ProfileType profileTypeNamed(std::string_view name) {
  if (name == "alloc") {
    return ProfileType::Alloc;
  }
  if (name == "lock") {
    return ProfileType::Lock;
  }
  if (name == "wall") {
    return ProfileType::Wall;
  }
  return ProfileType::Cpu;
}

VersionSource readVersionSource(const ObjectReader& in) {
  VersionSource source;
  const bool by_label = in.has("podLabel");
  const bool by_tag = in.has("imageTag");
  if (by_label == by_tag) {
    in.validation().report(in.path(), "set exactly one of podLabel or imageTag");
    return source;
  }
  if (by_label) {
    source.kind = VersionSource::Kind::PodLabel;
    source.pod_label = in.string("podLabel");
    in.check("podLabel",
             isLabelKey(source.pod_label),
             "must be a label key such as app.kubernetes.io/version");
  } else {
    const ObjectReader tag = in.object("imageTag");
    source.kind = VersionSource::Kind::ImageTag;
    source.container = tag.string("container");
    tag.check("container",
              !tag.has("container") || isDnsLabel(source.container),
              "must be a container name (an RFC 1123 label)");
  }
  return source;
}

ProfileSettings readProfiles(const ObjectReader& in, AgentMode mode) {
  ProfileSettings profiles;
  const ObjectReader cpu = in.object("cpu");
  profiles.cpu.enabled = cpu.boolean("enabled", true);
  profiles.cpu.rate_hz = static_cast<int>(cpu.integer("rateHz", 100, 1, 1000));
  if (in.has("alloc")) {
    const ObjectReader alloc = in.object("alloc");
    profiles.alloc = AllocProfile{
        alloc.integer("meanSampleBytes", AllocProfile{}.mean_sample_bytes, 1024, 1'073'741'824)};
  }
  if (in.has("lock")) {
    const ObjectReader lock = in.object("lock");
    profiles.lock = LockProfile{
        lock.integer("thresholdNanos", LockProfile{}.threshold_nanos, 0, 60'000'000'000)};
  }
  profiles.wall.enabled = in.object("wall").boolean("enabled", false);

  if (mode == AgentMode::Ebpf && (profiles.alloc || profiles.lock || profiles.wall.enabled)) {
    in.validation().report(
        in.path(),
        "ebpf mode samples CPU only; remove profiles.alloc, profiles.lock and profiles.wall");
  }
  if (!profiles.cpu.enabled && !profiles.alloc && !profiles.lock && !profiles.wall.enabled) {
    in.validation().report(in.path(), "enable at least one profile type");
  }
  return profiles;
}

AuthSecretRef readAuthSecretRef(const ObjectReader& in) {
  AuthSecretRef auth;
  in.require("name");
  in.require("key");
  auth.name = in.string("name");
  in.check("name", auth.name.empty() || isDnsSubdomain(auth.name), "must be a Secret name");
  auth.key = in.string("key");
  in.check("key", auth.key.empty() || isSecretKey(auth.key), "must be a Secret key");
  auth.type = in.oneOf("type", "bearer", {"basic", "bearer"}) == "basic" ? AuthType::Basic
                                                                         : AuthType::Bearer;
  if (in.has("usernameKey")) {
    if (auth.type != AuthType::Basic) {
      in.validation().report(in.path(), "usernameKey applies to basic auth only");
    }
    auth.username_key = in.string("usernameKey");
    in.check("usernameKey", isSecretKey(auth.username_key), "must be a Secret key");
  } else if (auth.type == AuthType::Basic) {
    auth.username_key = "username";
  }
  return auth;
}

ProfileTarget readTarget(const ObjectReader& in) {
  const int sinks =
      (in.has("pyroscope") ? 1 : 0) + (in.has("store") ? 1 : 0) + (in.has("file") ? 1 : 0);
  if (sinks != 1) {
    in.validation().report(in.path(), "set exactly one of pyroscope, store or file");
  }
  if (in.has("pyroscope")) {
    const ObjectReader pyroscope = in.object("pyroscope");
    PyroscopeTarget target;
    pyroscope.require("url");
    target.url = pyroscope.string("url");
    pyroscope.check(
        "url", target.url.empty() || isHttpUrl(target.url), "must be an http:// or https:// URL");
    target.tenant_id = pyroscope.string("tenantID");
    pyroscope.check("tenantID",
                    !pyroscope.has("tenantID") || isTenantId(target.tenant_id),
                    "must be 1 to 150 of A-Z a-z 0-9 ! . _ * ( ) -");
    if (pyroscope.has("authSecretRef")) {
      target.auth = readAuthSecretRef(pyroscope.object("authSecretRef"));
    }
    return target;
  }
  if (in.has("file")) {
    const ObjectReader file = in.object("file");
    file.require("directory");
    FileTarget target{file.string("directory")};
    file.check("directory",
               target.directory.empty() || target.directory.starts_with('/'),
               "must be an absolute path");
    return target;
  }
  const ObjectReader store = in.object("store");
  StoreTarget target{store.string("url")};
  store.check(
      "url", !store.has("url") || isHttpUrl(target.url), "must be an http:// or https:// URL");
  return target;
}

SnapshotTrigger readTrigger(const ObjectReader& in) {
  SnapshotTrigger trigger;
  in.require("name");
  trigger.name = in.string("name");
  in.check("name",
           trigger.name.empty() || isDnsLabel(trigger.name),
           "must be an RFC 1123 label (lowercase alphanumerics and '-')");
  const std::vector<std::string> expressions = in.strings("alertMatchers", 16);
  for (size_t i = 0; i < expressions.size(); ++i) {
    auto matcher = parseAlertMatcher(expressions[i]);
    if (!matcher) {
      in.validation().report(in.pathOf("alertMatchers").index(i), matcher.error().message);
      continue;
    }
    trigger.matchers.push_back(std::move(*matcher));
  }
  const std::vector<ObjectReader> label_matchers = in.objects("alertLabelMatchers", 16);
  for (const ObjectReader& item : label_matchers) {
    AlertMatcher matcher;
    item.require("name");
    item.require("value");
    matcher.name = item.string("name");
    item.check("name",
               matcher.name.empty() || isProfileLabelName(matcher.name),
               "must be a label name matching [a-zA-Z_][a-zA-Z0-9_]*");
    matcher.value = item.string("value");
    auto op = parseMatchOp(item.oneOf("op", "=", {"=", "!=", "=~", "!~"}));
    matcher.op = op ? *op : MatchOp::Equal;
    trigger.matchers.push_back(std::move(matcher));
  }
  if (expressions.empty() && label_matchers.empty()) {
    in.validation().report(in.path(), "set at least one of alertMatchers or alertLabelMatchers");
  }
  trigger.duration_seconds = static_cast<int>(in.integer("durationSeconds", 30, 1, 600));
  trigger.rate_hz = static_cast<int>(in.integer("rateHz", 1000, 1, 10'000));
  if (in.has("types")) {
    trigger.types.clear();
    const std::vector<std::string> types = in.strings("types", 4);
    in.check("types", !types.empty(), "must have at least 1 item");
    for (size_t i = 0; i < types.size(); ++i) {
      const FieldPath path = in.pathOf("types").index(i);
      if (types[i] != "cpu" && types[i] != "alloc" && types[i] != "lock" && types[i] != "wall") {
        in.validation().report(path, "must be one of cpu, alloc, lock, wall");
        continue;
      }
      const ProfileType type = profileTypeNamed(types[i]);
      if (std::find(trigger.types.begin(), trigger.types.end(), type) != trigger.types.end()) {
        in.validation().report(path, "duplicate");
        continue;
      }
      trigger.types.push_back(type);
    }
  }
  trigger.cooldown_seconds = static_cast<int>(in.integer("cooldownSeconds", 300, 0, 86'400));
  trigger.max_concurrent = static_cast<int>(in.integer("maxConcurrent", 1, 1, 100));
  trigger.stop_on_resolve = in.boolean("stopOnResolve", false);
  return trigger;
}

}  // namespace

std::string_view agentModeName(AgentMode mode) {
  return mode == AgentMode::Ebpf ? "ebpf" : "preload";
}

std::string_view profileTypeName(ProfileType type) {
  switch (type) {
    case ProfileType::Cpu:
      return "cpu";
    case ProfileType::Alloc:
      return "alloc";
    case ProfileType::Lock:
      return "lock";
    case ProfileType::Wall:
      return "wall";
  }
  return "cpu";
}

Result<PolicySpec> readPolicySpec(const nlohmann::json& spec_json) {
  Validation validation;
  if (!spec_json.is_object()) {
    validation.report(FieldPath("spec"), spec_json.is_null() ? "required" : "must be an object");
    return *validation.firstProblem();
  }
  const ObjectReader in(&spec_json, FieldPath("spec"), validation);
  PolicySpec spec;

  in.require("selector");
  spec.selector = readLabelSelector(in.object("selector"));

  if (in.has("environment")) {
    spec.environment = in.string("environment");
    in.check("environment",
             !spec.environment.empty() && isLabelValue(spec.environment),
             kLabelValueRule);
  }
  if (in.has("versionFrom")) {
    spec.version_from = readVersionSource(in.object("versionFrom"));
  }
  spec.mode = in.oneOf("mode", "preload", {"preload", "ebpf"}) == "ebpf" ? AgentMode::Ebpf
                                                                         : AgentMode::Preload;
  spec.profiles = readProfiles(in.object("profiles"), spec.mode);
  spec.upload_interval_seconds = static_cast<int>(in.integer("uploadIntervalSeconds", 10, 1, 600));

  spec.labels = in.stringMap("labels", 32);
  for (const auto& [name, value] : spec.labels) {
    if (!isProfileLabelName(name)) {
      validation.report(in.pathOf("labels").key(name),
                        "must be a label name matching [a-zA-Z_][a-zA-Z0-9_]*");
    } else if (value.size() > 256) {
      validation.report(in.pathOf("labels").key(name), "must be at most 256 characters");
    }
  }

  for (const ObjectReader& target : in.objects("targets", 8)) {
    spec.targets.push_back(readTarget(target));
  }

  std::set<std::string> trigger_names;
  for (const ObjectReader& item : in.objects("snapshotTriggers", 16)) {
    SnapshotTrigger trigger = readTrigger(item);
    if (!trigger_names.insert(trigger.name).second) {
      validation.report(item.path(), "duplicate trigger name \"" + trigger.name + "\"");
    }
    spec.snapshot_triggers.push_back(std::move(trigger));
  }

  spec.rollout_percentage =
      static_cast<int>(in.object("rollout").integer("percentage", 100, 0, 100));
  const ObjectReader budget = in.object("overheadBudget");
  if (budget.has("cpuPercent")) {
    spec.overhead_cpu_percent = budget.number("cpuPercent", 0.1, 0.1, 100);
  }
  spec.priority = static_cast<int>(in.integer("priority", 0, -1000, 1000));

  if (!validation.ok()) {
    return *validation.firstProblem();
  }
  return spec;
}

Result<ProfilingPolicy> readProfilingPolicy(const nlohmann::json& resource) {
  auto metadata = readObjectMeta(resource);
  if (!metadata) {
    return metadata.error();
  }
  ProfilingPolicy policy;
  policy.metadata = std::move(*metadata);
  const auto status = resource.find("status");
  if (status != resource.end()) {
    policy.status = readPolicyStatus(*status);
  }
  if (policy.metadata.name.size() > 63) {
    // The name becomes the kprof.dev/policy label value, which Kubernetes caps at 63 characters.
    policy.spec_error = invalidField(FieldPath("metadata.name"),
                                     "must be at most 63 characters (it is the kprof.dev/policy "
                                     "label value)");
    return policy;
  }
  const auto spec = resource.find("spec");
  auto parsed = readPolicySpec(spec != resource.end() ? *spec : nlohmann::json());
  if (parsed) {
    policy.spec = std::move(*parsed);
  } else {
    policy.spec_error = parsed.error();
  }
  return policy;
}

}  // namespace kprof::controllers
