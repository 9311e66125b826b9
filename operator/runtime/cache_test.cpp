#include "operator/runtime/cache.hpp"

#include <gtest/gtest.h>

namespace kprof::runtime {
namespace {

using kube::Object;
using kube::WatchEventType;

Object pod(const std::string& ns,
           const std::string& name,
           const std::string& rv,
           Object labels = Object::object()) {
  return {{"kind", "Pod"},
          {"apiVersion", "v1"},
          {"metadata",
           {{"name", name}, {"namespace", ns}, {"resourceVersion", rv}, {"labels", labels}}},
          {"spec", {{"containers", {{{"name", "app"}, {"image", "app:1"}}}}}}};
}

TEST(Transforms, DropNoiseRemovesManagedFieldsAndLastApplied) {
  Object object = pod("ns", "a", "1");
  object["metadata"]["managedFields"] = {{{"manager", "kubectl"}}};
  object["metadata"]["annotations"] = {
      {"kubectl.kubernetes.io/last-applied-configuration", "{...}"}, {"team", "x"}};
  const Object trimmed = dropNoise(object);
  EXPECT_FALSE(trimmed["metadata"].contains("managedFields"));
  EXPECT_EQ(trimmed["metadata"]["annotations"], (Object{{"team", "x"}}));
  EXPECT_EQ(trimmed["spec"], object["spec"]);

  Object only_last_applied = pod("ns", "a", "1");
  only_last_applied["metadata"]["annotations"] = {
      {"kubectl.kubernetes.io/last-applied-configuration", "{...}"}};
  EXPECT_FALSE(dropNoise(only_last_applied)["metadata"].contains("annotations"));
  EXPECT_EQ(dropNoise(Object("not an object")), Object("not an object"));
}

TEST(Transforms, PrunePodKeepsWhatControllersRead) {
  const Object full = Object::parse(R"({
    "kind": "Pod", "apiVersion": "v1",
    "metadata": {
      "name": "web-1", "namespace": "shop", "uid": "u1", "resourceVersion": "42",
      "generation": 1, "labels": {"app": "web"},
      "annotations": {"kprof.dev/inject": "true", "team": "payments",
                      "kubectl.kubernetes.io/last-applied-configuration": "{}"},
      "ownerReferences": [{"kind": "ReplicaSet", "name": "web", "uid": "r1", "controller": true}],
      "creationTimestamp": "2023-11-14T22:13:20Z", "deletionTimestamp": "2023-11-14T22:20:00Z",
      "managedFields": [{"manager": "kubelet"}], "finalizers": ["x"]
    },
    "spec": {
      "nodeName": "node-1", "serviceAccountName": "default",
      "containers": [{"name": "app", "image": "shop:2", "env": [{"name": "A", "value": "1"}],
                      "resources": {}}],
      "volumes": [{"name": "v"}]
    },
    "status": {"phase": "Running", "podIP": "10.0.0.1", "conditions": [{"type": "Ready"}]}
  })");
  const Object expected = Object::parse(R"({
    "metadata": {
      "name": "web-1", "namespace": "shop", "uid": "u1", "resourceVersion": "42",
      "labels": {"app": "web"},
      "annotations": {"kprof.dev/inject": "true"},
      "ownerReferences": [{"kind": "ReplicaSet", "name": "web"}],
      "creationTimestamp": "2023-11-14T22:13:20Z", "deletionTimestamp": "2023-11-14T22:20:00Z"
    },
    "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": "shop:2"}]},
    "status": {"phase": "Running"}
  })");
  EXPECT_EQ(prunePodForCache(full), expected);
  // A pod that is barely there stays barely there.
  EXPECT_EQ(prunePodForCache(Object{{"metadata", {{"name", "x"}}}}),
            (Object{{"metadata", {{"name", "x"}}}}));
}

TEST(CacheKey, NamespacedAndClusterScoped) {
  EXPECT_EQ(cacheKey(pod("ns", "a", "1")), "ns/a");
  EXPECT_EQ(cacheKey(Object{{"metadata", {{"name", "node-1"}}}}), "node-1");
  EXPECT_EQ(cacheKey(Object{{"metadata", Object::object()}}), "");
  EXPECT_EQ(cacheKey(Object::array()), "");
}

TEST(Cache, ReplaceReportsWhatChanged) {
  Cache cache;
  auto changed = cache.replace({pod("ns", "a", "1"), pod("ns", "b", "2")}, "2");
  EXPECT_EQ(changed, (std::vector<std::string>{"ns/a", "ns/b"}));
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.resourceVersion(), "2");

  // b unchanged, a updated, c new, and nothing about b... then a list without b.
  changed = cache.replace({pod("ns", "a", "5"), pod("ns", "b", "2"), pod("ns", "c", "6")}, "6");
  EXPECT_EQ(changed, (std::vector<std::string>{"ns/a", "ns/c"}));
  changed = cache.replace({pod("ns", "a", "5"), pod("ns", "c", "6")}, "7");
  EXPECT_EQ(changed, (std::vector<std::string>{"ns/b"}));
  EXPECT_EQ(cache.get("ns/b"), nullptr);
  EXPECT_EQ(cache.resourceVersion(), "7");
}

