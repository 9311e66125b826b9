#include "operator/runtime/informer.hpp"

#include "common/log/log.hpp"

namespace kprof::runtime {
namespace {

using Kind = InformerOutcome::Kind;
using Act = InformerAction::Kind;

std::string versionOf(const kube::Object& object) {
  const auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) {
    return "";
  }
  const auto version = metadata->find("resourceVersion");
  return version != metadata->end() && version->is_string() ? version->get<std::string>() : "";
}

std::string describe(const InformerOptions& options) {
  std::string text = options.type.resource;
  if (!options.ns.empty()) {
    text += " in " + options.ns;
  }
  if (!options.label_selector.empty()) {
    text += " [" + options.label_selector + "]";
  }
  return text;
}

}  // namespace

Informer::Informer(kube::Api& api, Clock& clock, InformerOptions options)
    : api_(api),
      clock_(clock),
      options_(std::move(options)),
      cache_(options_.transform),
      backoff_alarm_(clock),
      resync_alarm_(clock),
      random_(options_.seed) {}

Informer::~Informer() {
  stop();
}

void Informer::onChange(const ChangeHandler& handler) {
  std::lock_guard delivery(delivery_);
  bool replay = false;
  {
    std::lock_guard lock(mutex_);
    handlers_.push_back(handler);
    replay = synced_;
  }
  if (replay) {
    for (const std::string& key : cache_.keys()) {
      handler(key);
    }
  }
}

void Informer::start() {
  std::lock_guard lock(lifecycle_);
  if (driver_.joinable()) {
    return;
  }
  driver_ = std::jthread([this](const std::stop_token& stop) { run(stop); });
  if (options_.resync_period > Clock::Duration::zero()) {
    resync_ = std::jthread([this](const std::stop_token& stop) { resyncLoop(stop); });
  }
}

void Informer::stop() {
  std::lock_guard lock(lifecycle_);
  for (std::jthread* thread : {&driver_, &resync_}) {
    if (thread->joinable()) {
      thread->request_stop();
      thread->join();
    }
  }
}

bool Informer::hasSynced() const {
  std::lock_guard lock(mutex_);
  return synced_;
}

bool Informer::waitForSync(std::chrono::milliseconds timeout, const std::stop_token& stop) const {
  std::unique_lock lock(mutex_);
  return synced_changed_.wait_for(lock, stop, timeout, [this] { return synced_; });
}

InformerState Informer::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

InformerStats Informer::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

InformerStep Informer::advance(const InformerOutcome& outcome) {
  std::lock_guard lock(mutex_);
  InformerStep step = nextInformerStep(state_, outcome, options_.timing);
  state_ = step.state;
  return step;
}

void Informer::notify(const std::vector<std::string>& keys) {
  std::lock_guard delivery(delivery_);
  deliverLocked(keys);
}

void Informer::deliverLocked(const std::vector<std::string>& keys) {
  std::vector<ChangeHandler> handlers;
  {
    std::lock_guard lock(mutex_);
    handlers = handlers_;
  }
  for (const std::string& key : keys) {
    for (const ChangeHandler& handler : handlers) {
      handler(key);
    }
  }
}

void Informer::run(const std::stop_token& stop) {
  auto log = log::logger("runtime");
  InformerStep step = advance({Kind::Started});
  while (!stop.stop_requested()) {
    InformerOutcome outcome;
    switch (step.action.kind) {
      case Act::List:
        outcome = listAll(stop);
        break;
      case Act::Watch:
      case Act::Continue:
        outcome = watchFrom(step.action.kind == Act::Watch ? step.action.resource_version
                                                           : state().resource_version,
                            stop);
        break;
      case Act::Backoff: {
        const double draw = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
        const auto delay = backoffDelay(options_.backoff, step.action.attempt, draw);
        log->debug("informer {}: retrying in {} ms", describe(options_), delay.count());
        if (backoff_alarm_.waitFor(delay, stop) == Alarm::Wake::Stopped) {
          return;
        }
        outcome = {Kind::BackoffDone};
        break;
      }
    }
    if (stop.stop_requested()) {
      return;
    }
    step = advance(outcome);
  }
}

