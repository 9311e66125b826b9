// libFuzzer over AdmissionReview bodies: whatever arrives, the answer must be a valid
// AdmissionReview that allows the pod, and a patch, when there is one, must apply to the object.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/core/base64.hpp"
#include "webhooks/admission/pod_admission.hpp"

namespace {

using nlohmann::json;

class EnabledNamespace : public kprof::webhooks::AdmissionLookup {
 public:
  kprof::webhooks::NamespaceInfo namespaceInfo(const std::string& name) override {
    return {name, {{"kprof.dev/injection", "enabled"}, {"pod-security.kubernetes.io/enforce", "privileged"}}};
  }
  std::vector<kprof::controllers::ProfilingPolicy> policies(const std::string& ns) override {
    auto policy = kprof::controllers::readProfilingPolicy(json{
        {"apiVersion", "kprof.dev/v1alpha1"},
        {"kind", "ProfilingPolicy"},
        {"metadata", {{"name", "all"}, {"namespace", ns}, {"uid", "u1"}, {"generation", 1}}},
        {"spec", {{"selector", json::object()}, {"environment", "fuzz"}}}});
    if (!policy) std::abort();
    return {*policy};
  }
};

void check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  EnabledNamespace lookup;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto answer = kprof::webhooks::admitPod(body, lookup, kprof::webhooks::InjectionConfig{});

  const json review = json::parse(answer.body, nullptr, false);
  check(!review.is_discarded() && review.is_object());
  check(review.value("apiVersion", "") == "admission.k8s.io/v1");
  check(review.value("kind", "") == "AdmissionReview");
  const json& response = review["response"];
  check(response.is_object() && response.value("allowed", false) == true);
  check(response.contains("uid") && response["uid"].is_string());
  if (response.contains("patch")) {
    check(response.value("patchType", "") == "JSONPatch");
    auto text = kprof::base64Decode(response["patch"].get<std::string>());
    check(text.hasValue());
    const json patch = json::parse(*text, nullptr, false);
    check(patch.is_array() && !patch.empty());
    const json request = json::parse(body, nullptr, false);
    try {
      (void)request["request"]["object"].patch(patch);
    } catch (...) {
      std::abort();  // a patch that does not apply to the object it came from
    }
  }
  return 0;
}
