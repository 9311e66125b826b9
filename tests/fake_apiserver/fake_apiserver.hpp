// An in-process fake Kubernetes API server for tests and benchmarks: real HTTP on 127.0.0.1 (our
// kprof::http::Server), the real wire semantics for the resources kprof uses — resourceVersion,
// uid, generation, 404/409/410/422 metav1.Status errors, list paging and selectors, watch
// streams with replay, bookmarks and 410 Gone, merge/JSON/strategic/apply patches, the status
// subresource, finalizers, owner garbage collection, TokenReview — and discovery that the
// installed kubectl understands. docs/fake-apiserver.md lists what is and is not modelled.
//
// Tests also get a direct C++ API to seed and inspect objects without HTTP, fault injection
// (failing requests, dropping watches, delays, compacting history), an admission hook for pod
// creation, and request counters. Watches do not hold a request thread: events are written to
// the open streams by the thread that makes the change.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/clock.hpp"
#include "common/core/result.hpp"
#include "common/http/certificate_store.hpp"
#include "common/http/message.hpp"
#include "common/http/server.hpp"
#include "operator/kube/api.hpp"
#include "tests/fake_apiserver/object_store.hpp"
#include "tests/fake_apiserver/rbac.hpp"

namespace kprof::testing {

// RBAC's own resources (operator/kube/api.hpp names only those kprof's code calls).
inline const kube::ResourceType kRoles{"rbac.authorization.k8s.io", "v1", "roles", "Role", true};
inline const kube::ResourceType kClusterRoles{"rbac.authorization.k8s.io", "v1", "clusterroles",
                                              "ClusterRole", false};
inline const kube::ResourceType kRoleBindings{"rbac.authorization.k8s.io", "v1", "rolebindings",
                                              "RoleBinding", true};
inline const kube::ResourceType kClusterRoleBindings{
    "rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", false};

// Who a bearer token authenticates as, for TokenReview and for require_token.
struct UserInfo {
  std::string username;
  std::string uid;
  std::vector<std::string> groups;
  // e.g. "authentication.kubernetes.io/pod-name" -> {"web-0"}
  std::map<std::string, std::vector<std::string>> extra;
  // Audiences the token is valid for; empty: any audience a TokenReview asks about.
  std::vector<std::string> audiences;
};

// Fail the next `count` requests that match with `status` and a metav1.Status body.
struct Fault {
  int status = 500;
  int count = 1;
  std::string method;                   // "GET", "PATCH", ...; empty matches any
  std::string path_prefix;              // "/api/v1/namespaces/shop/pods"; empty matches any
  std::chrono::seconds retry_after{0};  // > 0: Retry-After header and details.retryAfterSeconds
  std::string message;                  // empty: "injected fault (<status>)"
};

// Called on pod CREATE through the HTTP API with the pod as submitted (metadata.namespace set).
// Returns a JSON patch (RFC 6902 array) to apply before the pod is stored, or nullopt to admit
// it unchanged. It runs on a request thread, outside the server's locks, so it may call the
// direct API.
using PodAdmissionHook = std::function<std::optional<nlohmann::json>(const nlohmann::json& pod)>;

struct FakeApiServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;                                // 0: a free port, see port()
  std::shared_ptr<http::CertificateStore> certificates;  // HTTPS when set
  // CustomResourceDefinition files (YAML or JSON) served from the start, e.g. crds/*.yaml.
  std::vector<std::filesystem::path> crd_files;
  std::chrono::milliseconds bookmark_interval{1000};
  std::chrono::seconds default_watch_timeout{1800};  // when a watch names no timeoutSeconds
  std::size_t history_limit = 10000;  // watch events kept for resuming; older ones give 410
  bool require_namespaces = true;     // creating in a missing namespace gives 404
  std::vector<std::string> initial_namespaces = {
      "default", "kube-system", "kube-public", "kube-node-lease"};
  // Every request but /version, /healthz, /livez and /readyz must carry a registered bearer
  // token (addToken), else 401.
  bool require_token = false;
  // Authorize every resource request with RBAC from the stored Roles, ClusterRoles and their
  // bindings (rbac.hpp): the user is the one its bearer token was added for (addToken), plus
  // the group system:authenticated; without a known token, system:anonymous. What they do not
  // grant gets 403 Forbidden and is recorded (deniedRequests). Discovery stays open.
  bool authorize_rbac = false;
  std::size_t max_body_bytes = 3 << 20;
  const Clock* clock = nullptr;  // timestamps, watch timeouts, bookmarks; the system clock if null
};

class FakeApiServer {
 public:
  // Loads the CRD files and creates the initial namespaces; does not listen yet.
  static Result<std::unique_ptr<FakeApiServer>> make(FakeApiServerOptions options);
  ~FakeApiServer();  // stop()
  FakeApiServer(const FakeApiServer&) = delete;
  FakeApiServer& operator=(const FakeApiServer&) = delete;

  Status start();
  // Ends every watch and stops serving. Idempotent.
  void stop();
  std::uint16_t port() const;
  std::string url() const;  // "http://127.0.0.1:34567"

