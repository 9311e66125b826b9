// The Kubernetes API as the operator uses it: a narrow interface over JSON objects. The real
// implementation talks HTTP to an API server (KubeClient); tests hand controllers an in-memory
// double or point the real client at the fake API server under tests/.
//
// Errors follow metav1.Status: NotFound, AlreadyExists, Conflict (409 on a stale
// resourceVersion), Expired (410 Gone), PermissionDenied (403), Unauthenticated (401),
// InvalidArgument (422 Invalid, 400 BadRequest), ResourceExhausted (429, with retry_after),
// Unavailable (5xx and transport failures), Timeout. The server's message is kept.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/result.hpp"

namespace kprof::kube {

using Object = nlohmann::json;

// A resource collection: /api/v1/pods, /apis/kprof.dev/v1alpha1/profilingpolicies, ...
struct ResourceType {
  std::string group;     // "" for the core group
  std::string version;   // "v1"
  std::string resource;  // the plural path segment: "pods"
  std::string kind;      // "Pod"
  bool namespaced = true;

  // "v1" or "kprof.dev/v1alpha1", as objects carry it.
  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
  bool operator==(const ResourceType&) const = default;
};

namespace resources {
inline const ResourceType kPods{"", "v1", "pods", "Pod", true};
inline const ResourceType kNamespaces{"", "v1", "namespaces", "Namespace", false};
inline const ResourceType kSecrets{"", "v1", "secrets", "Secret", true};
inline const ResourceType kEvents{"", "v1", "events", "Event", true};
inline const ResourceType kLeases{"coordination.k8s.io", "v1", "leases", "Lease", true};
inline const ResourceType kTokenReviews{"authentication.k8s.io", "v1", "tokenreviews",
                                        "TokenReview", false};
inline const ResourceType kMutatingWebhookConfigurations{
    "admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations",
    "MutatingWebhookConfiguration", false};
inline const ResourceType kProfilingPolicies{"kprof.dev", "v1alpha1", "profilingpolicies",
                                             "ProfilingPolicy", true};
inline const ResourceType kProfileSnapshots{"kprof.dev", "v1alpha1", "profilesnapshots",
                                            "ProfileSnapshot", true};
}  // namespace resources

struct ListOptions {
  std::string label_selector;  // "app=web,tier in (a,b)"
  std::string field_selector;  // "metadata.name=x"
  int64_t limit = 0;           // 0: everything in one page
  std::string continue_token;  // from the previous page
  std::string resource_version;
};

struct ObjectList {
  std::vector<Object> items;
  std::string resource_version;  // the list's metadata.resourceVersion: where a watch starts
  std::string continue_token;    // empty on the last page
};

enum class WatchEventType { Added, Modified, Deleted, Bookmark };

struct WatchEvent {
  WatchEventType type = WatchEventType::Added;
  Object object;  // for a Bookmark only kind/apiVersion/metadata.resourceVersion are meaningful
};

struct WatchOptions {
  std::string resource_version;  // start after this version
  std::string label_selector;
  std::string field_selector;
  bool allow_bookmarks = true;
  std::chrono::seconds timeout{300};  // timeoutSeconds: the server ends the stream then
  std::stop_token stop;               // request_stop() ends the watch promptly
};

// Called for each event on the watching thread. Return false to end the watch.
using WatchHandler = std::function<bool(const WatchEvent& event)>;

enum class PatchType {
  Merge,           // application/merge-patch+json (RFC 7386)
  Json,            // application/json-patch+json (RFC 6902), the patch is an array
  StrategicMerge,  // application/strategic-merge-patch+json
  Apply,           // application/apply-patch+yaml (server-side apply; JSON is valid YAML)
};

struct PatchOptions {
  std::string field_manager = "kprof-operator";
  bool force = false;       // server-side apply: take ownership of conflicting fields
  std::string subresource;  // "status" to patch the status subresource
};

// For a cluster-scoped resource `ns` is "". For list and watch, "" means all namespaces.
class Api {
 public:
  virtual ~Api() = default;

  virtual Result<Object> get(const ResourceType& type, std::string_view ns,
                             std::string_view name) = 0;
  virtual Result<ObjectList> list(const ResourceType& type, std::string_view ns,
                                  const ListOptions& options) = 0;
  // Streams events until the server ends the stream (success), the handler returns false or
  // options.stop is requested (success), or the stream fails. A 410 Gone, as a response or as an
  // ERROR event inside the stream, fails with ErrorCode::Expired: the caller must re-list.
  virtual Status watch(const ResourceType& type, std::string_view ns, const WatchOptions& options,
                       const WatchHandler& on_event) = 0;
  virtual Result<Object> create(const ResourceType& type, std::string_view ns,
                                const Object& object) = 0;
  // PUT of the whole object; metadata.name names it and metadata.resourceVersion, when set, must
  // match the stored one (else Conflict).
  virtual Result<Object> update(const ResourceType& type, std::string_view ns,
                                const Object& object) = 0;
  // PUT to the status subresource: only .status is taken from `object`.
  virtual Result<Object> updateStatus(const ResourceType& type, std::string_view ns,
                                      const Object& object) = 0;
  virtual Result<Object> patch(const ResourceType& type, std::string_view ns,
                               std::string_view name, PatchType patch_type, const Object& patch,
                               const PatchOptions& options) = 0;
  virtual Status remove(const ResourceType& type, std::string_view ns, std::string_view name) = 0;
};

}  // namespace kprof::kube
