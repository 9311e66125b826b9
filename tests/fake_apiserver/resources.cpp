#include "tests/fake_apiserver/resources.hpp"

#include <algorithm>

namespace kprof::testing {

namespace {

const std::vector<std::string> kAllVerbs = {
    "create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"};

ResourceInfo builtin(std::string group,
                     std::string version,
                     std::string resource,
                     std::string kind,
                     std::string singular,
                     bool namespaced,
                     std::vector<std::string> short_names = {},
                     std::vector<std::string> categories = {}) {
  ResourceInfo info;
  info.group = std::move(group);
  info.version = std::move(version);
  info.resource = std::move(resource);
  info.list_kind = kind + "List";
  info.kind = std::move(kind);
  info.singular = std::move(singular);
  info.namespaced = namespaced;
  info.verbs = kAllVerbs;
  info.short_names = std::move(short_names);
  info.categories = std::move(categories);
  return info;
}

std::vector<std::string> stringList(const nlohmann::json& value) {
  std::vector<std::string> out;
  if (value.is_array()) {
    for (const auto& item : value) {
      if (item.is_string()) {
        out.push_back(item.get<std::string>());
      }
    }
  }
  return out;
}

bool isDnsLabel(const std::string& text) {
  if (text.empty() || text.size() > 63) {
    return false;
  }
  for (char c : text) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return false;
    }
  }
  return text.front() != '-' && text.back() != '-';
}

}  // namespace

bool ResourceInfo::hasVerb(std::string_view verb) const {
  return std::find(verbs.begin(), verbs.end(), verb) != verbs.end();
}

bool ResourceInfo::supportsFieldSelector(std::string_view field) const {
  if (field == "metadata.name" || (namespaced && field == "metadata.namespace")) {
    return true;
  }
  return std::find(selectable_fields.begin(), selectable_fields.end(), field) !=
         selectable_fields.end();
}

std::vector<ResourceInfo> builtinResources() {
  std::vector<ResourceInfo> out;

  ResourceInfo pods = builtin("", "v1", "pods", "Pod", "pod", true, {"po"}, {"all"});
  pods.status_subresource = true;
  pods.selectable_fields = {"spec.nodeName",
                            "spec.restartPolicy",
                            "spec.schedulerName",
                            "spec.serviceAccountName",
                            "spec.hostNetwork",
                            "status.phase",
                            "status.podIP",
                            "status.nominatedNodeName"};
  out.push_back(pods);

  ResourceInfo namespaces =
      builtin("", "v1", "namespaces", "Namespace", "namespace", false, {"ns"});
  namespaces.verbs = {"create", "delete", "get", "list", "patch", "update", "watch"};
  namespaces.status_subresource = true;
  namespaces.selectable_fields = {"status.phase"};
  out.push_back(namespaces);

  ResourceInfo secrets = builtin("", "v1", "secrets", "Secret", "secret", true);
  secrets.selectable_fields = {"type"};
  out.push_back(secrets);

  out.push_back(builtin("", "v1", "configmaps", "ConfigMap", "configmap", true, {"cm"}));

  ResourceInfo services =
      builtin("", "v1", "services", "Service", "service", true, {"svc"}, {"all"});
  services.verbs = {
      "create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"};
  services.status_subresource = true;
  out.push_back(services);

  ResourceInfo events = builtin("", "v1", "events", "Event", "event", true, {"ev"});
  events.selectable_fields = {"involvedObject.kind",
                              "involvedObject.namespace",
                              "involvedObject.name",
                              "involvedObject.uid",
                              "involvedObject.apiVersion",
                              "involvedObject.resourceVersion",
                              "involvedObject.fieldPath",
                              "reason",
                              "reportingComponent",
                              "source",
                              "type"};
  out.push_back(events);

  out.push_back(builtin("coordination.k8s.io", "v1", "leases", "Lease", "lease", true));

  ResourceInfo token_reviews =
      builtin("authentication.k8s.io", "v1", "tokenreviews", "TokenReview", "tokenreview", false);
  token_reviews.verbs = {"create"};
  out.push_back(token_reviews);

  out.push_back(builtin("admissionregistration.k8s.io",
                        "v1",
                        "mutatingwebhookconfigurations",
                        "MutatingWebhookConfiguration",
                        "mutatingwebhookconfiguration",
                        false));

  // Stored only (no controllers run): what a Helm chart installs besides kprof's own kinds, so
  // a rendered chart loads whole; RBAC objects are what authorize_rbac evaluates.
  out.push_back(builtin("", "v1", "serviceaccounts", "ServiceAccount", "serviceaccount", true,
                        {"sa"}));
  ResourceInfo deployments =
      builtin("apps", "v1", "deployments", "Deployment", "deployment", true, {"deploy"});
  deployments.status_subresource = true;
  out.push_back(deployments);
  ResourceInfo budgets = builtin("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget",
                                 "poddisruptionbudget", true, {"pdb"});
  budgets.status_subresource = true;
  out.push_back(budgets);
  const std::string rbac = "rbac.authorization.k8s.io";
  out.push_back(builtin(rbac, "v1", "roles", "Role", "role", true));
  out.push_back(builtin(rbac, "v1", "rolebindings", "RoleBinding", "rolebinding", true));
  out.push_back(builtin(rbac, "v1", "clusterroles", "ClusterRole", "clusterrole", false));
  out.push_back(
      builtin(rbac, "v1", "clusterrolebindings", "ClusterRoleBinding", "clusterrolebinding", false));

  ResourceInfo crds = builtin("apiextensions.k8s.io",
                              "v1",
                              "customresourcedefinitions",
                              "CustomResourceDefinition",
                              "customresourcedefinition",
                              false,
                              {"crd", "crds"},
                              {"api-extensions"});
  crds.status_subresource = true;
  out.push_back(crds);
  return out;
}

