// The resource types the fake API server serves: the built-in ones kprof uses and those that
// CustomResourceDefinitions add, with what discovery reports about each (verbs, short names,
// scope, status subresource, printer columns). Pure values and functions.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/result.hpp"
#include "tests/fake_apiserver/api_error.hpp"

namespace kprof::testing {

struct ResourceInfo {
  std::string group;     // "" for the core group
  std::string version;   // "v1"
  std::string resource;  // plural: "pods"
  std::string kind;      // "Pod"
  std::string list_kind;
  std::string singular;
  bool namespaced = true;
  std::vector<std::string> verbs;
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
  bool status_subresource = false;
  bool custom = false;  // served from a CustomResourceDefinition
  // CRD additionalPrinterColumns for `kubectl get` tables; empty for built-ins.
  nlohmann::json printer_columns = nlohmann::json::array();
  // Fields a field selector may name besides metadata.name and metadata.namespace.
  std::vector<std::string> selectable_fields;

  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
  // Objects are stored once per group and resource, whatever version serves them.
  std::string storageKey() const { return group + "/" + resource; }
  GroupResource groupResource() const { return {group, resource}; }
  // "Pod", "ProfilingPolicy.kprof.dev": how Invalid errors name the kind.
  std::string qualifiedKind() const { return group.empty() ? kind : kind + "." + group; }
  bool hasVerb(std::string_view verb) const;
  bool supportsFieldSelector(std::string_view field) const;
};

// Core v1 pods, namespaces, secrets, configmaps, services, events, serviceaccounts;
// coordination.k8s.io/v1 leases; authentication.k8s.io/v1 tokenreviews (create only);
// admissionregistration.k8s.io/v1 mutatingwebhookconfigurations; apiextensions.k8s.io/v1
// customresourcedefinitions; apps/v1 deployments, policy/v1 poddisruptionbudgets and the four
// rbac.authorization.k8s.io/v1 kinds, stored only.
std::vector<ResourceInfo> builtinResources();

// The served versions of a CustomResourceDefinition (apiextensions.k8s.io/v1), or the causes
// that make it invalid (name not "<plural>.<group>", missing names, no served version, ...).
ApiResult<std::vector<ResourceInfo>> resourcesFromCrd(const nlohmann::json& crd);

}  // namespace kprof::testing
