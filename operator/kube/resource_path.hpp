// Building request targets for the Kubernetes REST API: the URL path of a collection, an object
// or its subresource, and the query parameters of list, watch and write calls. Pure functions;
// percent-encoding happens in kprof::http::Client, so values here are plain text.
//
//   core group:   /api/v1/namespaces/NS/pods/NAME[/status]
//   named group:  /apis/GROUP/VERSION/namespaces/NS/RESOURCE/NAME
//   cluster-wide: /api/v1/namespaces/NAME, /apis/GROUP/VERSION/RESOURCE/NAME (no namespaces/NS)
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/core/result.hpp"
#include "operator/kube/api.hpp"

namespace kprof::kube {

using Query = std::map<std::string, std::string>;

// Checks a name or namespace as the API server would accept it as a path segment: not empty,
// not "." or "..", no "/" or "%". `what` names it in the error ("name", "namespace").
Status checkPathSegment(std::string_view segment, std::string_view what);

// The collection: /api/v1/namespaces/NS/pods, or /api/v1/pods across all namespaces when `ns`
// is empty. A cluster-scoped type ignores `ns` (as kubectl does with -n).
Result<std::string> collectionPath(const ResourceType& type, std::string_view ns);

// One object, optionally a subresource of it ("status"). A namespaced type needs `ns`.
Result<std::string> objectPath(const ResourceType& type,
                               std::string_view ns,
                               std::string_view name,
                               std::string_view subresource = "");

// labelSelector, fieldSelector, limit, continue, resourceVersion — only those that are set.
Query listQuery(const ListOptions& options);

// watch=true, allowWatchBookmarks, timeoutSeconds, resourceVersion and the selectors.
Query watchQuery(const WatchOptions& options);

// fieldManager (required for Apply), and force=true, which only server-side apply accepts.
Result<Query> patchQuery(PatchType patch_type, const PatchOptions& options);

// The Content-Type that tells the server how to read the patch body.
std::string_view patchContentType(PatchType patch_type);

}  // namespace kprof::kube