ApiResult<std::vector<ResourceInfo>> resourcesFromCrd(const nlohmann::json& crd) {
  const std::string name = crd.value("/metadata/name"_json_pointer, std::string());
  std::vector<StatusCause> causes;
  auto require = [&](bool condition, const std::string& field, const std::string& message) {
    if (!condition) {
      causes.push_back({"FieldValueRequired", message, field});
    }
  };
  const nlohmann::json spec = crd.value("spec", nlohmann::json::object());
  const nlohmann::json names = spec.value("names", nlohmann::json::object());
  const std::string group = spec.value("group", "");
  const std::string plural = names.value("plural", "");
  const std::string kind = names.value("kind", "");
  require(!group.empty(), "spec.group", "Required value");
  require(!plural.empty(), "spec.names.plural", "Required value");
  require(!kind.empty(), "spec.names.kind", "Required value");
  const std::string scope = spec.value("scope", "");
  if (scope != "Namespaced" && scope != "Cluster") {
    causes.push_back(
        {"FieldValueNotSupported",
         "Unsupported value: \"" + scope + "\": supported values: \"Cluster\", \"Namespaced\"",
         "spec.scope"});
  }
  if (!plural.empty() && !isDnsLabel(plural)) {
    causes.push_back({"FieldValueInvalid",
                      "Invalid value: \"" + plural + "\": a lowercase RFC 1123 label",
                      "spec.names.plural"});
  }
  if (!group.empty() && !plural.empty() && name != plural + "." + group) {
    causes.push_back({"FieldValueInvalid",
                      "Invalid value: \"" + name + "\": must be spec.names.plural+\".\"+spec.group",
                      "metadata.name"});
  }
  if (!group.empty() && group.find('.') == std::string::npos) {
    causes.push_back({"FieldValueInvalid",
                      "Invalid value: \"" + group + "\": should be a domain with at least one dot",
                      "spec.group"});
  }
  std::vector<ResourceInfo> out;
  const nlohmann::json versions = spec.value("versions", nlohmann::json::array());
  if (!versions.is_array() || versions.empty()) {
    causes.push_back({"FieldValueRequired", "Required value", "spec.versions"});
  } else {
    for (const auto& version : versions) {
      if (!version.is_object() || !version.value("served", false)) {
        continue;
      }
      ResourceInfo info;
      info.group = group;
      info.version = version.value("name", "");
      info.resource = plural;
      info.kind = kind;
      info.list_kind = names.value("listKind", kind + "List");
      info.singular = names.value("singular", "");
      if (info.singular.empty()) {
        std::string lower = kind;
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) {
          return static_cast<char>(std::tolower(c));
        });
        info.singular = lower;
      }
      info.namespaced = scope == "Namespaced";
      info.verbs = kAllVerbs;
      info.short_names = stringList(names.value("shortNames", nlohmann::json::array()));
      info.categories = stringList(names.value("categories", nlohmann::json::array()));
      info.custom = true;
      const nlohmann::json subresources = version.value("subresources", nlohmann::json::object());
      info.status_subresource = subresources.is_object() && subresources.contains("status");
      info.printer_columns = version.value("additionalPrinterColumns", nlohmann::json::array());
      for (const auto& field : version.value("selectableFields", nlohmann::json::array())) {
        std::string path = field.value("jsonPath", "");
        if (!path.empty() && path.front() == '.') {
          path.erase(0, 1);
        }
        info.selectable_fields.push_back(path);
      }
      if (info.version.empty()) {
        causes.push_back({"FieldValueRequired", "Required value", "spec.versions[].name"});
        continue;
      }
      out.push_back(std::move(info));
    }
  }
  if (causes.empty() && out.empty()) {
    causes.push_back(
        {"FieldValueInvalid", "must have exactly one version marked as served", "spec.versions"});
  }
  if (!causes.empty()) {
    return invalid("CustomResourceDefinition.apiextensions.k8s.io", name, std::move(causes));
  }
  return out;
}

}  // namespace kprof::testing
