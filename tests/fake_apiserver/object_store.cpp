#include "tests/fake_apiserver/object_store.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <random>

#include "common/core/base64.hpp"
#include "tests/fake_apiserver/object_rules.hpp"
#include "tests/fake_apiserver/patch.hpp"
#include "tests/fake_apiserver/table.hpp"

namespace kprof::testing {

namespace {

using nlohmann::json;

const GroupResource kNamespaces{"", "namespaces"};
constexpr std::string_view kCustomPatchTypes =
    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml";

std::optional<int64_t> parseVersion(std::string_view text) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < 0) {
    return std::nullopt;
  }
  return value;
}

std::string metadataString(const json& object, const char* field) {
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) {
    return "";
  }
  auto it = metadata->find(field);
  return it != metadata->end() && it->is_string() ? it->get<std::string>() : "";
}

std::vector<std::string> finalizersOf(const json& object) {
  std::vector<std::string> out;
  const json* metadata = object.contains("metadata") ? &object["metadata"] : nullptr;
  if (metadata != nullptr && metadata->contains("finalizers") &&
      (*metadata)["finalizers"].is_array()) {
    for (const json& item : (*metadata)["finalizers"]) {
      if (item.is_string()) {
        out.push_back(item.get<std::string>());
      }
    }
  }
  return out;
}

std::vector<std::string> ownerUids(const json& object) {
  std::vector<std::string> out;
  const json* metadata = object.contains("metadata") ? &object["metadata"] : nullptr;
  if (metadata != nullptr && metadata->contains("ownerReferences") &&
      (*metadata)["ownerReferences"].is_array()) {
    for (const json& owner : (*metadata)["ownerReferences"]) {
      if (owner.is_object() && owner.contains("uid") && owner["uid"].is_string()) {
        out.push_back(owner["uid"].get<std::string>());
      }
    }
  }
  return out;
}

bool isNamespaces(const ResourceInfo& info) {
  return info.group.empty() && info.resource == "namespaces";
}

bool isCrds(const ResourceInfo& info) {
  return info.group == "apiextensions.k8s.io" && info.resource == "customresourcedefinitions";
}

// Objects are checked before they are used, but a value of an unexpected JSON type deep inside
// one must still end as a 400, never as an exception out of the store.
ApiError malformed(const json::exception& e) {
  return badRequest(std::string("invalid object: ") + e.what());
}

std::string eventLine(std::string_view type, const json& object) {
  std::string line = "{\"type\":\"";
  line += type;
  line += "\",\"object\":";
  line += dumpJson(object);
  line += "}\n";
  return line;
}

std::string encodeContinue(int64_t resource_version, const std::string& start) {
  json token = {{"v", "meta.k8s.io/v1"}, {"rv", resource_version}, {"start", start + '\0'}};
  return base64Encode(dumpJson(token));
}

struct ContinueToken {
  int64_t resource_version = 0;
  std::string after;  // the last key of the previous page
};

std::optional<ContinueToken> decodeContinue(const std::string& text) {
  auto decoded = base64Decode(text);
  if (!decoded) {
    return std::nullopt;
  }
  try {
    json token = json::parse(*decoded);
    if (token.value("v", "") != "meta.k8s.io/v1" || !token.contains("rv") ||
        !token["rv"].is_number_integer() || !token.contains("start") ||
        !token["start"].is_string()) {
      return std::nullopt;
    }
    std::string start = token["start"].get<std::string>();
    if (start.empty() || start.back() != '\0') {
      return std::nullopt;
    }
    start.pop_back();
    return ContinueToken{token["rv"].get<int64_t>(), std::move(start)};
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

// The object as a client of `info`'s version sees it (custom resources served at several
// versions are stored once; only apiVersion differs, as with conversion strategy None).
ObjectPtr presented(const ResourceInfo& info, const ObjectPtr& object) {
  if (object->value("apiVersion", "") == info.apiVersion()) {
    return object;
  }
  auto copy = std::make_shared<json>(*object);
  (*copy)["apiVersion"] = info.apiVersion();
  return copy;
}

}  // namespace

std::string objectKey(const ResourceInfo& info, std::string_view ns, std::string_view name) {
  return info.namespaced ? std::string(ns) + "/" + std::string(name) : std::string(name);
}

ObjectStore::ObjectStore(StoreOptions options)
    : options_(std::move(options)),
      clock_(*options_.clock),
      resources_(builtinResources()),
      random_state_(
          std::random_device{}() ^
          static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())) {}

ObjectStore::~ObjectStore() {
  closeWatches();
}

// ---------------------------------------------------------------- registry

std::optional<ResourceInfo> ObjectStore::findResource(std::string_view group,
                                                      std::string_view version,
                                                      std::string_view resource) const {
  std::lock_guard lock(mutex_);
  for (const ResourceInfo& info : resources_) {
    if (info.group == group && info.version == version && info.resource == resource) {
      return info;
    }
  }
  return std::nullopt;
}

std::optional<ResourceInfo> ObjectStore::findKind(std::string_view api_version,
                                                  std::string_view kind) const {
  std::lock_guard lock(mutex_);
  for (const ResourceInfo& info : resources_) {
    if (info.apiVersion() == api_version && info.kind == kind) {
      return info;
    }
  }
  return std::nullopt;
}

std::vector<ResourceInfo> ObjectStore::resources() const {
  std::lock_guard lock(mutex_);
  return resources_;
}

bool ObjectStore::servedLocked(const ResourceInfo& info) const {
  return std::any_of(resources_.begin(), resources_.end(), [&](const ResourceInfo& served) {
    return served.group == info.group && served.version == info.version &&
           served.resource == info.resource;
  });
}

