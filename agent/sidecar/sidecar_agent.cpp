#include "agent/sidecar/sidecar_agent.hpp"

#include <algorithm>
#include <thread>
#include <utility>

#include <prometheus/metric_family.h>

#include "agent/export/pyroscope_ingest.hpp"
#include "common/log/log.hpp"
#include "common/pprof/codec.hpp"

namespace kprof::agent {
namespace {

prometheus::MetricFamily counter(std::string name, std::string help) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = prometheus::MetricType::Counter;
  return family;
}

void addValue(prometheus::MetricFamily& family,
              double value,
              std::vector<prometheus::ClientMetric::Label> labels = {}) {
  prometheus::ClientMetric metric;
  metric.label = std::move(labels);
  if (family.type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
}

class SidecarCollector final : public prometheus::Collectable {
 public:
  explicit SidecarCollector(const SidecarAgent& agent) : agent_(agent) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    const SamplerStats sampler = agent_.samplerStats();
    const SidecarStats sidecar = agent_.stats();
    auto samples = counter("kprof_agent_samples_total", "Stack samples taken.");
    addValue(samples, static_cast<double>(sampler.samples));
    auto lost = counter("kprof_agent_lost_samples_total",
                        "Samples lost in the kernel (full maps or ring buffers).");
    addValue(lost, static_cast<double>(sampler.lost));
    auto missing =
        counter("kprof_agent_missing_stacks_total", "Samples whose stack was unreadable.");
    addValue(missing, static_cast<double>(sampler.missing_user_stacks), {{"space", "user"}});
    addValue(missing, static_cast<double>(sampler.missing_kernel_stacks), {{"space", "kernel"}});
    auto collisions = counter("kprof_agent_stack_map_collisions_total",
                              "Stacks the kernel stack map could not store.");
    addValue(collisions, static_cast<double>(sampler.stack_map_collisions));
    auto cycles = counter("kprof_agent_cycles_total", "Upload intervals processed.");
    addValue(
        cycles, static_cast<double>(sidecar.cycles - sidecar.failed_cycles), {{"result", "ok"}});
    addValue(cycles, static_cast<double>(sidecar.failed_cycles), {{"result", "error"}});
    auto profiles = counter("kprof_agent_profiles_total", "Profiles built.");
    addValue(profiles, static_cast<double>(sidecar.profiles));

    auto uploads = counter("kprof_agent_uploads_total", "Profiles accepted by a destination.");
    auto bytes = counter("kprof_agent_upload_bytes_total", "Bytes of profiles accepted.");
    auto errors = counter("kprof_agent_upload_errors_total", "Failed upload attempts.");
    auto drops = counter("kprof_agent_dropped_profiles_total",
                         "Profiles dropped: queue full, retries exhausted or rejected.");
    prometheus::MetricFamily queued;
    queued.name = "kprof_agent_queued_profiles";
    queued.help = "Profiles waiting to be sent.";
    queued.type = prometheus::MetricType::Gauge;
    const auto exports = agent_.exportStats();
    for (size_t i = 0; i < exports.size(); ++i) {
      const std::vector<prometheus::ClientMetric::Label> labels = {{"exporter", std::to_string(i)}};
      addValue(uploads, static_cast<double>(exports[i].uploads), labels);
      addValue(bytes, static_cast<double>(exports[i].upload_bytes), labels);
      addValue(errors, static_cast<double>(exports[i].upload_errors), labels);
      addValue(drops, static_cast<double>(exports[i].dropped + exports[i].rejected), labels);
      addValue(queued, static_cast<double>(exports[i].queued), labels);
    }
    return {samples,
            lost,
            missing,
            collisions,
            cycles,
            profiles,
            uploads,
            bytes,
            errors,
            drops,
            queued};
  }

 private:
  const SidecarAgent& agent_;
};

}  // namespace

namespace {

bool wantsOffCpu(const SidecarOptions& options) {
  return std::find(options.profile_types.begin(), options.profile_types.end(), "wall") !=
         options.profile_types.end();
}

// A new engine for `next`, started, or why there is none.
Result<std::unique_ptr<SamplingEngine>> startEngine(const EngineFactory& make_engine,
                                                    const SidecarOptions& next) {
  if (!make_engine) {
    return fail(ErrorCode::InvalidArgument, "sampling settings changed but no engine factory");
  }
  auto engine = make_engine(next);
  if (!engine) {
    return engine.error();
  }
  if (!*engine) {
    return fail(ErrorCode::Internal, "the engine factory returned no engine");
  }
  KPROF_TRY((*engine)->start());
  return engine;
}

}  // namespace