  // ---- direct API: seed and inspect without HTTP ----
  // Writes follow the API's rules (uid, resourceVersion, generation, watch events, finalizers,
  // garbage collection) except that they may set .status directly, as if a controller had
  // written it, and admission is not called. Namespaced objects without metadata.namespace go
  // to "default".
  Result<nlohmann::json> createObject(const kube::ResourceType& type, nlohmann::json object);
  Result<nlohmann::json> getObject(const kube::ResourceType& type,
                                   std::string_view ns,
                                   std::string_view name);
  Result<std::vector<nlohmann::json>> listObjects(const kube::ResourceType& type,
                                                  std::string_view ns = {},
                                                  std::string_view label_selector = {});
  // Replaces the whole object (status included); metadata.resourceVersion, when set, must match.
  Result<nlohmann::json> updateObject(const kube::ResourceType& type, nlohmann::json object);
  Result<nlohmann::json> patchObject(const kube::ResourceType& type,
                                     std::string_view ns,
                                     std::string_view name,
                                     PatchKind kind,
                                     const nlohmann::json& patch);
  // Deletes like the API (finalizers hold the object; dependents are collected).
  Status removeObject(const kube::ResourceType& type, std::string_view ns, std::string_view name);
  Status createNamespace(std::string_view name,
                         const std::map<std::string, std::string>& labels = {});
  // Creates every object of a YAML/JSON manifest file: CRDs first, then namespaces, then the
  // rest; missing namespaces are created. Returns how many objects were created.
  Result<std::size_t> loadManifestFile(const std::filesystem::path& file);
  // The current (global) resourceVersion.
  int64_t resourceVersion() const;

  // ---- authentication ----
  void addToken(std::string token, UserInfo user);
  void removeToken(std::string_view token);

  // ---- admission ----
  void setPodAdmission(PodAdmissionHook hook);
  // Where a Service named by a webhook's clientConfig.service listens ("127.0.0.1:9443"); the
  // fake server dials it when it calls that webhook (see admission_webhooks.hpp).
  void setServiceEndpoint(const std::string& ns, const std::string& name, std::string address);

  // ---- fault injection ----
  void failNext(Fault fault);
  void clearFaults();
  // Ends every open watch stream now (clients see their stream end and must re-watch).
  void dropWatches();
  // Every request waits this long before it is handled (0: none).
  void setRequestDelay(std::chrono::milliseconds delay);
  // Forgets the event history: watches from an older resourceVersion get 410 Gone, continue
  // tokens issued before now expire.
  void compactHistory();

  // ---- counters ----
  // Requests by verb (get, list, watch, create, update, patch, delete, deletecollection) and
  // resource ("pods", "pods/status", "profilingpolicies").
  int64_t requestCount(std::string_view verb, std::string_view resource) const;
  std::map<std::string, int64_t> requestCounts() const;  // "list pods" -> count
  int64_t totalRequests() const;
  void resetCounters();
  std::size_t openWatches() const;
  // With authorize_rbac: every request RBAC refused, in forbiddenReason's words, oldest first.
  std::vector<std::string> deniedRequests() const;

 private:
  explicit FakeApiServer(FakeApiServerOptions options);

  void handle(http::Request request, http::Responder responder);
  void dispatch(http::Request request, const http::Responder& responder);
  void count(const std::string& verb, const std::string& resource);
  std::optional<http::Response> checkAccess(const http::Request& request);
  // Who the request's bearer token authenticates, as RBAC sees the user.
  RequestAttributes requester(const http::Request& request) const;
  // nullopt when RBAC grants the request (or authorize_rbac is off); else 403 Forbidden.
  std::optional<ApiError> authorize(const http::Request& request,
                                    const ResourceInfo& info,
                                    const std::string& verb,
                                    const std::string& subresource,
                                    const std::string& ns,
                                    const std::string& name);
  std::optional<http::Response> takeFault(const http::Request& request);
  Result<ResourceInfo> resolve(const kube::ResourceType& type) const;
  void tickLoop();

  struct ResourceRequest;
  void handleResource(const http::Request& request,
                      const ResourceRequest& target,
                      const http::Responder& responder);
  http::Response handleTokenReview(const http::Request& request);
  std::optional<http::Response> handleDiscovery(const http::Request& request);

  const FakeApiServerOptions options_;
  const Clock& clock_;
  ObjectStore store_;
  std::unique_ptr<http::Server> server_;

  mutable std::mutex mutex_;  // tokens, faults, hook, counters
  std::map<std::string, UserInfo, std::less<>> tokens_;
  std::vector<Fault> faults_;
  PodAdmissionHook pod_admission_;
  std::map<std::string, std::string> service_endpoints_;  // "ns/name" → host:port
  // Pod creations handled on threads of their own (they may call webhooks); stop() waits for them.
  std::mutex offloaded_mutex_;
  std::condition_variable offloaded_done_;
  int offloaded_ = 0;
  std::map<std::string, int64_t> counts_;
  std::vector<std::string> denied_;
  int64_t total_requests_ = 0;
  std::atomic<int64_t> delay_ms_{0};

  std::mutex tick_mutex_;
  std::condition_variable tick_wakeup_;
  bool stopping_ = false;
  std::thread ticker_;
  bool started_ = false;
  bool stopped_ = false;
};

// crds/*.yaml of a kprof source tree, sorted: the CRDs kprof ships.
std::vector<std::filesystem::path> kprofCrdFiles(const std::filesystem::path& source_dir);

}  // namespace kprof::testing