const ResourceInfo* ObjectStore::infoForKeyLocked(const std::string& storage_key) const {
  for (const ResourceInfo& info : resources_) {
    if (info.storageKey() == storage_key) {
      return &info;
    }
  }
  return nullptr;
}

void ObjectStore::registerCrdLocked(const std::vector<ResourceInfo>& served) {
  if (served.empty()) {
    return;
  }
  const std::string key = served.front().storageKey();
  resources_.erase(std::remove_if(resources_.begin(),
                                  resources_.end(),
                                  [&](const ResourceInfo& info) {
                                    return info.custom && info.storageKey() == key;
                                  }),
                   resources_.end());
  resources_.insert(resources_.end(), served.begin(), served.end());
}

void ObjectStore::unregisterCrdLocked(const json& crd) {
  const std::string group = crd.value("/spec/group"_json_pointer, std::string());
  const std::string plural = crd.value("/spec/names/plural"_json_pointer, std::string());
  const std::string key = group + "/" + plural;
  const ResourceInfo* found = infoForKeyLocked(key);
  if (found == nullptr || !found->custom) {
    return;
  }
  const ResourceInfo info = *found;
  // The custom resources go with their definition; their watches see them deleted and end.
  auto objects = objects_.find(key);
  if (objects != objects_.end()) {
    std::vector<std::pair<std::string, ObjectPtr>> doomed(objects->second.begin(),
                                                          objects->second.end());
    for (auto& [object_key, object] : doomed) {
      if (findLocked(key, object_key)) {
        removeLocked(info, object_key, object);
      }
    }
    objects_.erase(key);
  }
  resources_.erase(std::remove_if(resources_.begin(),
                                  resources_.end(),
                                  [&](const ResourceInfo& served) {
                                    return served.custom && served.storageKey() == key;
                                  }),
                   resources_.end());
  for (auto it = watchers_.begin(); it != watchers_.end();) {
    if (it->second.info.storageKey() == key) {
      it->second.sink->close();
      it = watchers_.erase(it);
    } else {
      ++it;
    }
  }
}

// ---------------------------------------------------------------- helpers

ObjectPtr ObjectStore::findLocked(const std::string& storage_key, const std::string& key) const {
  auto resource = objects_.find(storage_key);
  if (resource == objects_.end()) {
    return nullptr;
  }
  auto it = resource->second.find(key);
  return it == resource->second.end() ? nullptr : it->second;
}

std::string ObjectStore::nowTimestamp() const {
  return formatTimestamp(clock_.wallNow());
}