SidecarAgent::SidecarAgent(SidecarOptions options,
                           std::unique_ptr<SamplingEngine> engine,
                           std::unique_ptr<Symbolizer> symbolizer,
                           std::vector<std::unique_ptr<Exporter>> exporters,
                           Clock& clock)
    : options_(std::move(options)),
      engine_(std::move(engine)),
      symbolizer_(std::move(symbolizer)),
      exporters_(std::move(exporters)),
      clock_(clock),
      started_(clock.now()) {}

Status SidecarAgent::drainEngine() {
  auto drained = engine_->drain();
  if (!drained) {
    return drained.error().wrap("draining the sampler");
  }
  const auto now = clock_.wallNow();
  if (last_drain_ == std::chrono::system_clock::time_point{}) {
    last_drain_ = now - std::chrono::seconds(1);
  }
  for (const RawStack& stack : *drained) {
    interval_.add(stack);
    if (capture_) {
      capture_->stacks.add(stack);
    }
  }
  recorder_.add(last_drain_, now, options_.frequency_hz, std::move(*drained));
  last_drain_ = now;
  return ok();
}

Result<std::vector<kprof::snapshot::ProfileOutcome>> SidecarAgent::submitProfiles(
    const std::vector<RawStack>& raw,
    const std::vector<std::string>& types,
    const std::map<std::string, std::string>& labels,
    std::chrono::system_clock::time_point from,
    std::chrono::system_clock::time_point until,
    uint32_t frequency_hz) {
  const std::vector<RawStack> stacks = stacksForTypes(raw, types);
  AssembleOptions assemble;
  assemble.sample_period_ns = 1'000'000'000ULL / std::max<uint32_t>(frequency_hz, 1);
  assemble.start = from;
  assemble.duration = until - from;
  assemble.one_profile_per_process = false;  // one profile per service; pid is a sample label
  AssembleStats assembled_stats;
  auto profiles = assembleProfiles(stacks, *symbolizer_, assemble, &assembled_stats);

  std::vector<kprof::snapshot::ProfileOutcome> outcomes;
  uint64_t bytes = 0;
  for (auto& assembled : profiles) {
    auto encoded = pprof::encodeGzip(assembled.profile);
    if (!encoded) {
      return encoded.error().wrap("encoding the " + assembled.profile_type + " profile");
    }
    Upload upload;
    upload.profile_type = assembled.profile_type;
    upload.series_labels = labels;
    upload.series_name = seriesName(options_.service_name, assembled.profile_type, labels);
    upload.from = from;
    upload.until = until;
    upload.sample_rate_hz = frequency_hz;
    bytes += encoded->size();
    outcomes.push_back({assembled.profile_type, static_cast<int64_t>(assembled.samples),
                        static_cast<int64_t>(encoded->size())});
    upload.pprof_gz = std::move(*encoded);
    for (size_t i = 0; i < exporters_.size(); ++i) {
      // The last exporter takes the bytes; the others get copies.
      exporters_[i]->submit(i + 1 == exporters_.size() ? std::move(upload) : upload);
    }
  }
  std::lock_guard lock(mutex_);
  stats_.profiles += profiles.size();
  stats_.profile_bytes += bytes;
  stats_.unresolved_frames += assembled_stats.unresolved_frames;
  return outcomes;
}

Status SidecarAgent::runCycle(std::chrono::system_clock::time_point from,
                              std::chrono::system_clock::time_point until) {
  auto drained = drainEngine();
  {
    std::lock_guard lock(mutex_);
    ++stats_.cycles;
  }
  auto submitted = drained ? submitProfiles(interval_.take(), options_.profile_types,
                                            options_.series_labels, from, until,
                                            options_.frequency_hz)
                           : Result<std::vector<kprof::snapshot::ProfileOutcome>>(drained.error());
  std::lock_guard lock(mutex_);
  if (!submitted) {
    ++stats_.failed_cycles;
    return submitted.error();
  }
  stats_.last_success = clock_.now();
  return ok();
}

void SidecarAgent::endInterval(std::chrono::system_clock::time_point& window_start) {
  const auto window_end = clock_.wallNow();
  if (auto cycle = runCycle(window_start, window_end); !cycle) {
    log::logger("agent")->error("profiling cycle failed: {}", cycle.error().toString());
  }
  window_start = window_end;
}

