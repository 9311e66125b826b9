#include "operator/kube/resource_path.hpp"

#include <gtest/gtest.h>

namespace kprof::kube {
namespace {

using namespace std::chrono_literals;

TEST(ResourcePathTest, CoreGroupNamespacedObject) {
  EXPECT_EQ(*objectPath(resources::kPods, "web", "api-0"), "/api/v1/namespaces/web/pods/api-0");
  EXPECT_EQ(*objectPath(resources::kPods, "web", "api-0", "status"),
            "/api/v1/namespaces/web/pods/api-0/status");
}

TEST(ResourcePathTest, NamedGroup) {
  EXPECT_EQ(*objectPath(resources::kProfilingPolicies, "team-a", "cpu"),
            "/apis/kprof.dev/v1alpha1/namespaces/team-a/profilingpolicies/cpu");
  EXPECT_EQ(*collectionPath(resources::kLeases, "kprof"),
            "/apis/coordination.k8s.io/v1/namespaces/kprof/leases");
}

TEST(ResourcePathTest, ClusterScopedHasNoNamespaceSegment) {
  EXPECT_EQ(*objectPath(resources::kNamespaces, "", "team-a"), "/api/v1/namespaces/team-a");
  EXPECT_EQ(*collectionPath(resources::kMutatingWebhookConfigurations, ""),
            "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations");
  // A namespace handed in for a cluster-scoped type is ignored, as kubectl ignores -n.
  EXPECT_EQ(*objectPath(resources::kNamespaces, "ignored", "team-a"), "/api/v1/namespaces/team-a");
}

TEST(ResourcePathTest, AllNamespacesCollection) {
  EXPECT_EQ(*collectionPath(resources::kPods, ""), "/api/v1/pods");
  EXPECT_EQ(*collectionPath(resources::kPods, "web"), "/api/v1/namespaces/web/pods");
}

TEST(ResourcePathTest, RefusesNamesThatWouldChangeThePath) {
  for (std::string_view bad : {"", ".", "..", "a/b", "a%2Fb"}) {
    auto path = objectPath(resources::kPods, "web", bad);
    ASSERT_FALSE(path) << bad;
    EXPECT_EQ(path.error().code, ErrorCode::InvalidArgument);
  }
  EXPECT_FALSE(objectPath(resources::kPods, "../kube-system", "x"));
  EXPECT_FALSE(collectionPath(resources::kPods, "a/b"));
  EXPECT_FALSE(objectPath(resources::kPods, "web", "x", "status/../.."));
}

TEST(ResourcePathTest, NamespacedObjectNeedsANamespace) {
  auto path = objectPath(resources::kPods, "", "x");
  ASSERT_FALSE(path);
  EXPECT_EQ(path.error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(path.error().message, "pods \"x\": a namespace is required");
}

TEST(ResourcePathTest, IncompleteTypeIsRefused) {
  EXPECT_FALSE(collectionPath(ResourceType{"apps", "", "deployments", "Deployment"}, "x"));
  EXPECT_FALSE(collectionPath(ResourceType{"apps", "v1", "", "Deployment"}, "x"));
}

TEST(QueryTest, ListQueryCarriesOnlyWhatIsSet) {
  EXPECT_TRUE(listQuery({}).empty());
  Query query = listQuery({.label_selector = "app=web,tier in (a,b)",
                           .field_selector = "metadata.name=x",
                           .limit = 50,
                           .continue_token = "abc==",
                           .resource_version = "100"});
  EXPECT_EQ(query,
            (Query{{"labelSelector", "app=web,tier in (a,b)"},
                   {"fieldSelector", "metadata.name=x"},
                   {"limit", "50"},
                   {"continue", "abc=="},
                   {"resourceVersion", "100"}}));
}

TEST(QueryTest, WatchQuery) {
  WatchOptions options;
  options.resource_version = "42";
  options.label_selector = "kprof.dev/inject=true";
  options.timeout = 120s;
  EXPECT_EQ(watchQuery(options),
            (Query{{"watch", "true"},
                   {"allowWatchBookmarks", "true"},
                   {"timeoutSeconds", "120"},
                   {"resourceVersion", "42"},
                   {"labelSelector", "kprof.dev/inject=true"}}));
  options.allow_bookmarks = false;
  EXPECT_FALSE(watchQuery(options).contains("allowWatchBookmarks"));
}

TEST(QueryTest, PatchQuery) {
  EXPECT_EQ(*patchQuery(PatchType::Merge, {}), (Query{{"fieldManager", "kprof-operator"}}));
  EXPECT_EQ(*patchQuery(PatchType::Apply, {.field_manager = "mgr", .force = true}),
            (Query{{"fieldManager", "mgr"}, {"force", "true"}}));
  EXPECT_TRUE(patchQuery(PatchType::Json, {.field_manager = ""})->empty());

  auto no_manager = patchQuery(PatchType::Apply, {.field_manager = ""});
  ASSERT_FALSE(no_manager);
  EXPECT_EQ(no_manager.error().code, ErrorCode::InvalidArgument);
  EXPECT_FALSE(patchQuery(PatchType::Merge, {.force = true}));
}

TEST(QueryTest, PatchContentTypes) {
  EXPECT_EQ(patchContentType(PatchType::Merge), "application/merge-patch+json");
  EXPECT_EQ(patchContentType(PatchType::Json), "application/json-patch+json");
  EXPECT_EQ(patchContentType(PatchType::StrategicMerge), "application/strategic-merge-patch+json");
  EXPECT_EQ(patchContentType(PatchType::Apply), "application/apply-patch+yaml");
}

}  // namespace
}  // namespace kprof::kube
