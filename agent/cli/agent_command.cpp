#include "agent/cli/agent_command.hpp"

#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <signal.h>

#include "agent/configpoll/config_poller.hpp"
#include "agent/export/http_transport.hpp"
#include "agent/sampler/engine_selection.hpp"
#include "agent/sidecar/sidecar_agent.hpp"
#include "common/http/server.hpp"
#include "common/log/log.hpp"
#include "common/metrics/metrics.hpp"
#include "common/snapshot/snapshot_wire.hpp"

namespace kprof::agent {
namespace {

std::stop_source stop_source;

void onSignal(int /*signal*/) {
  stop_source.request_stop();
}

Result<std::string> readSecretFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return fail(ErrorCode::NotFound, "cannot read " + path);
  }
  std::string text((std::istreambuf_iterator<char>(in)), {});
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.pop_back();
  }
  return text;
}

Result<TargetSelector> targetsOf(const std::string& spec) {
  if (spec == "all") {
    return TargetSelector::all();
  }
  if (spec == "pidns:self") {
    auto inode = readPidNamespaceInode("/proc", "self");
    if (!inode) {
      return inode.error();
    }
    return TargetSelector::pidNamespace(*inode);
  }
  std::set<uint32_t> pids;
  std::stringstream list(spec.substr(5));
  for (std::string item; std::getline(list, item, ',');) {
    try {
      pids.insert(static_cast<uint32_t>(std::stoul(item)));
    } catch (const std::exception&) {
      return fail(ErrorCode::InvalidArgument, "targets: '" + item + "' is not a pid");
    }
  }
  return TargetSelector::processes(pids);
}

// `credentials`, when given, holds one entry per config.pyroscope target: credentials the
// operator resolved, used instead of the *_file settings.
Result<std::vector<std::unique_ptr<Exporter>>> makeExporters(
    const AgentConfig& config, const std::vector<TargetCredentials>& credentials, Clock& clock) {
  std::vector<std::unique_ptr<Exporter>> exporters;
  for (size_t i = 0; i < config.pyroscope.size(); ++i) {
    const auto& target = config.pyroscope[i];
    PyroscopeExporterOptions options;
    options.target.url = target.url;
    options.target.tenant_id = target.tenant_id;
    const TargetCredentials* resolved = i < credentials.size() ? &credentials[i] : nullptr;
    if (resolved != nullptr && !resolved->bearer_token.empty()) {
      options.target.auth = PyroscopeTarget::Auth::Bearer;
      options.target.bearer_token = resolved->bearer_token;
    } else if (resolved != nullptr && !target.basic_user.empty() && !resolved->password.empty()) {
      options.target.auth = PyroscopeTarget::Auth::Basic;
      options.target.username = target.basic_user;
      options.target.password = resolved->password;
    } else if (!target.basic_user.empty()) {
      options.target.auth = PyroscopeTarget::Auth::Basic;
      options.target.username = target.basic_user;
      if (!target.basic_password_file.empty()) {
        auto password = readSecretFile(target.basic_password_file);
        if (!password) {
          return password.error().wrap("pyroscope basic_password_file");
        }
        options.target.password = *password;
      }
    } else if (!target.bearer_token_file.empty()) {
      auto token = readSecretFile(target.bearer_token_file);
      if (!token) {
        return token.error().wrap("pyroscope bearer_token_file");
      }
      options.target.auth = PyroscopeTarget::Auth::Bearer;
      options.target.bearer_token = *token;
    }
    options.queue = {config.queue_max_items, config.queue_max_bytes};
    options.timeout = config.upload_timeout;
    auto transport = HttpIngestTransport::create(target.url);
    if (!transport) {
      return transport.error().wrap("pyroscope " + target.url);
    }
    exporters.push_back(std::make_unique<PyroscopeExporter>(options, std::move(*transport), clock));
  }
  if (!config.file_directory.empty()) {
    exporters.push_back(std::make_unique<FileExporter>(config.file_directory));
  }
  return exporters;
}

SamplerConfig samplerConfigFor(const AgentConfig& config,
                               const TargetSelector& targets,
                               uint32_t frequency_hz,
                               const std::vector<std::string>& profile_types) {
  SamplerConfig sampler;
  sampler.targets = targets;
  sampler.frequency_hz = frequency_hz;
  sampler.off_cpu = std::count(profile_types.begin(), profile_types.end(), "wall") > 0;
  sampler.allow_bpf = config.engine != "perf";
  return sampler;
}

