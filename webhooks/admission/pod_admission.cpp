#include "webhooks/admission/pod_admission.hpp"

#include <exception>

#include "common/core/base64.hpp"

namespace kprof::webhooks {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxWarnings = 8;
constexpr std::size_t kMaxWarningLength = 256;  // kubectl shows them; keep them readable

json reviewResponse(const std::string& uid, const MutationResult* mutation, std::vector<std::string> warnings) {
  json response{{"uid", uid}, {"allowed", true}};
  if (mutation != nullptr && !mutation->patch.empty()) {
    response["patchType"] = "JSONPatch";
    response["patch"] = base64Encode(mutation->patch.dump());
  }
  if (warnings.size() > kMaxWarnings) warnings.resize(kMaxWarnings);
  for (auto& warning : warnings) {
    if (warning.size() > kMaxWarningLength) warning = warning.substr(0, kMaxWarningLength - 3) + "...";
  }
  if (!warnings.empty()) response["warnings"] = warnings;
  return json{{"apiVersion", "admission.k8s.io/v1"},
              {"kind", "AdmissionReview"},
              {"response", std::move(response)}};
}

AdmissionAnswer failOpen(const std::string& uid, std::string reason) {
  AdmissionAnswer answer;
  answer.result = AdmissionResult::FailedOpen;
  answer.outcome = MutationOutcome::Invalid;
  answer.body = reviewResponse(uid, nullptr, {"kprof did not inject its agent: " + reason}).dump();
  answer.reason = std::move(reason);
  return answer;
}

std::string stringAt(const json& object, std::string_view key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

AdmissionAnswer review(std::string_view body,
                       AdmissionLookup& lookup,
                       const InjectionConfig& config,
                       std::string& uid) {
  const json document = json::parse(body, nullptr, false);
  if (document.is_discarded()) return failOpen("", "the request body is not JSON");
  if (!document.is_object()) return failOpen("", "the request body is not a JSON object");
  static const json kNone;
  auto found_request = document.find("request");
  const json& request = found_request != document.end() ? *found_request : kNone;
  uid = stringAt(request, "uid");
  if (stringAt(document, "kind") != "AdmissionReview" ||
      stringAt(document, "apiVersion") != "admission.k8s.io/v1") {
    return failOpen(uid, "expected an admission.k8s.io/v1 AdmissionReview");
  }
  if (!request.is_object() || uid.empty()) return failOpen(uid, "the review has no request.uid");

  AdmissionAnswer answer;
  const std::string operation = stringAt(request, "operation");
  const std::string kind = request.contains("kind") ? stringAt(request["kind"], "kind") : "";
  if (operation != "CREATE" || kind != "Pod") {
    answer.reason = "not a pod creation (" + operation + " " + kind + ")";
    answer.body = reviewResponse(uid, nullptr, {}).dump();
    return answer;
  }
  const json& pod = request.contains("object") ? request["object"] : kNone;
  std::string namespace_name = stringAt(request, "namespace");
  if (namespace_name.empty() && pod.is_object() && pod.contains("metadata")) {
    namespace_name = stringAt(pod["metadata"], "namespace");
  }
  if (namespace_name.empty()) return failOpen(uid, "the request names no namespace");

  NamespaceInfo ns = lookup.namespaceInfo(namespace_name);
  ns.name = namespace_name;
  const auto policies = lookup.policies(namespace_name);
  MutationResult mutation = mutatePod(pod, policies, ns, config);
  answer.outcome = mutation.outcome;
  answer.reason = mutation.reason;
  answer.result = mutation.outcome == MutationOutcome::Injected   ? AdmissionResult::Mutated
                  : mutation.outcome == MutationOutcome::Invalid ? AdmissionResult::FailedOpen
                                                                 : AdmissionResult::Unchanged;
  answer.body = reviewResponse(uid, &mutation, mutation.warnings).dump();
  return answer;
}

}  // namespace

std::string_view admissionResultName(AdmissionResult result) {
  switch (result) {
    case AdmissionResult::Mutated: return "mutated";
    case AdmissionResult::Unchanged: return "unchanged";
    case AdmissionResult::FailedOpen: return "failed_open";
  }
  return "failed_open";
}

AdmissionAnswer admitPod(std::string_view body, AdmissionLookup& lookup, const InjectionConfig& config) {
  // Nothing below should throw; if anything does (a lookup, an allocation), the pod still goes
  // through unchanged.
  std::string uid;
  try {
    return review(body, lookup, config, uid);
  } catch (const std::exception& error) {
    return failOpen(uid, std::string("internal error: ") + error.what());
  } catch (...) {
    return failOpen(uid, "internal error");
  }
}

}  // namespace kprof::webhooks
