#include "tests/fake_apiserver/discovery.hpp"

#include <algorithm>
#include <cstdio>
#include <functional>

#include "tests/fake_apiserver/api_error.hpp"

namespace kprof::testing {

namespace {

const std::vector<std::string> kStatusVerbs = {"get", "patch", "update"};

std::vector<std::string> groupsInOrder(const std::vector<ResourceInfo>& resources) {
  std::vector<std::string> groups;
  for (const ResourceInfo& info : resources) {
    if (!info.group.empty() &&
        std::find(groups.begin(), groups.end(), info.group) == groups.end()) {
      groups.push_back(info.group);
    }
  }
  return groups;
}

std::vector<std::string> versionsOf(const std::vector<ResourceInfo>& resources,
                                    std::string_view group) {
  std::vector<std::string> versions;
  for (const ResourceInfo& info : resources) {
    if (info.group == group &&
        std::find(versions.begin(), versions.end(), info.version) == versions.end()) {
      versions.push_back(info.version);
    }
  }
  return versions;
}

nlohmann::json groupEntry(const std::vector<ResourceInfo>& resources, const std::string& group) {
  nlohmann::json versions = nlohmann::json::array();
  for (const std::string& version : versionsOf(resources, group)) {
    versions.push_back({{"groupVersion", group + "/" + version}, {"version", version}});
  }
  return {{"name", group},
          {"versions", versions},
          {"preferredVersion", versions.empty() ? nlohmann::json::object() : versions.front()}};
}

std::string hexHash(const std::string& text) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%016zX", std::hash<std::string>{}(text));
  return buffer;
}

std::string gvPath(const ResourceInfo& info) {
  return info.group.empty() ? "api/" + info.version : "apis/" + info.group + "/" + info.version;
}

nlohmann::json gvkExtension(const ResourceInfo& info) {
  // An object on operations (definitions carry a list of them).
  return nlohmann::json{{"group", info.group}, {"version", info.version}, {"kind", info.kind}};
}

nlohmann::json queryParameter(std::string name, std::string description) {
  return {{"name", std::move(name)},
          {"in", "query"},
          {"description", std::move(description)},
          {"schema", {{"type", "string"}, {"uniqueItems", true}}}};
}

}  // namespace

nlohmann::json versionDocument() {
  return {{"major", "1"},
          {"minor", "32"},
          {"gitVersion", "v1.32.0-kprof-fake"},
          {"gitCommit", "0000000000000000000000000000000000000000"},
          {"gitTreeState", "clean"},
          {"buildDate", "2024-12-11T00:00:00Z"},
          {"goVersion", "go1.23.4"},
          {"compiler", "gc"},
          {"platform", "linux/amd64"}};
}