// Makes engines for `config` at the rate and types a SidecarOptions asks for.
EngineFactory engineFactoryFor(const AgentConfig& config, const TargetSelector& targets) {
  return [config, targets](const SidecarOptions& options) -> Result<std::unique_ptr<SamplingEngine>> {
    EngineSelection selection = selectEngine(
        samplerConfigFor(config, targets, options.frequency_hz, options.profile_types));
    if (!selection.engine) {
      return fail(ErrorCode::Unavailable, selection.reason);
    }
    log::logger("agent")->info("engine {}", selection.reason);
    return std::move(selection.engine);
  };
}

SidecarOptions sidecarOptionsFor(const AgentConfig& config) {
  SidecarOptions options;
  options.service_name = config.service_name.empty() ? "unknown" : config.service_name;
  options.series_labels = seriesLabels(config);
  options.profile_types = config.profile_types;
  options.frequency_hz = config.frequency_hz;
  options.upload_interval = config.upload_interval;
  return options;
}

bool sameDestinations(const AgentConfig& a,
                      const std::vector<TargetCredentials>& a_credentials,
                      const AgentConfig& b,
                      const std::vector<TargetCredentials>& b_credentials) {
  auto same = [](const PyroscopeTargetConfig& x, const PyroscopeTargetConfig& y) {
    return x.url == y.url && x.tenant_id == y.tenant_id && x.basic_user == y.basic_user &&
           x.basic_password_file == y.basic_password_file &&
           x.bearer_token_file == y.bearer_token_file;
  };
  return a.file_directory == b.file_directory && a_credentials == b_credentials &&
         std::equal(a.pyroscope.begin(), a.pyroscope.end(), b.pyroscope.begin(), b.pyroscope.end(),
                    same);
}

// Turns each config from the operator into a SidecarUpdate and its snapshot commands. apply()
// runs on the poller's thread; status() also on its reporting thread, hence mutex_.
class RemoteConfigApplier {
 public:
  RemoteConfigApplier(AgentConfig base, TargetSelector targets, SidecarAgent& agent, Clock& clock)
      : base_(std::move(base)),
        targets_(std::move(targets)),
        agent_(agent),
        clock_(clock),
        current_(base_) {}

  Status apply(const ConfigUpdate& update) {
    auto log = log::logger("agent");
    // Snapshot commands are taken up on their own: a malformed list is reported and the
    // previous list stays in force, and the rest of the config still applies (and the other
    // way round), so an alert's capture does not depend on an unrelated setting.
    auto commands = kprof::snapshot::readSnapshotCommands(update.config);
    {
      std::lock_guard lock(mutex_);
      snapshot_error_ = commands ? "" : "snapshots: " + commands.error().message;
    }
    if (commands) {
      agent_.setSnapshotCommands(std::move(*commands));
    } else {
      log->error("operator config {}: snapshot commands not applied: {}", update.version,
                 commands.error().message);
    }
    auto mapped = applyRemoteConfig(base_, update.config);
    if (!mapped) {
      log->error("operator config {} not applied: {}", update.version, mapped.error().message);
      return mapped.error();
    }
    SidecarUpdate next;
    next.options = sidecarOptionsFor(mapped->config);
    next.make_engine = engineFactoryFor(mapped->config, targets_);
    if (!sameDestinations(mapped->config, mapped->credentials, current_, current_credentials_)) {
      auto exporters = makeExporters(mapped->config, mapped->credentials, clock_);
      if (!exporters) {
        log->error("operator config {} not applied: {}", update.version, exporters.error().message);
        return exporters.error();
      }
      next.exporters = std::move(*exporters);
    }
    agent_.reconfigure(std::move(next));
    log->info("operator config {} (policy {}, generation {}) applies from the next interval",
              update.version,
              mapped->policy,
              mapped->policy_generation);
    for (const std::string& note : mapped->notes) {
      log->warn("operator config {}: {}", update.version, note);
    }
    current_ = mapped->config;
    current_credentials_ = mapped->credentials;
    std::lock_guard lock(mutex_);
    notes_ = mapped->notes;
    policy_ = mapped->policy;
    return ok();
  }

