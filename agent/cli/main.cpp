// kprof: the command line. `record`, `report` and `diff` work on one machine without a cluster;
// `agent` runs the sidecar (see agent/README or `kprof agent --help`); `snapshot create` asks the
// cluster for a ProfileSnapshot.
#include <iostream>

#include <CLI/CLI.hpp>

#include "agent/cli/agent_command.hpp"
#include "agent/cli/record_command.hpp"
#include "agent/cli/report_command.hpp"
#include "agent/cli/snapshot_command.hpp"
#include "common/core/duration.hpp"
#include "common/log/log.hpp"

namespace {

using kprof::agent::OutputFormat;

using kprof::parseDuration;

std::map<std::string, OutputFormat> formats() {
  return {{"text", OutputFormat::Text}, {"json", OutputFormat::Json}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "kprof: continuous profiling for Kubernetes, and local profiling without a cluster.\n"
      "Local use: kprof record -- ./my-program args   (writes kprof-out/cpu.pb.gz, .html, .svg)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "kprof 0.1.0");

  // record
  kprof::agent::RecordOptions record;
  std::string record_duration;
  std::string record_types = "cpu";
  auto* record_cmd = app.add_subcommand(
      "record",
      "Profile a command or running processes, print the top functions and write a pprof "
      "profile, an interactive flame graph (HTML) and an SVG.");
  record_cmd->add_option("-F,--frequency", record.frequency_hz, "Samples per second (1..10000)")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  record_cmd->add_option("-d,--duration",
                         record_duration,
                         "How long to sample: 30s, 500ms, 2m (default: until the command exits; "
                         "10s with -p)");
  record_cmd->add_option("--types", record_types, "Profile types, comma-separated: cpu,wall")
      ->capture_default_str();
  record_cmd->add_option("-o,--output", record.output_dir, "Output directory")
      ->capture_default_str();
  record_cmd->add_option("-p,--pid", record.pids, "Process ids to profile (repeatable)");
  record_cmd->add_option("--format", record.format, "Output: text (tables) or json (report)")
      ->transform(CLI::CheckedTransformer(formats(), CLI::ignore_case));
  record_cmd->add_option("--engine", record.engine, "Sampling engine: auto, ebpf or perf")
      ->check(CLI::IsMember({"auto", "ebpf", "perf"}))
      ->capture_default_str();
  record_cmd->add_option("--top", record.top, "Rows in the top-functions tables")
      ->capture_default_str();
  record_cmd->add_option("--save-baseline",
                         record.save_baseline,
                         "Store this run's cpu/wall time, peak memory and top functions as NAME");
  record_cmd->add_option("--compare-baseline",
                         record.compare_baseline,
                         "Compare with baseline NAME; exit 3 when a figure grew past the "
                         "threshold");
  record_cmd->add_option("--baseline-dir", record.baseline_dir, "Where baselines are kept")
      ->capture_default_str();
  record_cmd->add_option("--threshold", record.threshold_percent, "Regression threshold in percent")
      ->capture_default_str();
  record_cmd->add_option("command", record.command, "Command to run and profile (after --)");

  // report
  kprof::agent::ReportOptions report;
  auto* report_cmd = app.add_subcommand(
      "report", "Render an existing pprof profile: top functions, flame graph HTML and SVG.");
  report_cmd->add_option("file", report.file, "Profile (.pb.gz or .pb)")->required();
  report_cmd->add_option("-o,--output", report.output_dir, "Output directory")
      ->capture_default_str();
  report_cmd->add_option(
      "--sample-type", report.sample_type, "Which value to show, e.g. cpu, samples, alloc_space");
  report_cmd->add_option("--format", report.format, "Output: text or json")
      ->transform(CLI::CheckedTransformer(formats(), CLI::ignore_case));
  report_cmd->add_option("--top", report.top, "Rows in the tables")->capture_default_str();

  // diff
  kprof::agent::DiffOptions diff;
  auto* diff_cmd = app.add_subcommand(
      "diff",
      "Compare two profiles: the functions whose share changed most, and a diff flame "
      "graph (red grew, blue shrank).");
  diff_cmd->add_option("base", diff.base, "The earlier profile")->required();
  diff_cmd->add_option("current", diff.current, "The later profile")->required();
  diff_cmd->add_option("-o,--output", diff.output_dir, "Output directory")->capture_default_str();
  diff_cmd->add_option("--format", diff.format, "Output: text or json")
      ->transform(CLI::CheckedTransformer(formats(), CLI::ignore_case));
  diff_cmd->add_option("--top", diff.top, "Rows in the table")->capture_default_str();

  // agent
  kprof::agent::AgentFlags agent;
  auto* agent_cmd = app.add_subcommand(
      "agent",
      "Run the profiling agent: sample the targets, upload a pprof per type every interval to "
      "Pyroscope or files, serve /metrics and /healthz. Settings come from --config, then "
      "KPROF_* variables, then these flags.");
  agent_cmd->add_option("-c,--config", agent.config_file, "YAML config file");
  agent_cmd->add_option("--service-name", agent.service_name, "service_name label");
  agent_cmd->add_option("--env", agent.env, "env label");
  agent_cmd->add_option("--version", agent.version, "version label");
  agent_cmd->add_option(
      "--targets", agent.targets, "pidns:self (the pod, default), all, or pids:PID,PID");
  agent_cmd->add_option("--types", agent.profile_types, "Profile types: cpu,wall");
  agent_cmd->add_option("-F,--frequency", agent.frequency_hz, "Samples per second");
  agent_cmd->add_option(
      "--upload-interval", agent.upload_interval_seconds, "Seconds per profile (default 10)");
  agent_cmd->add_option("--pyroscope-url",
                        agent.pyroscope_url,
                        "Pyroscope or kprof-store URL, e.g. http://pyroscope:4040");
  agent_cmd->add_option(
      "--file-dir", agent.file_directory, "Also write <type>_<time>.pb.gz files here");
  agent_cmd->add_option("--listen-port", agent.listen_port, "Port of /metrics and /healthz");
  agent_cmd->add_option("--operator-url",
                        agent.operator_url,
                        "kprof operator's agent config API (KPROF_OPERATOR_URL): poll it for this "
                        "pod's config and apply each new one without a restart");
  agent_cmd->add_option("--token-file",
                        agent.token_file,
                        "Projected service account token for the operator, re-read on every poll "
                        "(KPROF_OPERATOR_TOKEN_FILE; default /var/run/secrets/kprof/token)");
  agent_cmd->add_option(
      "--operator-ca", agent.operator_ca, "CA bundle for an https operator URL (KPROF_OPERATOR_CA_FILE)");

  // snapshot create
  kprof::agent::SnapshotCreateOptions snapshot;
  auto* snapshot_cmd = app.add_subcommand(
      "snapshot",
      "ProfileSnapshots: one short high-resolution capture of profiles from the pods a "
      "ProfilingPolicy profiles, kept as a resource in the cluster.");
  snapshot_cmd->require_subcommand(1);
  auto* snapshot_create_cmd = snapshot_cmd->add_subcommand(
      "create",
      "Create a ProfileSnapshot now: a snapshot is one short high-resolution capture of profiles "
      "from the running pods of a ProfilingPolicy. Exit 0 when created (with --wait: Completed), "
      "1 on errors, Failed or timeout, 2 on bad flags.");
  snapshot_create_cmd
      ->add_option("--policy", snapshot.policy, "The ProfilingPolicy whose pods to capture")
      ->required();
  snapshot_create_cmd->add_option("-n,--namespace",
                                  snapshot.namespace_name,
                                  "Namespace (default: the kubeconfig context's, else default)");
  snapshot_create_cmd->add_option("--duration", snapshot.duration, "Capture length, 1s..600s")
      ->capture_default_str();
  snapshot_create_cmd->add_option("--rate", snapshot.rate_hz, "CPU samples per second (1..10000)")
      ->capture_default_str();
  snapshot_create_cmd
      ->add_option("--types", snapshot.types, "Profile types, comma-separated: cpu,alloc,lock,wall")
      ->delimiter(',')
      ->capture_default_str();
  snapshot_create_cmd
      ->add_option("--pods",
                   snapshot.pods,
                   "Only these pods of the policy, comma-separated (default: all running)")
      ->delimiter(',');
  snapshot_create_cmd->add_option(
      "--name", snapshot.name, "Resource name (default: <policy>-manual-<hash>)");
  snapshot_create_cmd->add_flag(
      "--wait",
      snapshot.wait,
      "Follow the snapshot until Completed or Failed and print each pod's result");
  snapshot_create_cmd->add_option("--timeout", snapshot.timeout, "How long --wait waits")
      ->capture_default_str();
  snapshot_create_cmd->add_option(
      "--kubeconfig",
      snapshot.kubeconfig,
      "Kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)");
  snapshot_create_cmd->add_option(
      "--context", snapshot.context, "Kubeconfig context (default: current-context)");

  CLI11_PARSE(app, argc, argv);

  auto log_config = kprof::log::configFromEnv();
  if (!log_config) {
    std::cerr << "kprof: " << log_config.error().message << "\n";
    return 2;
  }
  kprof::log::configure(*log_config);

  if (*record_cmd) {
    if (!record_duration.empty()) {
      record.duration = parseDuration(record_duration);
      if (!record.duration) {
        std::cerr << "kprof record: bad --duration '" << record_duration
                  << "' (use e.g. 30s, 500ms, 2m)\n";
        return 2;
      }
    }
    record.types.clear();
    std::stringstream types(record_types);
    for (std::string type; std::getline(types, type, ',');) {
      if (!type.empty()) {
        record.types.push_back(type);
      }
    }
    return kprof::agent::runRecord(record);
  }
  if (*agent_cmd) {
    return kprof::agent::runAgent(agent);
  }
  if (*report_cmd) {
    return kprof::agent::runReport(report);
  }
  if (*diff_cmd) {
    return kprof::agent::runDiff(diff);
  }
  if (*snapshot_create_cmd) {
    return kprof::agent::runSnapshotCreateCommand(snapshot);
  }
  return 2;
}
