#include "operator/runtime/cache.hpp"

#include <mutex>

namespace kprof::runtime {
namespace {

// Annotations kprof writes and reads on pods.
constexpr std::string_view kKprofAnnotationPrefix = "kprof.dev/";

using kube::Object;

constexpr const char* kLastApplied = "kubectl.kubernetes.io/last-applied-configuration";

std::string stringField(const Object& object, const char* field) {
  const auto it = object.find(field);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

const Object* metadataOf(const Object& object) {
  if (!object.is_object()) {
    return nullptr;
  }
  const auto it = object.find("metadata");
  return it != object.end() && it->is_object() ? &*it : nullptr;
}

std::string resourceVersionOf(const Object& object) {
  const Object* metadata = metadataOf(object);
  return metadata != nullptr ? stringField(*metadata, "resourceVersion") : "";
}

void dropLastApplied(Object& metadata) {
  const auto annotations = metadata.find("annotations");
  if (annotations != metadata.end() && annotations->is_object()) {
    annotations->erase(kLastApplied);
    if (annotations->empty()) {
      metadata.erase(annotations);
    }
  }
}

// Heap bytes behind one nlohmann::json value (its own 16 bytes are counted by its parent),
// following libstdc++'s layouts: a string past 15 characters allocates capacity + 1, a map node
// holds 32 bytes of links plus the key string and the json value.
size_t heapBytes(const std::string& text) {
  return text.capacity() > 15 ? text.capacity() + 1 : 0;
}

size_t heapBytes(const Object& value) {
  switch (value.type()) {
    case Object::value_t::object: {
      size_t bytes = sizeof(Object::object_t);
      for (const auto& [key, child] : value.items()) {
        bytes += 32 + sizeof(std::string) + heapBytes(key) + sizeof(Object) + heapBytes(child);
      }
      return bytes;
    }
    case Object::value_t::array: {
      const auto& array = value.get_ref<const Object::array_t&>();
      size_t bytes = sizeof(Object::array_t) + array.capacity() * sizeof(Object);
      for (const Object& child : array) {
        bytes += heapBytes(child);
      }
      return bytes;
    }
    case Object::value_t::string:
      return sizeof(std::string) + heapBytes(value.get_ref<const std::string&>());
    case Object::value_t::binary:
      return sizeof(Object::binary_t) + value.get_binary().capacity();
    default:
      return 0;
  }
}

}  // namespace

Object dropNoise(Object object) {
  if (object.is_object()) {
    const auto metadata = object.find("metadata");
    if (metadata != object.end() && metadata->is_object()) {
      metadata->erase("managedFields");
      dropLastApplied(*metadata);
    }
  }
  return object;
}

Object prunePodForCache(Object pod) {
  if (!pod.is_object()) {
    return pod;
  }
  Object out = Object::object();
  const auto metadata = pod.find("metadata");
  if (metadata != pod.end() && metadata->is_object()) {
    Object kept = Object::object();
    for (const char* field : {"name",
                              "namespace",
                              "uid",
                              "resourceVersion",
                              "labels",
                              "creationTimestamp",
                              "deletionTimestamp"}) {
      if (metadata->contains(field)) {
        kept[field] = std::move((*metadata)[field]);
      }
    }
    // Controllers read kprof's own annotations only; other annotations can be large.
    const auto annotations = metadata->find("annotations");
    if (annotations != metadata->end() && annotations->is_object()) {
      Object ours = Object::object();
      for (auto& [key, value] : annotations->items()) {
        if (key.rfind(kKprofAnnotationPrefix, 0) == 0) {
          ours[key] = std::move(value);
        }
      }
      if (!ours.empty()) {
        kept["annotations"] = std::move(ours);
      }
    }
    // Which workload owns the pod: kind and name are enough to match an alert's labels.
    const auto owners = metadata->find("ownerReferences");
    if (owners != metadata->end() && owners->is_array()) {
      Object slim = Object::array();
      for (Object& owner : *owners) {
        if (owner.is_object()) {
          slim.push_back({{"kind", owner.value("kind", "")}, {"name", owner.value("name", "")}});
        }
      }
      kept["ownerReferences"] = std::move(slim);
    }
    out["metadata"] = std::move(kept);
  }
  const auto spec = pod.find("spec");
  if (spec != pod.end() && spec->is_object()) {
    Object kept = Object::object();
    if (spec->contains("nodeName")) {
      kept["nodeName"] = std::move((*spec)["nodeName"]);
    }
    const auto containers = spec->find("containers");
    if (containers != spec->end() && containers->is_array()) {
      Object list = Object::array();
      for (Object& container : *containers) {
        Object slim = Object::object();
        for (const char* field : {"name", "image"}) {
          if (container.is_object() && container.contains(field)) {
            slim[field] = std::move(container[field]);
          }
        }
        list.push_back(std::move(slim));
      }
      kept["containers"] = std::move(list);
    }
    out["spec"] = std::move(kept);
  }
  const auto status = pod.find("status");
  if (status != pod.end() && status->is_object() && status->contains("phase")) {
    out["status"] = {{"phase", std::move((*status)["phase"])}};
  }
  return out;
}

std::string cacheKey(const Object& object) {
  const Object* metadata = metadataOf(object);
  if (metadata == nullptr) {
    return "";
  }
  const std::string name = stringField(*metadata, "name");
  if (name.empty()) {
    return "";
  }
  const std::string ns = stringField(*metadata, "namespace");
  return ns.empty() ? name : ns + "/" + name;
}

Cache::Cache(Transform transform) : transform_(std::move(transform)) {
  if (!transform_) {
    transform_ = [](Object object) { return object; };
  }
}

Cache::Stored Cache::makeStored(Object object) const {
  Stored stored;
  if (const Object* metadata = metadataOf(object)) {
    const auto labels = metadata->find("labels");
    if (labels != metadata->end() && labels->is_object()) {
      for (const auto& [label, value] : labels->items()) {
        if (value.is_string()) {
          stored.labels.emplace(label, value.get<std::string>());
        }
      }
    }
  }
  stored.object = std::make_shared<const Object>(transform_(std::move(object)));
  return stored;
}

void Cache::indexLocked(const std::string& key, const std::map<std::string, std::string>& labels) {
  for (const auto& [label, value] : labels) {
    index_[label][value].insert(key);
  }
}

void Cache::unindexLocked(const std::string& key,
                          const std::map<std::string, std::string>& labels) {
  for (const auto& [label, value] : labels) {
    const auto by_label = index_.find(label);
    if (by_label == index_.end()) {
      continue;
    }
    const auto by_value = by_label->second.find(value);
    if (by_value != by_label->second.end()) {
      by_value->second.erase(key);
      if (by_value->second.empty()) {
        by_label->second.erase(by_value);
      }
    }
    if (by_label->second.empty()) {
      index_.erase(by_label);
    }
  }
}

Cache::Entry Cache::get(std::string_view key) const {
  std::shared_lock lock(mutex_);
  const auto it = objects_.find(key);
  return it == objects_.end() ? nullptr : it->second.object;
}

std::vector<Cache::Entry> Cache::list(std::string_view ns) const {
  std::shared_lock lock(mutex_);
  std::vector<Entry> out;
  if (ns.empty()) {
    out.reserve(objects_.size());
    for (const auto& [key, stored] : objects_) {
      out.push_back(stored.object);
    }
    return out;
  }
  const std::string prefix = std::string(ns) + "/";
  for (auto it = objects_.lower_bound(prefix);
       it != objects_.end() && it->first.compare(0, prefix.size(), prefix) == 0;
       ++it) {
    out.push_back(it->second.object);
  }
  return out;
}

std::vector<std::string> Cache::keys() const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> out;
  out.reserve(objects_.size());
  for (const auto& [key, stored] : objects_) {
    out.push_back(key);
  }
  return out;
}

std::vector<std::string> Cache::keysWithLabel(std::string_view label,
                                              std::string_view value) const {
  std::shared_lock lock(mutex_);
  const auto by_label = index_.find(label);
  if (by_label == index_.end()) {
    return {};
  }
  const auto by_value = by_label->second.find(value);
  if (by_value == by_label->second.end()) {
    return {};
  }
  return {by_value->second.begin(), by_value->second.end()};
}

size_t Cache::size() const {
  std::shared_lock lock(mutex_);
  return objects_.size();
}

std::string Cache::resourceVersion() const {
  std::shared_lock lock(mutex_);
  return resource_version_;
}

size_t Cache::approximateBytes() const {
  std::shared_lock lock(mutex_);
  constexpr size_t kMapNode = 32;      // a red-black tree node's links and colour
  constexpr size_t kSharedBlock = 16;  // make_shared's counts next to the object
  constexpr size_t kString = sizeof(std::string);
  constexpr size_t kValueMap = sizeof(std::map<std::string, std::set<std::string>>);
  constexpr size_t kKeySet = sizeof(std::set<std::string>);
  size_t bytes = 0;
  for (const auto& [key, stored] : objects_) {
    bytes += kMapNode + kString + heapBytes(key) + sizeof(Stored);
    bytes += kSharedBlock + sizeof(Object) + heapBytes(*stored.object);
    for (const auto& [label, value] : stored.labels) {
      bytes += kMapNode + 2 * kString + heapBytes(label) + heapBytes(value);
    }
  }
  for (const auto& [label, values] : index_) {
    bytes += kMapNode + kString + heapBytes(label) + kValueMap;
    for (const auto& [value, keys] : values) {
      bytes += kMapNode + kString + heapBytes(value) + kKeySet;
      for (const std::string& key : keys) {
        bytes += kMapNode + kString + heapBytes(key);
      }
    }
  }
  return bytes;
}

std::vector<std::string> Cache::replace(std::vector<Object> items, std::string resource_version) {
  // Transform outside the lock: readers keep reading the old content meanwhile.
  std::map<std::string, Stored, std::less<>> fresh;
  for (Object& item : items) {
    std::string key = cacheKey(item);
    if (key.empty()) {
      continue;
    }
    fresh.insert_or_assign(std::move(key), makeStored(std::move(item)));
  }
  std::vector<std::string> changed;
  std::unique_lock lock(mutex_);
  for (const auto& [key, stored] : objects_) {
    const auto next = fresh.find(key);
    if (next == fresh.end() ||
        resourceVersionOf(*next->second.object) != resourceVersionOf(*stored.object) ||
        resourceVersionOf(*stored.object).empty()) {
      changed.push_back(key);
    }
  }
  for (const auto& [key, stored] : fresh) {
    if (!objects_.contains(key)) {
      changed.push_back(key);
    }
  }
  objects_ = std::move(fresh);
  index_.clear();
  for (const auto& [key, stored] : objects_) {
    indexLocked(key, stored.labels);
  }
  resource_version_ = std::move(resource_version);
  return changed;
}

std::optional<std::string> Cache::apply(const kube::WatchEvent& event) {
  const std::string version = resourceVersionOf(event.object);
  if (event.type == kube::WatchEventType::Bookmark) {
    std::unique_lock lock(mutex_);
    if (!version.empty()) {
      resource_version_ = version;
    }
    return std::nullopt;
  }
  const std::string key = cacheKey(event.object);
  if (key.empty()) {
    return std::nullopt;
  }
  if (event.type == kube::WatchEventType::Deleted) {
    std::unique_lock lock(mutex_);
    if (!version.empty()) {
      resource_version_ = version;
    }
    const auto it = objects_.find(key);
    if (it == objects_.end()) {
      return std::nullopt;
    }
    unindexLocked(key, it->second.labels);
    objects_.erase(it);
    return key;
  }
  Stored stored = makeStored(event.object);
  std::unique_lock lock(mutex_);
  if (!version.empty()) {
    resource_version_ = version;
  }
  const auto it = objects_.find(key);
  if (it != objects_.end()) {
    if (!version.empty() && resourceVersionOf(*it->second.object) == version) {
      return std::nullopt;  // seen already (a re-watch can repeat the last event)
    }
    unindexLocked(key, it->second.labels);
    it->second = std::move(stored);
    indexLocked(key, it->second.labels);
  } else {
    indexLocked(key, stored.labels);
    objects_.emplace(key, std::move(stored));
  }
  return key;
}

}  // namespace kprof::runtime
