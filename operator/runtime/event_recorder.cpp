#include "operator/runtime/event_recorder.hpp"

#include <cstdio>

#include "common/log/log.hpp"
#include "operator/runtime/time_format.hpp"

namespace kprof::runtime {
namespace {

constexpr size_t kMaxReason = 128;
constexpr size_t kMaxMessage = 1024;

std::string field(const kube::Object& object, const char* section, const char* name) {
  const kube::Object* node = &object;
  if (section != nullptr) {
    const auto it = object.find(section);
    if (it == object.end() || !it->is_object()) {
      return "";
    }
    node = &*it;
  }
  const auto it = node->find(name);
  return it != node->end() && it->is_string() ? it->get<std::string>() : "";
}

// Cuts at `limit` bytes without splitting a UTF-8 sequence.
std::string truncated(std::string_view text, size_t limit) {
  if (text.size() <= limit) {
    return std::string(text);
  }
  size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  return std::string(text.substr(0, end));
}

std::string_view typeName(EventType type) {
  return type == EventType::Warning ? "Warning" : "Normal";
}

}  // namespace

EventRecorder::EventRecorder(kube::Api& api, Clock& clock, EventRecorderOptions options)
    : api_(api), clock_(clock), options_(std::move(options)) {
  thread_ = std::jthread([this](const std::stop_token& stop) { run(stop); });
}

EventRecorder::~EventRecorder() {
  stop();
}

void EventRecorder::record(const kube::Object& object,
                           EventType type,
                           std::string_view reason,
                           std::string_view message) {
  const bool named = object.is_object() && !field(object, "metadata", "name").empty();
  {
    std::lock_guard lock(mutex_);
    if (!named || stopping_ || queue_.size() >= options_.queue_capacity) {
      ++stats_.dropped;
      return;
    }
    kube::Object involved = {{"kind", field(object, nullptr, "kind")},
                             {"apiVersion", field(object, nullptr, "apiVersion")},
                             {"name", field(object, "metadata", "name")}};
    for (const char* optional : {"namespace", "uid"}) {
      const std::string value = field(object, "metadata", optional);
      if (!value.empty()) {
        involved[optional] = value;
      }
    }
    queue_.push_back(Pending{
        std::move(involved), type, truncated(reason, kMaxReason), truncated(message, kMaxMessage)});
    ++stats_.recorded;
  }
  changed_.notify_all();
}

bool EventRecorder::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [this] { return queue_.empty() && !busy_; });
}

void EventRecorder::stop() {
  std::lock_guard lifecycle(lifecycle_);
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

EventRecorderStats EventRecorder::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void EventRecorder::run(const std::stop_token& stop) {
  while (true) {
    Pending event;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, stop, [this] { return !queue_.empty(); });
      if (queue_.empty()) {
        return;  // stopped with nothing left to write
      }
      event = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
    }
    const bool reachable = write(event);
    {
      std::lock_guard lock(mutex_);
      busy_ = false;
      if (!reachable && stop.stop_requested()) {
        // Shutting down with the API unreachable: do not hold the exit up for each event.
        stats_.dropped += queue_.size();
        queue_.clear();
      }
    }
    changed_.notify_all();
  }
}

std::string EventRecorder::nextName(const std::string& object_name) {
  const int64_t nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.wallNow().time_since_epoch())
          .count();
  // Unique even when the clock has not moved since the last name (a FakeClock, a coarse clock).
  last_name_nanos_ = std::max(nanos, last_name_nanos_ + 1);
  char suffix[24];
  std::snprintf(
      suffix, sizeof suffix, ".%016llx", static_cast<unsigned long long>(last_name_nanos_));
  return object_name + suffix;
}

void EventRecorder::remember(const std::string& key, Correlated entry) {
  const auto existing = correlated_.find(key);
  if (existing != correlated_.end()) {
    lru_.erase(existing->second.lru);
    correlated_.erase(existing);
  }
  lru_.push_front(key);
  entry.lru = lru_.begin();
  correlated_.emplace(key, std::move(entry));
  while (correlated_.size() > options_.max_correlated) {
    correlated_.erase(lru_.back());
    lru_.pop_back();
  }
}

bool EventRecorder::write(const Pending& event) {
  const std::string key =
      event.involved.value("kind", "") + '\x1f' + event.involved.value("namespace", "") + '\x1f' +
      event.involved.value("name", "") + '\x1f' + event.involved.value("uid", "") + '\x1f' +
      std::string(typeName(event.type)) + '\x1f' + event.reason + '\x1f' + event.message;
  const Clock::SteadyTime now = clock_.now();
  const auto it = correlated_.find(key);
  if (it != correlated_.end() && now - it->second.last_seen < options_.correlation_window) {
    Correlated entry = it->second;
    const kube::Object patch = {{"count", entry.count + 1},
                                {"lastTimestamp", formatTime(clock_.wallNow())}};
    auto patched = api_.patch(
        kube::resources::kEvents, entry.ns, entry.name, kube::PatchType::Merge, patch, {});
    if (patched) {
      entry.count += 1;
      entry.last_seen = now;
      remember(key, std::move(entry));
      std::lock_guard lock(mutex_);
      ++stats_.patched;
      return true;
    }
    if (patched.error().code != ErrorCode::NotFound) {
      log::logger("runtime")->debug(
          "event {}/{}: patch failed: {}", entry.ns, entry.name, patched.error().toString());
      std::lock_guard lock(mutex_);
      ++stats_.failed;
      return patched.error().code != ErrorCode::Unavailable;
    }
    // The Event is gone (expired by the API server's TTL): write a new one.
  }
  return createEvent(event, key);
}

bool EventRecorder::createEvent(const Pending& event, const std::string& key) {
  const std::string object_name = event.involved.value("name", "");
  const std::string ns = event.involved.value("namespace", "default");
  const std::string timestamp = formatTime(clock_.wallNow());
  kube::Object body = {{"apiVersion", "v1"},
                       {"kind", "Event"},
                       {"metadata", {{"namespace", ns}}},
                       {"involvedObject", event.involved},
                       {"reason", event.reason},
                       {"message", event.message},
                       {"type", typeName(event.type)},
                       {"count", 1},
                       {"firstTimestamp", timestamp},
                       {"lastTimestamp", timestamp},
                       {"source", {{"component", options_.component}}},
                       {"reportingComponent", options_.component},
                       {"reportingInstance", options_.reporting_instance}};
  if (!options_.reporting_instance.empty()) {
    body["source"]["host"] = options_.reporting_instance;
  }
  Result<kube::Object> created = makeError(ErrorCode::Internal, "not attempted");
  for (int attempt = 0; attempt < 2; ++attempt) {  // a name clash gets one more name
    body["metadata"]["name"] = nextName(object_name);
    created = api_.create(kube::resources::kEvents, ns, body);
    if (created || created.error().code != ErrorCode::AlreadyExists) {
      break;
    }
  }
  if (!created) {
    log::logger("runtime")->debug(
        "event for {}/{}: create failed: {}", ns, object_name, created.error().toString());
    std::lock_guard lock(mutex_);
    ++stats_.failed;
    return created.error().code != ErrorCode::Unavailable;
  }
  remember(key, Correlated{body["metadata"]["name"].get<std::string>(), ns, 1, clock_.now(), {}});
  std::lock_guard lock(mutex_);
  ++stats_.created;
  return true;
}

}  // namespace kprof::runtime
