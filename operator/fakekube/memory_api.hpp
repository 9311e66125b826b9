// MemoryApi: an in-memory kube::Api for unit tests of controllers and the controller runtime.
// It keeps the API server semantics a client can observe: one resourceVersion counter across all
// objects, uid/generation/creationTimestamp, Conflict on a stale resourceVersion, AlreadyExists,
// NotFound, merge and JSON patches, the status subresource, finalizers (remove sets
// deletionTimestamp until the finalizers are gone), list with label/field selectors and
// limit/continue over a consistent snapshot, and watch from a bounded event history (Expired when
// the requested version is older than the history holds).
//
// Tests script faults: fail the next N calls of a verb, end (or fail) the open watches now,
// compact the history, deliver bookmarks. Thread-safe; watch handlers run on the watching thread
// with no lock held, so they may call back into the API.
//
// Simplifications: strategic-merge and apply patches are applied as JSON merge patches (apply
// creates a missing object); create keeps a status the caller supplies, so tests can seed pods
// with a phase.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/clock.hpp"
#include "operator/kube/api.hpp"

namespace kprof::fakekube {

enum class Verb { Get, List, Watch, Create, Update, UpdateStatus, Patch, Remove };

std::string_view verbName(Verb verb);

struct MemoryApiOptions {
  // Watch events kept for resuming watches; older versions get Expired.
  size_t history_limit = 1000;
  // Resources (plural names) whose status is a subresource: update and patch ignore .status,
  // updateStatus and patch with subresource "status" change only .status.
  std::set<std::string> status_subresources = {
      "pods", "namespaces", "profilingpolicies", "profilesnapshots"};
  // When set, every watch stream ends cleanly after delivering this many events.
  std::optional<size_t> watch_event_limit;
};

class MemoryApi final : public kube::Api {
 public:
  // creationTimestamp and deletionTimestamp come from `clock`'s wall time.
  explicit MemoryApi(Clock& clock, MemoryApiOptions options = {});
  MemoryApi();  // on the system clock
  ~MemoryApi() override;

  Result<kube::Object> get(const kube::ResourceType& type,
                           std::string_view ns,
                           std::string_view name) override;
  Result<kube::ObjectList> list(const kube::ResourceType& type,
                                std::string_view ns,
                                const kube::ListOptions& options) override;
  Status watch(const kube::ResourceType& type,
               std::string_view ns,
               const kube::WatchOptions& options,
               const kube::WatchHandler& on_event) override;
  Result<kube::Object> create(const kube::ResourceType& type,
                              std::string_view ns,
                              const kube::Object& object) override;
  Result<kube::Object> update(const kube::ResourceType& type,
                              std::string_view ns,
                              const kube::Object& object) override;
  Result<kube::Object> updateStatus(const kube::ResourceType& type,
                                    std::string_view ns,
                                    const kube::Object& object) override;
  Result<kube::Object> patch(const kube::ResourceType& type,
                             std::string_view ns,
                             std::string_view name,
                             kube::PatchType patch_type,
                             const kube::Object& patch,
                             const kube::PatchOptions& options) override;
  Status remove(const kube::ResourceType& type,
                std::string_view ns,
                std::string_view name) override;

  // --- Scripted faults and test controls ---

  // The next `count` calls of `verb` (on `resource` only, when given: "leases") fail with `error`
  // before touching any state. Faults queue in the order they were added.
  void failNext(Verb verb, int count, Error error, std::string resource = "");
  // Ends every open watch now: cleanly, or with `error` (Expired, Unavailable, ...).
  void endWatches(std::optional<Error> error = std::nullopt);
  // Forgets the event history (as etcd compaction does): watches and continue tokens from any
  // earlier version fail with Expired, and open watches that still had events to read end so.
  void compactHistory();
  // Open watches that allow bookmarks receive a Bookmark at the current resourceVersion.
  void sendBookmarks();
  void setWatchEventLimit(std::optional<size_t> limit);

  // --- Observations for tests ---

  // Calls made of `verb` (on `resource` only, when given), faulted ones included.
  size_t calls(Verb verb, std::string_view resource = "") const;
  // Waits (real time, bounded) until `verb` has been called at least `count` times.
  bool waitForCalls(Verb verb,
                    size_t count,
                    std::chrono::milliseconds timeout,
                    std::string_view resource = "") const;
  size_t openWatches() const;
  // Waits (real time, bounded) until at least `count` watches are open.
  bool waitForWatches(size_t count, std::chrono::milliseconds timeout) const;
  // The last resourceVersion handed out.
  int64_t resourceVersion() const;

 private:
  struct HistoryEntry {
    int64_t rv = 0;
    std::string type_key;
    std::string ns;
    kube::WatchEventType type = kube::WatchEventType::Added;
    kube::Object object;
    std::optional<kube::Object> previous;  // for Modified: the object before the change
  };
  struct Fault {
    Verb verb;
    std::string resource;
    int remaining = 0;
    Error error;
  };
  struct Snapshot {
    int64_t rv = 0;
    std::vector<kube::Object> items;
  };

  // All private helpers run with mutex_ held.
  std::optional<Error> takeFault(Verb verb, const kube::ResourceType& type);
  Result<kube::Object> createLocked(const kube::ResourceType& type,
                                    std::string_view ns,
                                    const kube::Object& object);
  std::map<std::string, kube::Object>& objectsOf(const kube::ResourceType& type);
  Result<kube::Object> storeChange(const kube::ResourceType& type,
                                   const std::string& key,
                                   kube::Object next,
                                   bool status_only);
  void record(const kube::ResourceType& type,
              std::string_view ns,
              kube::WatchEventType event,
              const kube::Object& object,
              std::optional<kube::Object> previous);
  std::string timestampNow() const;
  bool hasStatusSubresource(const kube::ResourceType& type) const;

  std::unique_ptr<Clock> own_clock_;
  Clock& clock_;
  MemoryApiOptions options_;

  mutable std::mutex mutex_;
  mutable std::condition_variable_any changed_;
  std::map<std::string, std::map<std::string, kube::Object>> objects_;  // type → "ns/name" → obj
  std::deque<HistoryEntry> history_;
  int64_t rv_ = 0;
  int64_t compacted_ = 0;  // watches from a version below this get Expired
  uint64_t uid_counter_ = 0;
  uint64_t end_epoch_ = 0;
  std::optional<Error> end_error_;
  uint64_t bookmark_epoch_ = 0;
  size_t open_watches_ = 0;
  std::vector<Fault> faults_;
  std::map<std::pair<Verb, std::string>, size_t> calls_;
  std::map<uint64_t, Snapshot> snapshots_;  // continue tokens
  uint64_t next_snapshot_ = 1;
};

}  // namespace kprof::fakekube
