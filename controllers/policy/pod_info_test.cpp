#include "controllers/policy/pod_info.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace kprof::controllers {
namespace {

using nlohmann::json;

TEST(ReadPodInfo, KeepsTheFieldsControllersRead) {
  auto pod = readPodInfo(json::parse(R"({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {
      "name": "checkout-7c9d-abcde", "namespace": "shop", "uid": "pod-uid-1",
      "resourceVersion": "4711", "creationTimestamp": "2024-05-01T12:00:00Z",
      "labels": {"app": "checkout", "pod-template-hash": "7c9d"},
      "annotations": {"kprof.dev/injected": "preload", "other": "x"},
      "managedFields": [{"manager": "kubelet"}]
    },
    "spec": {
      "nodeName": "node-a",
      "initContainers": [{"name": "kprof-init", "image": "kprof/agent:0.1.0"}],
      "containers": [{"name": "app", "image": "registry:5000/shop/checkout:1.4.2"},
                     {"name": "kprof-agent", "image": "kprof/agent:0.1.0"}]
    },
    "status": {"phase": "Running", "podIP": "10.0.0.7"}
  })"));
  ASSERT_TRUE(pod) << pod.error().message;
  PodInfo expected;
  expected.namespace_name = "shop";
  expected.name = "checkout-7c9d-abcde";
  expected.uid = "pod-uid-1";
  expected.resource_version = "4711";
  expected.labels = {{"app", "checkout"}, {"pod-template-hash", "7c9d"}};
  expected.annotations = {{"kprof.dev/injected", "preload"}, {"other", "x"}};
  expected.containers = {{"app", "registry:5000/shop/checkout:1.4.2"},
                         {"kprof-agent", "kprof/agent:0.1.0"}};
  expected.phase = "Running";
  expected.creation_timestamp = *parseRfc3339("2024-05-01T12:00:00Z");
  expected.node_name = "node-a";
  expected.injected = true;
  EXPECT_EQ(*pod, expected);
  EXPECT_FALSE(pod->finished());
}

TEST(ReadPodInfo, InjectedOnlyWithTheAnnotation) {
  struct Case {
    const char* annotations = nullptr;
    bool injected = false;
  };
  const std::vector<Case> cases = {
      {R"({})", false},
      {R"({"kprof.dev/injected": "true"})", true},
      {R"({"kprof.dev/injected": ""})", true},
      {R"({"kprof.dev/injected": "false"})", false},
      {R"({"kprof.dev/inject": "true"})", false},
  };
  for (const Case& c : cases) {
    auto pod = readPodInfo(
        json{{"metadata", {{"name", "p"}, {"annotations", json::parse(c.annotations)}}}});
    ASSERT_TRUE(pod);
    EXPECT_EQ(pod->injected, c.injected) << c.annotations;
  }
}

TEST(ReadPodInfo, ToleratesAMinimalPodAndNeedsAName) {
  auto pod = readPodInfo(json::parse(R"({"metadata": {"name": "p"}, "spec": [], "status": 3})"));
  ASSERT_TRUE(pod);
  EXPECT_EQ(pod->name, "p");
  EXPECT_TRUE(pod->containers.empty());
  EXPECT_FALSE(readPodInfo(json::parse(R"({"metadata": {}})")));
  for (const char* phase : {"Succeeded", "Failed"}) {
    PodInfo finished;
    finished.phase = phase;
    EXPECT_TRUE(finished.finished());
  }
}

}  // namespace
}  // namespace kprof::controllers
