#include "tests/fake_apiserver/rbac.hpp"

#include <algorithm>

namespace kprof::testing {
namespace {

using nlohmann::json;

std::string text(const json& object, const json::json_pointer& at) {
  return object.contains(at) && object[at].is_string() ? object[at].get<std::string>() : "";
}

// Whether a rule's list holds `value` or the wildcard.
bool listed(const json& rule, const char* field, const std::string& value) {
  const auto it = rule.find(field);
  if (it == rule.end() || !it->is_array()) {
    return false;
  }
  return std::any_of(it->begin(), it->end(), [&](const json& item) {
    return item.is_string() && (item == "*" || item == value);
  });
}

bool resourceListed(const json& rule, const RequestAttributes& request) {
  if (request.subresource.empty()) {
    return listed(rule, "resources", request.resource);
  }
  // "pods/status", "*/status" or "*"; "pods" alone does not cover its subresources.
  return listed(rule, "resources", request.resource + "/" + request.subresource) ||
         listed(rule, "resources", "*/" + request.subresource);
}

bool ruleAllows(const json& rule, const RequestAttributes& request) {
  if (!rule.is_object() || !listed(rule, "verbs", request.verb) ||
      !listed(rule, "apiGroups", request.api_group) || !resourceListed(rule, request)) {
    return false;
  }
  const auto names = rule.find("resourceNames");
  if (names == rule.end() || !names->is_array() || names->empty()) {
    return true;
  }
  return !request.name.empty() &&
         std::find(names->begin(), names->end(), request.name) != names->end();
}

bool subjectMatches(const json& subject, const std::string& binding_ns,
                    const RequestAttributes& request) {
  const std::string kind = subject.value("kind", "");
  const std::string name = subject.value("name", "");
  if (kind == "User") {
    return name == request.user;
  }
  if (kind == "Group") {
    return std::find(request.groups.begin(), request.groups.end(), name) != request.groups.end();
  }
  if (kind == "ServiceAccount") {
    const std::string ns = subject.value("namespace", binding_ns);
    return request.user == "system:serviceaccount:" + ns + ":" + name;
  }
  return false;
}

bool bindingNamesUser(const json& binding, const RequestAttributes& request) {
  const auto subjects = binding.find("subjects");
  if (subjects == binding.end() || !subjects->is_array()) {
    return false;
  }
  const std::string ns = text(binding, "/metadata/namespace"_json_pointer);
  return std::any_of(subjects->begin(), subjects->end(), [&](const json& subject) {
    return subject.is_object() && subjectMatches(subject, ns, request);
  });
}

const json* findRole(const std::vector<json>& roles, const std::string& ns,
                     const std::string& name) {
  for (const json& role : roles) {
    if (text(role, "/metadata/name"_json_pointer) == name &&
        text(role, "/metadata/namespace"_json_pointer) == ns) {
      return &role;
    }
  }
  return nullptr;
}

bool roleAllows(const json* role, const RequestAttributes& request) {
  if (role == nullptr) {
    return false;  // a binding to a missing role grants nothing
  }
  const auto rules = role->find("rules");
  return rules != role->end() && rules->is_array() &&
         std::any_of(rules->begin(), rules->end(),
                     [&](const json& rule) { return ruleAllows(rule, request); });
}

}  // namespace

bool rbacAllows(const RbacPolicy& policy, const RequestAttributes& request) {
  for (const json& binding : policy.cluster_role_bindings) {
    if (text(binding, "/roleRef/kind"_json_pointer) == "ClusterRole" &&
        bindingNamesUser(binding, request) &&
        roleAllows(findRole(policy.cluster_roles, "", text(binding, "/roleRef/name"_json_pointer)),
                   request)) {
      return true;
    }
  }
  for (const json& binding : policy.role_bindings) {
    const std::string ns = text(binding, "/metadata/namespace"_json_pointer);
    if (request.ns.empty() || ns != request.ns || !bindingNamesUser(binding, request)) {
      continue;
    }
    const std::string kind = text(binding, "/roleRef/kind"_json_pointer);
    const std::string name = text(binding, "/roleRef/name"_json_pointer);
    const json* role = kind == "Role"          ? findRole(policy.roles, ns, name)
                       : kind == "ClusterRole" ? findRole(policy.cluster_roles, "", name)
                                               : nullptr;
    if (roleAllows(role, request)) {
      return true;
    }
  }
  return false;
}

std::string forbiddenReason(const RequestAttributes& request) {
  std::string out = "User \"" + request.user + "\" cannot " + request.verb + " resource \"" +
                    request.resource +
                    (request.subresource.empty() ? "" : "/" + request.subresource) +
                    "\" in API group \"" + request.api_group + "\"";
  out += request.ns.empty() ? " at the cluster scope" : " in the namespace \"" + request.ns + "\"";
  return out;
}

}  // namespace kprof::testing
