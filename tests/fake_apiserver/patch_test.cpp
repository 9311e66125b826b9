#include "tests/fake_apiserver/patch.hpp"

#include <gtest/gtest.h>

namespace kprof::testing {
namespace {

using nlohmann::json;

json pod() {
  return json::parse(R"({
    "metadata": {"name": "web", "labels": {"app": "web"}, "finalizers": ["a"]},
    "spec": {
      "containers": [
        {"name": "app", "image": "app:1", "env": [{"name": "A", "value": "1"}],
         "volumeMounts": [{"name": "data", "mountPath": "/data"}],
         "ports": [{"containerPort": 80, "protocol": "TCP"}]},
        {"name": "sidecar", "image": "side:1"}
      ],
      "volumes": [{"name": "data", "emptyDir": {}}],
      "tolerations": [{"key": "x"}]
    }
  })");
}

TEST(MergePatchTest, MergesObjectsAndNullDeletes) {
  auto result = applyMergePatch(pod(), json::parse(R"({
    "metadata": {"labels": {"app": null, "env": "prod"}},
    "spec": {"tolerations": [{"key": "y"}]}
  })"));
  ASSERT_TRUE(result);
  EXPECT_EQ((*result)["metadata"]["labels"], json({{"env", "prod"}}));
  // Lists are replaced whole.
  EXPECT_EQ((*result)["spec"]["tolerations"], json::parse(R"([{"key": "y"}])"));
  EXPECT_EQ((*result)["spec"]["containers"].size(), 2u);
}

TEST(MergePatchTest, RejectsNonObjectPatch) {
  auto result = applyMergePatch(pod(), json::array());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::Parse);
}

TEST(JsonPatchTest, AllOperations) {
  auto result = applyJsonPatch(pod(), json::parse(R"([
    {"op": "add", "path": "/metadata/labels/tier", "value": "front"},
    {"op": "replace", "path": "/spec/containers/0/image", "value": "app:2"},
    {"op": "remove", "path": "/spec/tolerations"},
    {"op": "copy", "from": "/metadata/labels/app", "path": "/metadata/labels/copied"},
    {"op": "move", "from": "/metadata/labels/tier", "path": "/metadata/labels/moved"},
    {"op": "add", "path": "/metadata/finalizers/-", "value": "b"},
    {"op": "add", "path": "/metadata/finalizers/0", "value": "first"},
    {"op": "test", "path": "/spec/containers/1/name", "value": "sidecar"}
  ])"));
  ASSERT_TRUE(result) << result.error().toString();
  EXPECT_EQ((*result)["metadata"]["labels"],
            json({{"app", "web"}, {"copied", "web"}, {"moved", "front"}}));
  EXPECT_EQ((*result)["spec"]["containers"][0]["image"], "app:2");
  EXPECT_FALSE((*result)["spec"].contains("tolerations"));
  EXPECT_EQ((*result)["metadata"]["finalizers"], json({"first", "a", "b"}));
}

TEST(JsonPatchTest, PointerEscapes) {
  auto result = applyJsonPatch(pod(), json::parse(R"([
    {"op": "add", "path": "/metadata/labels/kprof.dev~1policy", "value": "checkout"},
    {"op": "add", "path": "/metadata/labels/a~0b", "value": "tilde"}
  ])"));
  ASSERT_TRUE(result) << result.error().toString();
  EXPECT_EQ((*result)["metadata"]["labels"]["kprof.dev/policy"], "checkout");
  EXPECT_EQ((*result)["metadata"]["labels"]["a~b"], "tilde");
  auto removed = applyJsonPatch(
      *result, json::parse(R"([{"op": "remove", "path": "/metadata/labels/kprof.dev~1policy"}])"));
  ASSERT_TRUE(removed);
  EXPECT_FALSE((*removed)["metadata"]["labels"].contains("kprof.dev/policy"));
}

TEST(JsonPatchTest, FailedTestAndMissingPathsCannotApply) {
  for (const char* patch : {R"([{"op": "test", "path": "/metadata/name", "value": "db"}])",
                            R"([{"op": "remove", "path": "/metadata/annotations"}])",
                            R"([{"op": "replace", "path": "/spec/missing", "value": 1}])",
                            R"([{"op": "add", "path": "/no/parent", "value": 1}])",
                            R"([{"op": "add", "path": "/spec/containers/5", "value": {}}])",
                            R"([{"op": "move", "from": "/spec", "path": "/spec/inner"}])",
                            R"([{"op": "add", "path": "no-slash", "value": 1}])"}) {
    auto result = applyJsonPatch(pod(), json::parse(patch));
    ASSERT_FALSE(result) << patch;
    EXPECT_EQ(result.error().code, ErrorCode::InvalidArgument) << patch;
  }
}

