#include "agent/cli/snapshot_command.hpp"

#include <algorithm>
#include <iomanip>
#include <iostream>
#include <set>
#include <sstream>

#include "common/core/duration.hpp"
#include "common/snapshot/snapshot_wire.hpp"
#include "controllers/policy/kube_names.hpp"
#include "controllers/policy/pod_labels.hpp"
#include "operator/kube/cluster_config.hpp"
#include "operator/kube/kube_client.hpp"
#include "operator/kube/list_all.hpp"

namespace kprof::agent {
namespace {

using nlohmann::json;
namespace resources = kube::resources;

constexpr std::string_view kPrefix = "kprof snapshot create: ";
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

// The member `key` of `object`, or null when `object` is not an object or lacks it.
const json* member(const json& object, std::string_view key) {
  if (!object.is_object())
    return nullptr;
  const auto found = object.find(key);
  return found == object.end() ? nullptr : &*found;
}

std::string stringMember(const json& object, std::string_view key) {
  const json* value = member(object, key);
  return value != nullptr && value->is_string() ? value->get<std::string>() : std::string();
}

int64_t integerMember(const json& object, std::string_view key) {
  const json* value = member(object, key);
  return value != nullptr && value->is_number_integer() ? value->get<int64_t>() : 0;
}

const json& arrayMember(const json& object, std::string_view key) {
  static const json kEmpty = json::array();
  const json* value = member(object, key);
  return value != nullptr && value->is_array() ? *value : kEmpty;
}

const json& objectMember(const json& object, std::string_view key) {
  static const json kEmpty = json::object();
  const json* value = member(object, key);
  return value != nullptr && value->is_object() ? *value : kEmpty;
}

std::string joined(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty())
      out += separator;
    out += item;
  }
  return out;
}

// A pod that runs or will run: not being deleted and not finished for good.
bool podRunning(const json& pod) {
  const json& metadata = objectMember(pod, "metadata");
  const json* deletion = member(metadata, "deletionTimestamp");
  if (deletion != nullptr && !deletion->is_null())
    return false;
  const std::string phase = stringMember(objectMember(pod, "status"), "phase");
  return phase != "Succeeded" && phase != "Failed";
}

std::string snapshotPhase(const json& snapshot) {
  const std::string phase = stringMember(objectMember(snapshot, "status"), "phase");
  return phase.empty() ? "Pending" : phase;
}

int64_t unixMillis(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.wallNow().time_since_epoch())
      .count();
}

}  // namespace

Result<controllers::SnapshotSpec> snapshotSpecFromFlags(const SnapshotCreateOptions& options) {
  controllers::SnapshotSpec spec;
  if (options.policy.empty())
    return fail(ErrorCode::InvalidArgument, "--policy is required");
  spec.policy = options.policy;

  const auto duration = parseDuration(options.duration);
  if (!duration || duration->count() % 1000 != 0 || *duration < std::chrono::seconds(1) ||
      *duration > std::chrono::seconds(600)) {
    return fail(ErrorCode::InvalidArgument,
                "--duration '" + options.duration +
                    "': must be whole seconds from 1s to 600s (e.g. 30s, 2m)");
  }
  spec.duration_seconds = static_cast<int>(duration->count() / 1000);

  if (options.rate_hz < 1 || options.rate_hz > 10'000) {
    return fail(
        ErrorCode::InvalidArgument,
        "--rate " + std::to_string(options.rate_hz) + ": must be 1..10000 samples per second");
  }
  spec.rate_hz = options.rate_hz;

  spec.types.clear();
  for (const std::string& type : options.types) {
    if (!snapshot::isProfileType(type)) {
      return fail(ErrorCode::InvalidArgument,
                  "--types: unknown profile type '" + type + "' (use cpu, alloc, lock, wall)");
    }
    if (std::find(spec.types.begin(), spec.types.end(), type) == spec.types.end()) {
      spec.types.push_back(type);
    }
  }
  if (spec.types.empty()) {
    return fail(ErrorCode::InvalidArgument, "--types: name at least one of cpu, alloc, lock, wall");
  }
  return spec;
}

