#include "controllers/policy/pod_labels.hpp"

#include <cctype>

#include "controllers/policy/ownership.hpp"

namespace kprof::controllers {
namespace {

bool isAlnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

// "/metadata/labels/kprof.dev~1env": JSON pointer escaping of '~' and '/'.
std::string labelPointer(std::string_view key) {
  std::string pointer = "/metadata/labels/";
  for (char c : key) {
    if (c == '~') {
      pointer += "~0";
    } else if (c == '/') {
      pointer += "~1";
    } else {
      pointer += c;
    }
  }
  return pointer;
}

const ProfilingPolicy* findPolicy(std::span<const ProfilingPolicy* const> policies,
                                  std::string_view name) {
  for (const ProfilingPolicy* policy : policies) {
    if (policy->metadata.name == name) {
      return policy;
    }
  }
  return nullptr;
}

}  // namespace

std::string imageTag(std::string_view image) {
  const size_t at = image.find('@');
  const bool has_digest = at != std::string_view::npos;
  const std::string_view name = image.substr(0, at);
  const size_t slash = name.rfind('/');
  const size_t colon = name.rfind(':');
  // A colon before the last slash belongs to a registry port ("registry:5000/app").
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    return std::string(name.substr(colon + 1));
  }
  return has_digest ? std::string() : std::string("latest");
}

std::string toLabelValue(std::string_view text) {
  std::string value;
  for (char c : text.substr(0, 63)) {
    value += isAlnum(c) || c == '-' || c == '_' || c == '.' ? c : '_';
  }
  size_t begin = 0;
  while (begin < value.size() && !isAlnum(value[begin])) {
    ++begin;
  }
  size_t end = value.size();
  while (end > begin && !isAlnum(value[end - 1])) {
    --end;
  }
  return value.substr(begin, end - begin);
}

std::string resolveVersion(const VersionSource& source, const PodInfo& pod) {
  const auto label = [&](std::string_view key) {
    const auto it = pod.labels.find(std::string(key));
    return it != pod.labels.end() ? it->second : std::string();
  };
  const auto tag_of = [&](std::string_view container) -> std::string {
    for (const ContainerInfo& entry : pod.containers) {
      if (container.empty() || entry.name == container) {
        return imageTag(entry.image);
      }
    }
    return {};
  };
  switch (source.kind) {
    case VersionSource::Kind::PodLabel:
      return toLabelValue(label(source.pod_label));
    case VersionSource::Kind::ImageTag:
      return toLabelValue(tag_of(source.container));
    case VersionSource::Kind::Default: {
      const std::string version = label(kAppVersionLabel);
      return toLabelValue(version.empty() ? tag_of("") : version);
    }
  }
  return {};
}

Labels desiredKprofLabels(const ProfilingPolicy& owner, const PodInfo& pod) {
  Labels labels;
  if (!owner.spec.environment.empty()) {
    labels.emplace(kEnvLabel, owner.spec.environment);
  }
  const std::string version = resolveVersion(owner.spec.version_from, pod);
  if (!version.empty()) {
    labels.emplace(kVersionLabel, version);
  }
  labels.emplace(kPolicyLabel, owner.metadata.name);
  return labels;
}

std::optional<PodLabelPatch> diffKprofLabels(const PodInfo& pod,
                                             const Labels& desired,
                                             std::string only_if_policy) {
  PodLabelPatch patch;
  for (std::string_view key : {kEnvLabel, kVersionLabel, kPolicyLabel}) {
    const auto want = desired.find(std::string(key));
    const auto have = pod.labels.find(std::string(key));
    if (want != desired.end() && (have == pod.labels.end() || have->second != want->second)) {
      patch.set.emplace(key, want->second);
    } else if (want == desired.end() && have != pod.labels.end()) {
      patch.remove.emplace_back(key);
    }
  }
  if (patch.set.empty() && patch.remove.empty()) {
    return std::nullopt;
  }
  patch.pod_name = pod.name;
  patch.pod_uid = pod.uid;
  patch.resource_version = pod.resource_version;
  patch.only_if_policy = std::move(only_if_policy);
  patch.pod_has_labels = !pod.labels.empty();
  return patch;
}

std::optional<PodLabelPatch> planPodLabels(const PodInfo& pod,
                                           std::span<const ProfilingPolicy> policies) {
  std::vector<const ProfilingPolicy*> pointers;
  pointers.reserve(policies.size());
  for (const ProfilingPolicy& policy : policies) {
    pointers.push_back(&policy);
  }
  return planPodLabels(pod, std::span<const ProfilingPolicy* const>(pointers));
}

std::optional<PodLabelPatch> planPodLabels(const PodInfo& pod,
                                           std::span<const ProfilingPolicy* const> policies) {
  const PodOwnership ownership = resolveOwners(policies, pod);
  if (ownership.owner != nullptr) {
    return diffKprofLabels(pod, desiredKprofLabels(*ownership.owner, pod));
  }
  const auto labeled = pod.labels.find(std::string(kPolicyLabel));
  if (labeled == pod.labels.end()) {
    return std::nullopt;  // kprof labels without kprof.dev/policy were not written by kprof
  }
  const ProfilingPolicy* named = findPolicy(policies, labeled->second);
  if (named != nullptr && !named->valid()) {
    return std::nullopt;
  }
  return diffKprofLabels(pod, {}, labeled->second);
}

nlohmann::json toJsonPatch(const PodLabelPatch& patch) {
  nlohmann::json ops = nlohmann::json::array();
  if (!patch.pod_uid.empty()) {
    ops.push_back({{"op", "test"}, {"path", "/metadata/uid"}, {"value", patch.pod_uid}});
  }
  if (!patch.only_if_policy.empty()) {
    ops.push_back(
        {{"op", "test"}, {"path", labelPointer(kPolicyLabel)}, {"value", patch.only_if_policy}});
  }
  if (!patch.pod_has_labels) {
    if (!patch.resource_version.empty()) {
      ops.push_back({{"op", "test"},
                     {"path", "/metadata/resourceVersion"},
                     {"value", patch.resource_version}});
    }
    ops.push_back({{"op", "add"}, {"path", "/metadata/labels"}, {"value", patch.set}});
    return ops;
  }
  for (const auto& [key, value] : patch.set) {
    ops.push_back({{"op", "add"}, {"path", labelPointer(key)}, {"value", value}});
  }
  for (const std::string& key : patch.remove) {
    ops.push_back({{"op", "remove"}, {"path", labelPointer(key)}});
  }
  return ops;
}

nlohmann::json toJson(const PodLabelPatch& patch) {
  nlohmann::json out = {{"pod", patch.pod_name}, {"uid", patch.pod_uid}};
  if (!patch.set.empty()) {
    out["set"] = patch.set;
  }
  if (!patch.remove.empty()) {
    out["remove"] = patch.remove;
  }
  if (!patch.only_if_policy.empty()) {
    out["onlyIfPolicy"] = patch.only_if_policy;
  }
  if (!patch.pod_has_labels) {
    out["createsLabels"] = true;
  }
  return out;
}

}  // namespace kprof::controllers