std::string ObjectStore::newUid() {
  std::mt19937_64 random(random_state_++ * 0x9E3779B97F4A7C15ULL + 1);
  uint64_t high = random();
  uint64_t low = random();
  high = (high & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
  low = (low & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;    // variant 10
  char text[40];
  std::snprintf(text,
                sizeof(text),
                "%08x-%04x-%04x-%04x-%012llx",
                static_cast<unsigned>(high >> 32),
                static_cast<unsigned>((high >> 16) & 0xFFFF),
                static_cast<unsigned>(high & 0xFFFF),
                static_cast<unsigned>(low >> 48),
                static_cast<unsigned long long>(low & 0xFFFFFFFFFFFFULL));
  return text;
}

std::string ObjectStore::randomSuffix() {
  // The alphabet generateName uses: no vowels, no easily confused characters.
  static constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::mt19937_64 random(random_state_++ * 0xBF58476D1CE4E5B9ULL + 7);
  std::string suffix;
  for (int i = 0; i < 5; ++i) {
    suffix += kAlphabet[random() % kAlphabet.size()];
  }
  return suffix;
}

std::optional<ApiError> ObjectStore::namespaceProblemLocked(const ResourceInfo& info,
                                                            const std::string& ns,
                                                            const std::string& name) const {
  if (!info.namespaced) {
    return std::nullopt;
  }
  ObjectPtr namespace_object = findLocked("/namespaces", ns);
  if (namespace_object == nullptr) {
    if (options_.require_namespaces) {
      return notFound(kNamespaces, ns);
    }
    return std::nullopt;
  }
  if (!metadataString(*namespace_object, "deletionTimestamp").empty()) {
    return forbidden(
        info.groupResource(),
        name,
        "unable to create new content in namespace " + ns + " because it is being terminated");
  }
  return std::nullopt;
}

std::optional<ApiError> ObjectStore::fieldSelectorProblem(const ResourceInfo& info,
                                                          const kube::FieldSelector& selector) const {
  for (const kube::FieldRequirement& requirement : selector.requirements()) {
    if (!info.supportsFieldSelector(requirement.field)) {
      return badRequest("field label not supported: " + requirement.field);
    }
  }
  return std::nullopt;
}

// ---------------------------------------------------------------- reads

ApiResult<ObjectPtr> ObjectStore::get(const ResourceInfo& info,
                                      std::string_view ns,
                                      std::string_view name) {
  try {
    std::lock_guard lock(mutex_);
    ObjectPtr object =
        servedLocked(info) ? findLocked(info.storageKey(), objectKey(info, ns, name)) : nullptr;
    if (object == nullptr) {
      return notFound(info.groupResource(), name);
    }
    return presented(info, object);
  } catch (const json::exception& e) {
    return malformed(e);
  }
}

int64_t ObjectStore::resourceVersion() const {
  std::lock_guard lock(mutex_);
  return resource_version_;
}

ApiResult<ListPage> ObjectStore::list(const ResourceInfo& info, const ListQuery& query) {
  try {
    std::lock_guard lock(mutex_);
    if (!servedLocked(info)) {
      return resourceNotFound();
    }
    if (auto problem = fieldSelectorProblem(info, query.fields)) {
      return *problem;
    }
    if (!query.resource_version.empty() && query.resource_version != "0") {
      auto requested = parseVersion(query.resource_version);
      if (!requested) {
        return badRequest("invalid resource version \"" + query.resource_version + "\"");
      }
      if (*requested > resource_version_) {
        return tooLargeResourceVersion(*requested, resource_version_);
      }
      if (query.resource_version_match == "Exact" && *requested != resource_version_) {
        return expired("too old resource version: " + query.resource_version + " (" +
                       std::to_string(resource_version_) + ")");
      }
    }
    ListPage page;
    page.resource_version = resource_version_;
    std::string after;
    bool continuing = false;
    if (!query.continue_token.empty()) {
      auto token = decodeContinue(query.continue_token);
      if (!token) {
        return badRequest("continue key is not valid: the token could not be decoded");
      }
      if (token->resource_version < compacted_resource_version_) {
        return expired(
            "The provided continue parameter is too old to display a consistent list result. You "
            "can start a new list without the continue parameter.");
      }
      page.resource_version = token->resource_version;
      after = token->after;
      continuing = true;
    }
    auto resource = objects_.find(info.storageKey());
    if (resource == objects_.end()) {
      return page;
    }
    const auto& objects = resource->second;
    const std::string prefix = info.namespaced && !query.ns.empty() ? query.ns + "/" : "";
    auto it =
        continuing && after >= prefix ? objects.upper_bound(after) : objects.lower_bound(prefix);
    for (; it != objects.end(); ++it) {
      if (!prefix.empty() && it->first.compare(0, prefix.size(), prefix) != 0) {
        break;
      }
      const json& object = *it->second;
      if (!query.labels.matches(object.value("/metadata/labels"_json_pointer, json())) ||
          !query.fields.matches(object)) {
        continue;
      }
      if (query.limit > 0 && static_cast<int64_t>(page.items.size()) == query.limit) {
        // One more match exists: the client continues after the last key returned.
        page.continue_token =
            encodeContinue(page.resource_version,
                           objectKey(info,
                                     metadataString(*page.items.back(), "namespace"),
                                     metadataString(*page.items.back(), "name")));
        break;
      }
      page.items.push_back(presented(info, it->second));
    }
    return page;
  } catch (const json::exception& e) {
    return malformed(e);
  }
}

// ---------------------------------------------------------------- create

ApiResult<ObjectPtr> ObjectStore::create(const ResourceInfo& info,
                                         std::string_view ns,
                                         json object,
                                         const WriteOptions& options) {
  try {
    std::lock_guard lock(mutex_);
    if (!servedLocked(info)) {
      return resourceNotFound();
    }
    return createLocked(info, std::string(ns), std::move(object), options);
  } catch (const json::exception& e) {
    return malformed(e);
  }
}

ApiResult<ObjectPtr> ObjectStore::createLocked(const ResourceInfo& info,
                                               const std::string& ns,
                                               json object,
                                               const WriteOptions& options) {
  if (auto problem = decodeProblem(object)) {
    return badRequest(*problem);
  }
  const std::string api_version = object.value("apiVersion", "");
  const std::string kind = object.value("kind", "");
  if (!api_version.empty() && api_version != info.apiVersion()) {
    return badRequest("the API version in the data (" + api_version +
                      ") does not match the expected API version (" + info.apiVersion() + ")");
  }
  if (!kind.empty() && kind != info.kind) {
    return badRequest("the kind in the data (" + kind + ") does not match the expected kind (" +
                      info.kind + ")");
  }
  object["apiVersion"] = info.apiVersion();
  object["kind"] = info.kind;
  json& metadata = object["metadata"];
  if (!metadata.is_object()) {
    metadata = json::object();
  }
  if (info.namespaced) {
    const std::string given = metadata.value("namespace", "");
    if (!given.empty() && given != ns) {
      return badRequest(
          "the namespace of the provided object does not match the namespace "
          "sent on the request");
    }
    metadata["namespace"] = ns;
  } else {
    metadata.erase("namespace");
  }
  if (!metadata.value("resourceVersion", "").empty()) {
    return internalError("resourceVersion should not be set on objects to be created");
  }
  std::string name = metadata.value("name", "");
  const std::string generate_name = metadata.value("generateName", "");
  if (name.empty() && generate_name.empty()) {
    return invalid(info.qualifiedKind(),
                   "",
                   {{"FieldValueRequired",
                     "Required value: name or generateName is required",
                     "metadata.name"}});
  }
  const std::string storage_key = info.storageKey();
  if (name.empty()) {
    for (int attempt = 0; attempt < 8; ++attempt) {
      name = generate_name + randomSuffix();
      if (findLocked(storage_key, objectKey(info, ns, name)) == nullptr) {
        break;
      }
    }
    metadata["name"] = name;
  }
  if (auto problem = namespaceProblemLocked(info, ns, name)) {
    return *problem;
  }
  prepareForCreate(info, object, options.from_api);
  if (auto causes = validateObject(info, object); !causes.empty()) {
    return invalid(info.qualifiedKind(), name, std::move(causes));
  }
  const std::string key = objectKey(info, ns, name);
  if (findLocked(storage_key, key) != nullptr) {
    return alreadyExists(info.groupResource(), name);
  }
  std::vector<ResourceInfo> crd_resources;
  if (isCrds(info)) {
    auto served = resourcesFromCrd(object);
    if (!served) {
      return served.error();
    }
    const std::string crd_key = served->front().storageKey();
    const ResourceInfo* existing = infoForKeyLocked(crd_key);
    if (existing != nullptr && !existing->custom) {
      return invalid(info.qualifiedKind(),
                     name,
                     {{"FieldValueInvalid",
                       "Invalid value: \"" + name + "\": the resource is built in",
                       "metadata.name"}});
    }
    crd_resources = std::move(*served);
  }
  metadata["uid"] = newUid();
  metadata["creationTimestamp"] = nowTimestamp();
  metadata["generation"] = 1;
  if (options.dry_run) {
    metadata["resourceVersion"] = std::to_string(resource_version_);
    return ObjectPtr(std::make_shared<json>(std::move(object)));
  }
  metadata["resourceVersion"] = std::to_string(nextResourceVersionLocked());
  auto stored = std::make_shared<const json>(std::move(object));
  registerCrdLocked(crd_resources);
  storeLocked(info, key, stored, nullptr);
  publishLocked("ADDED", storage_key, stored, nullptr);
  return ObjectPtr(stored);
}

// ---------------------------------------------------------------- update and patch

ApiResult<ObjectPtr> ObjectStore::update(const ResourceInfo& info,
                                         std::string_view ns,
                                         std::string_view name,
                                         json object,
                                         const WriteOptions& options) {
  try {
    std::lock_guard lock(mutex_);
    if (!servedLocked(info)) {
      return resourceNotFound();
    }
    if (auto problem = decodeProblem(object)) {
      return badRequest(*problem);
    }
    const std::string body_name = metadataString(object, "name");
    if (body_name != name) {
      return badRequest("the name of the object (" + body_name +
                        ") does not match the name on the URL (" + std::string(name) + ")");
    }
    const std::string body_namespace = metadataString(object, "namespace");
    if (info.namespaced && !body_namespace.empty() && body_namespace != ns) {
      return badRequest(
          "the namespace of the provided object does not match the namespace sent "
          "on the request");
    }
    const std::string key = objectKey(info, ns, name);
    ObjectPtr stored = findLocked(info.storageKey(), key);
    if (stored == nullptr) {
      return notFound(info.groupResource(), name);
    }
    const std::string precondition = metadataString(object, "resourceVersion");
    if (precondition.empty() && info.custom && options.from_api) {
      return invalid(info.qualifiedKind(),
                     name,
                     {{"FieldValueInvalid",
                       "Invalid value: 0x0: must be specified for an update",
                       "metadata.resourceVersion"}});
    }
    if (!precondition.empty() && precondition != metadataString(*stored, "resourceVersion")) {
      return conflict(info.groupResource(),
                      name,
                      "the object has been modified; please apply your changes to the latest "
                      "version and try again");
    }
    json candidate =
        prepareForUpdate(info, *stored, std::move(object), options.subresource, options.from_api);
    return commitUpdateLocked(info, key, stored, std::move(candidate), options);
  } catch (const json::exception& e) {
    return malformed(e);
  }
}

ApiResult<PatchOutcome> ObjectStore::patch(const ResourceInfo& info,
                                           std::string_view ns,
                                           std::string_view name,
                                           PatchKind kind,
                                           const json& body,
                                           const WriteOptions& options) {
  try {
    std::lock_guard lock(mutex_);
    if (!servedLocked(info)) {
      return resourceNotFound();
    }
    if (kind == PatchKind::StrategicMerge && info.custom) {
      return unsupportedMediaType("application/strategic-merge-patch+json", kCustomPatchTypes);
    }
    const std::string key = objectKey(info, ns, name);
    ObjectPtr stored = findLocked(info.storageKey(), key);
    if (kind == PatchKind::Apply) {
      if (!body.is_object()) {
        return badRequest("an apply configuration must be an object");
      }
      if (body.value("apiVersion", "").empty() || body.value("kind", "").empty()) {
        return badRequest(
            "invalid object: apiVersion and kind must be set in an apply "
            "configuration");
      }
      if (body.value("apiVersion", "") != info.apiVersion() ||
          body.value("kind", "") != info.kind) {
        return badRequest("the apiVersion and kind of the apply configuration (" +
                          body.value("apiVersion", "") + ", " + body.value("kind", "") +
                          ") do not match the resource (" + info.apiVersion() + ", " + info.kind +
                          ")");
      }
      const std::string body_name = metadataString(body, "name");
      if (!body_name.empty() && body_name != name) {
        return badRequest("the name of the object (" + body_name +
                          ") does not match the name on the URL (" + std::string(name) + ")");
      }
      if (stored == nullptr) {
        if (options.subresource == "status") {
          return notFound(info.groupResource(), name);
        }
        json object = body;
        object["metadata"]["name"] = std::string(name);
        auto created = createLocked(info, std::string(ns), std::move(object), options);
        if (!created) {
          return created.error();
        }
        return PatchOutcome{*created, true};
      }
    }
    if (stored == nullptr) {
      return notFound(info.groupResource(), name);
    }
    Result<json> patched = [&]() -> Result<json> {
      switch (kind) {
        case PatchKind::Merge:
          return applyMergePatch(*stored, body);
        case PatchKind::Json:
          return applyJsonPatch(*stored, body);
        case PatchKind::StrategicMerge:
          return applyStrategicMergePatch(*stored, body);
        case PatchKind::Apply:
          return applyConfiguration(*stored, body);
      }
      return fail(ErrorCode::Internal, "unknown patch type");
    }();
    if (!patched) {
      if (patched.error().code == ErrorCode::Parse) {
        return badRequest(patched.error().message);
      }
      ApiError error;
      error.code = 422;
      error.reason = "Invalid";
      error.message = patched.error().message;
      return error;
    }
    if (auto problem = decodeProblem(*patched)) {
      return badRequest(*problem);
    }
    const std::string precondition = metadataString(*patched, "resourceVersion");
    if (!precondition.empty() && precondition != metadataString(*stored, "resourceVersion")) {
      return conflict(info.groupResource(),
                      name,
                      "the object has been modified; please apply your changes to the latest "
                      "version and try again");
    }
    if (metadataString(*patched, "name") != name) {
      return badRequest("metadata.name cannot be changed by a patch");
    }
    json candidate =
        prepareForUpdate(info, *stored, std::move(*patched), options.subresource, options.from_api);
    auto updated = commitUpdateLocked(info, key, stored, std::move(candidate), options);
    if (!updated) {
      return updated.error();
    }
    return PatchOutcome{*updated, false};
  } catch (const json::exception& e) {
    return malformed(e);
  }
}

ApiResult<ObjectPtr> ObjectStore::commitUpdateLocked(const ResourceInfo& info,
                                                     const std::string& key,
                                                     const ObjectPtr& stored,
                                                     json candidate,
                                                     const WriteOptions& options) {
  candidate["apiVersion"] = stored->value("apiVersion", info.apiVersion());
  candidate["kind"] = info.kind;
  json& metadata = candidate["metadata"];
  metadata["resourceVersion"] = metadataString(*stored, "resourceVersion");
  const std::string name = metadata.value("name", "");
  std::vector<StatusCause> causes = validateObject(info, candidate);
  if (options.from_api) {
    auto update_causes = validateUpdate(info, *stored, candidate);
    causes.insert(causes.end(), update_causes.begin(), update_causes.end());
  }
  if (!causes.empty()) {
    return invalid(info.qualifiedKind(), name, std::move(causes));
  }
  if (specChanged(*stored, candidate)) {
    metadata["generation"] = stored->value("/metadata/generation"_json_pointer, int64_t{0}) + 1;
  }
  std::vector<ResourceInfo> crd_resources;
  if (isCrds(info)) {
    auto served = resourcesFromCrd(candidate);
    if (!served) {
      return served.error();
    }
    crd_resources = std::move(*served);
  }
  if (candidate == *stored) {
    return presented(info, stored);  // nothing changed: no new resourceVersion, no event
  }
  if (options.dry_run) {
    return ObjectPtr(std::make_shared<json>(std::move(candidate)));
  }
  const bool deleting = metadata.contains("deletionTimestamp");
  if (deleting && finalizersOf(candidate).empty() && !isNamespaces(info)) {
    // The last finalizer is gone: the object goes now, and watchers see one DELETED event.
    auto final_state = std::make_shared<const json>(std::move(candidate));
    json removed = removeLocked(info, key, final_state);
    return ObjectPtr(std::make_shared<const json>(std::move(removed)));
  }
  metadata["resourceVersion"] = std::to_string(nextResourceVersionLocked());
  auto updated = std::make_shared<const json>(std::move(candidate));
  registerCrdLocked(crd_resources);
  storeLocked(info, key, updated, stored);
  publishLocked("MODIFIED", info.storageKey(), updated, stored);
  if (deleting && isNamespaces(info)) {
    maybeFinishNamespaceLocked(metadataString(*updated, "name"));
  }
  return presented(info, updated);
}

// ---------------------------------------------------------------- delete

ApiResult<ObjectPtr> ObjectStore::remove(const ResourceInfo& info,
                                         std::string_view ns,
                                         std::string_view name,
                                         const DeleteRequest& request) {
  try {
    std::lock_guard lock(mutex_);
    if (!servedLocked(info)) {
      return resourceNotFound();
    }
    const std::string key = objectKey(info, ns, name);
    ObjectPtr stored = findLocked(info.storageKey(), key);
    if (stored == nullptr) {
      return notFound(info.groupResource(), name);
    }
    const std::string uid = metadataString(*stored, "uid");
    if (!request.precondition_uid.empty() && request.precondition_uid != uid) {
      return conflict(info.groupResource(),
                      name,
                      "Precondition failed: UID in precondition: " + request.precondition_uid +
                          ", UID in object meta: " + uid);
    }
    const std::string version = metadataString(*stored, "resourceVersion");
    if (!request.precondition_resource_version.empty() &&
        request.precondition_resource_version != version) {
      return conflict(info.groupResource(),
                      name,
                      "Precondition failed: ResourceVersion in precondition: " +
                          request.precondition_resource_version +
                          ", ResourceVersion in object meta: " + version);
    }
    if (request.propagation != "Background" && request.propagation != "Foreground" &&
        request.propagation != "Orphan") {
      return badRequest(
          "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: "
          "Unsupported value: \"" +
          request.propagation + "\"");
    }
    if (isNamespaces(info) &&
        (name == "default" || name == "kube-system" || name == "kube-public")) {
      return forbidden(info.groupResource(), name, "this namespace may not be deleted");
    }
    if (request.dry_run) {
      return presented(info, stored);
    }
    return deleteLocked(info, key, stored, request.propagation);
  } catch (const json::exception& e) {
    return malformed(e);
  }
}

ApiResult<std::vector<ObjectPtr>> ObjectStore::removeCollection(const ResourceInfo& info,
                                                                const ListQuery& query,
                                                                const DeleteRequest& request) {
  ListQuery everything = query;
  everything.limit = 0;
  everything.continue_token.clear();
  auto page = list(info, everything);
  if (!page) {
    return page.error();
  }
  std::vector<ObjectPtr> removed;
  for (const ObjectPtr& object : page->items) {
    auto result = remove(
        info, metadataString(*object, "namespace"), metadataString(*object, "name"), request);
    if (result) {
      removed.push_back(*result);
    } else if (result.error().code != 404) {
      return result.error();
    }
  }
  return removed;
}

ApiResult<ObjectPtr> ObjectStore::deleteLocked(const ResourceInfo& info,
                                               const std::string& key,
                                               const ObjectPtr& stored,
                                               const std::string& propagation) {
  const std::string uid = metadataString(*stored, "uid");
  if (propagation == "Orphan") {
    orphanDependentsLocked(uid);
  }
  auto dependents = dependents_.find(uid);
  const bool foreground =
      propagation == "Foreground" && dependents != dependents_.end() && !dependents->second.empty();
  std::vector<std::string> finalizers = finalizersOf(*stored);
  const bool namespace_object = isNamespaces(info);
  const bool already_deleting = !metadataString(*stored, "deletionTimestamp").empty();
  if (!namespace_object && finalizers.empty() && !foreground) {
    json removed = removeLocked(info, key, stored);
    return ObjectPtr(std::make_shared<const json>(std::move(removed)));
  }
  ObjectPtr current = stored;
  if (!already_deleting ||
      (foreground &&
       std::find(finalizers.begin(), finalizers.end(), "foregroundDeletion") == finalizers.end())) {
    json marked = *stored;
    json& metadata = marked["metadata"];
    if (!already_deleting) {
      metadata["deletionTimestamp"] = nowTimestamp();
      metadata["deletionGracePeriodSeconds"] = 0;
    }
    if (foreground) {
      metadata["finalizers"].push_back("foregroundDeletion");
    }
    if (namespace_object) {
      marked["status"]["phase"] = "Terminating";
    }
    metadata["resourceVersion"] = std::to_string(nextResourceVersionLocked());
    current = std::make_shared<const json>(std::move(marked));
    storeLocked(info, key, current, stored);
    publishLocked("MODIFIED", info.storageKey(), current, stored);
  }
  if (namespace_object) {
    const std::string ns = metadataString(*current, "name");
    for (const ResourceInfo& resource : std::vector<ResourceInfo>(resources_)) {
      if (!resource.namespaced) {
        continue;
      }
      auto objects = objects_.find(resource.storageKey());
      if (objects == objects_.end()) {
        continue;
      }
      std::vector<std::pair<std::string, ObjectPtr>> contents;
      for (auto it = objects->second.lower_bound(ns + "/");
           it != objects->second.end() && it->first.compare(0, ns.size() + 1, ns + "/") == 0;
           ++it) {
        contents.emplace_back(*it);
      }
      for (auto& [object_key, object] : contents) {
        ObjectPtr still = findLocked(resource.storageKey(), object_key);
        if (still != nullptr && metadataString(*still, "deletionTimestamp").empty()) {
          (void)deleteLocked(resource, object_key, still, "Background");
        }
      }
    }
    maybeFinishNamespaceLocked(ns);
  }
  if (foreground) {
    auto remaining = dependents_.find(uid);
    if (remaining != dependents_.end()) {
      std::vector<Location> doomed(remaining->second.begin(), remaining->second.end());
      for (const Location& location : doomed) {
        ObjectPtr dependent = findLocked(location.first, location.second);
        const ResourceInfo* dependent_info = infoForKeyLocked(location.first);
        if (dependent != nullptr && dependent_info != nullptr &&
            metadataString(*dependent, "deletionTimestamp").empty()) {
          const ResourceInfo copy = *dependent_info;
          (void)deleteLocked(copy, location.second, dependent, "Foreground");
        }
      }
    }
    maybeFinishForegroundLocked(uid);
  }
  ObjectPtr latest = findLocked(info.storageKey(), key);
  return presented(info, latest != nullptr ? latest : current);
}

json ObjectStore::removeLocked(const ResourceInfo& info,
                               const std::string& key,
                               const ObjectPtr& stored) {
  json final_state = *stored;
  final_state["metadata"]["resourceVersion"] = std::to_string(nextResourceVersionLocked());
  ObjectPtr previous = findLocked(info.storageKey(), key);
  if (previous == nullptr) {
    previous = stored;
  }
  auto resource = objects_.find(info.storageKey());
  if (resource != objects_.end()) {
    resource->second.erase(key);
  }
  indexLocked(info.storageKey(), key, previous.get(), nullptr);
  auto published = std::make_shared<const json>(final_state);
  publishLocked("DELETED", info.storageKey(), published, previous);
  afterRemovalLocked(info, final_state);
  return final_state;
}

void ObjectStore::afterRemovalLocked(const ResourceInfo& info, const json& removed) {
  const std::string uid = metadataString(removed, "uid");
  // Garbage collection: dependents whose owners are all gone are deleted; those with another
  // live owner only lose the reference.
  auto dependents = dependents_.find(uid);
  if (dependents != dependents_.end()) {
    std::vector<Location> locations(dependents->second.begin(), dependents->second.end());
    dependents_.erase(dependents);
    for (const Location& location : locations) {
      ObjectPtr dependent = findLocked(location.first, location.second);
      const ResourceInfo* dependent_info = infoForKeyLocked(location.first);
      if (dependent == nullptr || dependent_info == nullptr) {
        continue;
      }
      const ResourceInfo dependent_copy = *dependent_info;
      bool other_owner_alive = false;
      for (const std::string& owner : ownerUids(*dependent)) {
        if (owner != uid && by_uid_.count(owner) != 0) {
          other_owner_alive = true;
        }
      }
      if (other_owner_alive) {
        json trimmed = *dependent;
        json kept = json::array();
        for (const json& owner : trimmed["metadata"]["ownerReferences"]) {
          if (owner.value("uid", "") != uid) {
            kept.push_back(owner);
          }
        }
        trimmed["metadata"]["ownerReferences"] = kept;
        (void)commitUpdateLocked(
            dependent_copy, location.second, dependent, std::move(trimmed), WriteOptions{false});
      } else if (metadataString(*dependent, "deletionTimestamp").empty()) {
        (void)deleteLocked(dependent_copy, location.second, dependent, "Background");
      }
    }
  }
  for (const std::string& owner : ownerUids(removed)) {
    maybeFinishForegroundLocked(owner);
  }
  if (info.namespaced) {
    maybeFinishNamespaceLocked(metadataString(removed, "namespace"));
  }
  if (isCrds(info)) {
    unregisterCrdLocked(removed);
  }
}

void ObjectStore::orphanDependentsLocked(const std::string& owner_uid) {
  auto dependents = dependents_.find(owner_uid);
  if (dependents == dependents_.end()) {
    return;
  }
  std::vector<Location> locations(dependents->second.begin(), dependents->second.end());
  for (const Location& location : locations) {
    ObjectPtr dependent = findLocked(location.first, location.second);
    const ResourceInfo* dependent_info = infoForKeyLocked(location.first);
    if (dependent == nullptr || dependent_info == nullptr) {
      continue;
    }
    const ResourceInfo dependent_copy = *dependent_info;
    json orphaned = *dependent;
    json kept = json::array();
    for (const json& owner : orphaned["metadata"]["ownerReferences"]) {
      if (owner.value("uid", "") != owner_uid) {
        kept.push_back(owner);
      }
    }
    if (kept.empty()) {
      orphaned["metadata"].erase("ownerReferences");
    } else {
      orphaned["metadata"]["ownerReferences"] = kept;
    }
    (void)commitUpdateLocked(
        dependent_copy, location.second, dependent, std::move(orphaned), WriteOptions{false});
  }
}

void ObjectStore::maybeFinishForegroundLocked(const std::string& owner_uid) {
  auto location = by_uid_.find(owner_uid);
  if (location == by_uid_.end()) {
    return;
  }
  const Location where = location->second;
  ObjectPtr owner = findLocked(where.first, where.second);
  const ResourceInfo* owner_info = infoForKeyLocked(where.first);
  if (owner == nullptr || owner_info == nullptr ||
      metadataString(*owner, "deletionTimestamp").empty()) {
    return;
  }
  std::vector<std::string> finalizers = finalizersOf(*owner);
  auto foreground = std::find(finalizers.begin(), finalizers.end(), "foregroundDeletion");
  if (foreground == finalizers.end()) {
    return;
  }
  auto dependents = dependents_.find(owner_uid);
  if (dependents != dependents_.end() && !dependents->second.empty()) {
    return;
  }
  finalizers.erase(foreground);
  json updated = *owner;
  updated["metadata"]["finalizers"] = finalizers;
  const ResourceInfo copy = *owner_info;
  (void)commitUpdateLocked(copy, where.second, owner, std::move(updated), WriteOptions{false});
}

bool ObjectStore::namespaceEmptyLocked(const std::string& ns) const {
  const std::string prefix = ns + "/";
  for (const auto& [storage_key, objects] : objects_) {
    auto it = objects.lower_bound(prefix);
    if (it != objects.end() && it->first.compare(0, prefix.size(), prefix) == 0) {
      return false;
    }
  }
  return true;
}

void ObjectStore::maybeFinishNamespaceLocked(const std::string& ns) {
  ObjectPtr namespace_object = findLocked("/namespaces", ns);
  if (namespace_object == nullptr ||
      metadataString(*namespace_object, "deletionTimestamp").empty() ||
      !finalizersOf(*namespace_object).empty() || !namespaceEmptyLocked(ns)) {
    return;
  }
  const ResourceInfo* info = infoForKeyLocked("/namespaces");
  if (info != nullptr) {
    const ResourceInfo copy = *info;
    removeLocked(copy, ns, namespace_object);
  }
}

// ---------------------------------------------------------------- storage and events

void ObjectStore::storeLocked(const ResourceInfo& info,
                              const std::string& key,
                              ObjectPtr object,
                              const ObjectPtr& previous) {
  indexLocked(info.storageKey(), key, previous.get(), object.get());
  objects_[info.storageKey()][key] = std::move(object);
}

void ObjectStore::indexLocked(const std::string& storage_key,
                              const std::string& key,
                              const json* before,
                              const json* after) {
  const Location location{storage_key, key};
  if (before != nullptr) {
    for (const std::string& owner : ownerUids(*before)) {
      auto it = dependents_.find(owner);
      if (it != dependents_.end()) {
        it->second.erase(location);
        if (it->second.empty()) {
          dependents_.erase(it);
        }
      }
    }
    if (after == nullptr) {
      by_uid_.erase(metadataString(*before, "uid"));
    }
  }
  if (after != nullptr) {
    for (const std::string& owner : ownerUids(*after)) {
      dependents_[owner].insert(location);
    }
    by_uid_[metadataString(*after, "uid")] = location;
  }
}

void ObjectStore::publishLocked(std::string type,
                                const std::string& storage_key,
                                ObjectPtr object,
                                ObjectPtr previous) {
  Event event{
      resource_version_, storage_key, std::move(type), std::move(object), std::move(previous)};
  for (auto it = watchers_.begin(); it != watchers_.end();) {
    if (it->second.info.storageKey() == storage_key && !deliverLocked(it->second, event)) {
      it->second.sink->close();
      it = watchers_.erase(it);
    } else {
      ++it;
    }
  }
  history_.push_back(std::move(event));
  while (history_.size() > options_.history_limit) {
    compacted_resource_version_ = history_.front().resource_version;
    history_.pop_front();
  }
}

bool ObjectStore::watcherMatches(const Watcher& watcher, const json& object) const {
  const WatchQuery& query = watcher.query;
  if (watcher.info.namespaced && !query.ns.empty() &&
      metadataString(object, "namespace") != query.ns) {
    return false;
  }
  return query.labels.matches(object.value("/metadata/labels"_json_pointer, json())) &&
         query.fields.matches(object);
}

bool ObjectStore::deliverLocked(Watcher& watcher, const Event& event) {
  // As the real watch cache does: an object that starts matching arrives as ADDED, one that
  // stops matching leaves as DELETED (its previous content at the event's resourceVersion).
  const bool current = event.type != "DELETED" && watcherMatches(watcher, *event.object);
  const bool before = event.previous != nullptr && watcherMatches(watcher, *event.previous);
  if (current && !before) {
    return sendLocked(watcher, "ADDED", *presented(watcher.info, event.object));
  }
  if (current && before) {
    return sendLocked(watcher, "MODIFIED", *presented(watcher.info, event.object));
  }
  if (!current && before) {
    if (event.type == "DELETED") {
      return sendLocked(watcher, "DELETED", *presented(watcher.info, event.object));
    }
    json gone = *presented(watcher.info, event.previous);
    gone["metadata"]["resourceVersion"] = std::to_string(event.resource_version);
    return sendLocked(watcher, "DELETED", gone);
  }
  return true;
}

bool ObjectStore::sendLocked(Watcher& watcher, std::string_view type, const json& object) {
  if (watcher.query.render) {
    return watcher.sink->write(eventLine(type, watcher.query.render(object)));
  }
  return watcher.sink->write(eventLine(type, object));
}

// ---------------------------------------------------------------- watches

ApiResult<bool> ObjectStore::watch(const ResourceInfo& info,
                                   const WatchQuery& query,
                                   const std::function<std::shared_ptr<WatchSink>()>& open) {
  try {
    std::lock_guard lock(mutex_);
    if (!servedLocked(info)) {
      return resourceNotFound();
    }
    if (auto problem = fieldSelectorProblem(info, query.fields)) {
      return *problem;
    }
    const bool from_now = query.resource_version.empty() || query.resource_version == "0";
    const bool initial = from_now || query.send_initial_events;
    int64_t since = resource_version_;
    if (!from_now) {
      auto requested = parseVersion(query.resource_version);
      if (!requested) {
        return badRequest("invalid resource version \"" + query.resource_version + "\"");
      }
      if (*requested > resource_version_) {
        return tooLargeResourceVersion(*requested, resource_version_);
      }
      since = *requested;
    }
    std::shared_ptr<WatchSink> sink = open();
    if (sink == nullptr) {
      return true;
    }
    if (!initial && since < compacted_resource_version_) {
      ApiError gone = expired("too old resource version: " + std::to_string(since) + " (" +
                              std::to_string(compacted_resource_version_) + ")");
      sink->write(eventLine("ERROR", gone.toStatus()));
      sink->close();
      return true;
    }
    Watcher watcher{info, query, sink, clock_.now() + options_.bookmark_interval};
    bool alive = true;
    if (initial) {
      auto objects = objects_.find(info.storageKey());
      if (objects != objects_.end()) {
        for (const auto& [key, object] : objects->second) {
          if (watcherMatches(watcher, *object) &&
              !sendLocked(watcher, "ADDED", *presented(info, object))) {
            alive = false;
            break;
          }
        }
      }
      if (alive && query.send_initial_events && query.bookmarks) {
        json bookmark = {{"kind", info.kind},
                         {"apiVersion", info.apiVersion()},
                         {"metadata",
                          {{"resourceVersion", std::to_string(resource_version_)},
                           {"annotations", {{"k8s.io/initial-events-end", "true"}}}}}};
        alive = sink->write(eventLine("BOOKMARK", bookmark));
      }
    } else {
      auto first = std::upper_bound(
          history_.begin(), history_.end(), since, [](int64_t version, const Event& event) {
            return version < event.resource_version;
          });
      for (auto it = first; it != history_.end() && alive; ++it) {
        if (it->storage_key == info.storageKey()) {
          alive = deliverLocked(watcher, *it);
        }
      }
    }
    if (!alive) {
      sink->close();
      return true;
    }
    watchers_.emplace(next_watcher_id_++, std::move(watcher));
    return true;
  } catch (const json::exception& e) {
    return malformed(e);
  }
}

void ObjectStore::tick(Clock::SteadyTime now) {
  std::lock_guard lock(mutex_);
  for (auto it = watchers_.begin(); it != watchers_.end();) {
    Watcher& watcher = it->second;
    bool keep = true;
    if (now >= watcher.query.deadline) {
      keep = false;
    } else if (watcher.query.bookmarks && now >= watcher.next_bookmark) {
      json bookmark = {{"kind", watcher.info.kind},
                       {"apiVersion", watcher.info.apiVersion()},
                       {"metadata", {{"resourceVersion", std::to_string(resource_version_)}}}};
      keep = watcher.sink->write(eventLine("BOOKMARK", bookmark));
      watcher.next_bookmark = now + options_.bookmark_interval;
    }
    if (keep) {
      ++it;
    } else {
      watcher.sink->close();
      it = watchers_.erase(it);
    }
  }
}

void ObjectStore::closeWatches() {
  std::lock_guard lock(mutex_);
  for (auto& [id, watcher] : watchers_) {
    watcher.sink->close();
  }
  watchers_.clear();
}

std::size_t ObjectStore::watchCount() const {
  std::lock_guard lock(mutex_);
  return watchers_.size();
}

void ObjectStore::compact() {
  std::lock_guard lock(mutex_);
  history_.clear();
  compacted_resource_version_ = resource_version_;
}

}  // namespace kprof::testing
