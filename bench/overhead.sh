#!/usr/bin/env bash
# Throughput overhead of profiling at 100 Hz: runs a CPU-bound 2-thread workload bare, under
# `kprof record -F 100` and under `perf record -F 100 -g`, interleaved (bare, kprof, perf, bare, …)
# for ROUNDS rounds of SECONDS seconds each, then prints every run, the medians and the loss of
# each profiler against the bare median. Two measures per run: operations per wall-clock second
# (what the issue's goal is about; it also moves with whatever else the machine runs) and operations
# per CPU second of the workload (steady under outside load; it charges what a profiler does in the
# workload's context — interrupts, unwinding, cache pollution — but not the profiler's own thread).
# A third measure adds the profiler's own CPU time (the command tree's user+sys CPU minus the
# workload's): operations per CPU second of workload and profiler together, the whole CPU price.
#
#   bench/overhead.sh [BUILD_DIR] [ROUNDS] [SECONDS]      (defaults: build/bench 5 10)
#
# Needs root (or perf_event_paranoid ≤ 1) and `perf` (Debian linux-perf). Build first:
#   cmake --build build/bench --target kprof kprof-throughput-workload
set -euo pipefail

build=${1:-build/bench}
rounds=${2:-5}
seconds=${3:-10}
threads=2
kprof=$build/agent/cli/kprof
workload=$build/bench/kprof-throughput-workload
for tool in "$kprof" "$workload"; do
  [[ -x $tool ]] || { echo "missing $tool; build it first" >&2; exit 1; }
done
command -v perf >/dev/null || { echo "perf not found (apt-get install linux-perf)" >&2; exit 1; }

scratch=$(mktemp -d /tmp/kprof-overhead.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

# Runs one configuration; prints "OPS_PER_SECOND OPS_PER_CPU_SECOND WORKLOAD_CPU TREE_CPU".
run() {
  local mode=$1 out=$scratch/$1.out
  local TIMEFORMAT='%U %S'
  { time run_mode "$mode" "$out"; } 2>"$scratch/time"
  local ops cpu workload_cpu tree_cpu
  ops=$(awk '/^ops_per_second/ {print $2}' "$out")
  cpu=$(awk '/^ops_per_cpu_second/ {print $2}' "$out")
  workload_cpu=$(awk '/^cpu_seconds/ {print $2}' "$out")
  tree_cpu=$(awk '{print $1 + $2}' "$scratch/time")
  [[ -n $ops && -n $cpu && -n $workload_cpu ]] ||
    { echo "$mode: no ops in output:" >&2; cat "$out" >&2; exit 1; }
  echo "$ops $cpu $workload_cpu $tree_cpu"
}

run_mode() {
  local mode=$1 out=$2
  case $mode in
    bare)  "$workload" "$seconds" "$threads" >"$out" 2>&1 ;;
    kprof) "$kprof" record -F 100 -o "$scratch/kprof-out" -- "$workload" "$seconds" "$threads" \
             >"$out" 2>&1 ;;
    perf)  perf record -F 100 -g -o "$scratch/perf.data" -- "$workload" "$seconds" "$threads" \
             >"$out" 2>&1 ;;
  esac
}

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $rounds rounds x (bare, kprof, perf), ${seconds} s each, $threads worker threads, 100 Hz"
declare -A wall=([bare]="" [kprof]="" [perf]="") cpu=([bare]="" [kprof]="" [perf]="")
declare -A whole=([bare]="" [kprof]="" [perf]="") own=([bare]="" [kprof]="" [perf]="")
printf '%-6s %-6s %12s %14s %14s %10s %s\n' round mode ops/s ops/cpu-s ops/total-cpu-s own-cpu-s loadavg
for ((round = 1; round <= rounds; round++)); do
  for mode in bare kprof perf; do
    read -r ops ops_cpu workload_cpu tree_cpu < <(run "$mode")
    # The profiler's own CPU: the whole command tree's minus the workload's (never below zero:
    # the two clocks round differently).
    read -r ops_total own_cpu < <(python3 -c "import sys
c, w, t = map(float, sys.argv[1:]); own = max(t - w, 0.0)
print(f'{c * w / (w + own):.1f} {own:.3f}')" "$ops_cpu" "$workload_cpu" "$tree_cpu")
    wall[$mode]+="$ops "
    cpu[$mode]+="$ops_cpu "
    whole[$mode]+="$ops_total "
    own[$mode]+="$own_cpu "
    printf '%-6s %-6s %12s %14s %14s %10s %s\n' "$round" "$mode" "$ops" "$ops_cpu" "$ops_total" \
      "$own_cpu" "$(cut -d' ' -f1 /proc/loadavg)"
  done
done
# The kprof engine actually used, from the last run's output.
engine=$(grep -o -i -m1 -E '(ebpf|perf[_ -]event)[a-z ]*engine|engine[: ]+[a-z_-]+' "$scratch/kprof.out" || true)
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg); kprof engine line: ${engine:-?}"

python3 - "${wall[bare]}" "${wall[kprof]}" "${wall[perf]}" \
  "${cpu[bare]}" "${cpu[kprof]}" "${cpu[perf]}" \
  "${whole[bare]}" "${whole[kprof]}" "${whole[perf]}" \
  "${own[bare]}" "${own[kprof]}" "${own[perf]}" <<'PY'
import statistics, sys
names = ["bare", "kprof", "perf"]
for title, args in [("ops per wall-clock second", sys.argv[1:4]),
                    ("ops per CPU second of the workload", sys.argv[4:7]),
                    ("ops per CPU second of workload and profiler together", sys.argv[7:10])]:
    runs = {n: [float(x) for x in s.split()] for n, s in zip(names, args)}
    base = statistics.median(runs["bare"])
    print(f"\n{title}\n")
    print("| mode | median | min | max | spread (max-min)/median | loss vs bare median "
          "| median of per-round losses |")
    print("|---|---|---|---|---|---|---|")
    for n in names:
        r = runs[n]
        m = statistics.median(r)
        loss = per = "—"
        if n != "bare":
            loss = f"{(base - m) / base * 100:+.2f} %"
            # Against the bare run of the same round, which cancels slow drifts in load.
            rounds = [(b - x) / b * 100 for b, x in zip(runs["bare"], r)]
            per = f"{statistics.median(rounds):+.2f} %"
        print(f"| {n} | {m:,.0f} | {min(r):,.0f} | {max(r):,.0f} | "
              f"{(max(r) - min(r)) / m * 100:.2f} % | {loss} | {per} |")
own = {n: [float(x) for x in s.split()] for n, s in zip(names, sys.argv[10:13])}
print("\nprofiler's own CPU seconds per run (command tree minus workload)\n")
print("| mode | median | min | max |")
print("|---|---|---|---|")
for n in names:
    print(f"| {n} | {statistics.median(own[n]):.3f} | {min(own[n]):.3f} | {max(own[n]):.3f} |")
PY