  // The report the poller posts to the operator.
  nlohmann::json status() const {
    const SidecarStats sidecar = agent_.stats();
    const SamplerStats sampler = agent_.samplerStats();
    uint64_t uploads = 0;
    uint64_t upload_errors = 0;
    uint64_t drops = 0;
    for (const ExportStats& exporter : agent_.exportStats()) {
      uploads += exporter.uploads;
      upload_errors += exporter.upload_errors;
      drops += exporter.dropped + exporter.rejected;
    }
    nlohmann::json status = {
        {"engine", agent_.engineName()},
        {"healthy", agent_.healthy()},
        {"samples", sampler.samples},
        {"lostSamples", sampler.lost},
        {"cycles", sidecar.cycles},
        {"failedCycles", sidecar.failed_cycles},
        {"profiles", sidecar.profiles},
        {"uploads", uploads},
        {"uploadErrors", upload_errors},
        {"drops", drops},
    };
    nlohmann::json snapshots = nlohmann::json::array();
    for (const auto& report : agent_.snapshotReports()) {
      snapshots.push_back(kprof::snapshot::toJson(report));
    }
    status["snapshots"] = std::move(snapshots);
    std::lock_guard lock(mutex_);
    status["notes"] = notes_;
    if (sidecar.last_success != Clock::SteadyTime{}) {
      status["secondsSinceLastCycle"] =
          std::chrono::duration_cast<std::chrono::seconds>(clock_.now() - sidecar.last_success)
              .count();
    }
    if (!policy_.empty()) {
      status["policy"] = policy_;
    }
    if (!sidecar.last_reconfigure_error.empty()) {
      status["errors"].push_back(sidecar.last_reconfigure_error);
    }
    if (!snapshot_error_.empty()) {
      status["errors"].push_back(snapshot_error_);
    }
    return status;
  }

 private:
  AgentConfig base_;
  TargetSelector targets_;
  SidecarAgent& agent_;
  Clock& clock_;
  AgentConfig current_;  // the destinations last handed to the agent
  std::vector<TargetCredentials> current_credentials_;
  mutable std::mutex mutex_;  // guards notes_, policy_ and snapshot_error_
  std::vector<std::string> notes_;
  std::string policy_;
  std::string snapshot_error_;  // why the last config's snapshot list was refused
};

}  // namespace

Result<AgentConfig> resolveAgentConfig(const AgentFlags& flags,
                                       const std::map<std::string, std::string>& environment) {
  AgentConfig config;
  if (!flags.config_file.empty()) {
    std::ifstream in(flags.config_file);
    if (!in) {
      return fail(ErrorCode::NotFound, "cannot read config file " + flags.config_file);
    }
    std::string text((std::istreambuf_iterator<char>(in)), {});
    auto applied = applyYaml(config, text);
    if (!applied) {
      return applied.error().wrap(flags.config_file);
    }
    config = *applied;
  }
  auto from_env = applyEnvironment(config, environment);
  if (!from_env) {
    return from_env.error();
  }
  config = *from_env;
  if (flags.service_name)
    config.service_name = *flags.service_name;
  if (flags.env)
    config.env = *flags.env;
  if (flags.version)
    config.version = *flags.version;
  if (flags.targets)
    config.targets = *flags.targets;
  if (flags.file_directory)
    config.file_directory = *flags.file_directory;
  if (flags.frequency_hz)
    config.frequency_hz = *flags.frequency_hz;
  if (flags.upload_interval_seconds) {
    config.upload_interval = std::chrono::seconds(*flags.upload_interval_seconds);
  }
  if (flags.listen_port)
    config.listen_port = *flags.listen_port;
  if (flags.pyroscope_url) {
    config.pyroscope = {PyroscopeTargetConfig{.url = *flags.pyroscope_url}};
  }
  if (flags.profile_types) {
    config.profile_types.clear();
    std::stringstream list(*flags.profile_types);
    for (std::string type; std::getline(list, type, ',');) {
      config.profile_types.push_back(type);
    }
  }
  auto operator_settings = operatorSettings(
      {flags.operator_url, flags.token_file, flags.operator_ca}, environment);
  if (!operator_settings) {
    return operator_settings.error();
  }
  if (*operator_settings && config.pyroscope.empty() && config.file_directory.empty()) {
    // With an operator, destinations come with its config; until then profiles go nowhere.
    AgentConfig awaiting_destinations = config;
    awaiting_destinations.file_directory = "(from the operator)";
    KPROF_TRY(validate(awaiting_destinations));
    return config;
  }
  KPROF_TRY(validate(config));
  return config;
}