Result<PodChoice> chooseSnapshotPods(std::string_view policy,
                                     const std::vector<json>& listed,
                                     const std::vector<std::string>& requested) {
  std::set<std::string> running;
  for (const json& pod : listed) {
    const std::string name = stringMember(objectMember(pod, "metadata"), "name");
    if (!name.empty() && podRunning(pod))
      running.insert(name);
  }
  std::vector<std::string> chosen;
  if (requested.empty()) {
    chosen.assign(running.begin(), running.end());
  } else {
    const std::set<std::string> wanted(requested.begin(), requested.end());
    std::vector<std::string> unknown;
    for (const std::string& name : wanted) {
      (running.count(name) != 0 ? chosen : unknown).push_back(name);
    }
    if (!unknown.empty()) {
      return fail(ErrorCode::NotFound,
                  "policy " + std::string(policy) + " profiles no running pod named " +
                      joined(unknown, ", "));
    }
  }
  if (chosen.empty()) {
    return fail(ErrorCode::NotFound, "policy " + std::string(policy) + " profiles no running pod");
  }
  PodChoice choice;
  if (chosen.size() > kMaxSnapshotPods) {
    choice.dropped = chosen.size() - kMaxSnapshotPods;
    chosen.resize(kMaxSnapshotPods);
  }
  choice.pods = std::move(chosen);
  return choice;
}

std::string defaultSnapshotName(std::string_view policy, int64_t unix_ms) {
  return std::string(policy) + "-manual-" + controllers::shortHash(std::to_string(unix_ms));
}

std::string snapshotProgress(const json& snapshot) {
  const std::string phase = snapshotPhase(snapshot);
  const json& status = objectMember(snapshot, "status");
  const json& targets =
      arrayMember(objectMember(objectMember(snapshot, "spec"), "targets"), "pods");
  const json& pods = arrayMember(status, "pods");
  const std::size_t total = std::max(targets.size(), pods.size());
  std::size_t started = 0;
  std::size_t completed = 0;
  for (const json& pod : pods) {
    const std::string pod_phase = stringMember(pod, "phase");
    if (pod_phase == "Capturing" || pod_phase == "Completed" ||
        member(pod, "startedAt") != nullptr) {
      ++started;
    }
    if (pod_phase == "Completed")
      ++completed;
  }
  const std::string counts =
      std::to_string(phase == "Capturing" ? started : completed) + "/" + std::to_string(total);
  if (phase == "Capturing")
    return phase + " (" + counts + " pods started)";
  if (phase == "Completed" || phase == "Failed")
    return phase + " (" + counts + " pods completed)";
  return phase;
}

std::string snapshotPodTable(const json& snapshot) {
  struct Row {
    std::string pod, phase, samples, message;
  };
  std::vector<Row> rows{{"POD", "PHASE", "SAMPLES", "MESSAGE"}};
  const json& pods = arrayMember(objectMember(snapshot, "status"), "pods");
  for (const json& pod : pods) {
    if (!pod.is_object())
      continue;
    int64_t samples = 0;
    const json& profiles = arrayMember(pod, "profiles");
    for (const json& profile : profiles)
      samples += integerMember(profile, "samples");
    rows.push_back({stringMember(pod, "name"),
                    stringMember(pod, "phase"),
                    profiles.empty() ? "-" : std::to_string(samples),
                    stringMember(pod, "message")});
  }
  std::size_t pod_width = 0, phase_width = 0, samples_width = 0;
  for (const Row& row : rows) {
    pod_width = std::max(pod_width, row.pod.size());
    phase_width = std::max(phase_width, row.phase.size());
    samples_width = std::max(samples_width, row.samples.size());
  }
  std::ostringstream out;
  for (const Row& row : rows) {
    std::ostringstream line;
    line << std::left << std::setw(static_cast<int>(pod_width)) << row.pod << "  "
         << std::setw(static_cast<int>(phase_width)) << row.phase << "  " << std::right
         << std::setw(static_cast<int>(samples_width)) << row.samples << "  " << row.message;
    std::string text = line.str();
    text.erase(text.find_last_not_of(' ') + 1);
    out << text << "\n";
  }
  return out.str();
}

