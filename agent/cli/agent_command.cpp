#include "agent/cli/agent_command.hpp"

#include <fstream>
#include <sstream>
#include <thread>

#include <signal.h>

#include "agent/export/http_transport.hpp"
#include "agent/sampler/engine_selection.hpp"
#include "agent/sidecar/sidecar_agent.hpp"
#include "common/http/server.hpp"
#include "common/log/log.hpp"
#include "common/metrics/metrics.hpp"

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

Result<std::vector<std::unique_ptr<Exporter>>> makeExporters(const AgentConfig& config,
                                                             Clock& clock) {
  std::vector<std::unique_ptr<Exporter>> exporters;
  for (const auto& target : config.pyroscope) {
    PyroscopeExporterOptions options;
    options.target.url = target.url;
    options.target.tenant_id = target.tenant_id;
    if (!target.basic_user.empty()) {
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
  KPROF_TRY(validate(config));
  return config;
}

int runAgent(const AgentFlags& flags) {
  auto log = log::logger("agent");
  auto resolved = resolveAgentConfig(flags, processEnvironment());
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
  SamplerConfig sampler;
  sampler.targets = *targets;
  sampler.frequency_hz = config.frequency_hz;
  sampler.off_cpu =
      std::count(config.profile_types.begin(), config.profile_types.end(), "wall") > 0;
  sampler.allow_bpf = config.engine != "perf";
  EngineSelection selection = selectEngine(sampler);
  if (!selection.engine) {
    log->error("cannot sample: {}", selection.reason);
    return 1;
  }
  log->info("engine {}", selection.reason);

  SystemClock clock;
  auto exporters = makeExporters(config, clock);
  if (!exporters) {
    log->error("{}", exporters.error().message);
    return 2;
  }
  SidecarOptions options;
  options.service_name = config.service_name.empty() ? "unknown" : config.service_name;
  options.series_labels = seriesLabels(config);
  options.profile_types = config.profile_types;
  options.frequency_hz = config.frequency_hz;
  options.upload_interval = config.upload_interval;
  SidecarAgent agent(options,
                     std::move(selection.engine),
                     std::make_unique<Symbolizer>(),
                     std::move(*exporters),
                     clock);

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

  ::signal(SIGINT, onSignal);
  ::signal(SIGTERM, onSignal);
  auto status = agent.run(stop_source.get_token());
  server.stop(std::chrono::seconds(2));
  if (!status) {
    log->error("{}", status.error().message);
    return 1;
  }
  log->info("stopped");
  return 0;
}

}  // namespace kprof::agent
