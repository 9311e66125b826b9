#include "tests/fake_apiserver/object_rules.hpp"

#include <algorithm>

#include "common/core/base64.hpp"
#include "operator/kube/selectors.hpp"

namespace kprof::testing {

namespace {

using nlohmann::json;

bool isLowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// RFC 1123 subdomain (most names) or label (namespace names).
std::string nameProblem(const std::string& name, bool label) {
  const size_t limit = label ? 63 : 253;
  if (name.size() > limit) {
    return "must be no more than " + std::to_string(limit) + " characters";
  }
  bool ok = !name.empty() && isLowerAlnum(name.front()) && isLowerAlnum(name.back());
  for (char c : name) {
    ok = ok && (isLowerAlnum(c) || c == '-' || (!label && c == '.'));
  }
  if (!ok) {
    return label ? "a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
                   "or '-', and must start and end with an alphanumeric character"
                 : "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                   "characters, '-' or '.', and must start and end with an alphanumeric "
                   "character";
  }
  return "";
}

bool hasStatusRules(const ResourceInfo& info) {
  return info.status_subresource;
}

void foldStringData(json& secret) {
  auto string_data = secret.find("stringData");
  if (string_data == secret.end()) {
    return;
  }
  if (string_data->is_object()) {
    json& data = secret["data"];
    if (!data.is_object()) {
      data = json::object();
    }
    for (auto it = string_data->begin(); it != string_data->end(); ++it) {
      if (it.value().is_string()) {
        data[it.key()] = base64Encode(it.value().get<std::string>());
      }
    }
  }
  secret.erase("stringData");
}

// The pod spec with the fields an update may change blanked out.
json mutablePodFieldsCleared(json spec) {
  for (const char* list : {"containers", "initContainers"}) {
    auto it = spec.find(list);
    if (it != spec.end() && it->is_array()) {
      for (json& container : *it) {
        if (container.is_object()) {
          container.erase("image");
        }
      }
    }
  }
  spec.erase("activeDeadlineSeconds");
  spec.erase("tolerations");
  spec.erase("terminationGracePeriodSeconds");
  spec.erase("schedulingGates");
  return spec;
}

std::vector<std::string> stringsAt(const json& object, const json::json_pointer& pointer) {
  std::vector<std::string> out;
  if (object.contains(pointer) && object.at(pointer).is_array()) {
    for (const json& item : object.at(pointer)) {
      if (item.is_string()) {
        out.push_back(item.get<std::string>());
      }
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> decodeProblem(const json& object) {
  if (!object.is_object()) {
    return "the request body must be a JSON object";
  }
  auto metadata = object.find("metadata");
  if (metadata == object.end() || metadata->is_null()) {
    return std::nullopt;
  }
  if (!metadata->is_object()) {
    return "json: cannot unmarshal " + std::string(metadata->type_name()) +
           " into Go struct field .metadata of type v1.ObjectMeta";
  }
  for (const char* field : {"name", "namespace", "generateName", "resourceVersion", "uid"}) {
    auto it = metadata->find(field);
    if (it != metadata->end() && !it->is_string() && !it->is_null()) {
      return "json: cannot unmarshal " + std::string(it->type_name()) +
             " into Go struct field ObjectMeta.metadata." + field + " of type string";
    }
  }
  for (const char* field : {"labels", "annotations"}) {
    auto it = metadata->find(field);
    if (it == metadata->end() || it->is_null()) {
      continue;
    }
    if (!it->is_object()) {
      return "json: cannot unmarshal " + std::string(it->type_name()) +
             " into Go struct field ObjectMeta.metadata." + field + " of type map[string]string";
    }
    for (const json& value : *it) {
      if (!value.is_string()) {
        return "json: cannot unmarshal " + std::string(value.type_name()) +
               " into Go struct field ObjectMeta.metadata." + field + " of type string";
      }
    }
  }
  auto finalizers = metadata->find("finalizers");
  if (finalizers != metadata->end() && !finalizers->is_null()) {
    if (!finalizers->is_array() ||
        !std::all_of(finalizers->begin(), finalizers->end(), [](const json& item) {
          return item.is_string();
        })) {
      return "json: cannot unmarshal into Go struct field ObjectMeta.metadata.finalizers of type "
             "[]string";
    }
  }
  auto owners = metadata->find("ownerReferences");
  if (owners != metadata->end() && !owners->is_null()) {
    if (!owners->is_array() || !std::all_of(owners->begin(), owners->end(), [](const json& item) {
          return item.is_object();
        })) {
      return "json: cannot unmarshal into Go struct field ObjectMeta.metadata.ownerReferences";
    }
  }
  return std::nullopt;
}

void prepareForCreate(const ResourceInfo& info, json& object, bool from_api) {
  json& metadata = object["metadata"];
  for (const char* field :
       {"deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink"}) {
    metadata.erase(field);
  }
  const bool core = info.group.empty();
  if (from_api && hasStatusRules(info)) {
    object.erase("status");
  }
  if (core && info.resource == "pods") {
    if (!object.contains("status") || !object["status"].is_object()) {
      object["status"] = {{"phase", "Pending"}};
    } else if (!object["status"].contains("phase")) {
      object["status"]["phase"] = "Pending";
    }
  } else if (core && info.resource == "namespaces") {
    const std::string name = metadata.value("name", "");
    metadata["labels"]["kubernetes.io/metadata.name"] = name;
    object["spec"]["finalizers"] = json::array({"kubernetes"});
    if (!object.contains("status") || !object["status"].is_object()) {
      object["status"] = json::object();
    }
    object["status"]["phase"] = "Active";
  } else if (core && info.resource == "secrets") {
    foldStringData(object);
    if (!object.contains("type")) {
      object["type"] = "Opaque";
    }
  } else if (info.group == "apiextensions.k8s.io" && info.resource == "customresourcedefinitions") {
    const json names = object.value("/spec/names"_json_pointer, json::object());
    json versions = json::array();
    for (const json& version : object.value("/spec/versions"_json_pointer, json::array())) {
      if (version.value("storage", false)) {
        versions.push_back(version.value("name", ""));
      }
    }
    object["status"] = {{"acceptedNames", names},
                        {"storedVersions", versions},
                        {"conditions",
                         {{{"type", "NamesAccepted"},
                           {"status", "True"},
                           {"reason", "NoConflicts"},
                           {"message", "no conflicts found"}},
                          {{"type", "Established"},
                           {"status", "True"},
                           {"reason", "InitialNamesAccepted"},
                           {"message", "the initial names have been accepted"}}}}};
  }
  if (metadata.contains("labels") && metadata["labels"].is_null()) {
    metadata.erase("labels");
  }
}

json prepareForUpdate(const ResourceInfo& info,
                      const json& stored,
                      json incoming,
                      std::string_view subresource,
                      bool from_api) {
  json result;
  if (from_api && subresource == "status") {
    // Everything but .status comes from the stored object.
    result = stored;
    auto status = incoming.find("status");
    if (status != incoming.end()) {
      result["status"] = *status;
    } else {
      result.erase("status");
    }
    // The precondition the caller sent still applies.
    if (incoming.contains("metadata") && incoming["metadata"].is_object() &&
        incoming["metadata"].contains("resourceVersion")) {
      result["metadata"]["resourceVersion"] = incoming["metadata"]["resourceVersion"];
    }
    return result;
  }
  result = std::move(incoming);
  json& metadata = result["metadata"];
  if (!metadata.is_object()) {
    metadata = json::object();
  }
  const json& old_metadata = stored.at("metadata");
  for (const char* field : {"uid",
                            "creationTimestamp",
                            "generation",
                            "deletionTimestamp",
                            "deletionGracePeriodSeconds",
                            "name",
                            "namespace"}) {
    auto it = old_metadata.find(field);
    if (it != old_metadata.end()) {
      metadata[field] = *it;
    } else {
      metadata.erase(field);
    }
  }
  metadata.erase("managedFields");
  metadata.erase("selfLink");
  if (metadata.contains("labels") && metadata["labels"].is_null()) {
    metadata.erase("labels");
  }
  if (from_api && hasStatusRules(info)) {
    auto status = stored.find("status");
    if (status != stored.end()) {
      result["status"] = *status;
    } else {
      result.erase("status");
    }
  }
  const bool core = info.group.empty();
  if (core && info.resource == "secrets") {
    foldStringData(result);
  }
  if (core && info.resource == "namespaces") {
    metadata["labels"]["kubernetes.io/metadata.name"] = old_metadata.value("name", "");
    if (!result.contains("spec") || !result["spec"].is_object()) {
      result["spec"] = stored.value("spec", json::object());
    }
  }
  if (info.group == "apiextensions.k8s.io" && info.resource == "customresourcedefinitions") {
    // Names and group are fixed once the resource is served.
    result["spec"]["group"] = stored.value("/spec/group"_json_pointer, json());
    result["spec"]["names"] = stored.value("/spec/names"_json_pointer, json());
  }
  return result;
}

std::vector<StatusCause> validateObject(const ResourceInfo& info, const json& object) {
  std::vector<StatusCause> causes;
  const json& metadata = object.at("metadata");
  const std::string name = metadata.value("name", "");
  const bool label = info.group.empty() && info.resource == "namespaces";
  if (std::string problem = nameProblem(name, label); !problem.empty()) {
    causes.push_back(
        {"FieldValueInvalid", "Invalid value: \"" + name + "\": " + problem, "metadata.name"});
  }
  auto labels = metadata.find("labels");
  if (labels != metadata.end() && labels->is_object()) {
    for (auto it = labels->begin(); it != labels->end(); ++it) {
      if (std::string problem = kube::labelKeyProblem(it.key()); !problem.empty()) {
        causes.push_back({"FieldValueInvalid",
                          "Invalid value: \"" + it.key() + "\": " + problem,
                          "metadata.labels"});
      }
      const std::string value = it.value().is_string() ? it.value().get<std::string>() : "";
      if (std::string problem = kube::labelValueProblem(value); !problem.empty()) {
        causes.push_back({"FieldValueInvalid",
                          "Invalid value: \"" + value + "\": " + problem,
                          "metadata.labels"});
      }
    }
  }
  auto owners = metadata.find("ownerReferences");
  if (owners != metadata.end() && owners->is_array()) {
    for (size_t i = 0; i < owners->size(); ++i) {
      const json& owner = (*owners)[i];
      for (const char* field : {"apiVersion", "kind", "name", "uid"}) {
        if (!owner.contains(field) || !owner[field].is_string() ||
            owner[field].get<std::string>().empty()) {
          causes.push_back({"FieldValueRequired",
                            "Required value",
                            "metadata.ownerReferences[" + std::to_string(i) + "]." + field});
        }
      }
    }
  }
  if (info.group.empty() && info.resource == "pods") {
    const json containers = object.value("/spec/containers"_json_pointer, json());
    if (!containers.is_array() || containers.empty()) {
      causes.push_back({"FieldValueRequired", "Required value", "spec.containers"});
    }
  }
  return causes;
}

std::vector<StatusCause> validateUpdate(const ResourceInfo& info,
                                        const json& stored,
                                        const json& updated) {
  std::vector<StatusCause> causes;
  if (info.group.empty() && info.resource == "pods") {
    const json before = stored.value("spec", json::object());
    const json after = updated.value("spec", json::object());
    if (mutablePodFieldsCleared(before) != mutablePodFieldsCleared(after)) {
      causes.push_back({"FieldValueForbidden",
                        "Forbidden: pod updates may not change fields other than "
                        "`spec.containers[*].image`,`spec.initContainers[*].image`,"
                        "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to "
                        "existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to "
                        "be set to 1 if it was previously negative)",
                        "spec"});
    }
  }
  if (stored.contains("/metadata/deletionTimestamp"_json_pointer)) {
    auto before = stringsAt(stored, "/metadata/finalizers"_json_pointer);
    std::vector<std::string> added;
    for (const std::string& finalizer : stringsAt(updated, "/metadata/finalizers"_json_pointer)) {
      if (std::find(before.begin(), before.end(), finalizer) == before.end()) {
        added.push_back(finalizer);
      }
    }
    if (!added.empty()) {
      std::string list;
      for (const std::string& finalizer : added) {
        list += (list.empty() ? "\"" : ", \"") + finalizer + "\"";
      }
      causes.push_back({"FieldValueForbidden",
                        "Forbidden: no new finalizers can be added if the object is being "
                        "deleted, found new finalizers []string{" +
                            list + "}",
                        "metadata.finalizers"});
    }
  }
  return causes;
}

bool specChanged(const json& before, const json& after) {
  auto strip = [](json value) {
    if (value.is_object()) {
      value.erase("metadata");
      value.erase("status");
      value.erase("apiVersion");
      value.erase("kind");
    }
    return value;
  };
  return strip(before) != strip(after);
}

}  // namespace kprof::testing
