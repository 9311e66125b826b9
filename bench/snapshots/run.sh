#!/usr/bin/env bash
# Alert received → capture started, over many alerts: the operator (receiver, snapshot
# controller, agent config API) on the fake API server and two real `kprof agent` processes, each
# profiling a busy workload. Every round posts one Alertmanager payload naming both pods and waits
# for the ProfileSnapshot to complete; the latency per pod is the pod's status.pods[].startedAt
# (from its agent) minus the snapshot's kprof.dev/alert-received-at annotation (from the receiver).
#   bench/snapshots/run.sh [build-dir] [rounds]   (a build with tests; default build/test, 50)
# Needs root (the agents sample other processes). No peer ships alert-triggered snapshots, so
# there is no side-by-side run; the goal is p99 ≤ 2 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/test}
rounds=${2:-50}
[[ $(id -u) -eq 0 ]] || { echo "run.sh: needs root (the agents use eBPF/perf)" >&2; exit 1; }
cmake --build "$build" --target kprof_alert_snapshot_e2e_test >/dev/null
KPROF_SNAPSHOT_BENCH_ROUNDS=$rounds "$build/tests/alerts/kprof_alert_snapshot_e2e_test" \
  --gtest_filter='*CaptureStartLatencyOverManyAlerts' 2>&1 | grep -E '^\[ snapshot bench \]|FAILED|Failure'
