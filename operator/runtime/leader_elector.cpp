#include "operator/runtime/leader_elector.hpp"

#include "common/log/log.hpp"

namespace kprof::runtime {
namespace {

using Kind = LeaseDecision::Kind;

kube::Object leaseObject(const LeaderElectionConfig& config, const LeaseRecord& record) {
  return {{"apiVersion", "coordination.k8s.io/v1"},
          {"kind", "Lease"},
          {"metadata", {{"name", config.name}, {"namespace", config.ns}}},
          {"spec", leaseSpecFromRecord(record)}};
}

}  // namespace

LeaderElector::LeaderElector(kube::Api& api,
                             Clock& clock,
                             LeaderElectionConfig config,
                             LeaderCallbacks callbacks)
    : api_(api),
      clock_(clock),
      config_(std::move(config)),
      callbacks_(std::move(callbacks)),
      alarm_(clock) {}

LeaderElector::~LeaderElector() {
  stop();
}

void LeaderElector::start() {
  std::lock_guard lock(lifecycle_);
  if (!thread_.joinable()) {
    thread_ = std::jthread([this](const std::stop_token& stop) { run(stop); });
  }
}

void LeaderElector::stop() {
  std::lock_guard lock(lifecycle_);
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

std::string LeaderElector::observedLeader() const {
  std::lock_guard lock(mutex_);
  return observed_;
}

LeaderElectorStats LeaderElector::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void LeaderElector::observe(const std::string& holder) {
  {
    std::lock_guard lock(mutex_);
    if (observed_any_ && observed_ == holder) {
      return;
    }
    observed_ = holder;
    observed_any_ = true;
  }
  log::logger("runtime")->info(
      "lease {}/{}: leader is now \"{}\"", config_.ns, config_.name, holder);
  if (callbacks_.on_new_leader) {
    callbacks_.on_new_leader(holder);
  }
}

void LeaderElector::run(const std::stop_token& stop) {
  while (!stop.stop_requested()) {
    const Clock::Duration next = tryOnce();
    if (alarm_.waitFor(next, stop) == Alarm::Wake::Stopped) {
      break;
    }
  }
  if (leading_) {
    stopLeading();
    if (config_.release_on_cancel) {
      release();
    }
  }
}

Clock::Duration LeaderElector::tryOnce() {
  auto log = log::logger("runtime");
  const LeaderElectionTiming& timing = config_.timing;
  const Clock::WallTime now = clock_.wallNow();
  LeaseObservation observation{std::nullopt, leading_.load(), last_renewed_};
  auto current = api_.get(kube::resources::kLeases, config_.ns, config_.name);
  if (current) {
    read_failures_ = 0;
    stored_ = *current;
    auto record = leaseRecordFromSpec(current->value("spec", kube::Object()));
    if (!record) {
      // A Lease we cannot read is treated as held by nobody: we overwrite it with a valid one.
      log->warn("lease {}/{}: {}", config_.ns, config_.name, record.error().toString());
      observation.lease = LeaseRecord{};
    } else {
      observation.lease = *record;
    }
  } else if (current.error().code != ErrorCode::NotFound) {
    {
      std::lock_guard lock(mutex_);
      ++stats_.errors;
    }
    // Once per outage at warning level; the retries that follow at debug level.
    log->log(read_failures_++ == 0 ? spdlog::level::warn : spdlog::level::debug,
             "lease {}/{}: read failed: {}",
             config_.ns,
             config_.name,
             current.error().toString());
    if (leading_ && last_renewed_ && now - *last_renewed_ >= timing.renew_deadline) {
      stopLeading();
    }
    return timing.retry_period;
  }

  const LeaseDecision decision = decideLease(observation, config_.identity, now, timing);
  switch (decision.kind) {
    case Kind::Wait:
      observe(observation.lease ? observation.lease->holder_identity : "");
      return std::max(decision.wait_until - now, Clock::Duration::zero());
    case Kind::Lost:
      log->warn("lease {}/{}: lost leadership", config_.ns, config_.name);
      stopLeading();
      return timing.retry_period;
    case Kind::Acquire:
    case Kind::Renew: {
      Result<kube::Object> written = [&]() -> Result<kube::Object> {
        if (decision.create) {
          return api_.create(
              kube::resources::kLeases, config_.ns, leaseObject(config_, decision.record));
        }
        kube::Object next = stored_;
        next["spec"] = leaseSpecFromRecord(decision.record);
        return api_.update(kube::resources::kLeases, config_.ns, next);
      }();
      if (!written) {
        const ErrorCode code = written.error().code;
        {
          std::lock_guard lock(mutex_);
          ++(code == ErrorCode::Conflict || code == ErrorCode::AlreadyExists
                 ? stats_.write_conflicts
                 : stats_.errors);
        }
        // Someone wrote first (or the server failed): look again at the next try.
        log->debug(
            "lease {}/{}: write failed: {}", config_.ns, config_.name, written.error().toString());
        return timing.retry_period;
      }
      stored_ = *written;
      last_renewed_ = now;
      {
        std::lock_guard lock(mutex_);
        ++(decision.kind == Kind::Acquire ? stats_.acquisitions : stats_.renewals);
      }
      observe(config_.identity);
      if (!leading_) {
        log->info("lease {}/{}: became leader as {}", config_.ns, config_.name, config_.identity);
        startLeading();
      }
      return timing.retry_period;
    }
  }
  return timing.retry_period;
}

void LeaderElector::startLeading() {
  leading_ = true;
  if (callbacks_.on_started_leading) {
    leading_thread_ = std::jthread([callback = callbacks_.on_started_leading](
                                       std::stop_token stop) { callback(std::move(stop)); });
  }
}

void LeaderElector::stopLeading() {
  if (!leading_) {
    return;
  }
  if (leading_thread_.joinable()) {
    leading_thread_.request_stop();
    leading_thread_.join();
  }
  leading_ = false;
  last_renewed_.reset();
  {
    std::lock_guard lock(mutex_);
    ++stats_.losses;
  }
  if (callbacks_.on_stopped_leading) {
    callbacks_.on_stopped_leading();
  }
}

void LeaderElector::release() {
  auto log = log::logger("runtime");
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto record = leaseRecordFromSpec(stored_.value("spec", kube::Object()));
    if (!record || record->holder_identity != config_.identity) {
      return;  // not ours (any more): nothing to release
    }
    kube::Object next = stored_;
    next["spec"] = leaseSpecFromRecord(releasedRecord(*record, clock_.wallNow()));
    auto written = api_.update(kube::resources::kLeases, config_.ns, next);
    if (written) {
      log->info("lease {}/{}: released", config_.ns, config_.name);
      observe("");
      return;
    }
    if (written.error().code != ErrorCode::Conflict) {
      log->warn(
          "lease {}/{}: release failed: {}", config_.ns, config_.name, written.error().toString());
      return;
    }
    auto current = api_.get(kube::resources::kLeases, config_.ns, config_.name);
    if (!current) {
      return;
    }
    stored_ = *current;
  }
}

}  // namespace kprof::runtime