Status SidecarAgent::run(std::stop_token stop, std::chrono::milliseconds flush) {
  auto log = log::logger("agent");
  if (!symbolizer_->preloadKernelSymbols()) {
    log->info("kernel symbols unavailable (kallsyms restricted); kernel frames stay addresses");
  }
  KPROF_TRY(engine_->start());
  started_ = clock_.now();
  auto window_start = clock_.wallNow();
  last_drain_ = window_start;
  auto next_drain = clock_.now() + std::chrono::seconds(1);
  while (!stop.stop_requested()) {
    // Sleep the interval in short steps so a stop request is answered within a second. Every
    // second the engine is drained into the flight recorder. A new configuration ends the interval
    // early: what was sampled so far is sent with the settings it was sampled under, and the
    // new settings apply within a second, not an interval.
    // Steps are a quarter second so snapshot commands start promptly; draining stays once a
    // second (each drain walks the engine's maps).
    const auto due = clock_.now() + options_.upload_interval;
    while (!stop.stop_requested() && clock_.now() < due && !wakeNeeded()) {
      clock_.sleepFor(std::min<Clock::Duration>(
          {due - clock_.now(), next_drain - clock_.now(), std::chrono::milliseconds(250)}));
      if (clock_.now() >= next_drain) {
        if (auto drained = drainEngine(); !drained) {
          log->debug("{}", drained.error().toString());
        }
        next_drain = clock_.now() + std::chrono::seconds(1);
      }
      runSnapshots(window_start);
    }
    runSnapshots(window_start);
    if (clock_.now() >= due || stop.stop_requested() || (updatePending() && !capture_)) {
      endInterval(window_start);
    }
    if (!capture_) {
      applyPendingUpdate(flush);
    }
  }
  if (capture_) {
    finishCapture("stopped early: the agent is shutting down");
  }
  engine_->stop();
  for (auto& exporter : exporters_) {
    exporter->shutdown(flush);
  }
  return ok();
}

void SidecarAgent::setEngineFactory(EngineFactory make_engine) {
  std::lock_guard lock(mutex_);
  make_engine_ = std::move(make_engine);
}

void SidecarAgent::setSnapshotCommands(std::vector<kprof::snapshot::SnapshotCommand> commands) {
  std::lock_guard lock(mutex_);
  pending_commands_ = std::move(commands);
}

void SidecarAgent::onSnapshotChange(std::function<void()> on_change) {
  on_snapshot_change_ = std::move(on_change);
}

std::vector<kprof::snapshot::SnapshotReport> SidecarAgent::snapshotReports() const {
  std::lock_guard lock(mutex_);
  return tracker_.reports();
}

bool SidecarAgent::wakeNeeded() const {
  std::lock_guard lock(mutex_);
  return pending_commands_.has_value() || (pending_.has_value() && !capture_);
}

