#include "operator/kube/resource_path.hpp"

namespace kprof::kube {

namespace {

Result<std::string> typePrefix(const ResourceType& type) {
  if (type.version.empty() || type.resource.empty()) {
    return fail(ErrorCode::InvalidArgument,
                "resource type needs a version and a resource name (got \"" + type.apiVersion() +
                    "\", \"" + type.resource + "\")");
  }
  KPROF_TRY(checkPathSegment(type.version, "API version"));
  KPROF_TRY(checkPathSegment(type.resource, "resource"));
  if (type.group.empty()) {
    return "/api/" + type.version;
  }
  KPROF_TRY(checkPathSegment(type.group, "API group"));
  return "/apis/" + type.group + "/" + type.version;
}

}  // namespace

Status checkPathSegment(std::string_view segment, std::string_view what) {
  if (segment.empty()) {
    return fail(ErrorCode::InvalidArgument, std::string(what) + " must not be empty");
  }
  if (segment == "." || segment == "..") {
    return fail(ErrorCode::InvalidArgument,
                std::string(what) + " may not be \"" + std::string(segment) + "\"");
  }
  if (segment.find_first_of("/%") != std::string_view::npos) {
    return fail(ErrorCode::InvalidArgument,
                std::string(what) + " \"" + std::string(segment) + "\" may not contain '/' or '%'");
  }
  return ok();
}

Result<std::string> collectionPath(const ResourceType& type, std::string_view ns) {
  auto prefix = typePrefix(type);
  if (!prefix) {
    return prefix.error();
  }
  std::string path = std::move(*prefix);
  if (type.namespaced && !ns.empty()) {
    KPROF_TRY(checkPathSegment(ns, "namespace"));
    path += "/namespaces/";
    path += ns;
  }
  path += "/";
  path += type.resource;
  return path;
}

Result<std::string> objectPath(const ResourceType& type,
                               std::string_view ns,
                               std::string_view name,
                               std::string_view subresource) {
  if (type.namespaced && ns.empty()) {
    return fail(ErrorCode::InvalidArgument,
                type.resource + " \"" + std::string(name) + "\": a namespace is required");
  }
  KPROF_TRY(checkPathSegment(name, type.resource + " name"));
  auto path = collectionPath(type, ns);
  if (!path) {
    return path.error();
  }
  *path += "/";
  *path += name;
  if (!subresource.empty()) {
    KPROF_TRY(checkPathSegment(subresource, "subresource"));
    *path += "/";
    *path += subresource;
  }
  return path;
}

Query listQuery(const ListOptions& options) {
  Query query;
  if (!options.label_selector.empty()) {
    query["labelSelector"] = options.label_selector;
  }
  if (!options.field_selector.empty()) {
    query["fieldSelector"] = options.field_selector;
  }
  if (options.limit > 0) {
    query["limit"] = std::to_string(options.limit);
  }
  if (!options.continue_token.empty()) {
    query["continue"] = options.continue_token;
  }
  if (!options.resource_version.empty()) {
    query["resourceVersion"] = options.resource_version;
  }
  return query;
}

Query watchQuery(const WatchOptions& options) {
  Query query;
  query["watch"] = "true";
  if (options.allow_bookmarks) {
    query["allowWatchBookmarks"] = "true";
  }
  if (options.timeout.count() > 0) {
    query["timeoutSeconds"] = std::to_string(options.timeout.count());
  }
  if (!options.resource_version.empty()) {
    query["resourceVersion"] = options.resource_version;
  }
  if (!options.label_selector.empty()) {
    query["labelSelector"] = options.label_selector;
  }
  if (!options.field_selector.empty()) {
    query["fieldSelector"] = options.field_selector;
  }
  return query;
}

Result<Query> patchQuery(PatchType patch_type, const PatchOptions& options) {
  Query query;
  if (patch_type == PatchType::Apply && options.field_manager.empty()) {
    return fail(ErrorCode::InvalidArgument, "server-side apply needs a field manager");
  }
  if (options.force && patch_type != PatchType::Apply) {
    return fail(ErrorCode::InvalidArgument, "force is only valid for server-side apply");
  }
  if (!options.field_manager.empty()) {
    query["fieldManager"] = options.field_manager;
  }
  if (options.force) {
    query["force"] = "true";
  }
  return query;
}

std::string_view patchContentType(PatchType patch_type) {
  switch (patch_type) {
    case PatchType::Merge:
      return "application/merge-patch+json";
    case PatchType::Json:
      return "application/json-patch+json";
    case PatchType::StrategicMerge:
      return "application/strategic-merge-patch+json";
    case PatchType::Apply:
      return "application/apply-patch+yaml";
  }
  return "application/merge-patch+json";
}

}  // namespace kprof::kube
