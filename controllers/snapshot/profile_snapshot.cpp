#include "controllers/snapshot/profile_snapshot.hpp"

#include <array>
#include <cstdio>

#include <openssl/evp.h>

#include "controllers/policy/object_reader.hpp"
#include "controllers/policy/rfc3339.hpp"

namespace kprof::controllers {
namespace {

using nlohmann::json;

constexpr size_t kMaxPods = 256;  // the CRD's limit

SnapshotSpec readSpec(const ObjectReader& in) {
  SnapshotSpec spec;
  spec.policy = in.object("policyRef").string("name");
  spec.trigger = in.string("trigger");
  if (in.has("alert")) {
    const ObjectReader alert = in.object("alert");
    spec.alert = SnapshotAlert{alert.string("name"), alert.string("fingerprint"),
                               alert.string("startsAt"), alert.stringMap("labels", 64)};
  }
  const ObjectReader targets = in.object("targets");
  in.require("targets");
  spec.target_namespace = targets.string("namespace");
  spec.pods = targets.strings("pods", kMaxPods);
  targets.check("pods", !spec.pods.empty(), "must name at least one pod");
  spec.duration_seconds = static_cast<int>(in.integer("durationSeconds", 30, 1, 600));
  if (in.has("types")) {
    spec.types = in.strings("types", 4);
    bool known = !spec.types.empty();
    for (const std::string& type : spec.types) known = known && snapshot::isProfileType(type);
    in.check("types", known, "must list cpu, alloc, lock or wall");
  }
  spec.rate_hz = static_cast<int>(in.integer("rateHz", 1000, 1, 10'000));
  return spec;
}

std::optional<WallTime> timeField(const json& status, const char* key) {
  const auto found = status.find(key);
  if (found == status.end() || !found->is_string()) return std::nullopt;
  auto time = parseRfc3339(found->get<std::string>());
  return time ? std::optional<WallTime>(*time) : std::nullopt;
}

// Status as last written; what does not parse is left out and planned again.
SnapshotStatus readStatus(const json& status) {
  SnapshotStatus out;
  if (!status.is_object()) return out;
  if (auto phase = status.find("phase"); phase != status.end() && phase->is_string()) {
    if (auto parsed = snapshot::parsePhase(phase->get<std::string>())) out.phase = *parsed;
  }
  out.started_at = timeField(status, "startedAt");
  out.completed_at = timeField(status, "completedAt");
  out.snapshot_id = status.value("snapshotID", "");
  out.query_url = status.value("queryURL", "");
  const json pods = status.value("pods", json::array());
  for (const json& pod : pods) {
    if (!pod.is_object() || !pod.value("name", json()).is_string()) continue;
    PodSnapshotResult result;
    result.name = pod["name"].get<std::string>();
    auto phase = snapshot::parsePhase(pod.value("phase", ""));
    if (!phase) continue;
    result.phase = *phase;
    result.message = pod.value("message", "");
    if (auto started = timeField(pod, "startedAt")) {
      result.started_at_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(started->time_since_epoch())
              .count();
    }
    for (const json& profile : pod.value("profiles", json::array())) {
      if (!profile.is_object()) continue;
      result.profiles.push_back({profile.value("type", ""), profile.value("samples", int64_t{0}),
                                 profile.value("bytes", int64_t{0})});
    }
    out.pods.push_back(std::move(result));
  }
  return out;
}

}  // namespace

// Milliseconds keep the per-pod start precise enough to measure alert-to-capture latency.
std::string formatRfc3339Millis(int64_t unix_ms) {
  const WallTime time{std::chrono::milliseconds(unix_ms)};
  std::string text = formatRfc3339(time);  // …:SSZ
  char fraction[8];
  std::snprintf(fraction, sizeof fraction, ".%03d", static_cast<int>(((unix_ms % 1000) + 1000) % 1000));
  text.insert(text.size() - 1, fraction);
  return text;
}

Result<ProfileSnapshot> readProfileSnapshot(const json& resource) {
  auto metadata = readObjectMeta(resource);
  if (!metadata) return Unexpected{metadata.error()};
  Validation validation;
  const json* spec_json = resource.is_object() && resource.contains("spec") ? &resource["spec"] : nullptr;
  ObjectReader spec(spec_json, FieldPath("spec"), validation);
  ProfileSnapshot snapshot{std::move(*metadata), readSpec(spec), {}};
  if (!validation.ok()) return Unexpected{*validation.firstProblem()};
  if (resource.is_object() && resource.contains("status")) {
    snapshot.status = readStatus(resource["status"]);
  }
  return snapshot;
}

std::string snapshotId(std::string_view ns, std::string_view name) {
  return std::string(ns) + "." + std::string(name);
}

json buildSnapshotResource(const NewSnapshot& in) {
  json metadata = {{"name", in.name}, {"namespace", in.namespace_name}};
  const SnapshotSpec& spec = in.spec;
  json spec_json = {{"targets", {{"pods", spec.pods}}},
                    {"durationSeconds", spec.duration_seconds},
                    {"types", spec.types},
                    {"rateHz", spec.rate_hz}};
  if (!spec.target_namespace.empty()) spec_json["targets"]["namespace"] = spec.target_namespace;
  if (!spec.policy.empty()) {
    spec_json["policyRef"] = {{"name", spec.policy}};
    metadata["labels"][std::string(kPolicyLabel)] = spec.policy;
    if (!in.policy_uid.empty()) {
      // Deleting the policy deletes its snapshots.
      metadata["ownerReferences"] = {{{"apiVersion", "kprof.dev/v1alpha1"},
                                      {"kind", "ProfilingPolicy"},
                                      {"name", spec.policy},
                                      {"uid", in.policy_uid},
                                      {"controller", true}}};
    }
  }
  if (!spec.trigger.empty()) {
    spec_json["trigger"] = spec.trigger;
    metadata["labels"][std::string(kTriggerLabel)] = spec.trigger;
  }
  if (spec.alert) {
    json alert = {{"name", spec.alert->name}, {"labels", spec.alert->labels}};
    if (!spec.alert->fingerprint.empty()) alert["fingerprint"] = spec.alert->fingerprint;
    if (!spec.alert->starts_at.empty()) alert["startsAt"] = spec.alert->starts_at;
    spec_json["alert"] = std::move(alert);
  }
  if (!in.annotations.empty()) metadata["annotations"] = in.annotations;
  return {{"apiVersion", "kprof.dev/v1alpha1"},
          {"kind", "ProfileSnapshot"},
          {"metadata", std::move(metadata)},
          {"spec", std::move(spec_json)}};
}

json snapshotStatusJson(const SnapshotStatus& status) {
  json out = json::object();
  if (status.phase) out["phase"] = snapshot::phaseName(*status.phase);
  if (status.started_at) out["startedAt"] = formatRfc3339(*status.started_at);
  if (status.completed_at) out["completedAt"] = formatRfc3339(*status.completed_at);
  if (!status.snapshot_id.empty()) out["snapshotID"] = status.snapshot_id;
  if (!status.query_url.empty()) out["queryURL"] = status.query_url;
  json pods = json::array();
  for (const PodSnapshotResult& pod : status.pods) {
    json entry = {{"name", pod.name}, {"phase", snapshot::phaseName(pod.phase)}};
    if (!pod.message.empty()) entry["message"] = pod.message;
    if (pod.started_at_ms > 0) entry["startedAt"] = formatRfc3339Millis(pod.started_at_ms);
    json profiles = json::array();
    for (const auto& profile : pod.profiles) {
      profiles.push_back({{"type", profile.type}, {"samples", profile.samples}, {"bytes", profile.bytes}});
    }
    if (!profiles.empty()) entry["profiles"] = std::move(profiles);
    pods.push_back(std::move(entry));
  }
  if (!pods.empty()) out["pods"] = std::move(pods);
  return out;
}

std::string shortHash(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < 5 && i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

}  // namespace kprof::controllers
