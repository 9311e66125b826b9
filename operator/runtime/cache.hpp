// Cache: the informer's thread-safe store of one resource type's objects, keyed "ns/name" (or
// "name" for cluster-scoped objects), with a label index. Objects are stored after a transform
// that trims what controllers never read, and handed out as shared immutable snapshots, so a
// reader never copies an object and never sees one change under it.
//
// Only the informer writes (replace after a list, apply for each watch event); both report which
// keys changed so the informer can notify handlers about exactly those.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "operator/kube/api.hpp"

namespace kprof::runtime {

using Transform = std::function<kube::Object(kube::Object)>;

// The default transform: drops metadata.managedFields and the
// kubectl.kubernetes.io/last-applied-configuration annotation, the two largest fields no
// controller reads.
kube::Object dropNoise(kube::Object object);

// For pod caches: keeps only metadata {name, namespace, uid, resourceVersion, labels,
// kprof.dev/* annotations, ownerReferences as {kind, name}, creationTimestamp,
// deletionTimestamp}, spec {nodeName, containers[].name/.image} and status.phase — what the
// controllers read.
kube::Object prunePodForCache(kube::Object pod);

// "ns/name", or "name" for an object without a namespace; "" when the object has no name.
std::string cacheKey(const kube::Object& object);

class Cache {
 public:
  using Entry = std::shared_ptr<const kube::Object>;

  explicit Cache(Transform transform = dropNoise);

  // nullptr when absent.
  Entry get(std::string_view key) const;
  // Every object, or those of one namespace, in key order.
  std::vector<Entry> list(std::string_view ns = "") const;
  std::vector<std::string> keys() const;
  // Keys of the objects whose label `label` has the value `value`, in key order.
  std::vector<std::string> keysWithLabel(std::string_view label, std::string_view value) const;
  size_t size() const;
  // The last resourceVersion the cache reflects (from the list or the latest event).
  std::string resourceVersion() const;
  // An estimate of the heap memory the objects, keys and index take, for benchmarks.
  size_t approximateBytes() const;

  // Swaps in the content of a fresh list as one step. Returns the keys that were added, changed
  // (another resourceVersion) or removed.
  std::vector<std::string> replace(std::vector<kube::Object> items, std::string resource_version);
  // Applies one watch event; returns the key when the cache changed. Bookmarks only move the
  // resourceVersion.
  std::optional<std::string> apply(const kube::WatchEvent& event);

 private:
  struct Stored {
    Entry object;
    std::map<std::string, std::string> labels;  // copied for the index
  };
  void indexLocked(const std::string& key, const std::map<std::string, std::string>& labels);
  void unindexLocked(const std::string& key, const std::map<std::string, std::string>& labels);
  Stored makeStored(kube::Object object) const;

  Transform transform_;
  mutable std::shared_mutex mutex_;
  std::map<std::string, Stored, std::less<>> objects_;
  // label → value → keys
  std::map<std::string, std::map<std::string, std::set<std::string>, std::less<>>, std::less<>>
      index_;
  std::string resource_version_;
};

}  // namespace kprof::runtime
