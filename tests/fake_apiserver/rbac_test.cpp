#include "tests/fake_apiserver/rbac.hpp"

#include <gtest/gtest.h>

namespace kprof::testing {
namespace {

using nlohmann::json;

const std::string kOperator = "system:serviceaccount:kprof-system:kprof-operator";

json rule(json groups, json resources, json verbs, json names = json()) {
  json out = {{"apiGroups", std::move(groups)},
              {"resources", std::move(resources)},
              {"verbs", std::move(verbs)}};
  if (!names.is_null()) {
    out["resourceNames"] = std::move(names);
  }
  return out;
}

json role(const std::string& ns, const std::string& name, json rules) {
  json metadata = {{"name", name}};
  if (!ns.empty()) {
    metadata["namespace"] = ns;
  }
  return {{"metadata", metadata}, {"rules", std::move(rules)}};
}

json binding(const std::string& ns, const std::string& role_kind, const std::string& role_name,
             json subjects) {
  json metadata = {{"name", role_name}};
  if (!ns.empty()) {
    metadata["namespace"] = ns;
  }
  return {{"metadata", metadata},
          {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"},
                       {"kind", role_kind},
                       {"name", role_name}}},
          {"subjects", std::move(subjects)}};
}

json operatorAccount() {
  return {{"kind", "ServiceAccount"}, {"name", "kprof-operator"}, {"namespace", "kprof-system"}};
}

RequestAttributes asOperator(std::string verb, std::string resource, std::string ns = "",
                             std::string name = "", std::string group = "") {
  return {.user = kOperator,
          .groups = {"system:serviceaccounts", "system:authenticated"},
          .verb = std::move(verb),
          .api_group = std::move(group),
          .resource = std::move(resource),
          .ns = std::move(ns),
          .name = std::move(name)};
}

TEST(Rbac, AClusterRoleBindingGrantsItsRulesInEveryNamespaceAndNothingElse) {
  RbacPolicy policy;
  policy.cluster_roles = {
      role("", "pods", json::array({rule({""}, {"pods"}, {"get", "list", "patch"})}))};
  policy.cluster_role_bindings = {
      binding("", "ClusterRole", "pods", json::array({operatorAccount()}))};

  EXPECT_TRUE(rbacAllows(policy, asOperator("patch", "pods", "shop", "web")));
  EXPECT_TRUE(rbacAllows(policy, asOperator("list", "pods")));
  EXPECT_FALSE(rbacAllows(policy, asOperator("delete", "pods", "shop", "web")));
  EXPECT_FALSE(rbacAllows(policy, asOperator("get", "secrets", "shop", "token")));
  RequestAttributes other = asOperator("get", "pods", "shop", "web");
  other.user = "system:serviceaccount:shop:default";
  EXPECT_FALSE(rbacAllows(policy, other));
}

TEST(Rbac, ARoleBindingGrantsOnlyInsideItsNamespaceEvenForAClusterRole) {
  RbacPolicy policy;
  policy.roles = {role("kprof-system", "leases",
                       json::array({rule({"coordination.k8s.io"}, {"leases"}, {"get", "update"})}))};
  policy.cluster_roles = {role("", "secrets", json::array({rule({""}, {"secrets"}, {"get"})}))};
  // The subject's namespace defaults to the binding's.
  json account = {{"kind", "ServiceAccount"}, {"name", "kprof-operator"}};
  policy.role_bindings = {binding("kprof-system", "Role", "leases", json::array({account})),
                          binding("kprof-system", "ClusterRole", "secrets", json::array({account}))};

  EXPECT_TRUE(rbacAllows(policy, asOperator("update", "leases", "kprof-system", "kprof-operator",
                                            "coordination.k8s.io")));
  EXPECT_FALSE(rbacAllows(policy, asOperator("update", "leases", "shop", "kprof-operator",
                                             "coordination.k8s.io")));
  EXPECT_TRUE(rbacAllows(policy, asOperator("get", "secrets", "kprof-system", "tls")));
  EXPECT_FALSE(rbacAllows(policy, asOperator("get", "secrets", "shop", "tls")));
  EXPECT_FALSE(rbacAllows(policy, asOperator("list", "secrets")));  // all namespaces
}

TEST(Rbac, ASubresourceNeedsItsOwnRule) {
  RbacPolicy policy;
  policy.cluster_roles = {role("", "policies",
                               json::array({rule({"kprof.dev"}, {"profilingpolicies"},
                                                 {"get", "update"})}))};
  policy.cluster_role_bindings = {
      binding("", "ClusterRole", "policies", json::array({operatorAccount()}))};
  RequestAttributes status = asOperator("update", "profilingpolicies", "shop", "checkout",
                                        "kprof.dev");
  EXPECT_TRUE(rbacAllows(policy, status));
  status.subresource = "status";
  EXPECT_FALSE(rbacAllows(policy, status));

  policy.cluster_roles[0]["rules"].push_back(
      rule({"kprof.dev"}, {"profilingpolicies/status"}, {"update"}));
  EXPECT_TRUE(rbacAllows(policy, status));
}

TEST(Rbac, ResourceNamesRestrictNamedRequestsAndNeverAllowCreateOrList) {
  RbacPolicy policy;
  policy.roles = {role("kprof-system", "tls",
                       json::array({rule({""}, {"secrets"}, {"get", "create", "list"},
                                         {"kprof-webhook-tls"})}))};
  policy.role_bindings = {
      binding("kprof-system", "Role", "tls", json::array({operatorAccount()}))};

  EXPECT_TRUE(rbacAllows(policy, asOperator("get", "secrets", "kprof-system", "kprof-webhook-tls")));
  EXPECT_FALSE(rbacAllows(policy, asOperator("get", "secrets", "kprof-system", "other")));
  EXPECT_FALSE(rbacAllows(policy, asOperator("create", "secrets", "kprof-system")));
  EXPECT_FALSE(rbacAllows(policy, asOperator("list", "secrets", "kprof-system")));
}

TEST(Rbac, WildcardsAndGroupSubjectsMatch) {
  RbacPolicy policy;
  policy.cluster_roles = {role("", "admin", json::array({rule({"*"}, {"*"}, {"*"})}))};
  policy.cluster_role_bindings = {binding(
      "", "ClusterRole", "admin", json::array({{{"kind", "Group"}, {"name", "system:masters"}}}))};
  RequestAttributes admin = asOperator("delete", "pods", "shop", "web");
  EXPECT_FALSE(rbacAllows(policy, admin));
  admin.groups.push_back("system:masters");
  EXPECT_TRUE(rbacAllows(policy, admin));
  admin.subresource = "status";
  EXPECT_TRUE(rbacAllows(policy, admin));
}

TEST(Rbac, ABindingToAMissingRoleGrantsNothing) {
  RbacPolicy policy;
  policy.cluster_role_bindings = {
      binding("", "ClusterRole", "gone", json::array({operatorAccount()}))};
  EXPECT_FALSE(rbacAllows(policy, asOperator("get", "pods", "shop", "web")));
}

TEST(Rbac, TheReasonNamesUserVerbResourceAndScopeAsTheApiServerDoes) {
  RequestAttributes patch = asOperator("patch", "pods", "shop", "web");
  EXPECT_EQ(forbiddenReason(patch),
            "User \"" + kOperator +
                "\" cannot patch resource \"pods\" in API group \"\" in the namespace \"shop\"");
  RequestAttributes review = asOperator("create", "tokenreviews", "", "", "authentication.k8s.io");
  EXPECT_EQ(forbiddenReason(review),
            "User \"" + kOperator +
                "\" cannot create resource \"tokenreviews\" in API group "
                "\"authentication.k8s.io\" at the cluster scope");
}

}  // namespace
}  // namespace kprof::testing
