#include "operator/fakekube/memory_api.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <utility>

#include "operator/kube/selectors.hpp"

namespace kprof::fakekube {
namespace {

using kube::Object;
using kube::ResourceType;
using kube::WatchEventType;

constexpr size_t kMaxSnapshots = 64;

std::string typeKey(const ResourceType& type) {
  return type.group + "/" + type.resource;
}

// "pods" or "leases.coordination.k8s.io", as the API server names a resource in messages.
std::string qualified(const ResourceType& type) {
  return type.group.empty() ? type.resource : type.resource + "." + type.group;
}

std::string objectKey(const ResourceType& type, std::string_view ns, std::string_view name) {
  return type.namespaced ? std::string(ns) + "/" + std::string(name) : std::string(name);
}

Error notFound(const ResourceType& type, std::string_view name) {
  return makeError(ErrorCode::NotFound,
                   qualified(type) + " \"" + std::string(name) + "\" not found");
}

Error conflict(const ResourceType& type, std::string_view name) {
  return makeError(ErrorCode::Conflict,
                   "Operation cannot be fulfilled on " + qualified(type) + " \"" +
                       std::string(name) +
                       "\": the object has been modified; please apply your changes to the "
                       "latest version and try again");
}

Error invalid(std::string message) {
  return makeError(ErrorCode::InvalidArgument, std::move(message));
}

std::string stringAt(const Object& object, const char* section, const char* field) {
  const auto s = object.find(section);
  if (s == object.end() || !s->is_object()) {
    return "";
  }
  const auto f = s->find(field);
  return f != s->end() && f->is_string() ? f->get<std::string>() : "";
}

std::string nameOf(const Object& object) {
  return stringAt(object, "metadata", "name");
}

std::string rvOf(const Object& object) {
  return stringAt(object, "metadata", "resourceVersion");
}

const Object& labelsOf(const Object& object) {
  static const Object kNone;
  const auto m = object.find("metadata");
  if (m == object.end() || !m->is_object()) {
    return kNone;
  }
  const auto labels = m->find("labels");
  return labels == m->end() ? kNone : *labels;
}

Result<int64_t> parseVersion(std::string_view text) {
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || value < 0) {
    return fail(ErrorCode::InvalidArgument,
                "invalid resourceVersion \"" + std::string(text) + "\"");
  }
  return value;
}

// Whether anything besides metadata and status differs: what bumps metadata.generation.
bool specChanged(Object before, Object after) {
  for (Object* object : {&before, &after}) {
    object->erase("metadata");
    object->erase("status");
  }
  return before != after;
}

bool hasFinalizers(const Object& object) {
  const auto m = object.find("metadata");
  if (m == object.end() || !m->is_object()) {
    return false;
  }
  const auto f = m->find("finalizers");
  return f != m->end() && f->is_array() && !f->empty();
}

bool beingDeleted(const Object& object) {
  return !stringAt(object, "metadata", "deletionTimestamp").empty();
}

struct Selectors {
  kube::LabelSelector labels;
  kube::FieldSelector fields;

  bool matches(const Object& object) const {
    return labels.matches(labelsOf(object)) && fields.matches(object);
  }
};

Result<Selectors> parseSelectors(std::string_view label_text, std::string_view field_text) {
  auto labels = kube::LabelSelector::parse(label_text);
  if (!labels) {
    return Unexpected{labels.error()};
  }
  auto fields = kube::FieldSelector::parse(field_text);
  if (!fields) {
    return Unexpected{fields.error()};
  }
  return Selectors{std::move(*labels), std::move(*fields)};
}

}  // namespace

std::string_view verbName(Verb verb) {
  switch (verb) {
    case Verb::Get:
      return "get";
    case Verb::List:
      return "list";
    case Verb::Watch:
      return "watch";
    case Verb::Create:
      return "create";
    case Verb::Update:
      return "update";
    case Verb::UpdateStatus:
      return "updateStatus";
    case Verb::Patch:
      return "patch";
    case Verb::Remove:
      return "remove";
  }
  return "unknown";
}

MemoryApi::MemoryApi(Clock& clock, MemoryApiOptions options)
    : clock_(clock), options_(std::move(options)) {}

