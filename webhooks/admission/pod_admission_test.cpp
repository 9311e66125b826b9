#include "webhooks/admission/pod_admission.hpp"

#include <stdexcept>

#include <gtest/gtest.h>

#include "common/core/base64.hpp"

namespace kprof::webhooks {
namespace {

using nlohmann::json;

class FixedLookup : public AdmissionLookup {
 public:
  NamespaceInfo namespaceInfo(const std::string& name) override {
    if (fail) throw std::runtime_error("cache unavailable");
    asked_namespace = name;
    return {name, {{"kprof.dev/injection", "enabled"}}};
  }
  std::vector<controllers::ProfilingPolicy> policies(const std::string&) override { return {}; }

  bool fail = false;
  std::string asked_namespace;
};

json review(json object, std::string operation = "CREATE", std::string kind = "Pod") {
  return {{"apiVersion", "admission.k8s.io/v1"},
          {"kind", "AdmissionReview"},
          {"request",
           {{"uid", "705ab4f5-6393-11e8-b7cc-42010a800002"},
            {"kind", {{"group", ""}, {"version", "v1"}, {"kind", kind}}},
            {"resource", {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
            {"namespace", "shop"},
            {"operation", operation},
            {"userInfo", {{"username", "system:serviceaccount:kube-system:replicaset-controller"}}},
            {"object", std::move(object)},
            {"dryRun", false}}}};
}

json pod() {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"generateName", "cart-5c7b9-"}, {"labels", {{"app", "cart"}}}}},
          {"spec", {{"containers", {{{"name", "cart"}, {"image", "shop/cart:2.0"}}}}}}};
}

// The answer as the API server reads it: a valid AdmissionReview that allows the pod.
json responseOf(const AdmissionAnswer& answer) {
  const json body = json::parse(answer.body);
  EXPECT_EQ(body["apiVersion"], "admission.k8s.io/v1");
  EXPECT_EQ(body["kind"], "AdmissionReview");
  EXPECT_EQ(body["response"]["allowed"], true);
  return body["response"];
}

TEST(PodAdmission, InjectsAndEchoesTheUid) {
  FixedLookup lookup;
  const auto answer = admitPod(review(pod()).dump(), lookup, InjectionConfig{});
  const json response = responseOf(answer);
  EXPECT_EQ(answer.result, AdmissionResult::Mutated);
  EXPECT_EQ(response["uid"], "705ab4f5-6393-11e8-b7cc-42010a800002");
  EXPECT_EQ(response["patchType"], "JSONPatch");
  EXPECT_EQ(lookup.asked_namespace, "shop");  // from the request: the pod body has none

  auto patch_text = base64Decode(response["patch"].get<std::string>());
  ASSERT_TRUE(patch_text);
  const json mutated = pod().patch(json::parse(*patch_text));
  const auto& init = mutated["spec"]["initContainers"];
  EXPECT_TRUE(std::any_of(init.begin(), init.end(),
                          [](const json& c) { return c["name"] == "kprof-agent"; }));
  EXPECT_EQ(mutated["metadata"]["annotations"]["kprof.dev/injected"], "preload");
  // No policy selects the pod: the user is told so.
  ASSERT_TRUE(response.contains("warnings"));
  EXPECT_NE(response["warnings"][0].get<std::string>().find("no ProfilingPolicy"), std::string::npos);
}

TEST(PodAdmission, OtherOperationsAndKindsPassUnchanged) {
  FixedLookup lookup;
  for (const auto& request : {review(pod(), "UPDATE"), review(pod(), "CREATE", "Deployment")}) {
    const auto answer = admitPod(request.dump(), lookup, InjectionConfig{});
    const json response = responseOf(answer);
    EXPECT_EQ(answer.result, AdmissionResult::Unchanged);
    EXPECT_FALSE(response.contains("patch"));
    EXPECT_FALSE(response.contains("warnings"));
  }
}

TEST(PodAdmission, MalformedPodIsAllowedWithAWarning) {
  FixedLookup lookup;
  json broken = pod();
  broken["spec"]["containers"] = "cart";
  const auto answer = admitPod(review(broken).dump(), lookup, InjectionConfig{});
  const json response = responseOf(answer);
  EXPECT_EQ(answer.result, AdmissionResult::FailedOpen);
  EXPECT_EQ(response["uid"], "705ab4f5-6393-11e8-b7cc-42010a800002");
  EXPECT_FALSE(response.contains("patch"));
  EXPECT_NE(response["warnings"][0].get<std::string>().find("spec.containers"), std::string::npos);
}

TEST(PodAdmission, GarbageBodiesStillGetAValidReview) {
  FixedLookup lookup;
  for (std::string body : {std::string("{"), std::string("null"), std::string("[1,2]"),
                           std::string(R"({"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1beta1","request":{"uid":"u"}})"),
                           std::string(R"({"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{}})"),
                           std::string(R"({"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"u","operation":"CREATE","kind":{"kind":"Pod"},"object":7}})")}) {
    const auto answer = admitPod(body, lookup, InjectionConfig{});
    const json response = responseOf(answer);
    EXPECT_EQ(answer.result, AdmissionResult::FailedOpen) << body;
    EXPECT_FALSE(response.contains("patch")) << body;
    EXPECT_TRUE(response.contains("warnings")) << body;
  }
}

TEST(PodAdmission, AFailingLookupFailsOpenAndKeepsTheUid) {
  FixedLookup lookup;
  lookup.fail = true;
  const auto answer = admitPod(review(pod()).dump(), lookup, InjectionConfig{});
  const json response = responseOf(answer);
  EXPECT_EQ(answer.result, AdmissionResult::FailedOpen);
  EXPECT_EQ(response["uid"], "705ab4f5-6393-11e8-b7cc-42010a800002");
  EXPECT_NE(response["warnings"][0].get<std::string>().find("cache unavailable"), std::string::npos);
}

}  // namespace
}  // namespace kprof::webhooks
