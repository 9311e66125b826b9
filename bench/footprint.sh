#!/usr/bin/env bash
# Footprint of `kprof agent` profiling 10 processes at 100 Hz: resident memory (VmRSS, VmHWM)
# after WINDOW seconds, the agent's CPU time over the window, and the bytes it uploads (here:
# writes to --file-dir) per process per minute.
#
#   bench/footprint.sh [BUILD_DIR] [WINDOW_SECONDS] [PROCESSES]     (defaults: build/bench 60 10)
#
# The targets are copies of kprof-demo-workload (one thread each), or with KPROF_BENCH_WORKLOAD=mixed
# copies of bench/mixed_workload.py, whose stacks vary like a real service's. The agent builds one profile per
# interval for all targets, with a pid label per sample, so bytes per process = total / PROCESSES.
# KPROF_BENCH_KEEP=DIR keeps the written profiles there (for `kprof report` or `go tool pprof`).
# Build first: cmake --build build/bench --target kprof kprof-demo-workload
set -euo pipefail

build=${1:-build/bench}
window=${2:-60}
processes=${3:-10}
interval=10
kprof=$build/agent/cli/kprof
workload=$build/agent/demo/kprof-demo-workload
for tool in "$kprof" "$workload"; do
  [[ -x $tool ]] || { echo "missing $tool; build it first" >&2; exit 1; }
done

scratch=$(mktemp -d /tmp/kprof-footprint.XXXXXX)
pids=()
agent=""
cleanup() {
  [[ -n $agent ]] && kill "$agent" 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
for ((i = 0; i < processes; i++)); do
  if [[ ${KPROF_BENCH_WORKLOAD:-demo} == mixed ]]; then
    python3 "$(dirname "$0")/mixed_workload.py" $((window + 3 * interval)) >/dev/null 2>&1 &
  else
    "$workload" $((window + 3 * interval)) 1 >/dev/null 2>&1 &
  fi
  pids+=($!)
done
targets=$(IFS=,; echo "${pids[*]}")

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, workload ${KPROF_BENCH_WORKLOAD:-demo}, load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
"$kprof" agent --targets "pids:$targets" -F 100 --types cpu --upload-interval "$interval" \
  --file-dir "$scratch/out" --listen-port "$port" >"$scratch/agent.log" 2>&1 &
agent=$!
clk=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$agent/stat"; }
status() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$agent/status"; }

sleep 1
start_ticks=$(cpu_ticks)
echo "agent pid $agent, port $port, $processes targets: $targets"
for ((t = 10; t <= window; t += 10)); do
  sleep 10
  kill -0 "$agent" 2>/dev/null || { echo "agent exited:" >&2; cat "$scratch/agent.log" >&2; exit 1; }
  printf 't=%3ds  VmRSS %6s kB  VmHWM %6s kB  files %s\n' "$t" "$(status VmRSS)" \
    "$(status VmHWM)" "$(ls "$scratch/out" 2>/dev/null | grep -c '\.pb\.gz$' || true)"
done
rss=$(status VmRSS)
hwm=$(status VmHWM)
cpu=$(( $(cpu_ticks) - start_ticks ))
# Count the whole intervals uploaded during the window, not the partial one flushed on exit.
files=$(find "$scratch/out" -name '*.pb.gz' | wc -l)
bytes=$(find "$scratch/out" -name '*.pb.gz' -printf '%s\n' | awk '{s += $1} END {print s + 0}')
kill -INT "$agent"
wait "$agent" || true
agent=""

echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
ls -l "$scratch/out"
if [[ -n ${KPROF_BENCH_KEEP:-} ]]; then
  mkdir -p "$KPROF_BENCH_KEEP" && cp "$scratch"/out/*.pb.gz "$KPROF_BENCH_KEEP"/
fi
python3 - "$rss" "$hwm" "$cpu" "$clk" "$window" "$files" "$bytes" "$processes" "$interval" <<'PY'
import sys
rss, hwm, cpu, clk, window, files, total, procs, interval = map(int, sys.argv[1:])
minutes = files * interval / 60  # profile time the whole intervals cover
print()
print("| measure | value |")
print("|---|---|")
print(f"| VmRSS after {window} s | {rss / 1024:.1f} MiB |")
print(f"| VmHWM (peak RSS) | {hwm / 1024:.1f} MiB |")
print(f"| agent CPU over the window | {cpu / clk:.2f} s = {cpu / clk / window * 100:.2f} % of one core |")
print(f"| profiles written | {files} ({total:,} bytes, {minutes:.2f} min of profile) |")
if files:
    print(f"| bytes per profile | {total / files:,.0f} |")
    print(f"| bytes per process per minute | {total / procs / minutes:,.0f} "
          f"({total / procs / minutes / 1024:.1f} KiB) |")
PY