int runAgent(const AgentFlags& flags) {
  auto log = log::logger("agent");
  const auto environment = processEnvironment();
  auto resolved = resolveAgentConfig(flags, environment);
  if (!resolved) {
    log->error("configuration: {}", resolved.error().message);
    return 2;
  }
  const AgentConfig config = *resolved;
  auto level = log::parseLevel(config.log_level);
  auto format = log::parseFormat(config.log_format);
  if (level && format) {
    log::configure(log::LogConfig{*level, *format});
  }

  auto targets = targetsOf(config.targets);
  if (!targets) {
    log->error("targets: {}", targets.error().message);
    return 2;
  }
  EngineSelection selection = selectEngine(
      samplerConfigFor(config, *targets, config.frequency_hz, config.profile_types));
  if (!selection.engine) {
    log->error("cannot sample: {}", selection.reason);
    return 1;
  }
  log->info("engine {}", selection.reason);

  SystemClock clock;
  auto exporters = makeExporters(config, {}, clock);
  if (!exporters) {
    log->error("{}", exporters.error().message);
    return 2;
  }
  SidecarAgent agent(sidecarOptionsFor(config),
                     std::move(selection.engine),
                     std::make_unique<Symbolizer>(),
                     std::move(*exporters),
                     clock);
  agent.setEngineFactory(engineFactoryFor(config, *targets));

  metrics::MetricsRegistry registry;
  auto agent_metrics = agent.metrics();
  auto process_metrics = metrics::makeProcessCollector();
  http::ServerOptions server_options;
  server_options.host = config.listen_address;
  server_options.port = config.listen_port;
  http::Server server(server_options);
  server.route("GET", "/metrics", [&](const http::Request&) {
    http::Response response;
    response.body = metrics::renderText({agent_metrics, process_metrics});
    response.content_type = std::string(metrics::kTextContentType);
    return response;
  });
  server.route("GET", "/healthz", [&](const http::Request&) {
    return agent.healthy() ? http::Response::text(200, "ok\n")
                           : http::Response::text(503, "no successful profiling cycle recently\n");
  });
  if (auto started = server.start(); !started) {
    log->error("cannot serve /metrics on {}:{}: {}",
               config.listen_address,
               config.listen_port,
               started.error().message);
    return 1;
  }
  log->info("serving /metrics and /healthz on {}", server.url());

  // With an operator, its config API is polled on a thread of its own; each new config is
  // handed to the agent, which applies it at its next cycle.
  auto operator_settings = operatorSettings(
      {flags.operator_url, flags.token_file, flags.operator_ca}, environment);
  std::optional<RemoteConfigApplier> applier;
  std::unique_ptr<ConfigPoller> poller;
  std::jthread poller_thread;
  if (operator_settings && *operator_settings) {
    applier.emplace(config, *targets, agent, clock);
    poller = std::make_unique<ConfigPoller>(
        **operator_settings,
        clock,
        [&applier](const ConfigUpdate& update) { return applier->apply(update); },
        [&applier] { return applier->status(); });
    // A capture that starts or ends is reported at once, not with the next periodic report.
    agent.onSnapshotChange([&poller] { poller->requestReport(); });
    poller_thread = std::jthread([&poller](std::stop_token stop) { poller->run(stop); });
  }

  ::signal(SIGINT, onSignal);
  ::signal(SIGTERM, onSignal);
  auto status = agent.run(stop_source.get_token());
  if (poller_thread.joinable()) {
    poller_thread.request_stop();
    poller_thread.join();
  }
  server.stop(std::chrono::seconds(2));
  if (!status) {
    log->error("{}", status.error().message);
    return 1;
  }
  log->info("stopped");
  return 0;
}

}  // namespace kprof::agent