TEST(Cache, AppliesWatchEvents) {
  Cache cache;
  EXPECT_EQ(cache.apply({WatchEventType::Added, pod("ns", "a", "1")}), "ns/a");
  EXPECT_EQ(cache.apply({WatchEventType::Modified, pod("ns", "a", "2", {{"x", "1"}})}), "ns/a");
  // The same version again (a re-watch may repeat it) is not a change.
  EXPECT_EQ(cache.apply({WatchEventType::Modified, pod("ns", "a", "2", {{"x", "1"}})}),
            std::nullopt);
  ASSERT_NE(cache.get("ns/a"), nullptr);
  EXPECT_EQ((*cache.get("ns/a"))["metadata"]["labels"]["x"], "1");

  const Object bookmark = {{"kind", "Pod"}, {"metadata", {{"resourceVersion", "9"}}}};
  EXPECT_EQ(cache.apply({WatchEventType::Bookmark, bookmark}), std::nullopt);
  EXPECT_EQ(cache.resourceVersion(), "9");

  EXPECT_EQ(cache.apply({WatchEventType::Deleted, pod("ns", "a", "10")}), "ns/a");
  EXPECT_EQ(cache.apply({WatchEventType::Deleted, pod("ns", "a", "11")}), std::nullopt);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.resourceVersion(), "11");
}

TEST(Cache, HandsOutSnapshotsThatDoNotChangeUnderTheReader) {
  Cache cache;
  cache.apply({WatchEventType::Added, pod("ns", "a", "1", {{"v", "1"}})});
  const Cache::Entry before = cache.get("ns/a");
  cache.apply({WatchEventType::Modified, pod("ns", "a", "2", {{"v", "2"}})});
  EXPECT_EQ((*before)["metadata"]["labels"]["v"], "1");
  EXPECT_EQ((*cache.get("ns/a"))["metadata"]["labels"]["v"], "2");
}

TEST(Cache, ListsByNamespace) {
  Cache cache;
  cache.replace({pod("ns", "a", "1"),
                 pod("ns2", "b", "2"),
                 pod("ns", "c", "3"),
                 Object{{"metadata", {{"name", "cluster-wide"}, {"resourceVersion", "4"}}}}},
                "4");
  EXPECT_EQ(cache.list().size(), 4u);
  const auto in_ns = cache.list("ns");
  ASSERT_EQ(in_ns.size(), 2u);
  EXPECT_EQ((*in_ns[0])["metadata"]["name"], "a");
  EXPECT_EQ((*in_ns[1])["metadata"]["name"], "c");
  EXPECT_EQ(cache.list("ns2").size(), 1u);
  EXPECT_TRUE(cache.list("n").empty());
  EXPECT_EQ(cache.keys(), (std::vector<std::string>{"cluster-wide", "ns/a", "ns/c", "ns2/b"}));
}

TEST(Cache, LabelIndexFollowsChanges) {
  Cache cache;
  cache.replace({pod("ns", "a", "1", {{"app", "web"}}),
                 pod("ns", "b", "2", {{"app", "web"}}),
                 pod("ns", "c", "3", {{"app", "db"}})},
                "3");
  EXPECT_EQ(cache.keysWithLabel("app", "web"), (std::vector<std::string>{"ns/a", "ns/b"}));
  EXPECT_EQ(cache.keysWithLabel("app", "db"), (std::vector<std::string>{"ns/c"}));
  EXPECT_TRUE(cache.keysWithLabel("app", "cache").empty());
  EXPECT_TRUE(cache.keysWithLabel("tier", "web").empty());

  cache.apply({WatchEventType::Modified, pod("ns", "a", "4", {{"app", "db"}})});
  cache.apply({WatchEventType::Deleted, pod("ns", "c", "5", {{"app", "db"}})});
  EXPECT_EQ(cache.keysWithLabel("app", "web"), (std::vector<std::string>{"ns/b"}));
  EXPECT_EQ(cache.keysWithLabel("app", "db"), (std::vector<std::string>{"ns/a"}));

  cache.replace({pod("ns", "d", "6", {{"app", "web"}})}, "6");
  EXPECT_EQ(cache.keysWithLabel("app", "web"), (std::vector<std::string>{"ns/d"}));
  EXPECT_TRUE(cache.keysWithLabel("app", "db").empty());
}

TEST(Cache, StoresTransformedObjects) {
  Cache pods(prunePodForCache);
  Object full = pod("ns", "a", "1", {{"app", "web"}});
  full["spec"]["volumes"] = Object::array({{{"name", "data"}}});
  pods.apply({WatchEventType::Added, full});
  EXPECT_FALSE((*pods.get("ns/a"))["spec"].contains("volumes"));
  EXPECT_EQ(pods.keysWithLabel("app", "web"), (std::vector<std::string>{"ns/a"}));
}

TEST(Cache, ApproximateBytesGrowWithContentAndShrinkWhenPruned) {
  Object big = pod("ns", "a", "1");
  for (int i = 0; i < 20; ++i) {
    big["spec"]["containers"][0]["env"].push_back(
        {{"name", "VARIABLE_" + std::to_string(i)}, {"value", std::string(100, 'x')}});
  }
  Cache full(dropNoise);
  Cache pruned(prunePodForCache);
  EXPECT_EQ(full.approximateBytes(), 0u);
  for (int i = 0; i < 10; ++i) {
    big["metadata"]["name"] = "pod-" + std::to_string(i);
    full.apply({WatchEventType::Added, big});
    pruned.apply({WatchEventType::Added, big});
  }
  const size_t serialized = big.dump().size() * 10;
  EXPECT_GT(full.approximateBytes(), serialized);  // parsed JSON takes more than its text
  EXPECT_LT(pruned.approximateBytes(), full.approximateBytes() / 4);
}

}  // namespace
}  // namespace kprof::runtime