namespace {

int64_t unixMs(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

}  // namespace

void SidecarAgent::runSnapshots(std::chrono::system_clock::time_point& window_start) {
  std::vector<snapshot::SnapshotStep> steps;
  {
    std::lock_guard lock(mutex_);
    if (pending_commands_) {
      int flight_seconds = 10;  // kept even without commands: the next alert needs the past
      for (const auto& command : *pending_commands_) {
        flight_seconds = std::max(flight_seconds, command.flight_recorder_seconds);
      }
      recorder_.setWindow(std::chrono::seconds(flight_seconds));
      tracker_.setCommands(std::exchange(*pending_commands_, {}));
      pending_commands_.reset();
    }
    steps = tracker_.advance(unixMs(clock_.wallNow()));
  }
  bool changed = false;
  for (auto& step : steps) {
    // Every regular profile keeps one sampling rate: the interval ends where the rate changes.
    endInterval(window_start);
    if (step.kind == snapshot::SnapshotStep::Kind::Stop) {
      finishCapture(step.early ? "stopped early: the command was withdrawn" : "");
    } else {
      startCapture(std::move(step.command));
    }
    changed = true;
  }
  if (changed && on_snapshot_change_) {
    on_snapshot_change_();
  }
}

void SidecarAgent::startCapture(kprof::snapshot::SnapshotCommand command) {
  auto log = log::logger("agent");
  Capture capture;
  capture.started = clock_.wallNow();
  capture.restore = options_;
  capture.before = recorder_.window(
      capture.started - std::chrono::seconds(std::max(command.flight_recorder_seconds, 0)));
  std::vector<std::string> unsupported;
  for (const auto& type : command.types) {
    (type == "cpu" || type == "wall" ? capture.types : unsupported).push_back(type);
  }
  if (!unsupported.empty()) {
    capture.notes = "not sampled by this agent: ";
    for (size_t i = 0; i < unsupported.size(); ++i) {
      capture.notes += (i ? ", " : "") + unsupported[i];
    }
  }
  SidecarOptions raised = options_;
  raised.frequency_hz = std::max<uint32_t>(options_.frequency_hz, command.rate_hz);
  for (const auto& type : capture.types) {
    if (std::find(raised.profile_types.begin(), raised.profile_types.end(), type) ==
        raised.profile_types.end()) {
      raised.profile_types.push_back(type);
    }
  }
  if (raised.frequency_hz != options_.frequency_hz ||
      raised.profile_types != options_.profile_types) {
    EngineFactory make_engine;
    {
      std::lock_guard lock(mutex_);
      make_engine = make_engine_;
    }
    auto engine = startEngine(make_engine, raised);
    if (engine) {
      swapEngine(std::move(*engine));
      options_.frequency_hz = raised.frequency_hz;
      capture.engine_swapped = true;
    } else {
      capture.notes += std::string(capture.notes.empty() ? "" : "; ") + "kept " +
                       std::to_string(options_.frequency_hz) + " Hz: " + engine.error().message;
      // Without a new engine, wall is only there when the regular engine samples it.
      std::erase_if(capture.types, [&](const std::string& type) {
        return type == "wall" && std::find(options_.profile_types.begin(),
                                           options_.profile_types.end(),
                                           "wall") == options_.profile_types.end();
      });
    }
  }
  log->info("snapshot {} ({}) capturing for {} s at {} Hz{}{}", command.id, command.snapshot,
            command.duration_seconds, options_.frequency_hz, capture.notes.empty() ? "" : "; ",
            capture.notes);
  capture.command = std::move(command);
  std::lock_guard lock(mutex_);
  tracker_.started(capture.command.id, unixMs(capture.started), capture.notes);
  capture_ = std::move(capture);
}

void SidecarAgent::finishCapture(const std::string& stopped_early) {
  auto log = log::logger("agent");
  Capture capture = std::move(*capture_);
  capture_.reset();
  const auto until = clock_.wallNow();
  auto labels = options_.series_labels;
  labels["snapshot_id"] = capture.command.id;
  auto outcomes = submitProfiles(capture.stacks.take(), capture.types, labels, capture.started,
                                 until, options_.frequency_hz);
  std::string message = capture.notes;
  if (!stopped_early.empty()) {
    message += std::string(message.empty() ? "" : "; ") + stopped_early;
  }
  if (outcomes && !capture.before.stacks.empty()) {
    // The seconds before the command, as a profile of their own: their rate was the regular one.
    labels["snapshot_part"] = "before";
    auto before = submitProfiles(capture.before.stacks, capture.types, labels, capture.before.from,
                                 capture.before.until, capture.before.frequency_hz);
    if (!before) {
      message += std::string(message.empty() ? "" : "; ") + "flight recorder: " +
                 before.error().message;
    }
  }
  // Back to the regular rate and types.
  if (capture.engine_swapped) {
    EngineFactory make_engine;
    {
      std::lock_guard lock(mutex_);
      make_engine = make_engine_;
    }
    auto restored = startEngine(make_engine, capture.restore);
    if (restored) {
      swapEngine(std::move(*restored));
      options_.frequency_hz = capture.restore.frequency_hz;
    } else {
      log->error("snapshot {}: regular sampling not restored: {}", capture.command.id,
                 restored.error().message);
    }
  }
  std::lock_guard lock(mutex_);
  if (outcomes) {
    tracker_.finished(capture.command.id, unixMs(clock_.wallNow()), std::move(*outcomes), message);
  } else {
    tracker_.failed(capture.command.id, unixMs(clock_.wallNow()), outcomes.error().message);
  }
  log->info("snapshot {} finished{}{}", capture.command.id, message.empty() ? "" : ": ", message);
}

bool SidecarAgent::updatePending() const {
  std::lock_guard lock(mutex_);
  return pending_.has_value();
}

void SidecarAgent::reconfigure(SidecarUpdate update) {
  std::optional<SidecarUpdate> replaced;
  {
    std::lock_guard lock(mutex_);
    if (pending_ && pending_->exporters && !update.exporters) {
      update.exporters = std::move(pending_->exporters);
    }
    replaced = std::exchange(pending_, std::move(update));
  }
  // Exporters of a replaced update stop their threads here, outside the lock.
}


void SidecarAgent::applyPendingUpdate(std::chrono::milliseconds flush) {
  std::optional<SidecarUpdate> update;
  {
    std::lock_guard lock(mutex_);
    update.swap(pending_);
  }
  if (!update) {
    return;
  }
  SidecarOptions next = std::move(update->options);
  std::unique_ptr<SamplingEngine> new_engine;
  std::string engine_error;
  if (next.frequency_hz != options_.frequency_hz || wantsOffCpu(next) != wantsOffCpu(options_)) {
    // The new engine starts before the old one stops, so no interval is left unsampled.
    auto started = startEngine(update->make_engine, next);
    if (started) {
      new_engine = std::move(*started);
    } else {
      engine_error = "sampling not changed: " + started.error().message;
      log::logger("agent")->error("new configuration: {}", engine_error);
      next.frequency_hz = options_.frequency_hz;
      next.profile_types = options_.profile_types;
    }
  }
  std::vector<std::unique_ptr<Exporter>> retired_exporters;
  if (new_engine) {
    swapEngine(std::move(new_engine));
  }
  {
    std::lock_guard lock(mutex_);
    if (update->make_engine) {
      make_engine_ = update->make_engine;
    }
    if (update->exporters) {
      retired_exporters = std::exchange(exporters_, std::move(*update->exporters));
    }
    options_ = std::move(next);
    ++stats_.reconfigurations;
    if (engine_error.empty()) {
      stats_.last_reconfigure_error.clear();
    } else {
      ++stats_.failed_reconfigurations;
      stats_.last_reconfigure_error = engine_error;
    }
  }
  for (auto& exporter : retired_exporters) {
    exporter->shutdown(flush);
  }
}

void SidecarAgent::swapEngine(std::unique_ptr<SamplingEngine> next) {
  // The new engine started before the old one stops, so no interval is left unsampled; what
  // the old one sampled since the last drain (a few milliseconds) is let go.
  engine_->stop();
  std::unique_ptr<SamplingEngine> retired;
  {
    std::lock_guard lock(mutex_);
    const SamplerStats old = engine_->stats();
    retired_sampler_stats_.samples += old.samples;
    retired_sampler_stats_.lost += old.lost;
    retired_sampler_stats_.missing_user_stacks += old.missing_user_stacks;
    retired_sampler_stats_.missing_kernel_stacks += old.missing_kernel_stacks;
    retired_sampler_stats_.stack_map_collisions += old.stack_map_collisions;
    retired_sampler_stats_.drains += old.drains;
    retired = std::exchange(engine_, std::move(next));
  }
}

std::string SidecarAgent::engineName() const {
  std::lock_guard lock(mutex_);
  return std::string(engine_->name());
}

SamplerStats SidecarAgent::samplerStats() const {
  std::lock_guard lock(mutex_);
  SamplerStats total = engine_->stats();
  total.samples += retired_sampler_stats_.samples;
  total.lost += retired_sampler_stats_.lost;
  total.missing_user_stacks += retired_sampler_stats_.missing_user_stacks;
  total.missing_kernel_stacks += retired_sampler_stats_.missing_kernel_stacks;
  total.stack_map_collisions += retired_sampler_stats_.stack_map_collisions;
  total.drains += retired_sampler_stats_.drains;
  return total;
}

SidecarStats SidecarAgent::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

std::vector<ExportStats> SidecarAgent::exportStats() const {
  std::lock_guard lock(mutex_);
  std::vector<ExportStats> out;
  for (const auto& exporter : exporters_) {
    out.push_back(exporter->stats());
  }
  return out;
}

bool SidecarAgent::healthy() const {
  std::lock_guard lock(mutex_);
  const auto limit = 3 * options_.upload_interval;
  const auto reference = stats_.cycles == stats_.failed_cycles ? started_ : stats_.last_success;
  return clock_.now() - reference <= limit;
}

std::shared_ptr<prometheus::Collectable> SidecarAgent::metrics() const {
  return std::make_shared<SidecarCollector>(*this);
}

}  // namespace kprof::agent