nlohmann::json coreVersionsDocument(std::string_view server_address) {
  return {{"kind", "APIVersions"},
          {"versions", {"v1"}},
          {"serverAddressByClientCIDRs",
           {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", std::string(server_address)}}}}};
}

nlohmann::json groupListDocument(const std::vector<ResourceInfo>& resources) {
  nlohmann::json groups = nlohmann::json::array();
  for (const std::string& group : groupsInOrder(resources)) {
    groups.push_back(groupEntry(resources, group));
  }
  return {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}};
}

std::optional<nlohmann::json> groupDocument(const std::vector<ResourceInfo>& resources,
                                            std::string_view group) {
  if (group.empty() || versionsOf(resources, group).empty()) {
    return std::nullopt;
  }
  nlohmann::json document = groupEntry(resources, std::string(group));
  document["kind"] = "APIGroup";
  document["apiVersion"] = "v1";
  return document;
}

std::optional<nlohmann::json> resourceListDocument(const std::vector<ResourceInfo>& resources,
                                                   std::string_view group,
                                                   std::string_view version) {
  nlohmann::json list = nlohmann::json::array();
  for (const ResourceInfo& info : resources) {
    if (info.group != group || info.version != version) {
      continue;
    }
    nlohmann::json entry = {{"name", info.resource},
                            {"singularName", info.singular},
                            {"namespaced", info.namespaced},
                            {"kind", info.kind},
                            {"verbs", info.verbs}};
    if (!info.short_names.empty()) {
      entry["shortNames"] = info.short_names;
    }
    if (!info.categories.empty()) {
      entry["categories"] = info.categories;
    }
    list.push_back(std::move(entry));
    if (info.status_subresource) {
      list.push_back({{"name", info.resource + "/status"},
                      {"singularName", ""},
                      {"namespaced", info.namespaced},
                      {"kind", info.kind},
                      {"verbs", kStatusVerbs}});
    }
  }
  if (list.empty()) {
    return std::nullopt;
  }
  std::string group_version =
      group.empty() ? std::string(version) : std::string(group) + "/" + std::string(version);
  return nlohmann::json{{"kind", "APIResourceList"},
                        {"apiVersion", "v1"},
                        {"groupVersion", group_version},
                        {"resources", list}};
}

nlohmann::json aggregatedDiscovery(const std::vector<ResourceInfo>& resources, bool core) {
  std::vector<std::string> groups;
  if (core) {
    groups.push_back("");
  } else {
    groups = groupsInOrder(resources);
  }
  nlohmann::json items = nlohmann::json::array();
  for (const std::string& group : groups) {
    nlohmann::json versions = nlohmann::json::array();
    for (const std::string& version : versionsOf(resources, group)) {
      nlohmann::json entries = nlohmann::json::array();
      for (const ResourceInfo& info : resources) {
        if (info.group != group || info.version != version) {
          continue;
        }
        nlohmann::json kind = {
            {"group", info.group}, {"version", info.version}, {"kind", info.kind}};
        nlohmann::json entry = {{"resource", info.resource},
                                {"responseKind", kind},
                                {"scope", info.namespaced ? "Namespaced" : "Cluster"},
                                {"singularResource", info.singular},
                                {"verbs", info.verbs}};
        if (!info.short_names.empty()) {
          entry["shortNames"] = info.short_names;
        }
        if (!info.categories.empty()) {
          entry["categories"] = info.categories;
        }
        if (info.status_subresource) {
          entry["subresources"] = {
              {{"subresource", "status"}, {"responseKind", kind}, {"verbs", kStatusVerbs}}};
        }
        entries.push_back(std::move(entry));
      }
      versions.push_back({{"version", version}, {"resources", entries}, {"freshness", "Current"}});
    }
    nlohmann::json metadata = {{"creationTimestamp", nullptr}};
    if (!group.empty()) {
      metadata["name"] = group;
    }
    items.push_back({{"metadata", metadata}, {"versions", versions}});
  }
  return {{"kind", "APIGroupDiscoveryList"},
          {"apiVersion", "apidiscovery.k8s.io/v2"},
          {"metadata", nlohmann::json::object()},
          {"items", items}};
}

nlohmann::json openApiV3Index(const std::vector<ResourceInfo>& resources) {
  nlohmann::json paths = nlohmann::json::object();
  for (const ResourceInfo& info : resources) {
    std::string path = gvPath(info);
    if (paths.contains(path)) {
      continue;
    }
    auto document = openApiV3Document(resources, path);
    paths[path] = {
        {"serverRelativeURL", "/openapi/v3/" + path + "?hash=" + hexHash(dumpJson(*document))}};
  }
  return {{"paths", paths}};
}

std::optional<nlohmann::json> openApiV3Document(const std::vector<ResourceInfo>& resources,
                                                std::string_view gv_path) {
  nlohmann::json paths = nlohmann::json::object();
  for (const ResourceInfo& info : resources) {
    if (gvPath(info) != gv_path) {
      continue;
    }
    std::string base = "/" + gvPath(info) + "/" +
                       (info.namespaced ? "namespaces/{namespace}/" : std::string()) +
                       info.resource;
    nlohmann::json write_parameters = {
        queryParameter("dryRun", "When present, modifications are not persisted."),
        queryParameter("fieldManager", "The name of the actor making the change."),
        queryParameter("fieldValidation",
                       "Ignore, Warn or Strict: how unknown and duplicate fields are handled."),
    };
    nlohmann::json patch_parameters = write_parameters;
    patch_parameters.push_back(queryParameter("force", "Server-side apply: take ownership."));
    nlohmann::json responses = {{"200", {{"description", "OK"}}}};
    nlohmann::json item;
    nlohmann::json collection;
    if (info.hasVerb("get")) {
      item["get"] = {{"x-kubernetes-action", "get"},
                     {"x-kubernetes-group-version-kind", gvkExtension(info)},
                     {"responses", responses}};
    }
    if (info.hasVerb("patch")) {
      item["patch"] = {{"x-kubernetes-action", "patch"},
                       {"x-kubernetes-group-version-kind", gvkExtension(info)},
                       {"parameters", patch_parameters},
                       {"responses", responses}};
    }
    if (info.hasVerb("update")) {
      item["put"] = {{"x-kubernetes-action", "put"},
                     {"x-kubernetes-group-version-kind", gvkExtension(info)},
                     {"parameters", write_parameters},
                     {"responses", responses}};
    }
    if (info.hasVerb("delete")) {
      item["delete"] = {{"x-kubernetes-action", "delete"},
                        {"x-kubernetes-group-version-kind", gvkExtension(info)},
                        {"responses", responses}};
    }
    if (info.hasVerb("create")) {
      collection["post"] = {{"x-kubernetes-action", "post"},
                            {"x-kubernetes-group-version-kind", gvkExtension(info)},
                            {"parameters", write_parameters},
                            {"responses", responses}};
    }
    if (info.hasVerb("list")) {
      collection["get"] = {{"x-kubernetes-action", "list"},
                           {"x-kubernetes-group-version-kind", gvkExtension(info)},
                           {"responses", responses}};
    }
    if (!collection.is_null()) {
      paths[base] = collection;
    }
    if (!item.is_null()) {
      paths[base + "/{name}"] = item;
    }
    if (info.status_subresource) {
      nlohmann::json status = item;
      status.erase("delete");
      paths[base + "/{name}/status"] = status;
    }
  }
  if (paths.empty()) {
    return std::nullopt;
  }
  return nlohmann::json{
      {"openapi", "3.0.0"},
      {"info", {{"title", "Kubernetes (kprof fake API server)"}, {"version", "v1.32.0"}}},
      {"paths", paths},
      {"components", {{"schemas", nlohmann::json::object()}}}};
}

}  // namespace kprof::testing
