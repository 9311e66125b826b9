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

Status SidecarAgent::runCycle(std::chrono::system_clock::time_point from,
                              std::chrono::system_clock::time_point until) {
  auto drained = engine_->drain();
  {
    std::lock_guard lock(mutex_);
    ++stats_.cycles;
  }
  if (!drained) {
    std::lock_guard lock(mutex_);
    ++stats_.failed_cycles;
    return drained.error().wrap("draining the sampler");
  }
  const std::vector<RawStack> stacks = stacksForTypes(std::move(*drained), options_.profile_types);
  AssembleOptions assemble;
  assemble.sample_period_ns = 1'000'000'000ULL / std::max<uint32_t>(options_.frequency_hz, 1);
  assemble.start = from;
  assemble.duration = until - from;
  assemble.one_profile_per_process = false;  // one profile per service; pid is a sample label
  AssembleStats assembled_stats;
  auto profiles = assembleProfiles(stacks, *symbolizer_, assemble, &assembled_stats);

  uint64_t bytes = 0;
  for (auto& assembled : profiles) {
    auto encoded = pprof::encodeGzip(assembled.profile);
    if (!encoded) {
      std::lock_guard lock(mutex_);
      ++stats_.failed_cycles;
      return encoded.error().wrap("encoding the " + assembled.profile_type + " profile");
    }
    Upload upload;
    upload.profile_type = assembled.profile_type;
    upload.series_labels = options_.series_labels;
    upload.series_name =
        seriesName(options_.service_name, assembled.profile_type, options_.series_labels);
    upload.from = from;
    upload.until = until;
    upload.sample_rate_hz = options_.frequency_hz;
    bytes += encoded->size();
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
  stats_.last_success = clock_.now();
  return ok();
}

Status SidecarAgent::run(std::stop_token stop, std::chrono::milliseconds flush) {
  auto log = log::logger("agent");
  if (!symbolizer_->preloadKernelSymbols()) {
    log->info("kernel symbols unavailable (kallsyms restricted); kernel frames stay addresses");
  }
  KPROF_TRY(engine_->start());
  started_ = clock_.now();
  auto window_start = clock_.wallNow();
  while (!stop.stop_requested()) {
    // Sleep the interval in short steps so a stop request is answered within a second. A new
    // configuration ends the interval early: what was sampled so far is sent with the settings
    // it was sampled under, and the new settings apply within a second, not an interval.
    const auto due = clock_.now() + options_.upload_interval;
    while (!stop.stop_requested() && clock_.now() < due && !updatePending()) {
      clock_.sleepFor(std::min<Clock::Duration>(due - clock_.now(), std::chrono::seconds(1)));
    }
    const auto window_end = clock_.wallNow();
    if (auto cycle = runCycle(window_start, window_end); !cycle) {
      log->error("profiling cycle failed: {}", cycle.error().toString());
    }
    window_start = window_end;
    applyPendingUpdate(flush);
  }
  engine_->stop();
  for (auto& exporter : exporters_) {
    exporter->shutdown(flush);
  }
  return ok();
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
  std::unique_ptr<SamplingEngine> retired_engine;
  std::vector<std::unique_ptr<Exporter>> retired_exporters;
  if (new_engine) {
    engine_->stop();
  }
  {
    std::lock_guard lock(mutex_);
    if (new_engine) {
      const SamplerStats old = engine_->stats();
      retired_sampler_stats_.samples += old.samples;
      retired_sampler_stats_.lost += old.lost;
      retired_sampler_stats_.missing_user_stacks += old.missing_user_stacks;
      retired_sampler_stats_.missing_kernel_stacks += old.missing_kernel_stacks;
      retired_sampler_stats_.stack_map_collisions += old.stack_map_collisions;
      retired_sampler_stats_.drains += old.drains;
      retired_engine = std::exchange(engine_, std::move(new_engine));
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
  // What the old engine sampled since the last drain (a few milliseconds) is let go.
  retired_engine.reset();
  for (auto& exporter : retired_exporters) {
    exporter->shutdown(flush);
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