TEST(JsonPatchTest, MalformedPatchesAreParseErrors) {
  for (const char* patch : {R"({"op": "add"})",
                            R"([{"path": "/a", "value": 1}])",
                            R"([{"op": "frobnicate", "path": "/a"}])",
                            R"([{"op": "add", "path": "/a"}])",
                            R"([{"op": "move", "path": "/a"}])"}) {
    auto result = applyJsonPatch(pod(), json::parse(patch));
    ASSERT_FALSE(result) << patch;
    EXPECT_EQ(result.error().code, ErrorCode::Parse) << patch;
  }
}

TEST(StrategicMergePatchTest, MergesContainersByName) {
  auto result = applyStrategicMergePatch(pod(), json::parse(R"({
    "spec": {"containers": [
      {"name": "app", "image": "app:2", "env": [{"name": "B", "value": "2"}]},
      {"name": "agent", "image": "kprof:1"}
    ]}
  })"));
  ASSERT_TRUE(result) << result.error().toString();
  const json& containers = (*result)["spec"]["containers"];
  ASSERT_EQ(containers.size(), 3u);
  EXPECT_EQ(containers[0]["image"], "app:2");
  EXPECT_EQ(containers[0]["env"],
            json::parse(R"([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])"));
  EXPECT_EQ(containers[0]["volumeMounts"].size(), 1u);  // untouched fields stay
  EXPECT_EQ(containers[1]["name"], "sidecar");
  EXPECT_EQ(containers[2]["name"], "agent");
}

TEST(StrategicMergePatchTest, DeleteAndReplaceDirectives) {
  auto result = applyStrategicMergePatch(pod(), json::parse(R"({
    "metadata": {"labels": {"$patch": "replace", "only": "this"}},
    "spec": {
      "containers": [{"name": "sidecar", "$patch": "delete"}],
      "volumes": [{"$patch": "replace"}, {"name": "cache", "emptyDir": {}}],
      "$setElementOrder/containers": [{"name": "app"}]
    }
  })"));
  ASSERT_TRUE(result) << result.error().toString();
  EXPECT_EQ((*result)["metadata"]["labels"], json({{"only", "this"}}));
  ASSERT_EQ((*result)["spec"]["containers"].size(), 1u);
  EXPECT_EQ((*result)["spec"]["containers"][0]["name"], "app");
  EXPECT_EQ((*result)["spec"]["volumes"], json::parse(R"([{"name": "cache", "emptyDir": {}}])"));
  EXPECT_FALSE((*result)["spec"].contains("$setElementOrder/containers"));
}

TEST(StrategicMergePatchTest, VolumeMountsMergeByMountPathAndPortsByContainerPort) {
  auto result = applyStrategicMergePatch(pod(), json::parse(R"({
    "spec": {"containers": [{"name": "app",
      "volumeMounts": [{"name": "data2", "mountPath": "/data"}, {"name": "x", "mountPath": "/x"}],
      "ports": [{"containerPort": 80, "name": "http"}]}]}
  })"));
  ASSERT_TRUE(result);
  const json& app = (*result)["spec"]["containers"][0];
  EXPECT_EQ(app["volumeMounts"],
            json::parse(
                R"([{"name": "data2", "mountPath": "/data"}, {"name": "x", "mountPath": "/x"}])"));
  EXPECT_EQ(app["ports"],
            json::parse(R"([{"containerPort": 80, "protocol": "TCP", "name": "http"}])"));
}

TEST(StrategicMergePatchTest, FinalizersMergeAsASetAndCanBeDeleted) {
  auto added =
      applyStrategicMergePatch(pod(), json::parse(R"({"metadata": {"finalizers": ["a", "b"]}})"));
  ASSERT_TRUE(added);
  EXPECT_EQ((*added)["metadata"]["finalizers"], json({"a", "b"}));
  auto removed = applyStrategicMergePatch(
      *added, json::parse(R"({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}})"));
  ASSERT_TRUE(removed);
  EXPECT_EQ((*removed)["metadata"]["finalizers"], json({"b"}));
}

TEST(StrategicMergePatchTest, ListItemWithoutMergeKeyCannotApply) {
  auto result =
      applyStrategicMergePatch(pod(), json::parse(R"({"spec": {"containers": [{"image": "x"}]}})"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::InvalidArgument);
}

TEST(ApplyConfigurationTest, MergesWithoutDirectives) {
  auto result = applyConfiguration(pod(), json::parse(R"({
    "metadata": {"labels": {"env": "prod"}},
    "spec": {"containers": [{"name": "app", "image": "app:3"}]}
  })"));
  ASSERT_TRUE(result);
  EXPECT_EQ((*result)["metadata"]["labels"], json({{"app", "web"}, {"env", "prod"}}));
  EXPECT_EQ((*result)["spec"]["containers"][0]["image"], "app:3");
  EXPECT_EQ((*result)["spec"]["containers"].size(), 2u);
}

}  // namespace
}  // namespace kprof::testing