namespace {

// Every flag value checked: the spec they ask for.
Result<controllers::SnapshotSpec> checkFlags(const SnapshotCreateOptions& options) {
  auto spec = snapshotSpecFromFlags(options);
  if (!spec)
    return spec;
  if (!parseDuration(options.timeout)) {
    return fail(ErrorCode::InvalidArgument,
                "--timeout '" + options.timeout + "': use e.g. 5m, 90s");
  }
  if (!options.name.empty() && !controllers::isDnsSubdomain(options.name)) {
    return fail(ErrorCode::InvalidArgument,
                "--name '" + options.name +
                    "': must be lowercase letters, digits, '-' and '.' (a DNS subdomain)");
  }
  return spec;
}

// Reads the snapshot every poll interval until it is Completed or Failed or `timeout` passes,
// printing a line whenever its progress line changes.
int waitForSnapshot(const SnapshotCreateOptions& options,
                    std::chrono::milliseconds timeout,
                    kube::Api& api,
                    const std::string& ns,
                    const std::string& name,
                    std::ostream& out,
                    std::ostream& err) {
  SystemClock system_clock;
  Clock& clock = options.clock != nullptr ? *options.clock : system_clock;
  const Clock::SteadyTime deadline = clock.now() + timeout;
  const std::string which = "ProfileSnapshot " + ns + "/" + name;
  std::string last_line;
  std::string last_error;
  for (;;) {
    auto current = api.get(resources::kProfileSnapshots, ns, name);
    if (!current) {
      if (current.error().code == ErrorCode::NotFound) {
        err << kPrefix << which << " was deleted while waiting\n";
        return kExitFailed;
      }
      if (current.error().message != last_error) {  // say it once, keep trying
        last_error = current.error().message;
        err << kPrefix << "reading " << which << ": " << last_error << " (retrying)\n";
      }
    } else {
      last_error.clear();
      const std::string line = snapshotProgress(*current);
      if (line != last_line) {
        out << line << "\n" << std::flush;
        last_line = line;
      }
      const std::string phase = snapshotPhase(*current);
      if (phase == "Completed" || phase == "Failed") {
        out << snapshotPodTable(*current);
        const std::string query_url = stringMember(objectMember(*current, "status"), "queryURL");
        if (!query_url.empty())
          out << "query: " << query_url << "\n";
        if (phase == "Failed") {
          err << kPrefix << which << " Failed\n";
          return kExitFailed;
        }
        return 0;
      }
    }
    const Clock::SteadyTime now = clock.now();
    if (now >= deadline) {
      err << kPrefix << "timed out after " << options.timeout << " waiting for " << which
          << " (last seen: " << (last_line.empty() ? "nothing" : last_line) << ")\n";
      return kExitFailed;
    }
    clock.sleepFor(std::min<Clock::Duration>(options.poll_interval, deadline - now));
  }
}

}  // namespace