InformerOutcome Informer::listAll(const std::stop_token& stop) {
  kube::ListOptions list_options{.label_selector = options_.label_selector,
                                 .field_selector = options_.field_selector,
                                 .limit = options_.page_size};
  std::vector<kube::Object> items;
  std::string version;
  do {
    auto page = api_.list(options_.type, options_.ns, list_options);
    if (!page) {
      {
        std::lock_guard lock(mutex_);
        ++stats_.list_failures;
      }
      log::logger("runtime")->warn(
          "informer {}: list failed: {}", describe(options_), page.error().toString());
      return {Kind::ListFailed, "", page.error().code};
    }
    for (kube::Object& item : page->items) {
      // List items may come without kind/apiVersion; cached objects always carry them.
      if (item.is_object()) {
        if (!item.contains("kind")) {
          item["kind"] = options_.type.kind;
        }
        if (!item.contains("apiVersion")) {
          item["apiVersion"] = options_.type.apiVersion();
        }
      }
      items.push_back(std::move(item));
    }
    version = page->resource_version;
    list_options.continue_token = page->continue_token;
  } while (!list_options.continue_token.empty() && !stop.stop_requested());
  if (stop.stop_requested()) {
    return {Kind::ListFailed, "", ErrorCode::Unavailable};
  }
  const std::vector<std::string> changed = cache_.replace(std::move(items), version);
  {
    std::lock_guard lock(mutex_);
    ++stats_.lists;
  }
  {
    // Synced once handlers have the keys: a controller that waits for sync then finds them
    // queued. Under delivery_ so a handler added meanwhile is either notified or replayed.
    std::lock_guard delivery(delivery_);
    deliverLocked(changed);
    std::lock_guard lock(mutex_);
    synced_ = true;
  }
  synced_changed_.notify_all();
  return {Kind::ListDone, version};
}

InformerOutcome Informer::watchFrom(const std::string& resource_version,
                                    const std::stop_token& stop) {
  advance({Kind::WatchOpened});
  const auto timeout =
      options_.watch_timeout.count() > 0
          ? options_.watch_timeout + std::chrono::seconds(std::uniform_int_distribution<int64_t>(
                                         0, options_.watch_timeout.count() - 1)(random_))
          : options_.watch_timeout;
  kube::WatchOptions watch_options{.resource_version = resource_version,
                                   .label_selector = options_.label_selector,
                                   .field_selector = options_.field_selector,
                                   .allow_bookmarks = true,
                                   .timeout = timeout,
                                   .stop = stop};
  {
    std::lock_guard lock(mutex_);
    ++stats_.watches;
  }
  const Clock::SteadyTime started = clock_.now();
  uint64_t events = 0;
  const Status status =
      api_.watch(options_.type, options_.ns, watch_options, [&](const kube::WatchEvent& event) {
        ++events;
        const std::optional<std::string> changed = cache_.apply(event);
        advance({Kind::WatchEvent, versionOf(event.object)});
        {
          std::lock_guard lock(mutex_);
          ++stats_.events;
        }
        if (changed) {
          notify({*changed});
        }
        return !stop.stop_requested();
      });
  const Clock::Duration open_for = clock_.now() - started;
  if (status) {
    return {Kind::WatchEnded, "", ErrorCode::Internal, open_for, events};
  }
  {
    std::lock_guard lock(mutex_);
    ++stats_.watch_failures;
    if (status.error().code == ErrorCode::Expired) {
      ++stats_.expired;
    }
  }
  auto log = log::logger("runtime");
  if (status.error().code == ErrorCode::Expired) {
    log->info(
        "informer {}: watch from {} expired, re-listing", describe(options_), resource_version);
  } else {
    log->warn("informer {}: watch failed: {}", describe(options_), status.error().toString());
  }
  return {Kind::WatchFailed, "", status.error().code, open_for, events};
}

void Informer::resyncLoop(const std::stop_token& stop) {
  while (!stop.stop_requested()) {
    if (resync_alarm_.waitFor(options_.resync_period, stop) == Alarm::Wake::Stopped) {
      return;
    }
    if (!hasSynced()) {
      continue;
    }
    {
      std::lock_guard lock(mutex_);
      ++stats_.resyncs;
    }
    notify(cache_.keys());
  }
}

}  // namespace kprof::runtime
