// The fake API server's state and write semantics: the objects of every served resource, the
// global resourceVersion counter, the retained event history, the open watches, and the
// resource registry (CustomResourceDefinitions add to it when created, remove when deleted).
//
// One mutex orders every write, and watch events are written to their streams while it is held,
// so each stream sees events in resourceVersion order and a watch started from a list's
// resourceVersion misses nothing. Writes follow the real server: uid/creationTimestamp/
// resourceVersion/generation are server-owned, 409 on a stale resourceVersion, the status
// subresource split, deletionTimestamp while finalizers remain, namespaces that terminate before
// they go, and owner references (deleting an owner deletes its dependents right after it, which
// the real server does in the background).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/clock.hpp"
#include "tests/fake_apiserver/api_error.hpp"
#include "tests/fake_apiserver/resources.hpp"
#include "operator/kube/selectors.hpp"

namespace kprof::testing {

using ObjectPtr = std::shared_ptr<const nlohmann::json>;

struct StoreOptions {
  const Clock* clock = nullptr;  // required: creationTimestamp, deletionTimestamp, watch timers
  // Events kept for watches that resume from a resourceVersion; older ones give 410 Gone.
  std::size_t history_limit = 10000;
  // Creating in a namespace that does not exist fails with 404, as the real server's
  // NamespaceLifecycle admission does.
  bool require_namespaces = true;
  std::chrono::milliseconds bookmark_interval{1000};
};

struct WriteOptions {
  bool from_api = true;  // false: a test seeding the store (create keeps .status, no split)
  bool dry_run = false;
  std::string subresource;  // "" or "status"
};

enum class PatchKind { Merge, Json, StrategicMerge, Apply };

struct PatchOutcome {
  ObjectPtr object;
  bool created = false;  // server-side apply created the object
};

struct DeleteRequest {
  std::string propagation = "Background";  // Background, Foreground or Orphan
  std::string precondition_uid;
  std::string precondition_resource_version;
  bool dry_run = false;
};

struct ListQuery {
  std::string ns;  // "" for every namespace
  kube::LabelSelector labels;
  kube::FieldSelector fields;
  int64_t limit = 0;  // 0: no paging
  std::string continue_token;
  std::string resource_version;
  std::string resource_version_match;
};

struct ListPage {
  std::vector<ObjectPtr> items;
  int64_t resource_version = 0;
  std::string continue_token;
};

// Where a watch writes: one JSON event per line.
class WatchSink {
 public:
  virtual ~WatchSink() = default;
  virtual bool write(std::string_view data) = 0;  // false once the reader is gone
  virtual void close() = 0;
};

struct WatchQuery {
  std::string ns;
  kube::LabelSelector labels;
  kube::FieldSelector fields;
  std::string resource_version;
  bool bookmarks = false;
  bool send_initial_events = false;
  Clock::SteadyTime deadline;
  // When set, what each ADDED/MODIFIED/DELETED event carries instead of the object (a
  // one-row Table for `kubectl get -w`). Runs with the store locked: it must not call back.
  std::function<nlohmann::json(const nlohmann::json& object)> render;
};

class ObjectStore {
 public:
  explicit ObjectStore(StoreOptions options);
  ~ObjectStore();
  ObjectStore(const ObjectStore&) = delete;
  ObjectStore& operator=(const ObjectStore&) = delete;

  // ---- registry ----
  std::optional<ResourceInfo> findResource(std::string_view group,
                                           std::string_view version,
                                           std::string_view resource) const;
  std::optional<ResourceInfo> findKind(std::string_view api_version, std::string_view kind) const;
  std::vector<ResourceInfo> resources() const;

  // ---- reads ----
  ApiResult<ObjectPtr> get(const ResourceInfo& info, std::string_view ns, std::string_view name);
  ApiResult<ListPage> list(const ResourceInfo& info, const ListQuery& query);
  int64_t resourceVersion() const;

  // ---- writes ----
  // `ns` is the request's namespace ("" for cluster-scoped resources).
  ApiResult<ObjectPtr> create(const ResourceInfo& info,
                              std::string_view ns,
                              nlohmann::json object,
                              const WriteOptions& options);
  ApiResult<ObjectPtr> update(const ResourceInfo& info,
                              std::string_view ns,
                              std::string_view name,
                              nlohmann::json object,
                              const WriteOptions& options);
  ApiResult<PatchOutcome> patch(const ResourceInfo& info,
                                std::string_view ns,
                                std::string_view name,
                                PatchKind kind,
                                const nlohmann::json& body,
                                const WriteOptions& options);
  ApiResult<ObjectPtr> remove(const ResourceInfo& info,
                              std::string_view ns,
                              std::string_view name,
                              const DeleteRequest& request);
  ApiResult<std::vector<ObjectPtr>> removeCollection(const ResourceInfo& info,
                                                     const ListQuery& query,
                                                     const DeleteRequest& request);