int runSnapshotCreate(const SnapshotCreateOptions& options,
                      kube::Api& api,
                      std::ostream& out,
                      std::ostream& err) {
  // Flags first: nothing is read from the cluster for a command line that cannot work.
  auto spec = checkFlags(options);
  if (!spec) {
    err << kPrefix << spec.error().message << "\n";
    return kExitUsage;
  }
  const auto timeout = parseDuration(options.timeout);
  const std::string ns = options.namespace_name.empty() ? "default" : options.namespace_name;
  const std::string policy_ref = ns + "/" + options.policy;

  auto policy = api.get(resources::kProfilingPolicies, ns, options.policy);
  if (!policy) {
    if (policy.error().code == ErrorCode::NotFound) {
      err << kPrefix << "ProfilingPolicy " << policy_ref << " not found\n";
    } else {
      err << kPrefix << "reading ProfilingPolicy " << policy_ref << ": " << policy.error().message
          << "\n";
    }
    return kExitFailed;
  }

  kube::ListOptions selector;
  selector.label_selector = std::string(controllers::kPolicyLabel) + "=" + options.policy;
  auto pods = kube::listAll(api, resources::kPods, ns, selector);
  if (!pods) {
    err << kPrefix << "listing the pods of " << policy_ref << ": " << pods.error().message << "\n";
    return kExitFailed;
  }
  auto choice = chooseSnapshotPods(options.policy, pods->items, options.pods);
  if (!choice) {
    err << kPrefix << choice.error().message << "\n";
    return kExitFailed;
  }
  if (choice->dropped > 0) {
    err << kPrefix << "warning: " << (choice->pods.size() + choice->dropped)
        << " pods match; a snapshot names at most " << kMaxSnapshotPods
        << ", so it takes the first " << kMaxSnapshotPods << " by name\n";
  }

  SystemClock system_clock;
  const Clock& clock = options.clock != nullptr ? *options.clock : system_clock;
  controllers::NewSnapshot snapshot;
  snapshot.namespace_name = ns;
  snapshot.name =
      options.name.empty() ? defaultSnapshotName(options.policy, unixMillis(clock)) : options.name;
  snapshot.policy_uid = stringMember(objectMember(*policy, "metadata"), "uid");
  snapshot.spec = std::move(*spec);
  snapshot.spec.pods = choice->pods;

  auto created =
      api.create(resources::kProfileSnapshots, ns, controllers::buildSnapshotResource(snapshot));
  if (!created) {
    if (created.error().code == ErrorCode::AlreadyExists) {
      err << kPrefix << "ProfileSnapshot " << ns << "/" << snapshot.name << " already exists\n";
    } else {
      err << kPrefix << "creating ProfileSnapshot " << ns << "/" << snapshot.name << ": "
          << created.error().message << "\n";
    }
    return kExitFailed;
  }
  out << "profilesnapshot.kprof.dev/" << snapshot.name << " created (" << snapshot.spec.pods.size()
      << (snapshot.spec.pods.size() == 1 ? " pod, " : " pods, ") << snapshot.spec.duration_seconds
      << "s)\n";
  out << "follow it: kubectl get psnap " << snapshot.name << " -n " << ns << " -w\n" << std::flush;
  if (!options.wait)
    return 0;
  return waitForSnapshot(options, *timeout, api, ns, snapshot.name, out, err);
}

int runSnapshotCreateCommand(SnapshotCreateOptions options) {
  if (auto flags = checkFlags(options); !flags) {
    std::cerr << kPrefix << flags.error().message << "\n";
    return kExitUsage;
  }
  auto cluster = kube::resolveClusterConfig(
      options.kubeconfig, kube::Environment::fromProcess(), options.context);
  if (!cluster) {
    std::cerr << kPrefix << cluster.error().message << "\n";
    return kExitFailed;
  }
  // The context's namespace (kubeconfig) or the pod's (in-cluster); "default" when neither says.
  if (options.namespace_name.empty())
    options.namespace_name = cluster->default_namespace;
  kube::KubeClientOptions client_options;
  client_options.user_agent = "kprof/0.1.0";
  client_options.field_manager = "kprof";
  auto client = kube::KubeClient::create(*cluster, client_options);
  if (!client) {
    std::cerr << kPrefix << client.error().message << "\n";
    return kExitFailed;
  }
  return runSnapshotCreate(options, **client, std::cout, std::cerr);
}

}  // namespace kprof::agent
