// `kprof snapshot create`: a manual ProfileSnapshot (one high-resolution capture from the pods a
// ProfilingPolicy profiles), created from the command line and optionally followed to its end.
// Choosing the pods, checking the flags and rendering progress are plain functions over values;
// runSnapshotCreate does the API calls through a kube::Api so tests can hand in an in-memory one.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/clock.hpp"
#include "common/core/result.hpp"
#include "controllers/snapshot/profile_snapshot.hpp"
#include "operator/kube/api.hpp"

namespace kprof::agent {

// The most pods one ProfileSnapshot may name (the CRD's spec.targets.pods maxItems).
inline constexpr std::size_t kMaxSnapshotPods = 256;

struct SnapshotCreateOptions {
  std::string policy;          // the ProfilingPolicy whose pods to capture (required)
  std::string namespace_name;  // empty: the kubeconfig context's namespace, else "default"
  std::string duration = "30s";
  int rate_hz = 1000;
  std::vector<std::string> types{"cpu"};
  std::vector<std::string> pods;  // empty: every running pod of the policy
  std::string name;               // empty: <policy>-manual-<hash of the current time>
  bool wait = false;
  std::string timeout = "5m";  // with wait
  std::string kubeconfig;
  std::string context;

  // How often --wait reads the snapshot, and on which clock (the system clock when null).
  std::chrono::milliseconds poll_interval{std::chrono::seconds(1)};
  Clock* clock = nullptr;
};

// The spec the flags ask for (policy, duration, types, rate; no pods yet). InvalidArgument naming
// the flag: duration 1s..600s in whole seconds, rate 1..10000, types among cpu alloc lock wall.
Result<controllers::SnapshotSpec> snapshotSpecFromFlags(const SnapshotCreateOptions& options);

// The pods a snapshot of `policy` captures, chosen from `listed` (the pods labeled with the
// policy): running ones only (no deletionTimestamp, phase not Succeeded or Failed), restricted to
// `requested` when it is not empty, sorted by name, at most kMaxSnapshotPods.
struct PodChoice {
  std::vector<std::string> pods;
  std::size_t dropped = 0;  // running pods left out by the limit
};
// Fails with NotFound naming the requested pods that are not running pods of the policy, or
// "policy P profiles no running pod" when nothing is left.
Result<PodChoice> chooseSnapshotPods(std::string_view policy,
                                     const std::vector<nlohmann::json>& listed,
                                     const std::vector<std::string>& requested);

// "<policy>-manual-<10 hex digits>", from the creation time.
std::string defaultSnapshotName(std::string_view policy, int64_t unix_ms);

// One line about where a ProfileSnapshot resource is: "Pending", "Capturing (2/3 pods started)",
// "Completed (3/3 pods completed)", "Failed (0/3 pods completed)".
std::string snapshotProgress(const nlohmann::json& snapshot);

// The per-pod results of status.pods as an aligned table: pod, phase, samples, message.
std::string snapshotPodTable(const nlohmann::json& snapshot);

// Creates the snapshot (and with options.wait follows it). Writes what happened to `out`, errors
// to `err`. Exit codes: 0 created (or, with wait, Completed); 1 an API or cluster error, the
// policy or pods not found, the snapshot Failed or the wait timed out; 2 bad flags.
int runSnapshotCreate(const SnapshotCreateOptions& options,
                      kube::Api& api,
                      std::ostream& out,
                      std::ostream& err);

// runSnapshotCreate against the cluster found like kubectl finds it (--kubeconfig, $KUBECONFIG,
// in-cluster, ~/.kube/config), on std::cout and std::cerr.
int runSnapshotCreateCommand(SnapshotCreateOptions options);

}  // namespace kprof::agent