  // ---- watches ----
  // Validates the query, then calls `open` for the stream and writes the initial or replayed
  // events; the watch stays registered until its deadline, a failed write or closeWatches().
  // An error means no stream was opened. A resourceVersion older than the history opens the
  // stream, writes an ERROR event with a 410 Status and closes it, as the real server does.
  ApiResult<bool> watch(const ResourceInfo& info,
                        const WatchQuery& query,
                        const std::function<std::shared_ptr<WatchSink>()>& open);
  // Sends due bookmarks, ends watches past their deadline.
  void tick(Clock::SteadyTime now);
  void closeWatches();
  std::size_t watchCount() const;

  // Forgets the event history: watches from any earlier resourceVersion get 410, and so do
  // continue tokens issued before now.
  void compact();

 private:
  struct Event {
    int64_t resource_version = 0;
    std::string storage_key;
    std::string type;  // ADDED, MODIFIED, DELETED
    ObjectPtr object;
    ObjectPtr previous;  // null for ADDED
  };
  struct Watcher {
    ResourceInfo info;
    WatchQuery query;
    std::shared_ptr<WatchSink> sink;
    Clock::SteadyTime next_bookmark;
  };
  using Location = std::pair<std::string, std::string>;  // storage key, object key

  bool servedLocked(const ResourceInfo& info) const;
  ObjectPtr findLocked(const std::string& storage_key, const std::string& key) const;
  const ResourceInfo* infoForKeyLocked(const std::string& storage_key) const;
  std::optional<ApiError> namespaceProblemLocked(const ResourceInfo& info,
                                                 const std::string& ns,
                                                 const std::string& name) const;
  std::optional<ApiError> fieldSelectorProblem(const ResourceInfo& info,
                                               const kube::FieldSelector& selector) const;

  ApiResult<ObjectPtr> createLocked(const ResourceInfo& info,
                                    const std::string& ns,
                                    nlohmann::json object,
                                    const WriteOptions& options);
  ApiResult<ObjectPtr> commitUpdateLocked(const ResourceInfo& info,
                                          const std::string& key,
                                          const ObjectPtr& stored,
                                          nlohmann::json candidate,
                                          const WriteOptions& options);
  ApiResult<ObjectPtr> deleteLocked(const ResourceInfo& info,
                                    const std::string& key,
                                    const ObjectPtr& stored,
                                    const std::string& propagation);
  nlohmann::json removeLocked(const ResourceInfo& info,
                              const std::string& key,
                              const ObjectPtr& stored);
  void afterRemovalLocked(const ResourceInfo& info, const nlohmann::json& removed);
  void maybeFinishNamespaceLocked(const std::string& ns);
  void maybeFinishForegroundLocked(const std::string& owner_uid);
  void orphanDependentsLocked(const std::string& owner_uid);
  bool namespaceEmptyLocked(const std::string& ns) const;
  void registerCrdLocked(const std::vector<ResourceInfo>& served);
  void unregisterCrdLocked(const nlohmann::json& crd);

  void storeLocked(const ResourceInfo& info,
                   const std::string& key,
                   ObjectPtr object,
                   const ObjectPtr& previous);
  void indexLocked(const std::string& storage_key,
                   const std::string& key,
                   const nlohmann::json* before,
                   const nlohmann::json* after);
  void publishLocked(std::string type,
                     const std::string& storage_key,
                     ObjectPtr object,
                     ObjectPtr previous);
  // False when the stream is gone.
  bool deliverLocked(Watcher& watcher, const Event& event);
  bool sendLocked(Watcher& watcher, std::string_view type, const nlohmann::json& object);
  bool watcherMatches(const Watcher& watcher, const nlohmann::json& object) const;
  int64_t nextResourceVersionLocked() { return ++resource_version_; }
  std::string nowTimestamp() const;
  std::string newUid();
  std::string randomSuffix();

  const StoreOptions options_;
  const Clock& clock_;
  mutable std::mutex mutex_;
  int64_t resource_version_ = 0;
  int64_t compacted_resource_version_ = 0;
  std::vector<ResourceInfo> resources_;
  // storage key -> object key ("ns/name" or "name") -> object
  std::map<std::string, std::map<std::string, ObjectPtr>> objects_;
  std::unordered_map<std::string, Location> by_uid_;
  std::unordered_map<std::string, std::set<Location>> dependents_;  // owner uid -> dependents
  std::deque<Event> history_;
  std::map<uint64_t, Watcher> watchers_;
  uint64_t next_watcher_id_ = 1;
  uint64_t random_state_;
};

// "ns/name" for namespaced resources, "name" for cluster-scoped ones.
std::string objectKey(const ResourceInfo& info, std::string_view ns, std::string_view name);

}  // namespace kprof::testing
