#include "controllers/policy/pod_labels.hpp"

#include <vector>

#include <gtest/gtest.h>

#include "controllers/policy/test_fixtures.hpp"

namespace kprof::controllers {
namespace {

using nlohmann::json;
using testing::makePod;
using testing::makePolicy;

TEST(ImageTag, ReadsTheTagOfAnyReference) {
  struct Case {
    const char* image = nullptr;
    const char* tag = nullptr;
  };
  const std::vector<Case> cases = {
      {"nginx:1.25", "1.25"},
      {"nginx", "latest"},
      {"shop/checkout:v1.4.2", "v1.4.2"},
      {"registry:5000/shop/checkout:1.4.2", "1.4.2"},
      {"registry:5000/shop/checkout", "latest"},
      {"ghcr.io/a/b:2.0@sha256:abcd", "2.0"},
      {"ghcr.io/a/b@sha256:abcd", ""},
      {"", "latest"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(imageTag(c.image), c.tag) << c.image;
  }
}

TEST(ToLabelValue, MakesAnyTextALabelValue) {
  struct Case {
    const char* text = nullptr;
    const char* value = nullptr;
  };
  const std::vector<Case> cases = {
      {"1.4.2", "1.4.2"},
      {"v1.4.2+build.7", "v1.4.2_build.7"},
      {"-rc1-", "rc1"},
      {"__", ""},
      {"", ""},
      {"release/2024 05", "release_2024_05"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(toLabelValue(c.text), c.value) << c.text;
  }
  EXPECT_EQ(toLabelValue(std::string(70, 'a')), std::string(63, 'a'));
  EXPECT_EQ(toLabelValue(std::string(62, 'a') + "._z"), std::string(62, 'a'));
}

TEST(ResolveVersion, FollowsTheConfiguredSource) {
  PodInfo pod = makePod("api", {{"app.kubernetes.io/version", "2.1.0"}, {"release", "r7"}});
  pod.containers = {{"app", "shop/api:1.9"}, {"server", "shop/server:3.3@sha256:ff"}};
  PodInfo unlabeled = pod;
  unlabeled.labels.clear();
  using Kind = VersionSource::Kind;
  struct Case {
    const char* name = nullptr;
    VersionSource source;
    const PodInfo* pod = nullptr;
    const char* version = nullptr;
  };
  const std::vector<Case> cases = {
      {"default prefers app.kubernetes.io/version", {}, &pod, "2.1.0"},
      {"default falls back to the first image tag", {}, &unlabeled, "1.9"},
      {"pod label", {Kind::PodLabel, "release", ""}, &pod, "r7"},
      {"missing pod label gives none", {Kind::PodLabel, "release", ""}, &unlabeled, ""},
      {"first container's tag", {Kind::ImageTag, "", ""}, &pod, "1.9"},
      {"named container's tag", {Kind::ImageTag, "", "server"}, &pod, "3.3"},
      {"missing container gives none", {Kind::ImageTag, "", "sidecar"}, &pod, ""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(resolveVersion(c.source, *c.pod), c.version) << c.name;
  }
}

TEST(DesiredKprofLabels, EnvVersionAndPolicy) {
  const auto with_env = makePolicy("checkout", R"({"selector": {}, "environment": "prod"})");
  const auto without_env = makePolicy("checkout", R"({"selector": {}})");
  PodInfo digest_only = makePod("api");
  digest_only.containers = {{"app", "shop/app@sha256:ff"}};
  EXPECT_EQ(desiredKprofLabels(with_env, makePod("api")),
            (Labels{{"kprof.dev/env", "prod"},
                    {"kprof.dev/version", "1.0"},
                    {"kprof.dev/policy", "checkout"}}));
  EXPECT_EQ(desiredKprofLabels(without_env, digest_only),
            (Labels{{"kprof.dev/policy", "checkout"}}));
}

TEST(DiffKprofLabels, TouchesOnlyWhatDiffers) {
  const PodInfo pod = makePod("api",
                              {{"app", "api"},
                               {"kprof.dev/env", "staging"},
                               {"kprof.dev/version", "1.0"},
                               {"kprof.dev/policy", "checkout"}});
  EXPECT_EQ(diffKprofLabels(pod,
                            {{"kprof.dev/env", "staging"},
                             {"kprof.dev/version", "1.0"},
                             {"kprof.dev/policy", "checkout"}}),
            std::nullopt);

  auto change = diffKprofLabels(pod, {{"kprof.dev/env", "prod"}, {"kprof.dev/policy", "checkout"}});
  ASSERT_TRUE(change);
  EXPECT_EQ(toJson(*change), json::parse(R"({
    "pod": "api", "uid": "api", "set": {"kprof.dev/env": "prod"}, "remove": ["kprof.dev/version"]
  })"));

  auto removal = diffKprofLabels(pod, {}, "checkout");
  ASSERT_TRUE(removal);
  EXPECT_EQ(toJson(*removal), json::parse(R"({
    "pod": "api", "uid": "api", "onlyIfPolicy": "checkout",
    "remove": ["kprof.dev/env", "kprof.dev/version", "kprof.dev/policy"]
  })"));
}

TEST(PlanPodLabels, LabelsOwnedPodsAndCleansUpAfterPolicies) {
  const std::vector<ProfilingPolicy> policies = {
      makePolicy("checkout",
                 R"({"selector": {"matchLabels": {"app": "checkout"}}, "environment": "prod"})"),
      makePolicy("broken", R"({"selector": {"matchLabels": {"app": "broken"}}, "mode": "perf"})"),
  };
  struct Case {
    const char* name = nullptr;
    PodInfo pod;
    std::optional<json> patch;
  };
  const std::vector<Case> cases = {
      {"owned pod gets its labels",
       makePod("a", {{"app", "checkout"}}),
       json::parse(R"({"pod": "a", "uid": "a", "set": {"kprof.dev/env": "prod",
                       "kprof.dev/version": "1.0", "kprof.dev/policy": "checkout"}})")},
      {"owned pod already labeled",
       makePod("b",
               {{"app", "checkout"},
                {"kprof.dev/env", "prod"},
                {"kprof.dev/version", "1.0"},
                {"kprof.dev/policy", "checkout"}}),
       std::nullopt},
      {"pod no longer selected loses the labels, guarded by the policy name",
       makePod("c", {{"app", "cart"}, {"kprof.dev/env", "prod"}, {"kprof.dev/policy", "checkout"}}),
       json::parse(R"({"pod": "c", "uid": "c", "onlyIfPolicy": "checkout",
                       "remove": ["kprof.dev/env", "kprof.dev/policy"]})")},
      {"labels of a deleted policy are removed",
       makePod("d", {{"app", "cart"}, {"kprof.dev/policy", "gone"}}),
       json::parse(R"({"pod": "d", "uid": "d", "onlyIfPolicy": "gone",
                       "remove": ["kprof.dev/policy"]})")},
      {"labels of an invalid policy stay until it is fixed",
       makePod("e", {{"app", "broken"}, {"kprof.dev/policy", "broken"}}),
       std::nullopt},
      {"kprof labels a user set by hand are not ours to remove",
       makePod("f", {{"app", "cart"}, {"kprof.dev/env", "dev"}}),
       std::nullopt},
  };
  for (const Case& c : cases) {
    auto patch = planPodLabels(c.pod, policies);
    ASSERT_EQ(patch.has_value(), c.patch.has_value()) << c.name;
    if (patch) {
      EXPECT_EQ(toJson(*patch), *c.patch) << c.name;
    }
  }
}

TEST(ToJsonPatch, GuardsEveryChange) {
  PodLabelPatch patch;
  patch.pod_name = "api";
  patch.pod_uid = "uid-1";
  patch.resource_version = "42";
  patch.set = {{"kprof.dev/env", "prod"}};
  patch.remove = {"kprof.dev/version"};
  patch.only_if_policy = "checkout";
  EXPECT_EQ(toJsonPatch(patch), json::parse(R"([
    {"op": "test", "path": "/metadata/uid", "value": "uid-1"},
    {"op": "test", "path": "/metadata/labels/kprof.dev~1policy", "value": "checkout"},
    {"op": "add", "path": "/metadata/labels/kprof.dev~1env", "value": "prod"},
    {"op": "remove", "path": "/metadata/labels/kprof.dev~1version"}
  ])"));

  PodLabelPatch create;
  create.pod_name = "bare";
  create.pod_uid = "uid-2";
  create.resource_version = "43";
  create.set = {{"kprof.dev/policy", "checkout"}};
  create.pod_has_labels = false;
  EXPECT_EQ(toJsonPatch(create), json::parse(R"([
    {"op": "test", "path": "/metadata/uid", "value": "uid-2"},
    {"op": "test", "path": "/metadata/resourceVersion", "value": "43"},
    {"op": "add", "path": "/metadata/labels", "value": {"kprof.dev/policy": "checkout"}}
  ])"));
}

}  // namespace
}  // namespace kprof::controllers