MemoryApi::MemoryApi()
    : own_clock_(std::make_unique<SystemClock>()), clock_(*own_clock_), options_() {}

MemoryApi::~MemoryApi() = default;

std::optional<Error> MemoryApi::takeFault(Verb verb, const ResourceType& type) {
  ++calls_[{verb, ""}];
  ++calls_[{verb, type.resource}];
  changed_.notify_all();
  for (Fault& fault : faults_) {
    if (fault.verb == verb && fault.remaining > 0 &&
        (fault.resource.empty() || fault.resource == type.resource)) {
      --fault.remaining;
      Error error = fault.error;
      std::erase_if(faults_, [](const Fault& f) { return f.remaining <= 0; });
      return error;
    }
  }
  return std::nullopt;
}

std::map<std::string, Object>& MemoryApi::objectsOf(const ResourceType& type) {
  return objects_[typeKey(type)];
}

bool MemoryApi::hasStatusSubresource(const ResourceType& type) const {
  return options_.status_subresources.contains(type.resource);
}

std::string MemoryApi::timestampNow() const {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(clock_.wallNow());
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

void MemoryApi::record(const ResourceType& type,
                       std::string_view ns,
                       WatchEventType event,
                       const Object& object,
                       std::optional<Object> previous) {
  history_.push_back(
      HistoryEntry{rv_, typeKey(type), std::string(ns), event, object, std::move(previous)});
  while (history_.size() > options_.history_limit) {
    compacted_ = history_.front().rv;
    history_.pop_front();
  }
  changed_.notify_all();
}

Result<Object> MemoryApi::get(const ResourceType& type,
                              std::string_view ns,
                              std::string_view name) {
  std::lock_guard lock(mutex_);
  if (auto fault = takeFault(Verb::Get, type)) {
    return Unexpected{*fault};
  }
  auto& objects = objectsOf(type);
  const auto it = objects.find(objectKey(type, ns, name));
  if (it == objects.end()) {
    return Unexpected{notFound(type, name)};
  }
  return it->second;
}

Result<kube::ObjectList> MemoryApi::list(const ResourceType& type,
                                         std::string_view ns,
                                         const kube::ListOptions& options) {
  std::lock_guard lock(mutex_);
  if (auto fault = takeFault(Verb::List, type)) {
    return Unexpected{*fault};
  }
  if (options.limit < 0) {
    return Unexpected{invalid("limit must not be negative")};
  }
  uint64_t snapshot_id = 0;
  size_t offset = 0;
  if (!options.continue_token.empty()) {
    const std::string& token = options.continue_token;
    const char* const end = token.data() + token.size();
    const auto id_part = std::from_chars(token.data(), end, snapshot_id);
    const bool parsed = id_part.ec == std::errc{} && id_part.ptr != end && *id_part.ptr == ':' &&
                        std::from_chars(id_part.ptr + 1, end, offset).ptr == end;
    if (!parsed) {
      return Unexpected{invalid("invalid continue token \"" + token + "\"")};
    }
    const auto it = snapshots_.find(snapshot_id);
    if (it == snapshots_.end() || it->second.rv < compacted_) {
      return Unexpected{makeError(ErrorCode::Expired,
                                  "The provided continue parameter is too old to display a "
                                  "consistent list result. You can start a new list without the "
                                  "continue parameter.")};
    }
  } else {
    auto selectors = parseSelectors(options.label_selector, options.field_selector);
    if (!selectors) {
      return Unexpected{selectors.error()};
    }
    Snapshot snapshot{rv_, {}};
    for (const auto& [key, object] : objectsOf(type)) {
      if ((ns.empty() || stringAt(object, "metadata", "namespace") == ns) &&
          selectors->matches(object)) {
        snapshot.items.push_back(object);
      }
    }
    snapshot_id = next_snapshot_++;
    snapshots_[snapshot_id] = std::move(snapshot);
    while (snapshots_.size() > kMaxSnapshots) {
      snapshots_.erase(snapshots_.begin());
    }
  }
  Snapshot& snapshot = snapshots_[snapshot_id];
  kube::ObjectList result;
  result.resource_version = std::to_string(snapshot.rv);
  const size_t end = options.limit > 0 ? std::min(snapshot.items.size(),
                                                  offset + static_cast<size_t>(options.limit))
                                       : snapshot.items.size();
  for (size_t i = std::min(offset, end); i < end; ++i) {
    result.items.push_back(snapshot.items[i]);
  }
  if (end < snapshot.items.size()) {
    result.continue_token = std::to_string(snapshot_id) + ":" + std::to_string(end);
  } else {
    snapshots_.erase(snapshot_id);
  }
  return result;
}

Status MemoryApi::watch(const ResourceType& type,
                        std::string_view ns,
                        const kube::WatchOptions& options,
                        const kube::WatchHandler& on_event) {
  std::unique_lock lock(mutex_);
  if (auto fault = takeFault(Verb::Watch, type)) {
    return Unexpected{*fault};
  }
  auto selectors = parseSelectors(options.label_selector, options.field_selector);
  if (!selectors) {
    return Unexpected{selectors.error()};
  }
  const std::string key_type = typeKey(type);
  std::vector<kube::WatchEvent> pending;
  int64_t cursor = rv_;
  if (options.resource_version.empty() || options.resource_version == "0") {
    // No version: the current state as Added events, then changes.
    for (const auto& [key, object] : objectsOf(type)) {
      if ((ns.empty() || stringAt(object, "metadata", "namespace") == ns) &&
          selectors->matches(object)) {
        pending.push_back({WatchEventType::Added, object});
      }
    }
  } else {
    auto version = parseVersion(options.resource_version);
    if (!version) {
      return Unexpected{version.error()};
    }
    cursor = *version;
    if (cursor < compacted_) {
      return Unexpected{makeError(ErrorCode::Expired,
                                  "too old resource version: " + std::to_string(cursor) + " (" +
                                      std::to_string(compacted_) + ")")};
    }
  }

  ++open_watches_;
  changed_.notify_all();
  struct OpenWatch {  // keeps open_watches_ right on every way out
    MemoryApi& api;
    ~OpenWatch() {
      --api.open_watches_;
      api.changed_.notify_all();
    }
  } open_watch{*this};

  const uint64_t epoch = end_epoch_;
  uint64_t bookmarks = bookmark_epoch_;
  const bool has_deadline = options.timeout.count() > 0;
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  size_t delivered = 0;
  while (true) {
    if (cursor < compacted_) {
      return Unexpected{makeError(ErrorCode::Expired,
                                  "too old resource version: " + std::to_string(cursor) + " (" +
                                      std::to_string(compacted_) + ")")};
    }
    for (const HistoryEntry& entry : history_) {
      if (entry.rv <= cursor) {
        continue;
      }
      cursor = entry.rv;
      if (entry.type_key != key_type || (!ns.empty() && entry.ns != ns)) {
        continue;
      }
      const bool now_matches = selectors->matches(entry.object);
      const bool matched_before =
          entry.previous ? selectors->matches(*entry.previous) : now_matches;
      WatchEventType event = entry.type;
      if (entry.type == WatchEventType::Modified && now_matches != matched_before) {
        // Moving into or out of the selection looks like creation or deletion to this watcher.
        event = now_matches ? WatchEventType::Added : WatchEventType::Deleted;
      } else if (!now_matches) {
        continue;
      }
      pending.push_back({event, entry.object});
    }
    cursor = std::max(cursor, rv_);
    if (bookmarks != bookmark_epoch_) {
      bookmarks = bookmark_epoch_;
      if (options.allow_bookmarks) {
        pending.push_back({WatchEventType::Bookmark,
                           Object{{"kind", type.kind},
                                  {"apiVersion", type.apiVersion()},
                                  {"metadata", {{"resourceVersion", std::to_string(cursor)}}}}});
      }
    }
    if (!pending.empty()) {
      std::vector<kube::WatchEvent> batch;
      batch.swap(pending);
      lock.unlock();
      for (const kube::WatchEvent& event : batch) {
        if (options.stop.stop_requested() || !on_event(event)) {
          lock.lock();
          return ok();
        }
        if (options_.watch_event_limit && ++delivered >= *options_.watch_event_limit) {
          lock.lock();
          return ok();
        }
      }
      lock.lock();
      continue;  // more may have happened while the handler ran
    }
    if (options.stop.stop_requested()) {
      return ok();
    }
    if (end_epoch_ != epoch) {
      if (end_error_) {
        return Unexpected{*end_error_};
      }
      return ok();
    }
    const auto wake = [&] {
      return rv_ > cursor || end_epoch_ != epoch || bookmarks != bookmark_epoch_ ||
             cursor < compacted_;
    };
    if (has_deadline) {
      if (!changed_.wait_until(lock, options.stop, deadline, wake) &&
          std::chrono::steady_clock::now() >= deadline) {
        return ok();  // timeoutSeconds reached: the server ends the stream
      }
    } else {
      changed_.wait(lock, options.stop, wake);
    }
  }
}

Result<Object> MemoryApi::create(const ResourceType& type,
                                 std::string_view ns,
                                 const Object& object) {
  std::lock_guard lock(mutex_);
  if (auto fault = takeFault(Verb::Create, type)) {
    return Unexpected{*fault};
  }
  return createLocked(type, ns, object);
}

Result<Object> MemoryApi::createLocked(const ResourceType& type,
                                       std::string_view ns,
                                       const Object& object) {
  if (!object.is_object()) {
    return Unexpected{invalid("the object to create must be a JSON object")};
  }
  Object stored = object;
  Object& metadata = stored["metadata"];
  if (!metadata.is_object()) {
    return Unexpected{invalid("metadata must be an object")};
  }
  std::string name = nameOf(stored);
  if (name.empty()) {
    const auto generate = metadata.find("generateName");
    if (generate == metadata.end() || !generate->is_string() || generate->empty()) {
      return Unexpected{invalid(qualified(type) + ": metadata.name or generateName is required")};
    }
    char suffix[8];
    std::snprintf(suffix,
                  sizeof suffix,
                  "%05lx",
                  static_cast<unsigned long>((uid_counter_ + 1) * 2654435761u % 0xfffff));
    name = generate->get<std::string>() + suffix;
    metadata["name"] = name;
  }
  if (type.namespaced) {
    if (ns.empty()) {
      return Unexpected{invalid(qualified(type) + " is namespaced: a namespace is required")};
    }
    const std::string object_ns = stringAt(stored, "metadata", "namespace");
    if (!object_ns.empty() && object_ns != ns) {
      return Unexpected{
          invalid("the namespace of the provided object does not match the "
                  "namespace sent on the request")};
    }
    metadata["namespace"] = std::string(ns);
  } else {
    metadata.erase("namespace");
  }
  if (!rvOf(stored).empty()) {
    return Unexpected{invalid("resourceVersion should not be set on objects to be created")};
  }
  if (stored.contains("kind") && stored["kind"] != type.kind) {
    return Unexpected{invalid("kind " + stored["kind"].dump() + " does not match " + type.kind)};
  }
  stored["kind"] = type.kind;
  stored["apiVersion"] = type.apiVersion();

  auto& objects = objectsOf(type);
  const std::string key = objectKey(type, ns, name);
  if (objects.contains(key)) {
    return Unexpected{
        makeError(ErrorCode::AlreadyExists, qualified(type) + " \"" + name + "\" already exists")};
  }
  char uid[40];
  std::snprintf(uid,
                sizeof uid,
                "00000000-0000-4000-8000-%012lx",
                static_cast<unsigned long>(++uid_counter_));
  metadata["uid"] = uid;
  metadata["generation"] = 1;
  metadata["creationTimestamp"] = timestampNow();
  metadata.erase("deletionTimestamp");
  metadata["resourceVersion"] = std::to_string(++rv_);
  objects[key] = stored;
  record(type, ns, WatchEventType::Added, stored, std::nullopt);
  return stored;
}

Result<Object> MemoryApi::storeChange(const ResourceType& type,
                                      const std::string& key,
                                      Object next,
                                      bool status_only) {
  auto& objects = objectsOf(type);
  const Object old = objects.at(key);
  const std::string name = nameOf(old);
  const std::string wanted_rv = rvOf(next);
  if (!wanted_rv.empty() && wanted_rv != rvOf(old)) {
    return Unexpected{conflict(type, name)};
  }
  Object result;
  if (status_only) {
    result = old;
    if (next.contains("status")) {
      result["status"] = next["status"];
    } else {
      result.erase("status");
    }
  } else {
    if (!next.is_object() || (next.contains("metadata") && !next["metadata"].is_object())) {
      return Unexpected{invalid("the object must be a JSON object with object metadata")};
    }
    result = std::move(next);
    // Identity and server-managed fields cannot be changed by a write.
    const Object& old_meta = old["metadata"];
    Object& meta = result["metadata"];
    for (const char* field :
         {"name", "namespace", "uid", "creationTimestamp", "deletionTimestamp", "generation"}) {
      if (old_meta.contains(field)) {
        meta[field] = old_meta[field];
      } else {
        meta.erase(field);
      }
    }
    result["kind"] = old["kind"];
    result["apiVersion"] = old["apiVersion"];
    if (hasStatusSubresource(type)) {
      if (old.contains("status")) {
        result["status"] = old["status"];
      } else {
        result.erase("status");
      }
    }
  }
  result["metadata"]["resourceVersion"] = rvOf(old);
  if (result == old) {
    return old;  // a write that changes nothing does not produce a new version
  }
  if (!status_only && specChanged(old, result)) {
    result["metadata"]["generation"] = old["metadata"].value("generation", int64_t{0}) + 1;
  }
  result["metadata"]["resourceVersion"] = std::to_string(++rv_);
  const std::string ns = stringAt(result, "metadata", "namespace");
  if (beingDeleted(result) && !hasFinalizers(result)) {
    objects.erase(key);
    record(type, ns, WatchEventType::Deleted, result, std::nullopt);
    return result;
  }
  objects[key] = result;
  record(type, ns, WatchEventType::Modified, result, old);
  return result;
}

Result<Object> MemoryApi::update(const ResourceType& type,
                                 std::string_view ns,
                                 const Object& object) {
  std::lock_guard lock(mutex_);
  if (auto fault = takeFault(Verb::Update, type)) {
    return Unexpected{*fault};
  }
  if (!object.is_object()) {
    return Unexpected{invalid("the object to update must be a JSON object")};
  }
  const std::string name = nameOf(object);
  if (name.empty()) {
    return Unexpected{invalid("metadata.name is required")};
  }
  const std::string key = objectKey(type, ns, name);
  if (!objectsOf(type).contains(key)) {
    return Unexpected{notFound(type, name)};
  }
  return storeChange(type, key, object, false);
}

Result<Object> MemoryApi::updateStatus(const ResourceType& type,
                                       std::string_view ns,
                                       const Object& object) {
  std::lock_guard lock(mutex_);
  if (auto fault = takeFault(Verb::UpdateStatus, type)) {
    return Unexpected{*fault};
  }
  if (!hasStatusSubresource(type)) {
    return Unexpected{
        makeError(ErrorCode::NotFound, qualified(type) + " has no status subresource")};
  }
  if (!object.is_object()) {
    return Unexpected{invalid("the object to update must be a JSON object")};
  }
  const std::string name = nameOf(object);
  const std::string key = objectKey(type, ns, name);
  if (name.empty() || !objectsOf(type).contains(key)) {
    return Unexpected{notFound(type, name)};
  }
  return storeChange(type, key, object, true);
}

Result<Object> MemoryApi::patch(const ResourceType& type,
                                std::string_view ns,
                                std::string_view name,
                                kube::PatchType patch_type,
                                const Object& patch,
                                const kube::PatchOptions& options) {
  std::lock_guard lock(mutex_);
  if (auto fault = takeFault(Verb::Patch, type)) {
    return Unexpected{*fault};
  }
  const bool status_only = options.subresource == "status";
  if (!options.subresource.empty() && !status_only) {
    return Unexpected{
        makeError(ErrorCode::NotFound, "unknown subresource \"" + options.subresource + "\"")};
  }
  if (status_only && !hasStatusSubresource(type)) {
    return Unexpected{
        makeError(ErrorCode::NotFound, qualified(type) + " has no status subresource")};
  }
  const bool json_patch = patch_type == kube::PatchType::Json;
  if (json_patch ? !patch.is_array() : !patch.is_object()) {
    return Unexpected{invalid(json_patch ? "a JSON patch must be an array of operations"
                                         : "a merge patch must be a JSON object")};
  }
  const std::string key = objectKey(type, ns, name);
  auto& objects = objectsOf(type);
  const auto it = objects.find(key);
  if (it == objects.end()) {
    if (patch_type != kube::PatchType::Apply || status_only) {
      return Unexpected{notFound(type, name)};
    }
    // Server-side apply creates what does not exist yet.
    Object object = patch;
    object["metadata"]["name"] = std::string(name);
    return createLocked(type, ns, object);
  }
  Object patched;
  if (json_patch) {
    try {
      patched = it->second.patch(patch);
    } catch (const nlohmann::json::exception& e) {
      return Unexpected{invalid(std::string("the JSON patch cannot be applied: ") + e.what())};
    }
  } else {
    patched = it->second;
    patched.merge_patch(patch);
  }
  return storeChange(type, key, std::move(patched), status_only);
}

Status MemoryApi::remove(const ResourceType& type, std::string_view ns, std::string_view name) {
  std::lock_guard lock(mutex_);
  if (auto fault = takeFault(Verb::Remove, type)) {
    return Unexpected{*fault};
  }
  auto& objects = objectsOf(type);
  const std::string key = objectKey(type, ns, name);
  const auto it = objects.find(key);
  if (it == objects.end()) {
    return Unexpected{notFound(type, name)};
  }
  Object object = it->second;
  const std::string object_ns = stringAt(object, "metadata", "namespace");
  if (hasFinalizers(object)) {
    if (!beingDeleted(object)) {
      // Finalizers hold the object: it is only marked until they are removed.
      const Object previous = object;
      object["metadata"]["deletionTimestamp"] = timestampNow();
      object["metadata"]["resourceVersion"] = std::to_string(++rv_);
      it->second = object;
      record(type, object_ns, WatchEventType::Modified, object, previous);
    }
    return ok();
  }
  objects.erase(it);
  object["metadata"]["resourceVersion"] = std::to_string(++rv_);
  record(type, object_ns, WatchEventType::Deleted, object, std::nullopt);
  return ok();
}

void MemoryApi::failNext(Verb verb, int count, Error error, std::string resource) {
  std::lock_guard lock(mutex_);
  if (count > 0) {
    faults_.push_back(Fault{verb, std::move(resource), count, std::move(error)});
  }
}

void MemoryApi::endWatches(std::optional<Error> error) {
  std::lock_guard lock(mutex_);
  ++end_epoch_;
  end_error_ = std::move(error);
  changed_.notify_all();
}

void MemoryApi::compactHistory() {
  std::lock_guard lock(mutex_);
  history_.clear();
  compacted_ = rv_;
  changed_.notify_all();
}

void MemoryApi::sendBookmarks() {
  std::lock_guard lock(mutex_);
  ++bookmark_epoch_;
  changed_.notify_all();
}

void MemoryApi::setWatchEventLimit(std::optional<size_t> limit) {
  std::lock_guard lock(mutex_);
  options_.watch_event_limit = limit;
}

size_t MemoryApi::calls(Verb verb, std::string_view resource) const {
  std::lock_guard lock(mutex_);
  const auto it = calls_.find({verb, std::string(resource)});
  return it == calls_.end() ? 0 : it->second;
}

bool MemoryApi::waitForCalls(Verb verb,
                             size_t count,
                             std::chrono::milliseconds timeout,
                             std::string_view resource) const {
  std::unique_lock lock(mutex_);
  const std::pair<Verb, std::string> key{verb, std::string(resource)};
  return changed_.wait_for(lock, timeout, [&] {
    const auto it = calls_.find(key);
    return it != calls_.end() && it->second >= count;
  });
}

size_t MemoryApi::openWatches() const {
  std::lock_guard lock(mutex_);
  return open_watches_;
}

bool MemoryApi::waitForWatches(size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return open_watches_ >= count; });
}

int64_t MemoryApi::resourceVersion() const {
  std::lock_guard lock(mutex_);
  return rv_;
}

}  // namespace kprof::fakekube
